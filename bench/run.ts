// `npm run bench [-- --quick] [-- --only register,watch] [-- --from-dist]`
//
// Runs every scenario of bench/README.md: for each, a fresh etcd, a fresh
// Switchboard server (bench/server/main.ts) and load generators
// (bench/loadgen/main.ts), each its own process. Prints a Markdown table and
// writes bench/results/<timestamp>.json.
import { execFileSync } from "node:child_process";
import { mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg, release, totalmem } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { killAllStarted } from "./lib/child.js";
import { removeEtcdDataDirs } from "./lib/etcd.js";
import type { BenchOptions } from "./lib/env.js";
import { markdownTable, type Row } from "./lib/report.js";
import { FULL, QUICK, type Profile } from "./profile.js";
import { failureScenario } from "./scenarios/failure.js";
import { footprintScenario } from "./scenarios/footprint.js";
import { heartbeatScenario } from "./scenarios/heartbeat.js";
import { memoryScenario } from "./scenarios/memory.js";
import { propagationScenario } from "./scenarios/propagation.js";
import { joinScenario } from "./scenarios/join.js";
import { registerScenario } from "./scenarios/register.js";
import { leaderKillScenario } from "./scenarios/leader-kill.js";
import { replicaKillScenario } from "./scenarios/replica-kill.js";
import { resolveScenario } from "./scenarios/resolve.js";
import { securityScenario, TLS_AUTH_SECURITY } from "./scenarios/security.js";
import { soakScenario } from "./scenarios/soak.js";

const SCENARIOS: Record<string, (options: BenchOptions, profile: Profile) => Promise<Row[]>> = {
  register: (o, p) => registerScenario(o, p.register),
  join: (o, p) => joinScenario(o, p.join),
  resolve: (o, p) => resolveScenario(o, p.resolve),
  watch: (o, p) => propagationScenario(o, "watch", p),
  heartbeat: (o, p) => heartbeatScenario(o, p.heartbeat),
  failure: (o, p) => failureScenario(o, p.failure),
  memory: (o, p) => memoryScenario(o, p.memory),
  config: (o, p) => propagationScenario(o, "config", p),
  footprint: (o, p) => footprintScenario(o, p.footprint),
  security: (o, p) => securityScenario(o, { register: p.register, resolve: p.resolve }),
  "security-auth": (o, p) => securityScenario(o, { register: p.register, resolve: p.resolve }, TLS_AUTH_SECURITY),
  "replica-kill": (o, p) => replicaKillScenario(o, p.replicaKill),
  // With --duration the warm-up is a sixth of the run, at least 4 minutes: the server's history
  // rings (10,000 revisions of instance changes) fill at 50 changes/s in about 200 s.
  soak: (o, p) =>
    soakScenario(
      o,
      durationOverride ? { ...p.soak, durationMs: durationOverride, warmupMs: Math.max(240_000, durationOverride / 6) } : p.soak,
    ),
  "leader-kill": (o, p) =>
    leaderKillScenario(o, durationOverride ? { ...p.leaderKill, durationMs: durationOverride } : p.leaderKill),
};
/** Fault and soak scenarios: long or disruptive, so they run only when named in --only. */
const OPT_IN = new Set(["replica-kill", "leader-kill", "soak"]);

const { values } = parseArgs({
  options: {
    quick: { type: "boolean", default: false },
    only: { type: "string" },
    "from-dist": { type: "boolean", default: false },
    out: { type: "string" },
    "server-log-level": { type: "string", default: "warn" },
    profile: { type: "boolean", default: false },
    levels: { type: "string" },
    duration: { type: "string" },
    help: { type: "boolean", default: false },
  },
});

if (values.help) {
  process.stdout.write(
    [
      "Usage: npm run bench -- [--quick] [--only a,b] [--from-dist] [--profile] [--out file.json] [--server-log-level warn]",
      "  --profile  write a V8 CPU profile of every server process to bench/results/profiles/<start time>/",
      "  --levels   only these stream counts (watch, config) and instance counts (failure), e.g. --levels 10000",
      "  --duration seconds of the leader-kill and soak scenarios (default 300 and 1800; --quick 60 and 360; the soak needs at least 300)",
      `Scenarios: ${Object.keys(SCENARIOS).join(", ")}`,
      "",
    ].join("\n"),
  );
  process.exit(0);
}

const only = values.only
  ? values.only.split(",").map((s) => s.trim())
  : Object.keys(SCENARIOS).filter((name) => !OPT_IN.has(name));
for (const name of only)
  if (!SCENARIOS[name]) throw new Error(`unknown scenario ${name}; known: ${Object.keys(SCENARIOS).join(", ")}`);

