import { describe, expect, it } from "vitest";
import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import type { ResolvedCheck } from "../registry/index.js";
import type { CheckState } from "./check-runner.js";
import { startCheckRunner } from "./check-runner.js";
import type { Checker, ProbeResult } from "./checker.js";
import { createManualClock } from "../../test/support/manual-clock.js";

const check: ResolvedCheck = {
  name: "http",
  target: { kind: "tcp", host: "127.0.0.1", port: 1 },
  intervalMs: 1000,
  timeoutMs: 300,
  unhealthyThreshold: 3,
  healthyThreshold: 2,
};

function scriptedChecker(results: boolean[], delayMs = 0, clock?: { setTimeout: (f: () => void, ms: number) => unknown }) {
  let calls = 0;
  let active = 0;
  let maxActive = 0;
  let closed = false;
  const checker: Checker = {
    probe: async (signal) => {
      active++;
      maxActive = Math.max(maxActive, active);
      const ok = results[Math.min(calls, results.length - 1)] ?? true;
      calls++;
      try {
        if (delayMs > 0 && clock) {
          await new Promise<void>((resolve) => {
            clock.setTimeout(resolve, delayMs);
            signal.addEventListener("abort", () => resolve(), { once: true });
          });
        }
        if (signal.aborted) return { ok: false, output: "aborted" };
        return { ok, output: ok ? "fine" : "broken" } satisfies ProbeResult;
      } finally {
        active--;
      }
    },
    close: () => {
      closed = true;
    },
  };
  return { checker, calls: () => calls, maxActive: () => maxActive, closed: () => closed };
}

function collect() {
  const states: CheckState[] = [];
  return { states, notifier: { updateCheck: (s: Readonly<CheckState>) => void states.push({ ...s }) } };
}

describe("check runner", () => {
  it("staggers the first probe randomly within the interval, then probes every interval", async () => {
    const clock = createManualClock();
    const probes = scriptedChecker([true]);
    const { states, notifier } = collect();
    const runner = startCheckRunner({ check, checker: probes.checker, notifier, clock, random: () => 0.5 });
    await clock.advance(499);
    expect(probes.calls()).toBe(0);
    await clock.advance(1);
    expect(probes.calls()).toBe(1);
    await clock.advance(1000);
    await clock.advance(1000);
    expect(probes.calls()).toBe(3);
    expect(states.map((s) => s.lastCheckedAt - states[0]!.lastCheckedAt)).toEqual([0, 1000, 2000]);
    runner.stop();
    expect(probes.closed()).toBe(true);
    await clock.advance(5000);
    expect(probes.calls()).toBe(3);
    expect(clock.pending()).toBe(0);
  });

  it("applies the unhealthy and healthy thresholds (hysteresis)", async () => {
    const clock = createManualClock();
    // pass pass | fail fail | pass | fail fail fail | pass pass
    const probes = scriptedChecker([true, true, false, false, true, false, false, false, true, true]);
    const { states, notifier } = collect();
    const runner = startCheckRunner({ check, checker: probes.checker, notifier, clock, random: () => 0 });
    await clock.advance(9000);
    const U = HealthStatus.HEALTH_STATUS_UNSPECIFIED;
    const H = HealthStatus.HEALTH_STATUS_HEALTHY;
    const X = HealthStatus.HEALTH_STATUS_UNHEALTHY;
    expect(states.map((s) => s.status)).toEqual([U, H, H, H, H, H, H, X, X, H]);
    expect(states[6]).toMatchObject({ consecutiveFailures: 2, consecutiveSuccesses: 0, output: "broken" });
    expect(states[9]).toMatchObject({ consecutiveFailures: 0, consecutiveSuccesses: 2, output: "fine" });
    runner.stop();
  });

  it("starts from the given status so a moved check does not flap", async () => {
    const clock = createManualClock();
    const probes = scriptedChecker([true]);
    const { states, notifier } = collect();
    const runner = startCheckRunner({
      check,
      checker: probes.checker,
      notifier,
      clock,
      random: () => 0,
      initialStatus: HealthStatus.HEALTH_STATUS_UNHEALTHY,
    });
    await clock.advance(1000);
    expect(states.map((s) => s.status)).toEqual([HealthStatus.HEALTH_STATUS_UNHEALTHY, HealthStatus.HEALTH_STATUS_HEALTHY]);
    runner.stop();
  });

  it("aborts a probe at the timeout and counts it as a failure", async () => {
    const clock = createManualClock();
    const probes = scriptedChecker([true], 5000, clock);
    const { states, notifier } = collect();
    const runner = startCheckRunner({ check, checker: probes.checker, notifier, clock, random: () => 0 });
    await clock.advance(300);
    expect(states).toHaveLength(1);
    expect(states[0]).toMatchObject({ output: "timed out after 300 ms", consecutiveFailures: 1, latencyMs: 300 });
    runner.stop();
  });

  it("never runs a check twice at once, even when a probe outlasts the interval", async () => {
    const clock = createManualClock();
    const slow = { ...check, timeoutMs: 2500 };
    const probes = scriptedChecker([true], 1800, clock);
    const { states, notifier } = collect();
    const runner = startCheckRunner({ check: slow, checker: probes.checker, notifier, clock, random: () => 0 });
    await clock.advance(10_000);
    expect(probes.maxActive()).toBe(1);
    // Each probe takes 1.8 s, so the next starts right after the previous ends.
    expect(states.length).toBeGreaterThanOrEqual(5);
    expect(states.length).toBeLessThanOrEqual(6);
    runner.stop();
  });

  it("a throwing checker is a failed probe, not a crash", async () => {
    const clock = createManualClock();
    const { states, notifier } = collect();
    const runner = startCheckRunner({
      check,
      checker: { probe: () => Promise.reject(new Error("boom")), close: () => {} },
      notifier,
      clock,
      random: () => 0,
    });
    await clock.advance(2000);
    expect(states.map((s) => s.output)).toEqual(["boom", "boom", "boom"]);
    expect(states[2]!.status).toBe(HealthStatus.HEALTH_STATUS_UNHEALTHY);
    runner.stop();
  });
});
