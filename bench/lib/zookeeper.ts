// A throwaway ZooKeeper for the ZooKeeper baselines (Debian's `zookeeper`
// package, 3.8): standalone server on a free 127.0.0.1 port, a temp data dir
// and its own zoo.cfg, stopped by PID, like bench/lib/etcd.ts does for etcd.
// The bench is not part of CI: when the package is missing, scenarios report
// "ZooKeeper not installed" instead of failing.
import { existsSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { connect } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { startProcess, stopProcess, waitFor } from "./child.js";
import { freePort } from "./ports.js";

/** Debian's jar (its manifest's Class-Path pulls in netty, jetty, slf4j, ...). Env ZOOKEEPER_JAR overrides. */
const DEFAULT_JAR = "/usr/share/java/zookeeper.jar";
/**
 * Apache's zkEnv.sh starts the server with -Xmx1000m (ZK_SERVER_HEAP); Debian's leaves the JVM
 * default (a quarter of RAM). The bench uses Apache's default; env BENCH_ZK_JVMFLAGS replaces it.
 */
const DEFAULT_JVM_FLAGS = ["-Xmx1000m"];

export interface ZooKeeperProcess {
  pid: number;
  /** host:port, the connection string of node-zookeeper-client. */
  connectString: string;
  stop(): Promise<void>;
}

const jarPath = (): string => process.env.ZOOKEEPER_JAR ?? DEFAULT_JAR;

/** Whether the ZooKeeper server jar and java are there; otherwise the reason, for the result rows. */
export function zooKeeperMissing(): string | undefined {
  if (!existsSync(jarPath())) return `ZooKeeper not installed (${jarPath()} missing: apt-get install -y zookeeper)`;
  if (!process.env.JAVA_BIN && !existsSync("/usr/bin/java")) return "ZooKeeper not runnable: no /usr/bin/java (set JAVA_BIN)";
  return undefined;
}

/** Sends a four-letter word and returns the answer (ruok → imok when serving). */
function fourLetterWord(port: number, word: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, "127.0.0.1");
    let answer = "";
    socket.setTimeout(2000, () => socket.destroy(new Error("timeout")));
    socket.on("connect", () => socket.write(word));
    socket.on("data", (chunk) => (answer += chunk.toString("utf8")));
    socket.on("end", () => resolve(answer));
    socket.on("error", reject);
  });
}

export async function startZooKeeper(): Promise<ZooKeeperProcess> {
  const dir = mkdtempSync(join(process.env.BENCH_ETCD_DIR ?? tmpdir(), "switchboard-bench-zk-"));
  const port = await freePort();
  const config = join(dir, "zoo.cfg");
  writeFileSync(
    config,
    [
      "tickTime=2000",
      `dataDir=${join(dir, "data")}`,
      `clientPort=${port}`,
      "clientPortAddress=127.0.0.1",
      // One session per instance means one connection per instance, all from 127.0.0.1 (default limit 60).
      "maxClientCnxns=0",
      "admin.enableServer=false",
      "4lw.commands.whitelist=ruok",
      "",
    ].join("\n"),
  );
  const flags = process.env.BENCH_ZK_JVMFLAGS?.split(" ").filter(Boolean) ?? DEFAULT_JVM_FLAGS;
  const started = startProcess(
    process.env.JAVA_BIN ?? "java",
    [...flags, `-Dzookeeper.log.dir=${dir}`, "-cp", jarPath(), "org.apache.zookeeper.server.ZooKeeperServerMain", config],
    { cwd: dir },
  );
  const stop = async (): Promise<void> => {
    await stopProcess(started.child);
    rmSync(dir, { recursive: true, force: true, maxRetries: 3 });
  };
  try {
    await waitFor("zookeeper", async () => (await fourLetterWord(port, "ruok")) === "imok", 30_000, started.tail);
  } catch (error) {
    await stop();
    throw error;
  }
  return { pid: started.pid, connectString: `127.0.0.1:${port}`, stop };
}
