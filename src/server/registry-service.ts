import { ServerError, Status } from "nice-grpc";
import type { RegistryServiceImplementation } from "../../generated/switchboard/registry/v1/registry.js";
import type { ServiceDeps } from "./deps.js";

// Placeholder until the registry issue lands: every RPC answers UNIMPLEMENTED, nothing pretends to work.
export function createRegistryServiceImpl(_deps: ServiceDeps): RegistryServiceImplementation {
  const unimplemented = (): never => {
    throw new ServerError(Status.UNIMPLEMENTED, "switchboard.registry.v1.RegistryService is not implemented yet");
  };
  return new Proxy({} as RegistryServiceImplementation, { get: () => unimplemented });
}
