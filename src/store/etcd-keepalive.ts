import type { ILeaseKeepAliveRequest, ILeaseKeepAliveResponse, IDuplexStream, LeaseClient } from "etcd3";
import type { Logger } from "pino";
import { StoreUnavailableError } from "./errors.js";
import { translateEtcdError } from "./etcd-errors.js";
import { endStream } from "./etcd-values.js";

type KeepAliveStream = IDuplexStream<ILeaseKeepAliveRequest, ILeaseKeepAliveResponse>;

interface Pending {
  /** The stream the request went out on; undefined while a stream is opening. */
  stream: KeepAliveStream | undefined;
  sentAt: number;
  /** Re-sent once after its stream broke; a second break fails it. */
  resent: boolean;
  waiters: { resolve: (ttl: number) => void; reject: (error: Error) => void }[];
}

export interface KeepAliveMuxOptions {
  leaseClient: LeaseClient;
  logger: Logger;
  /** A renewal unanswered for this long fails with StoreUnavailableError and recycles the stream. */
  timeoutMs: number;
}

/**
 * Renews every lease over ONE etcd LeaseKeepAlive stream, where etcd3's Lease
 * objects open a stream and a timer each. Requests carry the lease id and
 * responses are matched back by it; concurrent renewals of one lease share a
 * request. The stream opens on first use and again after it breaks; requests
 * lost with a broken stream are re-sent once. One sweep timer enforces the
 * timeout for all outstanding requests.
 */
export class KeepAliveMux {
  private stream: KeepAliveStream | undefined;
  private opening: Promise<KeepAliveStream> | undefined;
  /** Outstanding renewals by lease id, oldest first (Map keeps insertion order). */
  private readonly pending = new Map<string, Pending>();
  private sweepTimer: NodeJS.Timeout | undefined;
  private closed = false;

  constructor(private readonly options: KeepAliveMuxOptions) {}

  /** Resolves to the lease's new TTL in seconds, or 0 when it no longer exists. */
  keepAlive(leaseId: string): Promise<number> {
    if (this.closed) return Promise.reject(new StoreUnavailableError("store is closed"));
    return new Promise((resolve, reject) => {
      const existing = this.pending.get(leaseId);
      if (existing) {
        existing.waiters.push({ resolve, reject });
        return;
      }
      this.pending.set(leaseId, { stream: undefined, sentAt: Date.now(), resent: false, waiters: [{ resolve, reject }] });
      this.startSweep();
      void this.send(leaseId);
    });
  }

  close(): void {
    this.closed = true;
    if (this.stream) endStream(this.stream);
    this.stream = undefined;
    this.failAll(new StoreUnavailableError("store is closed"));
  }

  private async send(leaseId: string): Promise<void> {
    let stream: KeepAliveStream;
    try {
      stream = await this.openStream();
    } catch (error) {
      this.fail(leaseId, translateEtcdError(error));
      return;
    }
    const entry = this.pending.get(leaseId);
    if (!entry) return; // timed out meanwhile
    entry.stream = stream;
    stream.write({ ID: leaseId });
  }

  private openStream(): Promise<KeepAliveStream> {
    if (this.stream) return Promise.resolve(this.stream);
    this.opening ??= this.options.leaseClient
      .leaseKeepAlive()
      .then((stream) => {
        if (this.closed) {
          endStream(stream);
          throw new StoreUnavailableError("store is closed");
        }
        stream.on("data", (response) => this.answer(response));
        stream.on("error", (error) => this.broken(stream, error));
        stream.on("end", () => this.broken(stream, new StoreUnavailableError("keepalive stream ended")));
        this.stream = stream;
        return stream;
      })
      .finally(() => {
        this.opening = undefined;
      });
    return this.opening;
  }

  private answer(response: ILeaseKeepAliveResponse): void {
    const entry = this.pending.get(response.ID);
    if (!entry) return; // answered after its timeout
    this.pending.delete(response.ID);
    // etcd answers TTL 0 (never an error) for a lease that is gone.
    const ttl = Math.max(0, Number(response.TTL));
    for (const waiter of entry.waiters) waiter.resolve(ttl);
  }

  private broken(stream: KeepAliveStream, error: unknown): void {
    if (this.stream !== stream) return;
    this.stream = undefined;
    stream.cancel();
    if (this.closed) return;
    this.options.logger.warn({ err: error }, "etcd keepalive stream broke; reopening");
    const translated = translateEtcdError(error);
    for (const [leaseId, entry] of this.pending) {
      if (entry.stream !== stream) continue;
      if (entry.resent) {
        this.fail(leaseId, translated);
      } else {
        entry.resent = true;
        entry.stream = undefined;
        void this.send(leaseId);
      }
    }
  }

  private fail(leaseId: string, error: Error): void {
    const entry = this.pending.get(leaseId);
    if (!entry) return;
    this.pending.delete(leaseId);
    for (const waiter of entry.waiters) waiter.reject(error);
  }

  private failAll(error: Error): void {
    for (const leaseId of [...this.pending.keys()]) this.fail(leaseId, error);
    clearInterval(this.sweepTimer);
    this.sweepTimer = undefined;
  }

  private startSweep(): void {
    if (this.sweepTimer) return;
    const period = Math.max(50, Math.floor(this.options.timeoutMs / 4));
    this.sweepTimer = setInterval(() => this.sweep(), period);
    this.sweepTimer.unref();
  }

  private sweep(): void {
    const deadline = Date.now() - this.options.timeoutMs;
    let timedOut = false;
    for (const [leaseId, entry] of this.pending) {
      if (entry.sentAt > deadline) break; // the rest are younger
      timedOut = true;
      this.fail(leaseId, new StoreUnavailableError(`etcd did not answer a keepalive within ${this.options.timeoutMs} ms`));
    }
    // A stream that leaves renewals unanswered is likely stuck (paused or
    // half-open peer): drop it, and the younger requests go out on a new one.
    if (timedOut && this.stream) this.broken(this.stream, new StoreUnavailableError("keepalive stream unresponsive"));
    if (this.pending.size === 0) {
      clearInterval(this.sweepTimer);
      this.sweepTimer = undefined;
    }
  }
}
