import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { ServerReflection, ServerReflectionService } from "nice-grpc-server-reflection";

/** Where `npm run generate` writes the descriptor set (switchboard API + vendored grpc health/reflection). */
const DESCRIPTOR_SET = join("generated", "switchboard.binpb");

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

/**
 * Reads generated/switchboard.binpb, looking upwards from this module so it is
 * found from src/ (tsx, vitest) and from dist/src/ (compiled) alike.
 */
export function loadDescriptorSet(): Uint8Array {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, DESCRIPTOR_SET);
    if (existsSync(candidate)) return readFileSync(candidate);
    dir = dirname(dir);
  }
  throw new Error(`${DESCRIPTOR_SET} not found above ${fileURLToPath(import.meta.url)}; run "npm run generate"`);
}
