/**
 * The production store: etcd v3 through the etcd3 client's raw gRPC clients.
 *
 * ```ts
 * const store = createEtcdStore({ endpoints: ["http://127.0.0.1:2379"] });
 * const lease = await store.grantLease(10);
 * await store.txn({ ops: [{ type: "put", key, value, lease: lease.id }] });
 * setInterval(() => void store.keepAlive(lease.id), 3000); // all leases share one stream
 * ```
 *
 * etcd3's higher-level Lease and Watcher objects are not used: a Lease opens
 * a keepalive stream and timer per lease, and watchers attach one round trip
 * at a time. Every error leaves through translateEtcdError.
 */
import { noop } from "cockatiel";
import { Etcd3 } from "etcd3";
import type { IRequestOp, IResponseOp, ITxnRequest } from "etcd3";
import { pino } from "pino";
import type { Logger } from "pino";
import { CompactedError, LeaseNotFoundError, StoreError, StoreUnavailableError } from "./errors.js";
import { translateEtcdError } from "./etcd-errors.js";
import { etcdFaultHandling } from "./etcd-fault-handling.js";
import { createGroupCommit } from "./etcd-group-commit.js";
import type { GroupCommit } from "./etcd-group-commit.js";
import { startMemberProbe } from "./etcd-member-probe.js";
import type { MemberProbe } from "./etcd-member-probe.js";
import type { ErrorContext } from "./etcd-errors.js";
import { KeepAliveMux } from "./etcd-keepalive.js";
import { toKeyValue } from "./etcd-values.js";
import { watchEtcd } from "./etcd-watch.js";
import { prefixRangeEnd } from "./key-range.js";
import { grantedTtl } from "./lease-ttl.js";
import type { KeyValue, Lease, ListResult, Operation, Store, TxnRequest, TxnResult, WatchBatch } from "./types.js";

export interface EtcdStoreOptions {
  /** etcd client URLs, e.g. ["http://10.0.0.1:2379", "http://10.0.0.2:2379"]. Required. */
  endpoints: string[];
  /** Default: a silent logger. */
  logger?: Logger;
  /** Deadline of each read, write, lease grant and revoke, in ms. Default 5000. */
  requestTimeoutMs?: number;
  /** Deadline of ping(), in ms. Default 2000. */
  pingTimeoutMs?: number;
  /** A keepalive unanswered this long fails with StoreUnavailableError, in ms. Default 5000. */
  keepAliveTimeoutMs?: number;
  /**
   * Interval of HTTP/2 pings on idle connections, in ms, so a watch on a dead
   * or frozen peer breaks and resumes elsewhere. etcd refuses pings more often
   * than every 5 s. Default 10,000.
   */
  connectionKeepaliveMs?: number;
  /** Watch reconnect backoff, first and largest delay in ms. Default 100 and 2000. */
  watchBackoffMs?: { min: number; max: number };
  /**
   * Period of a watch's progress probe, in ms: a watch that answers nothing
   * for a whole period (a frozen or cut-off member) is re-opened. Default 2000.
   */
  watchLivenessProbeMs?: number;
  /**
   * TLS to etcd: the CA that signed etcd's server certificate (PEM), and a
   * client certificate and key for etcd's --client-cert-auth. Default: none;
   * https:// endpoints then verify against the system CAs.
   */
  tls?: EtcdTlsMaterial;
  /** etcd user and password (etcd's auth enable). Default: none. */
  auth?: { username: string; password: string };
  /**
   * Key ping() reads (count only, a linearizable read). With etcd auth the
   * user must be allowed to read it: give a key inside the user's prefix.
   * Default "\0".
   */
  pingKey?: string;
  /**
   * With several endpoints: period (and deadline) of the probe that asks each member for its
   * status, in ms; a member that misses two answers in a row is skipped by every call until it
   * answers again (see etcd-member-probe.ts). 0 turns it off. Default 1000.
   */
  memberProbeMs?: number;
  /**
   * Group commit: writes submitted while one batch is on its way to etcd leave together as one
   * etcd transaction of nested transactions (see etcd-group-commit.ts). Set maxTxnOps to etcd's
   * --max-txn-ops when it differs from etcd's default; false sends every write alone.
   * Default { maxTxnOps: 128 }.
   */
  groupCommit?: { maxTxnOps?: number } | false;
}

