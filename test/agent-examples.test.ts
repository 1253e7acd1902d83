/**
 * Polyglot agents: examples/go and examples/java, built offline from Debian
 * packages (stubs generated here, never committed), run against a real server
 * on a real etcd. Each registers, renews over KeepAlive, prints its watch
 * events, registers again when its lease is taken away, and on SIGTERM goes
 * DRAINING and deregisters (the contract in examples/README.md).
 */
import { execFile, spawn } from "node:child_process";
import { accessSync, constants } from "node:fs";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createInterface } from "node:readline";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createSwitchboardClient } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { eventually } from "./support/eventually.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const run = promisify(execFile);
const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));

const TOOLS = {
  go: {
    files: [
      "/usr/bin/go",
      "/usr/bin/protoc-gen-go",
      "/usr/bin/protoc-gen-go-grpc",
      "/usr/share/gocode/src/google.golang.org/grpc",
    ],
    packages: "golang-go golang-google-grpc-dev protoc-gen-go protoc-gen-go-grpc",
  },
  java: {
    files: [
      "/usr/bin/javac",
      "/usr/bin/protoc",
      "/usr/bin/grpc_java_plugin",
      "/usr/share/java/grpc-netty.jar",
      "/usr/share/java/netty-codec-http2.jar",
      "/usr/share/java/protobuf.jar",
    ],
    packages:
      "openjdk-17-jdk-headless protobuf-compiler protobuf-compiler-grpc-java-plugin libgrpc-java libprotobuf-java libnetty-java",
  },
} as const;

/** Under CI a missing toolchain fails the suite; elsewhere it skips with a warning. */
function toolsReady(language: keyof typeof TOOLS): boolean {
  const missing = TOOLS[language].files.filter((file) => {
    try {
      accessSync(file, constants.R_OK);
      return false;
    } catch {
      return true;
    }
  });
  if (missing.length === 0) return true;
  const message = `missing ${missing.join(", ")}: apt-get install -y ${TOOLS[language].packages}`;
  if (process.env.CI) throw new Error(`${message}. CI is set, so the ${language} example must not be skipped.`);
  console.warn(`SKIPPING the ${language} example: ${message}.`);
  return false;
}

interface Agent {
  lines: string[];
  exited: Promise<number | null>;
  pid: number;
  running(): boolean;
}

function startAgent(file: string, args: string[]): Agent {
  const child = spawn(file, args, { cwd: REPO_ROOT, stdio: ["ignore", "pipe", "pipe"] });
  const killOnExit = () => child.kill("SIGKILL");
  process.once("exit", killOnExit);
  const lines: string[] = [];
  createInterface({ input: child.stdout! }).on("line", (line) => lines.push(line));
  createInterface({ input: child.stderr! }).on("line", (line) => lines.push(`stderr: ${line}`));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      process.off("exit", killOnExit);
      resolve(code);
    }),
  );
  return { lines, exited, pid: child.pid!, running: () => child.exitCode === null && child.signalCode === null };
}

const etcdBinary = requireEtcd();
const languages = (["go", "java"] as const).filter(toolsReady);

