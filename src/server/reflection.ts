import { ServerReflection, ServerReflectionService } from "nice-grpc-server-reflection";

export { loadDescriptorSet } from "./descriptor-set.js";

/** Full names of both reflection services served (v1alpha for older grpcurl and grpc-js clients). */
export const REFLECTION_SERVICE_NAMES = [
  "grpc.reflection.v1.ServerReflection",
  "grpc.reflection.v1alpha.ServerReflection",
] as const;

/**
 * grpc.reflection.v1alpha is wire-identical to v1 (same messages, same field
 * numbers); only the method path differs, so the v1 implementation serves both.
 */
export const ServerReflectionV1AlphaService = {
  serverReflectionInfo: {
    ...ServerReflectionService.serverReflectionInfo,
    path: "/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
  },
} as const;

/** One implementation for both versions, answering for exactly `serviceNames`. */
export function createReflectionImpl(descriptorSet: Uint8Array, serviceNames: readonly string[]) {
  return ServerReflection(descriptorSet, serviceNames);
}
