import { ServerError, Status } from "nice-grpc";
import type { HealthServiceImplementation } from "../../generated/switchboard/health/v1/health.js";
import type { ServiceDeps } from "./deps.js";

// Placeholder until the health issue lands: every RPC answers UNIMPLEMENTED, nothing pretends to work.
export function createHealthServiceImpl(_deps: ServiceDeps): HealthServiceImplementation {
  const unimplemented = (): never => {
    throw new ServerError(Status.UNIMPLEMENTED, "switchboard.health.v1.HealthService is not implemented yet");
  };
  return new Proxy({} as HealthServiceImplementation, { get: () => unimplemented });
}
