import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import type { ResolvedCheck } from "../registry/index.js";
import type { Checker, ProbeResult } from "./checker.js";
import { errorText, truncateOutput } from "./checker.js";
import type { Clock } from "./clock.js";

/** What is known about one check of one instance, kept in memory by its owner. */
export interface CheckState {
  name: string;
  /** UNSPECIFIED until a threshold has been reached. */
  status: HealthStatus;
  output: string;
  latencyMs: number;
  consecutiveFailures: number;
  consecutiveSuccesses: number;
  /** Epoch ms of the last probe's end; 0 before the first probe. */
  lastCheckedAt: number;
}

/**
 * Receives every probe outcome (Consul's CheckNotifier). Called after the
 * state has been updated; must not throw.
 */
export interface CheckNotifier {
  updateCheck(state: Readonly<CheckState>, probe: ProbeResult): void;
}

export interface CheckRunnerOptions {
  check: ResolvedCheck;
  checker: Checker;
  notifier: CheckNotifier;
  /** Default: the system clock. */
  clock: Clock;
  /** Source of the first-run stagger, in [0, 1). Default: Math.random. */
  random?: () => number;
  /**
   * Status to start from (the stored status when a check moves between
   * replicas, so ownership changes do not flap). Default UNSPECIFIED.
   */
  initialStatus?: HealthStatus;
}

export interface CheckRunner {
  readonly check: ResolvedCheck;
  state(): Readonly<CheckState>;
  /** Stops scheduling, aborts a probe in flight and closes the checker. Idempotent. */
  stop(): void;
}

/**
 * Runs one check on a schedule: the first probe after a random stagger
 * within the interval, then one every interval measured from the start of
 * the previous probe, never two at once (a slow probe delays the next one).
 * Each probe is aborted at the check's timeout. Status follows hysteresis:
 * unhealthyThreshold failures in a row make it UNHEALTHY, healthyThreshold
 * passes in a row make it HEALTHY.
 *
 * @example
 * const runner = startCheckRunner({ check, checker: createTcpChecker(target), notifier, clock: systemClock });
 * // later
 * runner.stop();
 */
export function startCheckRunner(options: CheckRunnerOptions): CheckRunner {
  const { check, checker, notifier, clock } = options;
  const random = options.random ?? Math.random;
  const state: CheckState = {
    name: check.name,
    status: options.initialStatus ?? HealthStatus.HEALTH_STATUS_UNSPECIFIED,
    output: "",
    latencyMs: 0,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
    lastCheckedAt: 0,
  };
  let stopped = false;
  let timer: unknown;
  let inFlight: AbortController | undefined;

  const schedule = (delayMs: number) => {
    timer = clock.setTimeout(
      () => {
        timer = undefined;
        void runOnce();
      },
      Math.max(0, delayMs),
    );
  };

  const runOnce = async () => {
    if (stopped || inFlight) return;
    const controller = new AbortController();
    inFlight = controller;
    const startedAt = clock.now();
    const timeout = clock.setTimeout(() => controller.abort(), check.timeoutMs);
    let result: ProbeResult;
    try {
      // Race the abort too: a checker that ignores its signal must not stall the schedule.
      result = await Promise.race([
        checker.probe(controller.signal),
        new Promise<ProbeResult>((resolve) =>
          controller.signal.addEventListener(
            "abort",
            () => resolve({ ok: false, output: `timed out after ${check.timeoutMs} ms` }),
            { once: true },
          ),
        ),
      ]);
    } catch (error) {
      result = { ok: false, output: errorText(error) };
    } finally {
      clock.clearTimeout(timeout);
    }
    if (controller.signal.aborted && !stopped) result = { ok: false, output: `timed out after ${check.timeoutMs} ms` };
    inFlight = undefined;
    if (stopped) return;
    const endedAt = clock.now();
    record(result, endedAt - startedAt, endedAt);
    try {
      notifier.updateCheck(state, result);
    } finally {
      if (!stopped) schedule(startedAt + check.intervalMs - clock.now());
    }
  };

  const record = (result: ProbeResult, latencyMs: number, at: number) => {
    state.output = truncateOutput(result.output);
    state.latencyMs = Math.max(0, Math.round(latencyMs));
    state.lastCheckedAt = at;
    if (result.ok) {
      state.consecutiveSuccesses++;
      state.consecutiveFailures = 0;
      if (state.status !== HealthStatus.HEALTH_STATUS_HEALTHY && state.consecutiveSuccesses >= check.healthyThreshold) {
        state.status = HealthStatus.HEALTH_STATUS_HEALTHY;
      }
    } else {
      state.consecutiveFailures++;
      state.consecutiveSuccesses = 0;
      if (state.status !== HealthStatus.HEALTH_STATUS_UNHEALTHY && state.consecutiveFailures >= check.unhealthyThreshold) {
        state.status = HealthStatus.HEALTH_STATUS_UNHEALTHY;
      }
    }
  };

  schedule(Math.floor(random() * check.intervalMs));

  return {
    check,
    state: () => ({ ...state }),
    stop: () => {
      if (stopped) return;
      stopped = true;
      if (timer !== undefined) clock.clearTimeout(timer);
      inFlight?.abort();
      checker.close();
    },
  };
}
