/**
 * examples/config: the greeter service, run as its own process, configured
 * from a server loaded with examples/config/config.yaml through the CLI, with
 * one key overridden by an environment variable; then a live change.
 */
import { spawn } from "node:child_process";
import { fileURLToPath } from "node:url";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { Writable } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { COMMANDS } from "../src/cli/command-table.js";
import { runCli } from "../src/cli/run-cli.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const REPO = fileURLToPath(new URL("..", import.meta.url));

async function cli(address: string, ...args: string[]): Promise<string> {
  let out = "";
  const sink = new Writable({
    write(chunk: Buffer | string, _encoding, done) {
      out += String(chunk);
      done();
    },
  });
  const code = await runCli(["config", ...args], COMMANDS, { env: { SWITCHBOARD_ADDRESS: address }, stdout: sink, stderr: sink });
  if (code !== 0) throw new Error(`switchboard config ${args.join(" ")} exited ${code}: ${out}`);
  return out;
}

describe("examples/config greeter", () => {
  let server: TestServer;
  let dir: string;

  beforeAll(async () => {
    server = await startTestServer();
    dir = await mkdtemp(join(tmpdir(), "greeter-"));
  });

  afterAll(async () => {
    await server?.close();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("starts from Switchboard config with an environment override and follows changes", async () => {
    await cli(server.grpcAddress, "set", "greeting.text", "Hi", "-n", "shop"); // namespace default, shadowed below
    expect(await cli(server.grpcAddress, "import", join(REPO, "examples/config/config.yaml"))).toContain("4 written");

    const child = spawn(process.execPath, ["--import", "tsx", "examples/config/greeter.ts"], {
      cwd: REPO,
      env: {
        ...process.env,
        SWITCHBOARD_ADDRESS: server.grpcAddress,
        SWITCHBOARD_NAMESPACE: "shop",
        SWITCHBOARD_SERVICE: "greeter",
        SWITCHBOARD_CACHE_FILE: join(dir, "cache.json"),
        SWITCHBOARD_CONFIG_GREETING_TARGET: "world", // the environment wins over the stored "visitor"
        SWITCHBOARD_CONFIG_HTTP_PORT: "0", // and over http.port 8080: any free port
      },
      stdio: ["ignore", "pipe", "pipe"],
    });
    const lines: Record<string, unknown>[] = [];
    let buffered = "";
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => {
      buffered += chunk;
      for (let newline = buffered.indexOf("\n"); newline >= 0; newline = buffered.indexOf("\n")) {
        lines.push(JSON.parse(buffered.slice(0, newline)) as Record<string, unknown>);
        buffered = buffered.slice(newline + 1);
      }
    });
    let stderr = "";
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    const waitForLine = async (msg: string) => {
      const deadline = Date.now() + 20_000;
      for (;;) {
        const line = lines.find((candidate) => candidate.msg === msg);
        if (line) return line;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`no "${msg}" line; stderr:\n${stderr}`);
        await new Promise((resolve) => setTimeout(resolve, 50));
      }
    };

    try {
      const started = await waitForLine("greeter listening");
      expect(started.source).toBe("control-plane");
      expect(started.config).toMatchObject({ "greeting.text": "Hello", "greeting.target": "world", "http.port": "0" });
      const base = `http://127.0.0.1:${started.port as number}`;
      expect(await (await fetch(`${base}/`)).json()).toMatchObject({ message: "Hello, world!" });
      const described = (await (await fetch(`${base}/config`)).json()) as { entries: { key: string; origin: string }[] };
      expect(described.entries.find((e) => e.key === "greeting.target")?.origin).toBe("env");
      expect(described.entries.find((e) => e.key === "greeting.text")?.origin).toBe("service-default");

      // A live change, pushed to the running service.
      await cli(server.grpcAddress, "set", "limits", "shout: true\n", "-t", "application/yaml", "-n", "shop", "-s", "greeter");
      await waitForLine("configuration changed");
      expect(await (await fetch(`${base}/?name=ops`)).json()).toMatchObject({ message: "HELLO, OPS!" });
    } finally {
      child.kill("SIGTERM");
      const timer = setTimeout(() => child.kill("SIGKILL"), 5_000);
      await exited;
      clearTimeout(timer);
    }
  });
});