/** PEM contents for TLS to etcd (see EtcdStoreOptions.tls). */
export interface EtcdTlsMaterial {
  ca?: Buffer;
  cert?: Buffer;
  key?: Buffer;
}

/** Keys per range page: bounds each response whatever the size of a prefix. */
const LIST_PAGE_SIZE = 5000;
const DEFAULT_PING_KEY = Buffer.from([0]);

export function createEtcdStore(options: EtcdStoreOptions): Store {
  return new EtcdStore(options);
}

class EtcdStore implements Store {
  private readonly etcd: Etcd3;
  private readonly logger: Logger;
  private readonly keepAlives: KeepAliveMux;
  /** Aborted by close(): ends every watch. */
  private readonly closing = new AbortController();
  private readonly requestTimeoutMs: number;
  private readonly pingKey: Buffer;
  private readonly memberProbe: MemberProbe | undefined;
  /** One single-member client per endpoint, for the member probe. */
  private readonly probeClients: Etcd3[] = [];
  private readonly groupCommit: GroupCommit | undefined;

  constructor(private readonly options: EtcdStoreOptions) {
    if (options.endpoints.length === 0) throw new StoreError("etcd store needs at least one endpoint");
    this.logger = options.logger ?? pino({ level: "silent" });
    this.requestTimeoutMs = options.requestTimeoutMs ?? 5000;
    this.pingKey = options.pingKey === undefined ? DEFAULT_PING_KEY : Buffer.from(options.pingKey);
    const keepaliveMs = options.connectionKeepaliveMs ?? 10_000;
    const grpcOptions = {
      "grpc.keepalive_time_ms": keepaliveMs,
      "grpc.keepalive_timeout_ms": Math.min(keepaliveMs, 5000),
      "grpc.keepalive_permit_without_calls": 1,
      // One revision can carry many events (a delete-prefix), and watch responses are not paged.
      "grpc.max_receive_message_length": 256 * 1024 * 1024,
    };
    const faultHandling = etcdFaultHandling(options.endpoints.length);
    // The probe's clients need the same TLS and credentials as the main one.
    const security = {
      ...(options.tls && {
        credentials: {
          // etcd3 types the CA as required, but hands it to grpc-js createSsl, where none means the system CAs.
          rootCertificate: options.tls.ca as Buffer,
          ...(options.tls.key && { privateKey: options.tls.key }),
          ...(options.tls.cert && { certChain: options.tls.cert }),
        },
      }),
      ...(options.auth && { auth: { username: options.auth.username, password: options.auth.password } }),
    };
    this.etcd = new Etcd3({
      hosts: options.endpoints,
      defaultCallOptions: (context) => (context.isStream ? {} : { deadline: Date.now() + this.requestTimeoutMs }),
      grpcOptions,
      faultHandling: faultHandling.options,
      ...security,
    });
    const memberProbeMs = options.memberProbeMs ?? 1000;
    if (options.endpoints.length > 1 && memberProbeMs > 0) {
      const clients = new Map(
        options.endpoints.map((member) => {
          // Its own channel, no breaker, no retry: the probe must reach exactly this member.
          const client = new Etcd3({
            hosts: [member],
            grpcOptions,
            ...security,
            faultHandling: { host: () => noop, global: noop },
          });
          this.probeClients.push(client);
          return [member, client] as const;
        }),
      );
      this.memberProbe = startMemberProbe({
        members: options.endpoints,
        intervalMs: memberProbeMs,
        probe: async (member) => {
          await clients.get(member)!.maintenance.status({ deadline: Date.now() + memberProbeMs });
        },
        isolate: (member) => faultHandling.isolate(member),
        onChange: (member, isolated, error) => {
          if (isolated) this.logger.warn({ member, err: error }, "etcd member did not answer its status; calls skip it");
          else this.logger.info({ member }, "etcd member answers again; calls use it");
        },
      });
    }
    if (options.groupCommit !== false) {
      this.groupCommit = createGroupCommit({
        runSingle: (request) => this.txnAlone(request),
        runBatch: (requests) => this.txnBatch(requests),
        ...(options.groupCommit?.maxTxnOps !== undefined && { maxTxnOps: options.groupCommit.maxTxnOps }),
      });
    }
    this.keepAlives = new KeepAliveMux({
      leaseClient: this.etcd.leaseClient,
      logger: this.logger,
      timeoutMs: options.keepAliveTimeoutMs ?? 5000,
    });
  }

