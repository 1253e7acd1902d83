import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import type { CheckResult } from "../../generated/switchboard/health/v1/health.js";
import { SELF_CHECK_NAME } from "../registry/index.js";
import type { ResolvedCheck } from "../registry/index.js";
import type { CheckState } from "./check-runner.js";
import { startCheckRunner } from "./check-runner.js";
import type { CheckRunner } from "./check-runner.js";
import type { CheckerFactory, ProbeResult } from "./checker.js";
import { buildChecker, truncateOutput } from "./checker.js";
import type { Clock } from "./clock.js";

/** A self-report (ReportHealth). */
export interface SelfReport {
  status: HealthStatus.HEALTH_STATUS_HEALTHY | HealthStatus.HEALTH_STATUS_UNHEALTHY;
  output: string;
  /** 0: the report holds until the next one. Otherwise no report within ttlMs makes the instance unhealthy. */
  ttlMs: number;
}

export interface InstanceMonitorOptions {
  checks: readonly ResolvedCheck[];
  /**
   * What the store says (instance status, check results at the last
   * transition), so a check that moves between replicas resumes from the
   * stored status instead of starting over.
   */
  seed: { status: HealthStatus; checks: readonly CheckResult[] };
  checkerFactory: CheckerFactory;
  clock: Clock;
  random?: () => number;
  /** Called after every probe, self-report and TTL expiry; compare status() with the stored one. */
  onChange: () => void;
  /** Called after every probe (metrics). */
  onProbe?: (check: ResolvedCheck, state: Readonly<CheckState>, probe: ProbeResult) => void;
}

/** Health of one instance as its owner sees it: the runners of its checks plus its self-report. */
export interface InstanceMonitor {
  readonly checks: readonly ResolvedCheck[];
  /** Declared checks (in order), then "self" when the instance has reported. */
  results(): CheckResult[];
  /**
   * UNHEALTHY when any check or the self-report is unhealthy; HEALTHY when
   * all are healthy; UNSPECIFIED while some have not decided yet.
   */
  status(): HealthStatus;
  /** One line saying why the status is what it is (for transitions). */
  summary(): string;
  report(report: SelfReport): void;
  stop(): void;
}

export function createInstanceMonitor(options: InstanceMonitorOptions): InstanceMonitor {
  const { clock, seed, onChange } = options;
  const seeded = new Map(seed.checks.map((c) => [c.name, c.status]));
  let stopped = false;

  const runners: CheckRunner[] = options.checks.map((check) =>
    startCheckRunner({
      check,
      checker: buildChecker(options.checkerFactory, check.target),
      clock,
      random: options.random,
      initialStatus: seeded.get(check.name) ?? seed.status,
      notifier: {
        updateCheck: (state, probe) => {
          if (stopped) return;
          options.onProbe?.(check, state, probe);
          onChange();
        },
      },
    }),
  );

  // Self-report state; seeded from the stored result so a moved instance keeps its reported status.
  let self: CheckState | undefined;
  const storedSelf = seed.checks.find((c) => c.name === SELF_CHECK_NAME);
  if (storedSelf) {
    self = {
      name: SELF_CHECK_NAME,
      status: storedSelf.status,
      output: storedSelf.output,
      latencyMs: 0,
      consecutiveFailures: storedSelf.consecutiveFailures,
      consecutiveSuccesses: storedSelf.consecutiveSuccesses,
      lastCheckedAt: storedSelf.lastCheckedAt?.getTime() ?? 0,
    };
  }
  let ttlTimer: unknown;

  const states = (): CheckState[] => {
    const all = runners.map((r) => r.state());
    if (self) all.push({ ...self });
    return all;
  };

  return {
    checks: options.checks,
    results: () =>
      states().map((s) => ({
        name: s.name,
        status: s.status,
        output: s.output,
        latencyMs: s.latencyMs,
        consecutiveFailures: s.consecutiveFailures,
        consecutiveSuccesses: s.consecutiveSuccesses,
        lastCheckedAt: s.lastCheckedAt > 0 ? new Date(s.lastCheckedAt) : undefined,
      })),
    status: () => aggregate(states().map((s) => s.status)),
    summary: () => summarizeChecks(states()),
    report: (report) => {
      if (stopped) return;
      const ok = report.status === HealthStatus.HEALTH_STATUS_HEALTHY;
      const previous = self;
      self = {
        name: SELF_CHECK_NAME,
        status: report.status,
        output: truncateOutput(report.output || (ok ? "reported healthy" : "reported unhealthy")),
        latencyMs: 0,
        consecutiveFailures: ok ? 0 : (previous?.consecutiveFailures ?? 0) + 1,
        consecutiveSuccesses: ok ? (previous?.consecutiveSuccesses ?? 0) + 1 : 0,
        lastCheckedAt: clock.now(),
      };
      if (ttlTimer !== undefined) clock.clearTimeout(ttlTimer);
      ttlTimer = undefined;
      if (report.ttlMs > 0) {
        const reportedAt = clock.now();
        ttlTimer = clock.setTimeout(() => {
          ttlTimer = undefined;
          if (stopped || !self) return;
          self = {
            ...self,
            status: HealthStatus.HEALTH_STATUS_UNHEALTHY,
            output: `TTL expired: no report for ${report.ttlMs} ms (last at ${new Date(reportedAt).toISOString()})`,
            consecutiveFailures: self.consecutiveFailures + 1,
            consecutiveSuccesses: 0,
            lastCheckedAt: clock.now(),
          };
          onChange();
        }, report.ttlMs);
      }
      onChange();
    },
    stop: () => {
      if (stopped) return;
      stopped = true;
      for (const runner of runners) runner.stop();
      if (ttlTimer !== undefined) clock.clearTimeout(ttlTimer);
      ttlTimer = undefined;
    },
  };
}

function aggregate(statuses: readonly HealthStatus[]): HealthStatus {
  if (statuses.length === 0) return HealthStatus.HEALTH_STATUS_UNSPECIFIED;
  if (statuses.includes(HealthStatus.HEALTH_STATUS_UNHEALTHY)) return HealthStatus.HEALTH_STATUS_UNHEALTHY;
  if (statuses.every((s) => s === HealthStatus.HEALTH_STATUS_HEALTHY)) return HealthStatus.HEALTH_STATUS_HEALTHY;
  return HealthStatus.HEALTH_STATUS_UNSPECIFIED;
}

/**
 * One line for a transition: the unhealthy checks' outputs when any check is
 * unhealthy, else every check's output.
 */
export function summarizeChecks(checks: readonly { name: string; status: HealthStatus; output: string }[]): string {
  const unhealthy = checks.filter((c) => c.status === HealthStatus.HEALTH_STATUS_UNHEALTHY);
  const relevant = unhealthy.length > 0 ? unhealthy : checks;
  return truncateOutput(relevant.map((c) => `${c.name}: ${c.output}`).join("; "));
}
