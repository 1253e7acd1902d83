import { isBrokenCircuitError } from "cockatiel";
import {
  castGrpcError,
  ClientClosedError,
  EtcdLeaseInvalidError,
  GRPCCancelledError,
  GRPCDeadlineExceededError,
  GRPCInternalError,
  GRPCUnavailableError,
  GRPCUnknownError,
} from "etcd3";
import { CompactedError, LeaseNotFoundError, StoreError, StoreUnavailableError } from "./errors.js";

/** What the failed call was about, for errors that name it. */
export interface ErrorContext {
  /** The lease a keepalive, revoke or leased put named. */
  leaseId?: string;
}

/**
 * etcd's own errors, by the message etcd defines for them (api/v3rpc/rpctypes;
 * gRPC status codes alone do not tell them apart). The first match wins.
 */
const etcdMessages: [message: string, translate: (context: ErrorContext) => StoreError][] = [
  ["etcdserver: requested lease not found", (context) => new LeaseNotFoundError(context.leaseId ?? "unknown")],
  // Only compact() can meet it (reads are never historical): the caller treats it as done.
  ["mvcc: required revision has been compacted", () => new CompactedError(0, "revision already compacted")],
];

/**
 * Failures of transport or availability (etcd3 casts gRPC statuses to these
 * classes): UNAVAILABLE (also etcd's "no leader", "leader changed", "request
 * timed out"), DEADLINE_EXCEEDED, CANCELLED (a channel etcd3 reset under a
 * call), INTERNAL and UNKNOWN (broken HTTP/2 streams).
 */
const unavailableTypes: (abstract new (...args: never[]) => Error)[] = [
  GRPCUnavailableError,
  GRPCDeadlineExceededError,
  GRPCCancelledError,
  GRPCInternalError,
  GRPCUnknownError,
  ClientClosedError,
];

/** Translates anything the etcd3 client throws or a stream emits into a store error. */
export function translateEtcdError(error: unknown, context: ErrorContext = {}): StoreError {
  if (error instanceof StoreError) return error;
  if (!(error instanceof Error)) return new StoreError(String(error));
  // Stream errors arrive as raw gRPC errors; unary ones are already cast.
  const cast = castGrpcError(error);
  if (cast instanceof EtcdLeaseInvalidError) return new LeaseNotFoundError(context.leaseId ?? "unknown");
  for (const [message, translate] of etcdMessages) {
    if (cast.message.includes(message)) return withCause(translate(context), cast);
  }
  if (isBrokenCircuitError(cast) || unavailableTypes.some((type) => cast instanceof type)) {
    return withCause(new StoreUnavailableError(`etcd unavailable: ${cast.message}`), cast);
  }
  return withCause(new StoreError(`etcd: ${cast.message}`), cast);
}

function withCause<T extends Error>(error: T, cause: Error): T {
  (error as { cause?: unknown }).cause = cause;
  return error;
}