  async get(key: string): Promise<KeyValue | undefined> {
    const response = await this.idempotentCall(() => this.etcd.kv.range({ key: Buffer.from(key) }));
    const kv = response.kvs[0];
    return kv ? toKeyValue(kv) : undefined;
  }

  async list(prefix: string): Promise<ListResult> {
    for (;;) {
      try {
        return await this.listPaged(prefix);
      } catch (error) {
        // A compaction between two pages: start over at the new revision.
        if (!(error instanceof CompactedError)) throw error;
      }
    }
  }

  txn(request: TxnRequest): Promise<TxnResult> {
    this.assertOpen();
    return this.groupCommit ? this.groupCommit.txn(request) : this.txnAlone(request);
  }

  private async txnAlone(request: TxnRequest): Promise<TxnResult> {
    const response = await this.call(() => this.etcd.kv.txn(toEtcdTxn(request)), { leaseId: firstLease(request.ops) });
    return toTxnResult(request, response.succeeded, Number(response.header.revision), response.responses);
  }

  /** Several transactions as nested transactions of one (etcd >= 3.3); the outer one compares nothing. */
  private async txnBatch(requests: readonly TxnRequest[]): Promise<TxnResult[]> {
    const response = await this.call(() =>
      this.etcd.kv.txn({ compare: [], success: requests.map((request) => ({ request_txn: toEtcdTxn(request) })), failure: [] }),
    );
    const revision = Number(response.header.revision);
    return requests.map((request, i) => {
      const nested = response.responses[i]?.response_txn;
      if (!nested) throw new StoreError("etcd answered a batched transaction without its nested result");
      return toTxnResult(request, nested.succeeded, revision, nested.responses);
    });
  }

  async grantLease(ttlSeconds: number): Promise<Lease> {
    const ttl = grantedTtl(ttlSeconds);
    const response = await this.call(() => this.etcd.leaseClient.leaseGrant({ TTL: ttl, ID: 0 }));
    if (response.error) throw new StoreError(`etcd refused the lease: ${response.error}`);
    return { id: response.ID, ttlSeconds: Number(response.TTL) };
  }

  keepAlive(leaseId: string): Promise<number> {
    return this.keepAlives.keepAlive(leaseId);
  }

  async revokeLease(leaseId: string): Promise<void> {
    try {
      await this.idempotentCall(() => this.etcd.leaseClient.leaseRevoke({ ID: leaseId }), { leaseId });
    } catch (error) {
      if (!(error instanceof LeaseNotFoundError)) throw error; // unknown leases are ignored
    }
  }

  watch(prefix: string, fromRevision: number, signal: AbortSignal): AsyncIterable<WatchBatch> {
    this.assertOpen();
    const backoff = this.options.watchBackoffMs ?? { min: 100, max: 2000 };
    return watchEtcd(
      {
        watchClient: this.etcd.watchClient,
        logger: this.logger,
        minBackoffMs: backoff.min,
        maxBackoffMs: backoff.max,
        livenessProbeMs: this.options.watchLivenessProbeMs ?? 2000,
      },
      prefix,
      fromRevision,
      AbortSignal.any([signal, this.closing.signal]),
    );
  }

  async compact(revision: number): Promise<void> {
    try {
      await this.idempotentCall(() => this.etcd.kv.compact({ revision, physical: false }));
    } catch (error) {
      // Compacting at or below the current compaction point is a no-op, as in the embedded store.
      if (!(error instanceof CompactedError)) throw error;
    }
  }

