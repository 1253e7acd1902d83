import { ServerError, Status } from "nice-grpc";
import type { CallContext, ServerMiddlewareCall } from "nice-grpc-common";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import { isAbortError } from "./abort.js";
import { handlerContext } from "./auth-guard.js";
import type { AuthGuard, GuardedCall } from "./auth-guard.js";
import { toServerError } from "./error-status.js";
import { createRpcMetrics } from "./rpc-metrics.js";
import { createShutdownFanOut } from "./shutdown-fan-out.js";

export interface CallMiddlewareOptions {
  metrics: Registry;
  /** Per-call lines (debug, warn on errors); unexpected errors are logged here too. */
  logger: Logger;
  /** Aborted when the server shuts down. */
  shutdownSignal: AbortSignal;
  /** With --auth: authentication, the permission table, quotas and audit (auth-guard.ts). Default: none (all open). */
  auth?: AuthGuard;
}

/**
 * Everything the server does around each call, in one middleware layer:
 *
 * 1. Shutdown: the handler's `context.signal` also aborts when the server
 *    shuts down, so endless streams end instead of holding shutdown; a call
 *    cut this way, or started after shutdown began, answers UNAVAILABLE
 *    ("retry, possibly on another replica").
 * 2. Errors: domain and store errors become statuses by the one table in
 *    error-middleware.ts; anything unknown is logged and answered INTERNAL.
 * 3. Logging: one line per call, debug on success or client cancellation,
 *    warn for every error status.
 * 4. Metrics: go-grpc-prometheus counters and histogram (rpc-metrics.ts).
 * 5. Auth (with --auth): the guard checks the call against the permission
 *    table before the handler runs, and ends streams whose token is revoked.
 *
 * One layer rather than one per concern: nice-grpc runs each middleware as an
 * async generator that every streamed message passes through, and each layer
 * costs every open stream its own generator, context copy and closures. With
 * tens of thousands of idle watch streams that was about 2.7 KiB per stream
 * for three extra layers (bench/README.md, idle watch stream memory).
 */
export function createCallMiddleware(options: CallMiddlewareOptions) {
  const { logger, shutdownSignal } = options;
  const rpcMetrics = createRpcMetrics(options.metrics);
  const fanOut = createShutdownFanOut(shutdownSignal);
  const auth = options.auth;

  return async function* callMiddleware<Request, Response>(call: ServerMiddlewareCall<Request, Response>, context: CallContext) {
    const path = call.method.path;
    const startedAt = performance.now();
    const finish = rpcMetrics.start(path, call.requestStream, call.responseStream);
    const elapsed = () => Math.round((performance.now() - startedAt) * 1000) / 1000;
    let code = Status.OK;
    const link = shutdownSignal.aborted ? undefined : fanOut.link(context.signal);
    let guarded: GuardedCall | undefined;
    try {
      if (!link) throw shuttingDown();
      let request = call.request;
      let signal = link.signal;
      if (auth) {
        guarded = auth.begin(path, context, call.requestStream, call.responseStream);
        guarded.check(request);
        request = guarded.request(request);
        if (guarded.signal) signal = AbortSignal.any([signal, guarded.signal]);
      }
      const result = yield* call.next(request, handlerContext(context, signal, guarded?.caller));
      const revoked = guarded?.revoked();
      if (revoked) throw revoked;
      logger.debug({ method: path, peer: context.peer, ms: elapsed(), code: "OK" }, "rpc");
      return result;
    } catch (thrown) {
      const cutByShutdown = isAbortError(thrown) && shutdownSignal.aborted && !context.signal.aborted;
      const revoked = context.signal.aborted ? undefined : guarded?.revoked();
      const error = revoked
        ? toServerError(revoked, context, logger, path)
        : cutByShutdown
          ? shuttingDown()
          : toServerError(thrown, context, logger, path);
      if (error instanceof ServerError) {
        code = error.code;
        logger.warn(
          { method: path, peer: context.peer, ms: elapsed(), code: Status[error.code], details: error.details },
          "rpc failed",
        );
      } else {
        code = Status.CANCELLED;
        logger.debug({ method: path, peer: context.peer, ms: elapsed(), code: "CANCELLED" }, "rpc cancelled");
      }
      throw error;
    } finally {
      link?.release();
      guarded?.end(Status[code] ?? String(code));
      finish(code);
    }
  };
}

function shuttingDown(): ServerError {
  return new ServerError(Status.UNAVAILABLE, "server is shutting down");
}
