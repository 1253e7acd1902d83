import { ClientError, Status } from "nice-grpc-common";
import type { CallOptions, ClientMiddleware, ClientMiddlewareCall } from "nice-grpc-common";

/** Call option added by the deadline middleware. */
export interface DeadlineOptions {
  /**
   * When the call must have finished: a Date, or milliseconds from now.
   * Past it the call is cancelled and fails with DEADLINE_EXCEEDED.
   */
  deadline?: Date | number;
}

/** Absolute time in ms since the epoch for a deadline option. */
export function deadlineToTime(deadline: Date | number, now = Date.now()): number {
  return deadline instanceof Date ? deadline.getTime() : now + deadline;
}

/**
 * Client middleware for the `deadline` call option (nice-grpc's client does not
 * pass deadlines to grpc-js). The timer is cleared when the call ends.
 */
export const deadlineMiddleware: ClientMiddleware<DeadlineOptions> = async function* deadlineMiddleware<Request, Response>(
  call: ClientMiddlewareCall<Request, Response>,
  options: CallOptions & DeadlineOptions,
): AsyncGenerator<Response, Response | void, undefined> {
  const { deadline, signal: outerSignal, ...rest } = options;
  if (deadline === undefined) return yield* call.next(call.request, options);

  const controller = new AbortController();
  const onOuterAbort = (): void => controller.abort(outerSignal?.reason);
  if (outerSignal?.aborted) controller.abort(outerSignal.reason);
  outerSignal?.addEventListener("abort", onOuterAbort);
  let expired = false;
  const timer = setTimeout(
    () => {
      expired = true;
      controller.abort();
    },
    Math.max(0, deadlineToTime(deadline) - Date.now()),
  );
  try {
    return yield* call.next(call.request, { ...rest, signal: controller.signal });
  } catch (error) {
    if (expired && !outerSignal?.aborted) {
      throw new ClientError(call.method.path, Status.DEADLINE_EXCEEDED, "deadline exceeded");
    }
    throw error;
  } finally {
    clearTimeout(timer);
    outerSignal?.removeEventListener("abort", onOuterAbort);
  }
};
