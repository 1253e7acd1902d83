import { describe, expect, it } from "vitest";
import { createSecondSignalPolicy } from "./shutdown-signals.js";

describe("createSecondSignalPolicy", () => {
  it("treats a copy of the first signal within the window as the same request, and a later one as forcing", () => {
    let now = 1_000;
    const policy = createSecondSignalPolicy({ repeatWindowMs: 1000, now: () => now });
    policy.first("SIGTERM");
    now += 5;
    expect(policy.forces("SIGTERM")).toBe(false);
    now += 994;
    expect(policy.forces("SIGTERM")).toBe(false);
    now += 1;
    expect(policy.forces("SIGTERM")).toBe(true);
  });

  it("lets another signal force at once", () => {
    let now = 0;
    const policy = createSecondSignalPolicy({ now: () => now });
    policy.first("SIGTERM");
    now += 10;
    expect(policy.forces("SIGINT")).toBe(true);
  });
});
