#!/usr/bin/env node
// After `tsc -p tsconfig.build.json`: makes every source map in dist/ resolve inside the package.
// The SDK compiles the shared wire contract from the repository root (generated/, src/errors.ts, src/contract.ts),
// so the maps of those files name sources outside packages/client that an installed package
// does not have. This copies each such source to dist/sources/<path from the repository root>
// and points the map there. The package's own sources ship in src/ and resolve as they are.
import { copyFileSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { dirname, join, relative, resolve, sep } from "node:path";
import { fileURLToPath } from "node:url";

const packageDir = resolve(dirname(fileURLToPath(import.meta.url)), "..");
const repoRoot = resolve(packageDir, "..", "..");
const dist = join(packageDir, "dist");
const shipped = join(dist, "sources");

function* maps(dir) {
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) yield* maps(path);
    else if (entry.name.endsWith(".map")) yield path;
  }
}

let rewritten = 0;
for (const mapFile of maps(dist)) {
  const map = JSON.parse(readFileSync(mapFile, "utf8"));
  const base = resolve(dirname(mapFile), map.sourceRoot ?? "");
  let changed = false;
  map.sources = map.sources.map((source) => {
    const absolute = resolve(base, source);
    if (absolute.startsWith(packageDir + sep)) return source;
    const copy = join(shipped, relative(repoRoot, absolute));
    mkdirSync(dirname(copy), { recursive: true });
    copyFileSync(absolute, copy);
    changed = true;
    return relative(base, copy).split(sep).join("/");
  });
  if (changed) {
    writeFileSync(mapFile, JSON.stringify(map));
    rewritten++;
  }
}
console.log(`ship-map-sources: ${rewritten} maps now point into dist/sources`);
