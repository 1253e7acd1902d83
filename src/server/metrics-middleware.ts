import { ServerError, Status } from "nice-grpc";
import type { CallContext, ServerMiddlewareCall } from "nice-grpc-common";
import { Counter, Histogram } from "prom-client";
import type { Registry } from "prom-client";
import { isAbortError } from "./abort.js";

/**
 * RPC metrics with go-grpc-prometheus names and labels, so existing
 * dashboards work: grpc_server_started_total, grpc_server_handled_total and
 * grpc_server_handling_seconds by grpc_type, grpc_service, grpc_method
 * (and grpc_code for the last two). Handling time of a stream is its lifetime.
 */
export function createMetricsMiddleware(registry: Registry) {
  const labelNames = ["grpc_type", "grpc_service", "grpc_method"] as const;
  const started = new Counter({
    name: "grpc_server_started_total",
    help: "RPCs started on the server.",
    labelNames,
    registers: [registry],
  });
  const handled = new Counter({
    name: "grpc_server_handled_total",
    help: "RPCs completed on the server, by status code.",
    labelNames: [...labelNames, "grpc_code"],
    registers: [registry],
  });
  const seconds = new Histogram({
    name: "grpc_server_handling_seconds",
    help: "Time from the start of an RPC to its status, by status code.",
    labelNames: [...labelNames, "grpc_code"],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300],
    registers: [registry],
  });

  return async function* metricsMiddleware<Request, Response>(
    call: ServerMiddlewareCall<Request, Response>,
    context: CallContext,
  ) {
    const labels = { grpc_type: callType(call.requestStream, call.responseStream), ...splitPath(call.method.path) };
    started.inc(labels);
    const startedAt = process.hrtime.bigint();
    let code = Status.OK;
    try {
      return yield* call.next(call.request, context);
    } catch (error) {
      code = statusOf(error);
      throw error;
    } finally {
      const withCode = { ...labels, grpc_code: Status[code] };
      handled.inc(withCode);
      seconds.observe(withCode, Number(process.hrtime.bigint() - startedAt) / 1e9);
    }
  };
}

/** "/pkg.Service/Method" → service and method labels. */
export function splitPath(path: string): { grpc_service: string; grpc_method: string } {
  const [, service = "", method = ""] = path.split("/");
  return { grpc_service: service, grpc_method: method };
}

function callType(requestStream: boolean, responseStream: boolean): string {
  if (requestStream) return responseStream ? "bidi_stream" : "client_stream";
  return responseStream ? "server_stream" : "unary";
}

function statusOf(error: unknown): Status {
  if (error instanceof ServerError) return error.code;
  if (isAbortError(error)) return Status.CANCELLED;
  return Status.UNKNOWN;
}
