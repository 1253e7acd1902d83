import { ServerError, Status } from "nice-grpc";
import type { CallContext, ServerMiddlewareCall } from "nice-grpc-common";
import type { Logger } from "pino";
import { isAbortError } from "./abort.js";

/**
 * One log line per call: debug on success (with duration), debug for
 * cancellations by the client, warn for every error status.
 */
export function createLoggingMiddleware(logger: Logger) {
  return async function* loggingMiddleware<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ) {
    const startedAt = performance.now();
    const fields = () => ({ method: call.method.path, peer: context.peer, ms: roundMs(performance.now() - startedAt) });
    try {
      const result = yield* call.next(call.request, context);
      logger.debug({ ...fields(), code: "OK" }, "rpc");
      return result;
    } catch (error) {
      if (error instanceof ServerError) {
        logger.warn({ ...fields(), code: Status[error.code], details: error.details }, "rpc failed");
      } else if (isAbortError(error)) {
        logger.debug({ ...fields(), code: "CANCELLED" }, "rpc cancelled");
      } else {
        logger.warn({ ...fields(), err: error }, "rpc failed");
      }
      throw error;
    }
  };
}

function roundMs(ms: number): number {
  return Math.round(ms * 1000) / 1000;
}