describe.skipIf(!etcdBinary || languages.length === 0)(
  "examples/go and examples/java agents against a real server on etcd",
  () => {
    let etcd: EtcdServer;
    let server: TestServer;
    let client: SwitchboardClient;
    let out: string;
    const running: Agent[] = [];

    // CI builds the agents in a step of its own before the suite (SWITCHBOARD_AGENT_EXAMPLES_DIR, the
    // OUT of each build.sh), so minutes of compiling do not run beside the timing-sensitive tests.
    const prebuilt = process.env.SWITCHBOARD_AGENT_EXAMPLES_DIR;

    beforeAll(async () => {
      out = prebuilt ?? (await mkdtemp(join(tmpdir(), "switchboard-agents-")));
      // Both builds at once: each is mostly waiting on one compiler process.
      await Promise.all(
        (prebuilt ? [] : languages).map((language) =>
          run(`examples/${language}/build.sh`, [join(out, language)], { cwd: REPO_ROOT, timeout: 400_000 }).catch(
            (error: { stderr?: string; message: string }) => {
              throw new Error(`examples/${language}/build.sh failed:\n${error.stderr ?? error.message}`);
            },
          ),
        ),
      );
      etcd = await startEtcd();
      server = await startTestServer({ etcdEndpoints: etcd.endpoints });
      client = createSwitchboardClient({ address: server.grpcAddress });
    }, 420_000);

    afterAll(async () => {
      for (const agent of running) if (agent.running()) process.kill(agent.pid, "SIGKILL");
      await Promise.all(running.map((agent) => agent.exited));
      client?.close();
      await server?.close();
      await etcd?.stop();
      if (out && !prebuilt) await rm(out, { recursive: true, force: true });
    });

    it("register, renew over KeepAlive, watch, register again after losing the lease, drain and deregister on SIGTERM", async () => {
      const command = {
        go: (id: string, port: number) => [
          join(out, "go", "bin", "agent"),
          [
            "--address",
            server.grpcAddress,
            "--service",
            "polyglot",
            "--id",
            id,
            "--port",
            String(port),
            "--ttl",
            "3",
            "--drain",
            "300ms",
          ],
        ],
        java: (id: string, port: number) => [
          "examples/java/run.sh",
          [
            join(out, "java"),
            "--address",
            server.grpcAddress,
            "--service",
            "polyglot",
            "--id",
            id,
            "--port",
            String(port),
            "--ttl",
            "3",
            "--drain-ms",
            "300",
          ],
        ],
      } as const;
      const agents = languages.map((language, i) => {
        const [file, args] = command[language](`${language}-1`, 9100 + i);
        const agent = startAgent(file as string, [...(args as readonly string[])]);
        running.push(agent);
        return { language, id: `${language}-1`, agent };
      });
      const has = (agent: Agent, pattern: RegExp) => agent.lines.some((line) => pattern.test(line));
      const ids = agents
        .map((a) => a.id)
        .sort()
        .join(",");

      for (const { id, agent } of agents) {
        await eventually(
          () => has(agent, new RegExp(`^registered id=${id} lease=\\d+ ttl=3`)),
          60_000,
          `${id} registered:\n${agent.lines.join("\n")}`,
        );
      }
      for (const { id, agent } of agents) {
        // Renewals every TTL/3 = 1 s, and a watch that sees every agent (a snapshot or ADDED events).
        await eventually(
          () => agent.lines.filter((line) => line.startsWith("renewed ")).length >= 2,
          20_000,
          `${id} renews:\n${agent.lines.join("\n")}`,
        );
        await eventually(
          () =>
            agents.every((other) => has(agent, new RegExp(`^watch (snapshot .*instances=.*${other.id}|ADDED id=${other.id} )`))),
          20_000,
          `${id} watches ${ids}:\n${agent.lines.join("\n")}`,
        );
      }

      // Deregistering revokes the lease: the next renewal answers ttl 0 / NOT_FOUND and the agent registers again.
      for (const { id, agent } of agents) {
        await client.registry.deregister({ namespace: "default", service: "polyglot", instanceId: id });
        await eventually(
          () => agent.lines.filter((line) => line.startsWith(`registered id=${id} `)).length >= 2,
          20_000,
          `${id} registers again:\n${agent.lines.join("\n")}`,
        );
      }
      await eventually(
        async () =>
          (await client.registry.listInstances({ namespace: "default", service: "polyglot" })).instances.length === agents.length,
        20_000,
        "every agent registered again",
      );

      for (const { agent } of agents) process.kill(agent.pid, "SIGTERM");
      for (const { language, id, agent } of agents) {
        expect(await agent.exited, `${language} exit code:\n${agent.lines.join("\n")}`).toBe(0);
        expect(has(agent, /^draining /)).toBe(true);
        expect(has(agent, new RegExp(`^deregistered id=${id} revision=\\d+$`))).toBe(true);
        console.log(`${language} agent:\n  ${agent.lines.filter((line) => !line.startsWith("renewed ")).join("\n  ")}`);
      }
      expect((await client.registry.listInstances({ namespace: "default", service: "polyglot" })).instances).toEqual([]);
    }, 180_000);
  },
);
