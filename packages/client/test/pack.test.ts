/**
 * The SDK as a user gets it: `npm pack` (prepack builds it), the tarball installed into an empty
 * project, one README example compiled against the installed types and run against a real server.
 *
 * No registry: the install is `npm ci --offline` with a lockfile made from the repository's (see
 * lockfileFor), so it reads only npm's cache, which the repository's own `npm ci` filled.
 */
import { execFile } from "node:child_process";
import { cpSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startTestServer } from "../../../test/support/server.js";
import type { TestServer } from "../../../test/support/server.js";
import { lockfileFor, measureNodeModules, readJson, stageRepository, writeJson } from "./packed-install.js";

const run = promisify(execFile);
const PACKAGE_DIR = fileURLToPath(new URL("..", import.meta.url));
const REPO_ROOT = resolve(PACKAGE_DIR, "..", "..");
/** The server's own dependencies: none may come with the SDK. */
const SERVER_ONLY = ["etcd3", "prom-client", "cockatiel", "pino", "nice-grpc-server-health", "nice-grpc-server-reflection"];
/** npm itself, as the test's Node ships it. */
const NPM = join(dirname(process.execPath), "npm");

/** The environment of child processes: no SWITCHBOARD_* settings of the machine running the tests. */
function cleanEnv(extra: Record<string, string>): NodeJS.ProcessEnv {
  const env = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith("SWITCHBOARD_")));
  return { ...env, npm_config_audit: "false", npm_config_fund: "false", npm_config_update_notifier: "false", ...extra };
}

function files(dir: string, prefix = ""): string[] {
  return readdirSync(dir).flatMap((name) =>
    statSync(join(dir, name)).isDirectory() ? files(join(dir, name), `${prefix}${name}/`) : [`${prefix}${name}`],
  );
}

describe("the packed SDK", () => {
  let work: string;
  let app: string;
  let installed: string;
  let server: TestServer;

  beforeAll(async () => {
    work = mkdtempSync(join(tmpdir(), "switchboard-sdk-pack-"));
    const packageDir = stageRepository(REPO_ROOT, join(work, "repo"));
    const { stdout } = await run(NPM, ["pack", "--json", "--pack-destination", work], {
      cwd: packageDir,
      env: cleanEnv({}),
      timeout: 120_000,
      maxBuffer: 16 * 1024 * 1024,
    });
    const [packed] = JSON.parse(stdout.slice(stdout.indexOf("["))) as Array<{
      filename: string;
      integrity: string;
      size: number;
      unpackedSize: number;
    }>;
    console.log(`packed SDK tarball: ${packed!.size} bytes, ${packed!.unpackedSize} unpacked`);
    app = join(work, "app");
    writeJson(join(app, "package.json"), {
      name: "sdk-consumer",
      private: true,
      type: "module",
      dependencies: { "@switchboard/client": `file:../${packed!.filename}` },
    });
    writeJson(
      join(app, "package-lock.json"),
      lockfileFor(readJson(join(REPO_ROOT, "package-lock.json")), {
        file: `../${packed!.filename}`,
        integrity: packed!.integrity,
      }),
    );
    await run(NPM, ["ci", "--offline", "--ignore-scripts", "--no-audit", "--no-fund"], {
      cwd: app,
      env: cleanEnv({}),
      timeout: 120_000,
    });
    installed = join(app, "node_modules", "@switchboard", "client");
    server = await startTestServer();
  }, 240_000);

  afterAll(async () => {
    await server?.close();
    if (work !== undefined) rmSync(work, { recursive: true, force: true });
  });

  it("installs without any of the server's dependencies", () => {
    const { packages, bytes } = measureNodeModules(app);
    // The figures, for the record (npm test shows them); the assertions are about what is absent.
    console.log(
      `packed SDK install: ${packages.length} packages, ${(bytes / 1024 / 1024).toFixed(1)} MiB: ${packages.join(" ")}`,
    );
    for (const name of SERVER_ONLY) expect(packages, name).not.toContain(name);
    expect(packages).toEqual(expect.arrayContaining(["@switchboard/client", "@grpc/grpc-js", "nice-grpc", "yaml"]));
  });

  it("ships the build, its sources and LICENSE, and no tests or test helpers", () => {
    const shipped = files(installed);
    expect(shipped).toEqual(
      expect.arrayContaining(["LICENSE", "README.md", "package.json", "dist/packages/client/src/index.js"]),
    );
    expect(shipped.filter((file) => /\.test\.|manual-clock|test\/support/.test(file))).toEqual([]);
    expect(readFileSync(join(installed, "LICENSE"), "utf8")).toContain("Apache License");
    const manifest = readJson<{ exports: Record<string, unknown>; license: string }>(join(installed, "package.json"));
    expect(manifest.license).toBe("Apache-2.0");
    expect(manifest.exports["./package.json"]).toBe("./package.json");
  });

  it("has source maps whose every source is in the package", () => {
    const maps = files(installed).filter((file) => file.endsWith(".map"));
    expect(maps.length).toBeGreaterThan(20);
    const unresolved = maps.flatMap((map) => {
      const { sources, sourceRoot } = readJson<{ sources: string[]; sourceRoot?: string }>(join(installed, map));
      return sources
        .map((source) => resolve(dirname(join(installed, map)), sourceRoot ?? "", source))
        .filter((path) => !path.startsWith(installed) || !existsSync(path))
        .map((path) => `${map} -> ${path}`);
    });
    expect(unresolved).toEqual([]);
  });

  it("runs the README's register-and-discover example, compiled against the installed types", async () => {
    cpSync(join(PACKAGE_DIR, "examples", "register-and-discover.ts"), join(app, "main.ts"));
    const tsc = join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc");
    // @types/node from the repository: the one package a TypeScript user adds next to the SDK.
    await run(
      process.execPath,
      [
        tsc,
        "main.ts",
        "--strict",
        "--skipLibCheck",
        "--module",
        "nodenext",
        "--target",
        "es2022",
        "--types",
        "node",
        "--typeRoots",
        join(REPO_ROOT, "node_modules", "@types"),
        "--outDir",
        "out",
      ],
      { cwd: app, timeout: 120_000 },
    );
    const { stdout } = await run(process.execPath, ["out/main.js"], {
      cwd: app,
      env: cleanEnv({ SWITCHBOARD_ADDRESS: server.grpcAddress }),
      timeout: 60_000,
    });
    expect(stdout.trim()).toBe("picked 127.0.0.1:8080");
  }, 180_000);
});
