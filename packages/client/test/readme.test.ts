/**
 * The package README's examples run as tests: each example block is the verbatim content of a
 * file in examples/ (named by the comment above the block), and each file runs as a script
 * against a real server. pack.test.ts runs one of them again from the installed tarball.
 */
import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer } from "../../../test/support/server.js";
import type { TestServer } from "../../../test/support/server.js";

const run = promisify(execFile);
const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const REPO_ROOT = resolve(PACKAGE_DIR, "..", "..");

/** What each example prints when it works. */
const EXAMPLES: ReadonlyArray<readonly [file: string, output: string]> = [
  ["examples/register-and-discover.ts", "picked 127.0.0.1:8080"],
  ["examples/configure.ts", "timeout-ms = 250"],
];

/** `<!-- example: FILE -->` followed by a ```ts block: FILE → block. */
function readmeExamples(): Map<string, string> {
  const readme = readFileSync(join(PACKAGE_DIR, "README.md"), "utf8");
  const blocks = new Map<string, string>();
  for (const match of readme.matchAll(/<!-- example: (\S+) -->\n\n?```ts\n([\s\S]*?)```\n/g)) blocks.set(match[1]!, match[2]!);
  return blocks;
}

describe("package README examples", () => {
  let server: TestServer;

  beforeAll(async () => {
    server = await startTestServer();
  });

  afterAll(async () => {
    await server?.close();
  });

  it("shows every example file verbatim", () => {
    const blocks = readmeExamples();
    expect([...blocks.keys()].sort()).toEqual(EXAMPLES.map(([file]) => file).sort());
    for (const [file, block] of blocks) expect(block, file).toBe(readFileSync(join(PACKAGE_DIR, file), "utf8"));
  });

  it.each(EXAMPLES)(
    "%s runs against a real server",
    async (file, output) => {
      const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("SWITCHBOARD_")));
      // tsx with the repository's tsconfig: "@switchboard/client" is the package's sources.
      const { stdout } = await run(process.execPath, ["--import", "tsx", join(PACKAGE_DIR, file)], {
        cwd: REPO_ROOT,
        env: { ...env, SWITCHBOARD_ADDRESS: server.grpcAddress },
        timeout: 60_000,
      });
      expect(stdout.trim()).toBe(output);
    },
    90_000,
  );
});
