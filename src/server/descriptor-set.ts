import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { mergeDescriptorSets } from "./merge-descriptor-sets.js";

/** Where `npm run generate` writes the descriptor set (switchboard API + vendored grpc health/reflection). */
const DESCRIPTOR_SET = join("generated", "switchboard.binpb");
/** Where `npm run generate:xds` writes the ADS service's descriptors. */
const XDS_DESCRIPTOR_SET = join("generated", "xds.binpb");

// A module of its own so that the single-executable build (scripts/build-binary.mjs) can swap it
// for one that embeds the file: the binary has no generated/ directory beside it.

/**
 * Reads generated/switchboard.binpb and generated/xds.binpb as one set,
 * looking upwards from this module so they are found from src/ (tsx, vitest)
 * and from dist/src/ (compiled) alike.
 */
export function loadDescriptorSet(): Uint8Array {
  return mergeDescriptorSets(find(DESCRIPTOR_SET, "generate"), find(XDS_DESCRIPTOR_SET, "generate:xds"));
}

function find(file: string, script: string): Uint8Array {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, file);
    if (existsSync(candidate)) return readFileSync(candidate);
    dir = dirname(dir);
  }
  throw new Error(`${file} not found above ${fileURLToPath(import.meta.url)}; run "npm run ${script}"`);
}
