import type { CheckTarget } from "../registry/index.js";
import type { Checker, CheckerFactory } from "./checker.js";
import { createHttpChecker } from "./http-checker.js";
import { createTcpChecker } from "./tcp-checker.js";

export type GrpcTarget = Extract<CheckTarget, { kind: "grpc" }>;

/**
 * HTTP and TCP checkers from src/health, gRPC from the given factory (the
 * server passes one built on nice-grpc). Without it, gRPC probes fail and
 * say why, so a misconfiguration is visible in GetHealth.
 */
export function createCheckerFactory(grpc?: (target: GrpcTarget) => Checker): CheckerFactory {
  return (target) => {
    switch (target.kind) {
      case "http":
        return createHttpChecker(target);
      case "tcp":
        return createTcpChecker(target);
      case "grpc":
        if (grpc) return grpc(target);
        return {
          probe: async () => ({ ok: false, output: "gRPC checks are not available: no gRPC checker configured" }),
          close: () => {},
        };
    }
  };
}
