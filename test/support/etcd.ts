/**
 * Real etcd servers for integration tests: each on free 127.0.0.1 ports with
 * a temporary data directory, stopped by PID, directory removed.
 *
 * ```ts
 * const etcdBinary = requireEtcd(); // undefined (skip) without etcd, throws under CI
 * describe.skipIf(!etcdBinary)("with etcd", () => {
 *   let etcd: EtcdServer;
 *   beforeAll(async () => { etcd = await startEtcd(); });
 *   afterAll(() => etcd.stop());
 * });
 * ```
 *
 * Auto-compaction is off: tests compact explicitly.
 */
import { execFile, spawn } from "node:child_process";
import type { ChildProcess } from "node:child_process";
import { accessSync, constants, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { request as httpsRequest } from "node:https";
import { connect, createServer } from "node:net";
import type { AddressInfo, Socket } from "node:net";
import { tmpdir } from "node:os";
import { delimiter, join } from "node:path";

export interface EtcdServer {
  /** Client URLs, e.g. ["http://127.0.0.1:41234"]. */
  endpoints: string[];
  pid: number;
  dataDir: string;
  /** Freezes the process (SIGSTOP): connections stay open but nothing answers. */
  pause(): void;
  /** Thaws a paused process (SIGCONT). */
  resume(): void;
  /** Kills the process by PID (also when paused) and removes its data directory. */
  stop(): Promise<void>;
}

export interface EtcdTlsFiles {
  certFile: string;
  keyFile: string;
  /** CA of client certificates (--trusted-ca-file); also what the readiness probe trusts. */
  caFile: string;
  /** Require client certificates (--client-cert-auth). Needs client for the readiness probe. */
  clientCertAuth?: boolean;
  /** The client certificate the readiness probe presents under clientCertAuth. */
  client?: { certFile: string; keyFile: string };
}

export interface EtcdCluster {
  /** Client URLs of every member. */
  endpoints: string[];
  members: EtcdServer[];
  /** Stops every member still running. */
  stop(): Promise<void>;
}

export interface StartEtcdOptions {
  /** Extra etcd flags. */
  args?: string[];
  /**
   * Serve clients over TLS (https:// endpoints) with these files, e.g. from
   * ./certs.ts; with clientCertAuth etcd also requires client certificates
   * signed by caFile (--client-cert-auth). Peers stay on plain http.
   */
  tls?: EtcdTlsFiles;
  /** Ms to wait for /health. Default 20,000. */
  startTimeoutMs?: number;
}

const running = new Set<ChildProcess>();
// A test process that dies must not leave etcd servers behind.
process.once("exit", () => {
  for (const child of running) child.kill("SIGKILL");
});

/** Path of the etcd binary on PATH (or /usr/bin/etcd), or undefined. */
export function findEtcd(): string | undefined {
  const dirs = [...(process.env.PATH ?? "").split(delimiter), "/usr/bin", "/usr/local/bin"];
  for (const dir of dirs) {
    if (!dir) continue;
    const candidate = join(dir, "etcd");
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // Not here; keep looking.
    }
  }
  return undefined;
}

/**
 * The etcd binary for a suite that needs one. Without etcd: under CI (env CI
 * set) this throws, so the suite fails loudly; elsewhere it warns and
 * returns undefined, for `describe.skipIf(!requireEtcd())`.
 */
export function requireEtcd(): string | undefined {
  const binary = findEtcd();
  if (binary) return binary;
  const message =
    "etcd is not installed (looked on PATH and /usr/bin); install it to run the etcd tests: sudo apt-get update && sudo apt-get install -y etcd-server etcd-client";
  if (process.env.CI) throw new Error(`${message}. CI is set, so these tests must not be skipped.`);
  console.warn(`SKIPPING etcd tests: ${message}.`);
  return undefined;
}

/** One etcd member. */
export async function startEtcd(options: StartEtcdOptions = {}): Promise<EtcdServer> {
  const [cluster] = await startMembers(1, options);
  return cluster!;
}

/** A cluster of size members on loopback (3 for quorum tests). */
export async function startEtcdCluster(size: number, options: StartEtcdOptions = {}): Promise<EtcdCluster> {
  const members = await startMembers(size, options);
  return {
    endpoints: members.flatMap((member) => member.endpoints),
    members,
    stop: async () => {
      await Promise.all(members.map((member) => member.stop()));
    },
  };
}

