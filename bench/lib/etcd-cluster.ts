// A 3-member etcd cluster on loopback whose members can be SIGKILLed and
// started again on the same data dir (fault scenarios). Free ports, temp data
// dirs, stopped by PID.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProcess, stopProcess, waitFor, type Started } from "./child.js";
import { freePort } from "./ports.js";

export interface ClusterMember {
  readonly name: string;
  readonly endpoint: string;
  /** SIGKILL; resolves when the process has exited. */
  kill(): Promise<void>;
  /** Starts the member again on its data dir; resolves when it answers /health. */
  restart(): Promise<void>;
}

export interface EtcdCluster {
  readonly endpoints: string[];
  readonly members: ClusterMember[];
  /** The member that is the Raft leader now (asked through etcd's JSON gateway). */
  leader(): Promise<ClusterMember>;
  stop(): Promise<void>;
}

export async function startEtcdCluster(size = 3): Promise<EtcdCluster> {
  const binary = process.env.ETCD_BIN ?? "etcd";
  const specs = [];
  for (let i = 0; i < size; i++) {
    specs.push({ name: `m${i}`, client: `http://127.0.0.1:${await freePort()}`, peer: `http://127.0.0.1:${await freePort()}` });
  }
  const initialCluster = specs.map((s) => `${s.name}=${s.peer}`).join(",");
  const token = `bench-${process.pid}-${Date.now()}`;
  const dirs: string[] = [];
  const members = specs.map((spec) => {
    const dataDir = mkdtempSync(join(process.env.BENCH_ETCD_DIR ?? tmpdir(), `switchboard-bench-${spec.name}-`));
    dirs.push(dataDir);
    const args = [
      "--name",
      spec.name,
      "--data-dir",
      dataDir,
      "--listen-client-urls",
      spec.client,
      "--advertise-client-urls",
      spec.client,
      "--listen-peer-urls",
      spec.peer,
      "--initial-advertise-peer-urls",
      spec.peer,
      "--initial-cluster",
      initialCluster,
      "--initial-cluster-state",
      "new",
      "--initial-cluster-token",
      token,
      "--log-level",
      "error",
    ];
    let started: Started = startProcess(binary, args);
    const healthy = () =>
      waitFor(
        `etcd ${spec.name}`,
        async () => (await fetch(`${spec.client}/health`, { signal: AbortSignal.timeout(1_000) })).ok,
        30_000,
        () => started.tail(),
      );
    const member: ClusterMember & { healthy: () => Promise<void>; stop: () => Promise<void> } = {
      name: spec.name,
      endpoint: spec.client,
      healthy,
      async kill() {
        if (started.child.exitCode !== null || started.child.signalCode !== null) return;
        const exited = new Promise<void>((resolve) => started.child.once("exit", () => resolve()));
        started.child.kill("SIGKILL");
        await exited;
      },
      async restart() {
        started = startProcess(binary, args);
        await healthy();
      },
      stop: () => stopProcess(started.child),
    };
    return member;
  });
  const stop = async () => {
    await Promise.all(members.map((m) => m.stop()));
    for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
  };
  try {
    await Promise.all(members.map((m) => m.healthy()));
  } catch (error) {
    await stop();
    throw error;
  }
  return {
    endpoints: specs.map((s) => s.client),
    members,
    async leader() {
      for (let attempt = 0; attempt < 100; attempt++) {
        for (const member of members) {
          try {
            const response = await fetch(`${member.endpoint}/v3/maintenance/status`, {
              method: "POST",
              body: "{}",
              signal: AbortSignal.timeout(1_000),
            });
            const status = (await response.json()) as { header?: { member_id?: string }; leader?: string };
            if (status.leader !== undefined && status.leader !== "0" && status.leader === status.header?.member_id) return member;
          } catch {
            // Down or electing.
          }
        }
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
      throw new Error("no etcd leader found");
    },
    stop,
  };
}
