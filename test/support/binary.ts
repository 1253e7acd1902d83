/**
 * Single executables for tests: build one with scripts/build-binary.mjs into a temporary
 * directory, or take a prebuilt one from the environment (CI builds dist/switchboard first
 * and sets SWITCHBOARD_BINARY so the smoke test runs exactly what was built).
 *
 *   const binary = await prepareBinary({ entry: "src/cli/main.ts", name: "switchboard", env: "SWITCHBOARD_BINARY" });
 *   const dir = await binary.copyToEmptyDir(); // dir/switchboard, nothing else there
 *   await binary.remove();
 */
import { execFile } from "node:child_process";
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { isAbsolute, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

const REPO_ROOT = fileURLToPath(new URL("../..", import.meta.url));
const run = promisify(execFile);

export interface PrepareBinaryOptions {
  /** Entry module, relative to the repository root. */
  entry: string;
  /** File name of the executable. */
  name: string;
  /** Environment variable that may name a prebuilt executable (relative to the repository root). */
  env: string;
}

export interface TestBinary {
  /** Absolute path of the executable. */
  readonly path: string;
  /** Whether this run built it (false: taken from the environment). */
  readonly built: boolean;
  /** Copies the executable alone into a new temporary directory; returns its path there. */
  copyToEmptyDir(): Promise<string>;
  /** Removes what this helper created (the build and the copies). */
  remove(): Promise<void>;
}

export async function prepareBinary(options: PrepareBinaryOptions): Promise<TestBinary> {
  const created: string[] = [];
  const prebuilt = process.env[options.env];
  let path: string;
  if (prebuilt) {
    path = isAbsolute(prebuilt) ? prebuilt : resolve(REPO_ROOT, prebuilt);
  } else {
    const dir = await mkdtemp(join(tmpdir(), "switchboard-build-"));
    created.push(dir);
    path = join(dir, options.name);
    await run(process.execPath, ["scripts/build-binary.mjs", "--entry", options.entry, "--out", path], {
      cwd: REPO_ROOT,
      maxBuffer: 16 * 1024 * 1024,
    });
  }
  return {
    path,
    built: !prebuilt,
    async copyToEmptyDir() {
      const dir = await mkdtemp(join(tmpdir(), "switchboard-bin-"));
      created.push(dir);
      const copy = join(dir, options.name);
      await copyFile(path, copy);
      return copy;
    },
    async remove() {
      await Promise.all(created.map((dir) => rm(dir, { recursive: true, force: true })));
    },
  };
}
