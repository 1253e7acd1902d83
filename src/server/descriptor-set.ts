import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where `npm run generate` writes the descriptor set (switchboard API + vendored grpc health/reflection). */
const DESCRIPTOR_SET = join("generated", "switchboard.binpb");

// A module of its own so that the single-executable build (scripts/build-binary.mjs) can swap it
// for one that embeds the file: the binary has no generated/ directory beside it.

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
