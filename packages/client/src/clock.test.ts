import { describe, expect, it } from "vitest";
import { createManualClock } from "../../../test/support/manual-clock.js";
import { sleepOn, systemClock } from "./clock.js";

describe("sleepOn", () => {
  it("resolves when the clock reaches the delay, not before", async () => {
    const clock = createManualClock();
    let done = false;
    const slept = sleepOn(clock, 100).then(() => (done = true));
    await clock.advance(99);
    expect(done).toBe(false);
    await clock.advance(1);
    await slept;
    expect(done).toBe(true);
    expect(clock.pending()).toBe(0);
  });

  it("rejects with an AbortError and clears its timer when the signal aborts", async () => {
    const clock = createManualClock();
    const controller = new AbortController();
    const slept = sleepOn(clock, 100, controller.signal);
    expect(clock.pending()).toBe(1);
    controller.abort();
    await expect(slept).rejects.toMatchObject({ name: "AbortError" });
    expect(clock.pending()).toBe(0);
    await expect(sleepOn(clock, 100, controller.signal)).rejects.toMatchObject({ name: "AbortError" });
    expect(clock.pending()).toBe(0);
  });

  it("waits on the system clock by default", async () => {
    const started = systemClock.now();
    await sleepOn(systemClock, 5);
    expect(systemClock.now()).toBeGreaterThanOrEqual(started + 4);
  });
});
