import { ServerError, Status } from "nice-grpc";
import type { ConfigServiceImplementation } from "../../generated/switchboard/config/v1/config.js";
import type { ServiceDeps } from "./deps.js";

// Placeholder until the config issue lands: every RPC answers UNIMPLEMENTED, nothing pretends to work.
export function createConfigServiceImpl(_deps: ServiceDeps): ConfigServiceImplementation {
  const unimplemented = (): never => {
    throw new ServerError(Status.UNIMPLEMENTED, "switchboard.config.v1.ConfigService is not implemented yet");
  };
  return new Proxy({} as ConfigServiceImplementation, { get: () => unimplemented });
}
