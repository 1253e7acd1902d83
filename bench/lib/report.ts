// Results: one row per measured comparison, printed as a Markdown table and
// written as JSON.
import type { PhaseUsage } from "./env.js";

export interface Figure {
  /** What was measured, e.g. "raw etcd3 lease grant + put". */
  label: string;
  value: number;
  unit: string;
  /** Latency percentiles in ms, where the figure has them. */
  p50?: number;
  p99?: number;
  max?: number;
}

export interface Row {
  scenario: string;
  baseline: Figure;
  result: Figure;
  /** result.value / baseline.value. */
  ratio: number;
  target?: { text: string; met: boolean };
  usage: { baseline?: PhaseUsage; result?: PhaseUsage };
  details?: Record<string, unknown>;
}

export function ratio(result: number, baseline: number): number {
  return baseline === 0 ? Number.NaN : Math.round((result / baseline) * 1000) / 1000;
}

function num(value: number | undefined, digits = 2): string {
  if (value === undefined || Number.isNaN(value)) return "";
  if (Math.abs(value) >= 1000) return Math.round(value).toLocaleString("en-US");
  if (Math.abs(value) >= 100) return value.toFixed(0);
  return value.toFixed(digits);
}

function usageCells(usage: PhaseUsage | undefined): [string, string] {
  if (!usage) return ["", ""];
  const sum = (prefix: string) =>
    Object.entries(usage.processes)
      .filter(([label]) => label.startsWith(prefix))
      .reduce((acc, [, u]) => acc + u.cpuSeconds, 0);
  const peak = (prefix: string) =>
    Object.entries(usage.processes)
      .filter(([label]) => label.startsWith(prefix))
      .reduce((acc, [, u]) => Math.max(acc, u.peakRssBytes), 0) /
    2 ** 20;
  const labels = ["etcd", "server", "loadgen", "host", "zookeeper"].filter((p) =>
    Object.keys(usage.processes).some((l) => l.startsWith(p)),
  );
  return [labels.map((p) => sum(p).toFixed(1)).join(" / "), labels.map((p) => peak(p).toFixed(0)).join(" / ")];
}

/** The results as a Markdown table (also what bench/README.md shows). */
export function markdownTable(rows: Row[]): string {
  const header = [
    "scenario",
    "baseline",
    "result",
    "ratio",
    "p50 / p99 / max ms (baseline → result)",
    "CPU s etcd / server / loadgen[ / hosts][ / zookeeper] (baseline → result)",
    "peak RSS MiB (baseline → result)",
    "target",
  ];
  const lines = [`| ${header.join(" | ")} |`, `|${header.map(() => "---").join("|")}|`];
  for (const row of rows) {
    const lat = (f: Figure) => (f.p50 === undefined ? "–" : `${num(f.p50)} / ${num(f.p99)} / ${num(f.max)}`);
    const [bCpu, bRss] = usageCells(row.usage.baseline);
    const [rCpu, rRss] = usageCells(row.usage.result);
    lines.push(
      `| ${[
        row.scenario,
        `${num(row.baseline.value)} ${row.baseline.unit} (${row.baseline.label})`,
        `${num(row.result.value)} ${row.result.unit} (${row.result.label})`,
        `${num(row.ratio, 3)}×`,
        `${lat(row.baseline)} → ${lat(row.result)}`,
        `${bCpu || "–"} → ${rCpu || "–"}`,
        `${bRss || "–"} → ${rRss || "–"}`,
        row.target ? `${row.target.met ? "met" : "MISSED"}: ${row.target.text}` : "",
      ].join(" | ")} |`,
    );
  }
  return lines.join("\n");
}
