import { circuitBreaker, ConsecutiveBreaker, ExponentialBackoff, handleWhen, isBrokenCircuitError, noop, retry } from "cockatiel";
import type { CircuitBreakerPolicy } from "cockatiel";
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
 *
 * A member that stops answering with its connections open is isolated by the
 * member probe (`isolate`) rather than retested with callers' requests.
 */
export function etcdFaultHandling(memberCount: number): EtcdFaultHandling {
  const breakers = new Map<string, CircuitBreakerPolicy>();
  return {
    options: {
      host: (member) => {
        const breaker = circuitBreaker(handleWhen(isRecoverableError), {
          halfOpenAfter: new ExponentialBackoff({ initialDelay: 1000, maxDelay: 30_000 }),
          breaker: new ConsecutiveBreaker(3),
        });
        breakers.set(member, breaker);
        return breaker;
      },
      global: memberCount > 1 ? retry(handleWhen(neverReachedEtcd), { maxAttempts: memberCount - 1 }) : noop,
    },
    isolate(member) {
      // etcd3 creates the breakers with the client, so every member has one by now.
      const breaker = breakers.get(member);
      if (breaker === undefined) throw new Error(`no circuit breaker for etcd member ${member}`);
      return breaker.isolate();
    },
  };
}

export interface EtcdFaultHandling {
  /** For the etcd3 client's `faultHandling` option. */
  options: IOptions["faultHandling"];
  /**
   * Holds the member's breaker open (calls go to other members at once) until the handle is
   * disposed; for the member probe (etcd-member-probe.ts).
   */
  isolate(member: string): { dispose(): void };
}

function neverReachedEtcd(error: Error): boolean {
  if (isBrokenCircuitError(error)) return true;
  if (error instanceof GRPCUnavailableError) return !error.message.includes("etcdserver:");
  return error instanceof GRPCDeadlineExceededError && error.message.includes("Waiting for LB pick");
}
