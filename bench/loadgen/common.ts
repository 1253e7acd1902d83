import { summarize } from "../lib/stats.js";
import { ChannelCredentials, Metadata, createChannel, createClientFactory, type Channel } from "nice-grpc";
import type { CompatServiceDefinition } from "nice-grpc";

/** TLS of the load generator's channels, as PEM text (parameters cross the IPC as JSON). */
export interface LoadTls {
  ca: string;
  /** Client certificate and key, for servers that require one. */
  cert?: string;
  key?: string;
}

/**
 * Opens n channels that each have their own TCP connection (grpc-js shares
 * connections between channels with equal options unless told otherwise);
 * over TLS when tls is given.
 */
export function openChannels(address: string, n: number, tls?: LoadTls): Channel[] {
  const credentials = tls
    ? ChannelCredentials.createSsl(
        Buffer.from(tls.ca),
        tls.key ? Buffer.from(tls.key) : null,
        tls.cert ? Buffer.from(tls.cert) : null,
      )
    : undefined;
  return Array.from({ length: Math.max(1, n) }, () =>
    createChannel(address, credentials, {
      "grpc.use_local_subchannel_pool": 1,
      "grpc.max_receive_message_length": 64 * 1024 * 1024,
    }),
  );
}

export function closeChannels(channels: Channel[]): void {
  for (const channel of channels) channel.close();
}

/** Clients on each channel; with token, every call carries `authorization: Bearer <token>` (the security scenario). */
export function clientsFor<S extends CompatServiceDefinition>(definition: S, channels: Channel[], token?: string) {
  const factory = createClientFactory();
  const defaults = token ? { "*": { metadata: Metadata({ authorization: `Bearer ${token}` }) } } : {};
  return channels.map((channel) => factory.create(definition, channel, defaults));
}

/** An async iterable fed by push(): the request side of a bidirectional stream. */
export class PushQueue<T> implements AsyncIterable<T> {
  private readonly items: T[] = [];
  private wake: (() => void) | undefined;
  private closed = false;

  push(item: T): void {
    this.items.push(item);
    this.wake?.();
  }

  close(): void {
    this.closed = true;
    this.wake?.();
  }

  async *[Symbol.asyncIterator](): AsyncIterator<T> {
    for (;;) {
      const item = this.items.shift();
      if (item !== undefined) {
        yield item;
        continue;
      }
      if (this.closed) return;
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
  }
}

/**
 * Runs op(i) for i in 0..count-1 with at most `concurrency` in flight and
 * returns the per-op latencies (ms) and the elapsed seconds.
 */
export async function runClosedLoop(
  count: number,
  concurrency: number,
  op: (i: number, worker: number) => Promise<unknown>,
): Promise<{ latencies: Float64Array; seconds: number; errors: number; firstError?: string }> {
  const latencies = new Float64Array(count);
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  await Promise.all(
    Array.from({ length: Math.min(concurrency, count) }, async (_, worker) => {
      for (;;) {
        const i = next++;
        if (i >= count) return;
        const t0 = performance.now();
        try {
          await op(i, worker);
        } catch (error) {
          errors++;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
        latencies[i] = performance.now() - t0;
      }
    }),
  );
  return { latencies, seconds: (performance.now() - started) / 1000, errors, firstError };
}

/** What a closed-loop throughput task answers: count ops, their rate and latency summary, its errors. */
export function throughputResult(count: number, run: Awaited<ReturnType<typeof runClosedLoop>>) {
  return {
    ops: count,
    seconds: run.seconds,
    opsPerSecond: count / run.seconds,
    latency: summarize(run.latencies),
    errors: run.errors,
    firstError: run.firstError,
  };
}

/** Like runClosedLoop, but runs for durationMs instead of a fixed count. */
export async function runForDuration(
  durationMs: number,
  concurrency: number,
  op: (i: number, worker: number) => Promise<unknown>,
): Promise<{ latencies: Float64Array; seconds: number; errors: number; firstError?: string }> {
  const latencies: number[] = [];
  let next = 0;
  let errors = 0;
  let firstError: string | undefined;
  const started = performance.now();
  const deadline = started + durationMs;
  await Promise.all(
    Array.from({ length: concurrency }, async (_, worker) => {
      while (performance.now() < deadline) {
        const i = next++;
        const t0 = performance.now();
        try {
          await op(i, worker);
        } catch (error) {
          errors++;
          firstError ??= error instanceof Error ? error.message : String(error);
        }
        latencies.push(performance.now() - t0);
      }
    }),
  );
  return { latencies: Float64Array.from(latencies), seconds: (performance.now() - started) / 1000, errors, firstError };
}

/**
 * Renews leases every intervalMs, each on its own phase (first renewal one
 * interval after add(), as an agent renews after registering): what N
 * independent agents would send, from one process.
 */
export class RenewalSchedule {
  private leases: string[] = [];
  private due: number[] = [];
  private head = 0;

  constructor(
    private readonly intervalMs: number,
    private readonly send: (lease: string) => void,
  ) {}

  add(lease: string): void {
    this.leases.push(lease);
    this.due.push(performance.now() + this.intervalMs);
  }

  get size(): number {
    return this.leases.length - this.head;
  }

  /** Sends every renewal that is due. Renewals keep the order of add(), since every interval is the same. */
  tick(now = performance.now()): void {
    while (this.head < this.due.length && (this.due[this.head] as number) <= now) {
      const lease = this.leases[this.head] as string;
      const due = this.due[this.head] as number;
      this.head++;
      this.send(lease);
      this.leases.push(lease);
      // Never schedule into the past (after a stall): that would send bursts.
      this.due.push(Math.max(due + this.intervalMs, now + 1));
    }
    if (this.head > 65_536 && this.head * 2 > this.leases.length) {
      this.leases = this.leases.slice(this.head);
      this.due = this.due.slice(this.head);
      this.head = 0;
    }
  }

  /** Ticks every tickMs until signal aborts. */
  async run(signal: AbortSignal, tickMs = 25, onTick?: () => void): Promise<void> {
    while (!signal.aborted) {
      this.tick();
      onTick?.();
      await new Promise((resolve) => setTimeout(resolve, tickMs));
    }
  }
}