async function startMembers(size: number, options: StartEtcdOptions): Promise<EtcdServer[]> {
  // A port handed out by freePorts can be taken by another process before etcd binds it.
  for (let attempt = 1; ; attempt++) {
    try {
      return await tryStartMembers(size, options);
    } catch (error) {
      if (attempt >= 3 || !String(error).includes("exited early")) throw error;
    }
  }
}

async function tryStartMembers(size: number, options: StartEtcdOptions): Promise<EtcdServer[]> {
  const binary = findEtcd();
  if (!binary) throw new Error("etcd is not installed");
  const ports = await freePorts(size * 2);
  const token = `test-${process.pid}-${Date.now()}`;
  const clientScheme = options.tls ? "https" : "http";
  const specs = Array.from({ length: size }, (_, i) => ({
    name: `m${i}`,
    client: `${clientScheme}://127.0.0.1:${ports[2 * i]}`,
    peer: `http://127.0.0.1:${ports[2 * i + 1]}`,
  }));
  const initialCluster = specs.map((spec) => `${spec.name}=${spec.peer}`).join(",");
  const members = specs.map((spec) => {
    const dataDir = mkdtempSync(join(tmpdir(), `etcd-${spec.name}-`));
    const args = [
      `--name=${spec.name}`,
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${spec.client}`,
      `--advertise-client-urls=${spec.client}`,
      `--listen-peer-urls=${spec.peer}`,
      `--initial-advertise-peer-urls=${spec.peer}`,
      `--initial-cluster=${initialCluster}`,
      "--initial-cluster-state=new",
      `--initial-cluster-token=${token}`,
      "--auto-compaction-retention=0",
      "--logger=zap",
      "--log-level=error",
      ...(options.tls
        ? [
            `--cert-file=${options.tls.certFile}`,
            `--key-file=${options.tls.keyFile}`,
            `--trusted-ca-file=${options.tls.caFile}`,
            ...(options.tls.clientCertAuth ? ["--client-cert-auth"] : []),
          ]
        : []),
      ...(options.args ?? []),
    ];
    return launch(binary, args, spec.client, dataDir, options.tls);
  });
  try {
    await Promise.all(members.map((member) => member.ready(options.startTimeoutMs ?? 20_000)));
  } catch (error) {
    await Promise.all(members.map((member) => member.server.stop()));
    throw error;
  }
  return members.map((member) => member.server);
}

function launch(
  binary: string,
  args: string[],
  client: string,
  dataDir: string,
  tls: EtcdTlsFiles | undefined,
): { server: EtcdServer; ready: (timeoutMs: number) => Promise<void> } {
  const child = spawn(binary, args, { stdio: ["ignore", "ignore", "pipe"] });
  running.add(child);
  let stderrTail = "";
  child.stderr!.setEncoding("utf8");
  child.stderr!.on("data", (chunk: string) => {
    stderrTail = (stderrTail + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once("exit", () => resolve()));
  let stopped = false;
  const server: EtcdServer = {
    endpoints: [client],
    pid: child.pid!,
    dataDir,
    pause: () => void child.kill("SIGSTOP"),
    resume: () => void child.kill("SIGCONT"),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      if (child.exitCode === null && child.signalCode === null) {
        // SIGKILL: the data is thrown away anyway, and a graceful stop of a
        // member that loses quorum can take seconds (leadership transfer).
        child.kill("SIGKILL");
        await exited;
      }
      running.delete(child);
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
  const ready = async (timeoutMs: number): Promise<void> => {
    const deadline = Date.now() + timeoutMs;
    while (Date.now() < deadline) {
      if (child.exitCode !== null || child.signalCode !== null) {
        throw new Error(`etcd exited early (${child.exitCode ?? child.signalCode}):\n${stderrTail}`);
      }
      try {
        const body = (
          tls
            ? JSON.parse(await httpsGet(`${client}/health`, tls))
            : await (await fetch(`${client}/health`, { signal: AbortSignal.timeout(1000) })).json()
        ) as {
          health?: string;
        };
        if (body.health === "true") return;
      } catch {
        // Not listening yet.
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    throw new Error(`etcd at ${client} not healthy after ${timeoutMs} ms:\n${stderrTail}`);
  };
  return { server, ready };
}

/**
 * Runs etcdctl (v3 API) against endpoints; resolves with stdout, rejects with
 * its stderr. Extra flags (e.g. --user, --cacert) go in args before the command.
 */
export async function etcdctl(endpoints: string[], args: string[]): Promise<string> {
  const binary = findEtcd()?.replace(/etcd$/, "etcdctl") ?? "etcdctl";
  return new Promise((resolve, reject) => {
    execFile(
      binary,
      [`--endpoints=${endpoints.join(",")}`, ...args],
      { env: { ...process.env, ETCDCTL_API: "3" } },
      (error, stdout, stderr) => {
        if (error) reject(new Error(`etcdctl ${args.join(" ")} failed: ${stderr || error.message}`));
        else resolve(stdout);
      },
    );
  });
}

/** GET over https trusting tls.caFile (and presenting tls.client); fetch cannot take a CA. */
function httpsGet(url: string, tls: EtcdTlsFiles): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(
      url,
      {
        ca: readFileSync(tls.caFile),
        ...(tls.client && { cert: readFileSync(tls.client.certFile), key: readFileSync(tls.client.keyFile) }),
        signal: AbortSignal.timeout(1000),
      },
      (res) => {
        let body = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => (body += chunk));
        res.on("end", () => resolve(body));
        res.on("error", reject);
      },
    );
    req.on("error", reject);
    req.end();
  });
}

/** Ports the OS just handed out on 127.0.0.1 (all held at once, so distinct). */
async function freePorts(count: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from(
      { length: count },
      () =>
        new Promise<ReturnType<typeof createServer>>((resolve, reject) => {
          const server = createServer();
          server.once("error", reject);
          server.listen(0, "127.0.0.1", () => resolve(server));
        }),
    ),
  );
  const ports = servers.map((server) => {
    const address = server.address();
    if (address === null || typeof address === "string") throw new Error("no port");
    return address.port;
  });
  await Promise.all(servers.map((server) => new Promise((resolve) => server.close(resolve))));
  return ports;
}

/** A metric from etcd's Prometheus endpoint (summed over matching labels), e.g. streams started per gRPC method. */
export async function etcdMetric(endpoint: string, name: string, labels: Record<string, string>): Promise<number> {
  const text = await (await fetch(`${endpoint}/metrics`)).text();
  let total = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${name}{`) && !line.startsWith(`${name} `)) continue;
    const matches = Object.entries(labels).every(([key, value]) => line.includes(`${key}="${value}"`));
    if (matches) total += Number(line.slice(line.lastIndexOf(" ") + 1));
  }
  return total;
}

