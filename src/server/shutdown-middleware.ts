import { ServerError, Status } from "nice-grpc";
import type { CallContext, ServerMiddlewareCall } from "nice-grpc-common";
import { isAbortError } from "./abort.js";

/**
 * Makes every call's `context.signal` also abort when the server shuts down,
 * so endless streams (watches, grpc.health.v1 Watch) end instead of holding
 * shutdown. A call cut this way ends with UNAVAILABLE, which clients treat as
 * "retry, possibly on another replica".
 */
export function createShutdownMiddleware(shutdownSignal: AbortSignal) {
  return async function* shutdownMiddleware<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ) {
    if (shutdownSignal.aborted) throw shuttingDown();
    const controller = new AbortController();
    const abort = () => controller.abort();
    context.signal.addEventListener("abort", abort);
    shutdownSignal.addEventListener("abort", abort);
    try {
      return yield* call.next(call.request, { ...context, signal: controller.signal });
    } catch (error) {
      if (isAbortError(error) && shutdownSignal.aborted && !context.signal.aborted) throw shuttingDown();
      throw error;
    } finally {
      context.signal.removeEventListener("abort", abort);
      shutdownSignal.removeEventListener("abort", abort);
    }
  };
}

function shuttingDown(): ServerError {
  return new ServerError(Status.UNAVAILABLE, "server is shutting down");
}
