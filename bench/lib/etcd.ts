// A throwaway etcd for one scenario: free ports on 127.0.0.1, a temp data
// dir, stopped by PID. Its /metrics endpoint (on the client port) counts the
// RPCs Switchboard makes.
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { freePort } from "./ports.js";
import { startProcess, stopProcess, waitFor, type Started } from "./child.js";

const liveDataDirs = new Set<string>();

/** Removes the data dirs of etcds that were not stopped (after killAllStarted, on Ctrl-C). */
export function removeEtcdDataDirs(): void {
  for (const dir of liveDataDirs) rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  liveDataDirs.clear();
}

export interface EtcdOptions {
  /** etcd binary. Default: env ETCD_BIN or "etcd" on PATH. */
  binary?: string;
  /** Parent of the data dir. Default: the OS temp dir (env BENCH_ETCD_DIR overrides). */
  baseDir?: string;
}

export interface EtcdProcess {
  pid: number;
  endpoint: string;
  stop(): Promise<void>;
  /** Raw Prometheus text from GET /metrics. */
  metrics(): Promise<string>;
}

export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdProcess> {
  const binary = options.binary ?? process.env.ETCD_BIN ?? "etcd";
  const dataDir = mkdtempSync(join(options.baseDir ?? process.env.BENCH_ETCD_DIR ?? tmpdir(), "switchboard-bench-etcd-"));
  liveDataDirs.add(dataDir);
  const clientPort = await freePort();
  const peerPort = await freePort();
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  let started: Started;
  try {
    started = startProcess(binary, [
      "--name",
      "bench",
      "--data-dir",
      dataDir,
      "--listen-client-urls",
      client,
      "--advertise-client-urls",
      client,
      "--listen-peer-urls",
      peer,
      "--initial-advertise-peer-urls",
      peer,
      "--initial-cluster",
      `bench=${peer}`,
      "--initial-cluster-state",
      "new",
      // 100,000 instances with their leases stay far below this; the default 2 GiB is also fine.
      "--quota-backend-bytes",
      String(4 * 1024 ** 3),
      "--log-level",
      "error",
    ]);
  } catch (error) {
    rmSync(dataDir, { recursive: true, force: true });
    liveDataDirs.delete(dataDir);
    throw error;
  }
  const metrics = async (): Promise<string> => {
    const response = await fetch(`${client}/metrics`);
    return response.text();
  };
  const stop = async (): Promise<void> => {
    await stopProcess(started.child);
    rmSync(dataDir, { recursive: true, force: true });
    liveDataDirs.delete(dataDir);
  };
  try {
    await waitFor("etcd", async () => (await fetch(`${client}/health`)).ok, 20_000, started.tail);
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: started.pid, endpoint: client, stop, metrics };
}

/** Sums the samples of a Prometheus metric whose labels include every given pair. */
export function sumMetric(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split("\n")) {
    if (!line.startsWith(name)) continue;
    const rest = line.slice(name.length);
    if (rest[0] !== "{" && rest[0] !== " ") continue;
    if (!Object.entries(labels).every(([k, v]) => rest.includes(`${k}="${v}"`))) continue;
    const value = Number(line.slice(line.lastIndexOf(" ") + 1));
    if (Number.isFinite(value)) sum += value;
  }
  return sum;
}
