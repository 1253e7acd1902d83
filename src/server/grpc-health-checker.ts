import { ClientError, Status, createChannel, createClient } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import type { Checker, GrpcTarget } from "../health/index.js";
import { errorText, truncateOutput } from "../health/index.js";

/** grpc.health.v1 HealthCheckResponse.ServingStatus names by number. */
const SERVING_STATUS: readonly string[] = ["UNKNOWN", "SERVING", "NOT_SERVING", "SERVICE_UNKNOWN"];
const SERVING = 1;

/**
 * grpc.health.v1.Health/Check against an instance. Each probe opens its own
 * channel (as Kubernetes gRPC probes do): a kept channel would sit in
 * reconnect backoff after an outage and report recovery late.
 */
export function createGrpcHealthChecker(target: GrpcTarget): Checker {
  const host = target.host.includes(":") && !target.host.startsWith("[") ? `[${target.host}]` : target.host;
  const address = `${host}:${target.port}`;
  return {
    probe: async (signal) => {
      const channel = createChannel(address);
      try {
        const client = createClient(HealthDefinition, channel);
        const { status } = await client.check({ service: target.service }, { signal });
        const name = SERVING_STATUS[status] ?? String(status);
        return { ok: status === SERVING, output: target.service ? `${target.service}: ${name}` : name };
      } catch (error) {
        if (error instanceof ClientError) {
          return { ok: false, output: truncateOutput(`${Status[error.code]}: ${error.details}`) };
        }
        if (signal.aborted) return { ok: false, output: "timed out" };
        return { ok: false, output: errorText(error) };
      } finally {
        channel.close();
      }
    },
    close: () => {},
  };
}
