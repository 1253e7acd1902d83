import { Status } from "nice-grpc";
import { Counter, Histogram } from "prom-client";
import type { Registry } from "prom-client";

/**
 * RPC metrics with go-grpc-prometheus names and labels, so existing
 * dashboards work: grpc_server_started_total, grpc_server_handled_total and
 * grpc_server_handling_seconds by grpc_type, grpc_service, grpc_method
 * (and grpc_code for the last two). Handling time of a stream is its lifetime.
 *
 * Label sets are resolved to prom-client children once per method (and
 * code), not hashed again on every call.
 */
export function createRpcMetrics(registry: Registry) {
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

  type Outcome = { handled: ReturnType<typeof handled.labels>; seconds: ReturnType<typeof seconds.labels> };
  interface MethodMetrics {
    started: ReturnType<typeof started.labels>;
    outcomes: Map<Status, Outcome>;
    labels: Record<(typeof labelNames)[number], string>;
  }
  const byMethod = new Map<string, MethodMetrics>();

  function methodMetrics(path: string, requestStream: boolean, responseStream: boolean): MethodMetrics {
    let entry = byMethod.get(path);
    if (!entry) {
      const labels = { grpc_type: callType(requestStream, responseStream), ...splitPath(path) };
      entry = { started: started.labels(labels), outcomes: new Map(), labels };
      byMethod.set(path, entry);
    }
    return entry;
  }

  return {
    /** Counts a started call; the returned function records its end with its status code. */
    start(path: string, requestStream: boolean, responseStream: boolean): (code: Status) => void {
      const method = methodMetrics(path, requestStream, responseStream);
      method.started.inc();
      const startedAt = process.hrtime.bigint();
      return (code) => {
        let outcome = method.outcomes.get(code);
        if (!outcome) {
          const withCode = { ...method.labels, grpc_code: Status[code] };
          outcome = { handled: handled.labels(withCode), seconds: seconds.labels(withCode) };
          method.outcomes.set(code, outcome);
        }
        outcome.handled.inc();
        outcome.seconds.observe(Number(process.hrtime.bigint() - startedAt) / 1e9);
      };
    },
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
