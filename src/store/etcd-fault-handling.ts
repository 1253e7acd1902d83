import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, isBrokenCircuitError, noop, retry } from "cockatiel";
import { GRPCDeadlineExceededError, GRPCUnavailableError, isRecoverableError } from "etcd3";
import type { IOptions } from "etcd3";

/**
 * etcd3's fault handling for a list of members: which member a call may go
 * to, and when a failed call is tried on another.
 *
 * Per member, a circuit breaker: after 3 consecutive failures calls skip the
 * member; it is tried again after 1 s, then after longer and longer pauses
 * (up to 30 s) while it keeps failing. A dead member refuses at once, but a
 * hung one (accepts TCP, never answers) costs every call routed to it a full
 * deadline, so retests must be rare.
 *
 * Across members: a call is retried on another member only when it never
 * reached etcd, since etcd may have applied a write it did not answer:
 * - the breaker refused it;
 * - gRPC failed it with UNAVAILABLE before any answer (etcd's own UNAVAILABLE
 *   answers, "etcdserver: ...", come after etcd saw the request);
 * - its deadline passed while gRPC was still "Waiting for LB pick", i.e. no
 *   connection to the member was ever ready (grpc-js 1.14 status details;
 *   the version is pinned, and the etcd-cluster tests catch a change).
 */
export function etcdFaultHandling(memberCount: number): IOptions["faultHandling"] {
  return {
    host: () =>
      circuitBreaker(handleWhen(isRecoverableError), {
        halfOpenAfter: new ExponentialBackoff({ initialDelay: 1000, maxDelay: 30_000 }),
        breaker: new ConsecutiveBreaker(3),
      }),
    global: memberCount > 1 ? retry(handleWhen(neverReachedEtcd), { maxAttempts: memberCount - 1 }) : noop,
  };
}

function neverReachedEtcd(error: Error): boolean {
  if (isBrokenCircuitError(error)) return true;
  if (error instanceof GRPCUnavailableError) return !error.message.includes("etcdserver:");
  return error instanceof GRPCDeadlineExceededError && error.message.includes("Waiting for LB pick");
}
