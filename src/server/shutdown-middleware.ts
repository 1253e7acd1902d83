import { ServerError, Status } from "nice-grpc";
import type { CallContext, ServerMiddlewareCall } from "nice-grpc-common";
import { isAbortError } from "./abort.js";
import { createShutdownFanOut } from "./shutdown-fan-out.js";

/**
 * Makes every call's `context.signal` also abort when the server shuts down,
 * so endless streams (watches, grpc.health.v1 Watch) end instead of holding
 * shutdown. A call cut this way ends with UNAVAILABLE, which clients treat as
 * "retry, possibly on another replica".
 */
export function createShutdownMiddleware(shutdownSignal: AbortSignal) {
  // One listener on the shutdown signal for all calls (see shutdown-fan-out.ts).
  const fanOut = createShutdownFanOut(shutdownSignal);
  return async function* shutdownMiddleware<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ) {
    if (shutdownSignal.aborted) throw shuttingDown();
    const link = fanOut.link(context.signal);
    try {
      return yield* call.next(call.request, { ...context, signal: link.signal });
    } catch (error) {
      if (isAbortError(error) && shutdownSignal.aborted && !context.signal.aborted) throw shuttingDown();
      throw error;
    } finally {
      link.release();
    }
  };
}

function shuttingDown(): ServerError {
  return new ServerError(Status.UNAVAILABLE, "server is shutting down");
}