  async ping(signal?: AbortSignal): Promise<void> {
    const timeoutMs = this.options.pingTimeoutMs ?? 2000;
    const read = this.idempotentCall(() =>
      this.etcd.kv.range({ key: this.pingKey, count_only: true }, { deadline: Date.now() + timeoutMs }),
    );
    if (!signal) {
      await read;
      return;
    }
    await abortable(read, signal);
  }

  async close(): Promise<void> {
    if (this.closing.signal.aborted) return;
    this.closing.abort();
    this.memberProbe?.stop();
    this.keepAlives.close();
    this.etcd.close();
    for (const client of this.probeClients) client.close();
  }

  private async listPaged(prefix: string): Promise<ListResult> {
    const end = prefixRangeEnd(prefix);
    const kvs: KeyValue[] = [];
    let from = Buffer.from(prefix);
    let revision = 0; // the first page reads the current revision; later pages read at it
    for (;;) {
      const page = await this.idempotentCall(() =>
        this.etcd.kv.range({ key: from, range_end: end, limit: LIST_PAGE_SIZE, revision }),
      );
      if (revision === 0) revision = Number(page.header.revision);
      for (const kv of page.kvs) kvs.push(toKeyValue(kv));
      const last = page.kvs.at(-1);
      if (!page.more || !last) return { kvs, revision };
      from = Buffer.concat([last.key, Buffer.from([0])]);
    }
  }

  /** Runs one etcd call with every failure translated. */
  private call<T>(run: () => Promise<T>, context?: ErrorContext): Promise<T> {
    this.assertOpen();
    return run().catch((error: unknown) => {
      throw translateEtcdError(error, context);
    });
  }

  /**
   * A call that may safely run twice (reads, revoke, compact): when the
   * member it went to did not answer, it gets one more try, which the
   * circuit breakers and the random member order send elsewhere.
   */
  private async idempotentCall<T>(run: () => Promise<T>, context?: ErrorContext): Promise<T> {
    try {
      return await this.call(run, context);
    } catch (error) {
      if (!(error instanceof StoreUnavailableError) || this.closing.signal.aborted) throw error;
      return this.call(run, context);
    }
  }

  private assertOpen(): void {
    if (this.closing.signal.aborted) throw new StoreUnavailableError("store is closed");
  }
}

function toEtcdTxn(request: TxnRequest): ITxnRequest {
  const compare = request.compare ?? [];
  return {
    // An absent key compares as modRevision 0, so 0 means "must not exist".
    compare: compare.map((c) => ({ key: Buffer.from(c.key), target: "Mod", result: "Equal", mod_revision: c.modRevision })),
    success: request.ops.map(toRequestOp),
    // Reads the compared keys in the same round trip when the compare fails.
    failure: compare.map((c) => ({ request_range: { key: Buffer.from(c.key) } })),
  };
}

function toTxnResult(request: TxnRequest, succeeded: boolean, revision: number, responses: IResponseOp[]): TxnResult {
  if (succeeded) return { succeeded: true, revision };
  const current = (request.compare ?? []).map((_, i) => {
    const kv = responses[i]?.response_range?.kvs[0];
    return kv ? toKeyValue(kv) : undefined;
  });
  return { succeeded: false, revision, current };
}

function toRequestOp(op: Operation): IRequestOp {
  switch (op.type) {
    case "put":
      return {
        request_put: {
          key: Buffer.from(op.key),
          value: Buffer.from(op.value.buffer, op.value.byteOffset, op.value.byteLength),
          lease: op.lease ?? "0",
        },
      };
    case "delete":
      return { request_delete_range: { key: Buffer.from(op.key) } };
    case "delete-prefix":
      return { request_delete_range: { key: Buffer.from(op.prefix), range_end: prefixRangeEnd(op.prefix) } };
  }
}

/** The lease a "lease not found" answer is about (etcd does not say which, when there are several). */
function firstLease(ops: readonly Operation[]): string | undefined {
  for (const op of ops) if (op.type === "put" && op.lease !== undefined && op.lease !== "0") return op.lease;
  return undefined;
}

function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(new StoreUnavailableError("ping aborted"));
  return new Promise<T>((resolve, reject) => {
    const onAbort = (): void => reject(new StoreUnavailableError("ping aborted"));
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
