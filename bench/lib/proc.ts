// Per-process resource readings from /proc (Linux only): CPU seconds from
// /proc/<pid>/stat (utime + stime) and peak RSS from /proc/<pid>/status
// (VmHWM). Writing "5" to /proc/<pid>/clear_refs resets VmHWM, so each phase
// of a scenario gets its own peak.
import { readFileSync, writeFileSync } from "node:fs";
import { execFileSync } from "node:child_process";

let clockTicks: number | undefined;

/** Clock ticks per second (getconf CLK_TCK), 100 on every Linux we run on. */
function ticksPerSecond(): number {
  if (clockTicks === undefined) {
    try {
      clockTicks = Number(execFileSync("getconf", ["CLK_TCK"], { encoding: "utf8" }).trim()) || 100;
    } catch {
      clockTicks = 100;
    }
  }
  return clockTicks;
}

/** User + system CPU seconds the process has used so far; undefined when it is gone. */
export function cpuSeconds(pid: number): number | undefined {
  let stat: string;
  try {
    stat = readFileSync(`/proc/${pid}/stat`, "utf8");
  } catch {
    return undefined;
  }
  // The command name (field 2) is in parentheses and may contain spaces: split after the last ")".
  const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
  // Fields 14 and 15 (1-based) are utime and stime; after dropping pid and comm they are at 11 and 12.
  const utime = Number(fields[11]);
  const stime = Number(fields[12]);
  return (utime + stime) / ticksPerSecond();
}

/** A field of /proc/<pid>/status in bytes (kB fields), undefined when unavailable. */
function statusBytes(pid: number, field: string): number | undefined {
  let status: string;
  try {
    status = readFileSync(`/proc/${pid}/status`, "utf8");
  } catch {
    return undefined;
  }
  const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(status);
  return match ? Number(match[1]) * 1024 : undefined;
}

/** Peak resident set size since start or since the last resetPeakRss(). */
export function peakRssBytes(pid: number): number | undefined {
  return statusBytes(pid, "VmHWM");
}

export function rssBytes(pid: number): number | undefined {
  return statusBytes(pid, "VmRSS");
}

/** Resets VmHWM to the current RSS (Linux ≥ 4.0); false when not permitted. */
export function resetPeakRss(pid: number): boolean {
  try {
    writeFileSync(`/proc/${pid}/clear_refs`, "5");
    return true;
  } catch {
    return false;
  }
}

export interface ProcessUsage {
  /** CPU seconds used during the phase. */
  cpuSeconds: number;
  /** Peak RSS during the phase (bytes), when the reset worked; else since process start. */
  peakRssBytes: number;
}

/** A labelled set of processes whose CPU and peak RSS are read around a phase. */
export class UsageMeter {
  private readonly start = new Map<string, number>();
  private startedAt = 0;

  constructor(private readonly processes: () => ReadonlyMap<string, number>) {}

  begin(): void {
    this.start.clear();
    for (const [label, pid] of this.processes()) {
      resetPeakRss(pid);
      this.start.set(label, cpuSeconds(pid) ?? 0);
    }
    this.startedAt = performance.now();
  }

  /** Usage per process label since begin(), and the wall-clock seconds elapsed. */
  end(): { wallSeconds: number; processes: Record<string, ProcessUsage> } {
    const processes: Record<string, ProcessUsage> = {};
    for (const [label, pid] of this.processes()) {
      const before = this.start.get(label) ?? 0;
      processes[label] = {
        cpuSeconds: round((cpuSeconds(pid) ?? before) - before, 2),
        peakRssBytes: peakRssBytes(pid) ?? 0,
      };
    }
    return { wallSeconds: round((performance.now() - this.startedAt) / 1000, 2), processes };
  }
}

function round(value: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(value * f) / f;
}
