/**
 * Per-identity quotas, so one token cannot starve the others: open streams
 * (a count) and registrations (a token bucket per second, burst = rate).
 *
 *   const quotas = createQuotas({ maxStreams: 1000, registrationsPerSecond: 100 });
 *   const release = quotas.openStream(tokenId);   // throws ResourceExhaustedError
 *   try { … } finally { release(); }
 *   quotas.takeRegistration(tokenId);             // throws ResourceExhaustedError
 */
import { ResourceExhaustedError } from "../errors.js";

export const DEFAULT_MAX_STREAMS_PER_TOKEN = 1_000;
export const DEFAULT_REGISTRATIONS_PER_SECOND = 100;

export interface QuotaOptions {
  /** Most streams one identity may hold open on this replica. Default 1,000; 0 disables. */
  maxStreams?: number;
  /** Register calls per second per identity on this replica (burst of the same size). Default 100; 0 disables. */
  registrationsPerSecond?: number;
  /** Milliseconds clock. Default performance.now. */
  now?: () => number;
}

export interface Quotas {
  openStream(identity: string): () => void;
  takeRegistration(identity: string): void;
}

export function createQuotas(options: QuotaOptions = {}): Quotas {
  const maxStreams = options.maxStreams ?? DEFAULT_MAX_STREAMS_PER_TOKEN;
  const rate = options.registrationsPerSecond ?? DEFAULT_REGISTRATIONS_PER_SECOND;
  const now = options.now ?? (() => performance.now());
  const streams = new Map<string, number>();
  const buckets = new Map<string, { tokens: number; at: number }>();

  return {
    openStream(identity) {
      if (maxStreams <= 0) return () => undefined;
      const open = streams.get(identity) ?? 0;
      if (open >= maxStreams) {
        throw new ResourceExhaustedError(
          `quota max-streams-per-token exceeded: ${open} of ${maxStreams} streams open for ${identity}`,
        );
      }
      streams.set(identity, open + 1);
      let released = false;
      return () => {
        if (released) return;
        released = true;
        const left = (streams.get(identity) ?? 1) - 1;
        if (left <= 0) streams.delete(identity);
        else streams.set(identity, left);
      };
    },
    takeRegistration(identity) {
      if (rate <= 0) return;
      const t = now();
      const bucket = buckets.get(identity) ?? { tokens: rate, at: t };
      bucket.tokens = Math.min(rate, bucket.tokens + ((t - bucket.at) / 1000) * rate);
      bucket.at = t;
      if (bucket.tokens < 1) {
        buckets.set(identity, bucket);
        throw new ResourceExhaustedError(`quota registrations-per-second exceeded: at most ${rate} per second for ${identity}`);
      }
      bucket.tokens -= 1;
      buckets.set(identity, bucket);
      // Full buckets carry no state: drop them so the map holds only recent registrants.
      if (buckets.size > 10_000) for (const [id, b] of buckets) if (b.tokens >= rate - 1 && id !== identity) buckets.delete(id);
    },
  };
}
