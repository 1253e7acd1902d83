/**
 * What a user sees when something is wrong, from the real CLI as a child
 * process: one line on stderr and the documented exit code (2: bad flags or
 * arguments, 1: failures), for bad flags, an unreachable or wrong control-plane
 * address, register while the control plane is down, and bad import files.
 * Cases that differ only in arguments run through runCli in this process (the
 * same code as src/cli/main.ts, minus process start-up, which is slow on a busy
 * machine); each kind of failure is also seen from a real child process.
 */
import { mkdtemp, rm, writeFile } from "node:fs/promises";
import { createServer } from "node:net";
import type { AddressInfo } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/command-table.js";
import { runCli } from "../src/cli/run-cli.js";
import { createSwitchboardClient } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { runSwitchboard, startSwitchboard } from "./support/cli.js";
import type { CliResult } from "./support/cli.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

let server: TestServer;
let client: SwitchboardClient;
let dir: string;

beforeAll(async () => {
  [server, dir] = await Promise.all([startTestServer(), mkdtemp(join(tmpdir(), "switchboard-cli-errors-"))]);
  client = createSwitchboardClient({ address: server.grpcAddress });
});

afterAll(async () => {
  client?.close();
  await server?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

/** A 127.0.0.1 port nothing listens on (bound once, then released). */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((resolve) => probe.listen(0, "127.0.0.1", resolve));
  const { port } = probe.address() as AddressInfo;
  await new Promise<void>((resolve) => probe.close(() => resolve()));
  return port;
}

/** `switchboard ARGS` through runCli in this process. */
async function inProcess(argv: string[], env: Record<string, string> = {}): Promise<CliResult> {
  let stdout = "";
  let stderr = "";
  const sink = (append: (text: string) => void) =>
    new Writable({
      write(chunk: Buffer | string, _encoding, done) {
        append(String(chunk));
        done();
      },
    });
  const code = await runCli(argv, COMMANDS, { env, stdout: sink((t) => (stdout += t)), stderr: sink((t) => (stderr += t)) });
  return { code, signal: null, stdout, stderr };
}

/** Exactly one line on stderr, matching `pattern`. */
function expectOneLine(result: CliResult, code: number, pattern: RegExp): void {
  expect({ code: result.code, stderr: result.stderr }).toMatchObject({ code, stderr: expect.stringMatching(pattern) });
  expect(result.stderr.endsWith("\n") && result.stderr.indexOf("\n") === result.stderr.length - 1, result.stderr).toBe(true);
}

describe("bad flags: one line, a --help hint, exit 2, for every command", () => {
  it("unknown flags", async () => {
    const commands = [
      ["services"],
      ["instances", "orders"],
      ["watch", "orders"],
      ["register", "orders", "127.0.0.1:9000"],
      ["deregister", "orders", "i-1"],
      ["health", "orders"],
      ["config", "list"],
      ["health-check"],
      ["serve"],
    ];
    for (const argv of commands) {
      const name = argv[0]!;
      expectOneLine(
        await inProcess([...argv, "--bogus"]),
        2,
        new RegExp(`^switchboard ${name}: unknown flag --bogus \\(see "switchboard ${name} --help"\\)\\n$`),
      );
    }
    // The same from the real process.
    expectOneLine(
      await runSwitchboard(["instances", "orders", "--bogus"]),
      2,
      /^switchboard instances: unknown flag --bogus \(see "switchboard instances --help"\)\n$/,
    );
  }, 60_000);

  it("values out of range, missing values, bad addresses", async () => {
    const ttl = await inProcess(["register", "orders", "127.0.0.1:9000", "--ttl", "1"]);
    const missing = await inProcess(["register", "orders", "127.0.0.1:9000", "--check-interval"]);
    const set = await inProcess(["config", "set", "db.url"]);
    const port = await inProcess(["services", "--address", "127.0.0.1:99999"]);
    expectOneLine(
      ttl,
      2,
      /^switchboard register: --ttl: expected an integer from 2 to 300, got "1" \(see "switchboard register --help"\)\n$/,
    );
    expectOneLine(missing, 2, /^switchboard register: --check-interval needs a value \(see/);
    expectOneLine(
      set,
      2,
      /^switchboard config: missing the value of db\.url: give it as an argument, - to read stdin, or --file FILE \(see/,
    );
    expectOneLine(
      port,
      2,
      /^switchboard services: --address: expected HOST:PORT with a port from 1 to 65535 \(e\.g\. localhost:7000\), got "127\.0\.0\.1:99999" \(see/,
    );
  }, 120_000);

  it("--grpc-check without a service name checks the whole server, also before another flag", async () => {
    const cli = startSwitchboard([
      "register",
      "grpc-checked",
      "127.0.0.1:9",
      "--grpc-check",
      "--check-interval",
      "1000",
      "--json",
      "--address",
      server.grpcAddress,
    ]);
    try {
      await cli.waitFor(/"event":"registered"/);
      const registered = JSON.parse(cli.stdout().split("\n")[0]!) as { instance: { healthChecks: unknown[] } };
      expect(registered.instance.healthChecks).toEqual([expect.objectContaining({ intervalMs: 1000, grpc: {} })]);
      cli.kill("SIGINT");
      expect((await cli.exited).code).toBe(0);
    } finally {
      cli.kill("SIGKILL");
    }
  }, 60_000);
});

describe("control plane not reachable: which address, what is wrong, how to choose another; exit 1", () => {
  it("nothing listens on the address (from --address or SWITCHBOARD_ADDRESS)", async () => {
    const port = await closedPort();
    const flag = await runSwitchboard(["services", "--address", `127.0.0.1:${port}`]);
    const env = await inProcess(["config", "list"], { SWITCHBOARD_ADDRESS: `127.0.0.1:${port}` });
    expectOneLine(
      flag,
      1,
      new RegExp(
        `^switchboard services: cannot reach the control plane at 127\\.0\\.0\\.1:${port} \\(--address\\): connection refused: nothing listens there; ` +
          "choose another address with --address HOST:PORT or SWITCHBOARD_ADDRESS\\n$",
      ),
    );
    expectOneLine(
      env,
      1,
      new RegExp(
        `^switchboard config: cannot reach the control plane at 127\\.0\\.0\\.1:${port} \\(\\$SWITCHBOARD_ADDRESS\\): connection refused`,
      ),
    );
  }, 120_000);

  it("the address is the HTTP port", async () => {
    const result = await runSwitchboard(["instances", "orders", "--address", server.httpAddress]);
    expectOneLine(
      result,
      1,
      /answered HTTP\/1, not gRPC: is that the --http-listen port\?.*--address HOST:PORT or SWITCHBOARD_ADDRESS\n$/,
    );
    expect(result.stderr).not.toMatch(/Protocol error|Resolution note/);
  }, 60_000);

  it("register says it is waiting, keeps retrying, and exits 1 when interrupted before it ever registered", async () => {
    const port = await closedPort();
    const cli = startSwitchboard(["register", "orders", "127.0.0.1:9000", "--address", `127.0.0.1:${port}`]);
    try {
      await cli.waitFor(/waiting for the control plane/);
      expect(cli.stderr()).toBe(
        `waiting for the control plane at 127.0.0.1:${port} (--address): connection refused: nothing listens there; ` +
          "retrying with backoff, Ctrl-C to give up (choose another address with --address HOST:PORT or SWITCHBOARD_ADDRESS)\n",
      );
      cli.kill("SIGINT");
      const result = await cli.exited;
      expect(result.code).toBe(1);
      expect(result.stderr.split("\n")[1]).toBe(
        `switchboard register: interrupted before registering with the control plane at 127.0.0.1:${port}; nothing was registered`,
      );
      expect(result.stdout).toBe("");
    } finally {
      cli.kill("SIGKILL");
    }
  }, 60_000);
});

describe("config import: unknown fields are errors, scope overrides are said", () => {
  it("names an unknown top-level field or value field and writes nothing", async () => {
    const misspeltScope = join(dir, "servce.yaml");
    await writeFile(misspeltScope, "namespace: typo\nservce: orders\nvalues:\n  a: b\n");
    const misspeltType = join(dir, "content-typ.yaml");
    await writeFile(misspeltType, "namespace: typo\nvalues:\n  features:\n    contentTyp: application/json\n    value: '{}'\n");
    const scope = await runSwitchboard(["config", "import", misspeltScope, "--address", server.grpcAddress]);
    const type = await inProcess(["config", "import", misspeltType, "--address", server.grpcAddress]);
    expectOneLine(
      scope,
      2,
      /^switchboard config: .*servce\.yaml: unknown field "servce" \(expected namespace, service, profile, values\) \(see/,
    );
    expectOneLine(
      type,
      2,
      /^switchboard config: .*content-typ\.yaml: values\.features: unknown field "contentTyp" \(expected value, contentType and secret\) \(see/,
    );
    for (const service of ["", "orders"]) {
      expect((await client.config.listValues({ scope: { namespace: "typo", service, profile: "" } })).values).toEqual([]);
    }
  }, 60_000);

  it("says on stderr when scope flags replace the file's scope", async () => {
    const file = join(dir, "shop.yaml");
    await writeFile(file, "namespace: shop\nservice: orders\nprofile: prod\nvalues:\n  a: b\n");
    const result = await inProcess(["config", "import", file, "-n", "other", "--address", server.grpcAddress]);
    expect(result.code).toBe(0);
    expect(result.stderr).toBe(
      "config import: importing into other/_/_ as the scope flags say, not into shop/orders/prod named in the file\n",
    );
    expect(
      (await client.config.listValues({ scope: { namespace: "other", service: "", profile: "" } })).values.map((v) => v.key),
    ).toEqual(["a"]);
  }, 60_000);
});