export interface TcpProxy {
  /** "http://127.0.0.1:PORT", to use as an etcd endpoint. */
  endpoint: string;
  /** Connections accepted so far. */
  readonly connections: number;
  /** Cuts every open connection (both directions), as a network failure would. */
  drop(): void;
  /**
   * Stops forwarding on every open connection without closing it, as a frozen
   * peer or a silent partition would; new connections still work.
   */
  freeze(): void;
  /** While blocked, new connections are cut at once: the target looks down. */
  setBlocked(blocked: boolean): void;
  close(): Promise<void>;
}

/** A TCP proxy to target ("http://host:port") whose connections a test can cut. */
export async function startTcpProxy(target: string): Promise<TcpProxy> {
  const url = new URL(target);
  const sockets = new Set<Socket>();
  let blocked = false;
  let connections = 0;
  const server = createServer((client) => {
    connections++;
    if (blocked) {
      client.destroy();
      return;
    }
    const upstream = connect(Number(url.port), url.hostname);
    for (const socket of [client, upstream]) {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.on("error", () => {
        client.destroy();
        upstream.destroy();
      });
    }
    client.pipe(upstream).pipe(client);
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const address = server.address() as AddressInfo;
  const drop = (): void => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    endpoint: `http://127.0.0.1:${address.port}`,
    get connections() {
      return connections;
    },
    drop,
    freeze: () => {
      for (const socket of sockets) socket.pause();
    },
    setBlocked: (value) => {
      blocked = value;
      if (value) drop();
    },
    close: async () => {
      drop();
      await new Promise((resolve) => server.close(resolve));
    },
  };
}