const startedAt = new Date();
const log = (line: string): void => {
  const t = ((Date.now() - startedAt.getTime()) / 1000).toFixed(0).padStart(4);
  process.stderr.write(`[${t}s] ${line}\n`);
};
const cpuProfileDir = values.profile
  ? fileURLToPath(new URL(`./results/profiles/${startedAt.toISOString().replace(/[:.]/g, "-")}/`, import.meta.url))
  : undefined;
const options: BenchOptions = {
  quick: values.quick,
  fromDist: values["from-dist"],
  serverLogLevel: values["server-log-level"],
  cpuProfileDir,
  log,
};
const durationOverride = values.duration ? Number(values.duration) * 1000 : undefined;
if (durationOverride !== undefined && !(durationOverride > 0))
  throw new Error(`--duration: expected seconds, got ${values.duration}`);
const levels = values.levels?.split(",").map(Number);
const baseProfile = values.quick ? QUICK : FULL;
const profile: Profile = levels
  ? {
      ...baseProfile,
      watch: baseProfile.watch.filter((l) => levels.includes(l.watchers)),
      config: baseProfile.config.filter((l) => levels.includes(l.watchers)),
      failure: { ...baseProfile.failure, levels: baseProfile.failure.levels.filter((l) => levels.includes(l.instances)) },
    }
  : baseProfile;

function command(cmd: string, args: string[]): string {
  try {
    return execFileSync(cmd, args, { encoding: "utf8", stdio: ["ignore", "pipe", "ignore"] }).trim();
  } catch {
    return "unknown";
  }
}

const machine = {
  cpuModel: cpus()[0]?.model ?? "unknown",
  cpus: cpus().length,
  memoryGiB: Math.round(totalmem() / 2 ** 30),
  kernel: release(),
  node: process.version,
  etcd: command(process.env.ETCD_BIN ?? "etcd", ["--version"]).split("\n")[0],
  loadAverageAtStart: loadavg().map((l) => Math.round(l * 100) / 100),
};
const git = { commit: command("git", ["rev-parse", "--short", "HEAD"]), dirty: command("git", ["status", "--porcelain"]) !== "" };

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    killAllStarted();
    setTimeout(() => {
      removeEtcdDataDirs();
      process.exit(130);
    }, 500);
  });
}

const rows: Row[] = [];
const failures: Array<{ scenario: string; error: string }> = [];
log(
  `switchboard bench (${values.quick ? "quick" : "full"}), ${machine.cpus} × ${machine.cpuModel}, load ${machine.loadAverageAtStart.join(" ")}`,
);
for (const name of only) {
  const started = Date.now();
  log(`${name}…`);
  try {
    rows.push(...(await SCENARIOS[name]!(options, profile)));
    log(`${name} done in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  } catch (error) {
    const message = error instanceof Error ? (error.stack ?? error.message) : String(error);
    failures.push({ scenario: name, error: message });
    log(`${name} FAILED: ${message}`);
  }
}
killAllStarted();

const finishedAt = new Date();
const report = {
  startedAt: startedAt.toISOString(),
  finishedAt: finishedAt.toISOString(),
  seconds: Math.round((finishedAt.getTime() - startedAt.getTime()) / 1000),
  mode: values.quick ? "quick" : "full",
  serverFrom: values["from-dist"] ? "dist" : "src (tsx)",
  machine: { ...machine, loadAverageAtEnd: loadavg().map((l) => Math.round(l * 100) / 100) },
  git,
  profile,
  rows,
  failures,
};
const resultsDir = fileURLToPath(new URL("./results/", import.meta.url));
mkdirSync(resultsDir, { recursive: true });
const out = values.out ?? `${resultsDir}${startedAt.toISOString().replace(/[:.]/g, "-")}${values.quick ? "-quick" : ""}.json`;
writeFileSync(out, `${JSON.stringify(report, null, 2)}\n`);

process.stdout.write(`\n${markdownTable(rows)}\n\n`);
process.stdout.write(
  `${machine.cpus} × ${machine.cpuModel}, ${machine.memoryGiB} GiB, Linux ${machine.kernel}, Node ${machine.node}, ${machine.etcd}; load average ${machine.loadAverageAtStart.join(" ")} → ${report.machine.loadAverageAtEnd.join(" ")}; ${report.seconds} s; git ${git.commit}${git.dirty ? " (dirty tree)" : ""}\n`,
);
process.stdout.write(`results: ${out}\n`);
if (failures.length) {
  process.stdout.write(`FAILED scenarios: ${failures.map((f) => f.scenario).join(", ")}\n`);
  process.exitCode = 1;
}
