import { existsSync, readFileSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";

/** Where `npm run build` writes the dashboard: one HTML file with its script and styles inlined. */
const UI_FILE = join("dist", "ui", "index.html");

// A module of its own so that the single-executable build (scripts/build-binary.mjs) can swap it
// for one that embeds the page: the binary has no dist/ directory beside it.

/**
 * The dashboard page, read from dist/ui/index.html above this module (from
 * src/ under tsx and vitest, from dist/src/ when compiled); undefined when
 * the UI has not been built.
 */
export function loadUiPage(): string | undefined {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let depth = 0; depth < 6; depth++) {
    const candidate = join(dir, UI_FILE);
    if (existsSync(candidate)) return readFileSync(candidate, "utf8");
    dir = dirname(dir);
  }
  return undefined;
}
