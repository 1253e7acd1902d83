import { describe, expect, it } from "vitest";
import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import { InstanceState } from "../../generated/switchboard/registry/v1/registry.js";
import { testInstance } from "../../test/support/instances.js";
import { compileFilter, isProtectionActive, isRoutable, validateProtection } from "./routing.js";

const instance = testInstance;

const unhealthy = { healthStatus: HealthStatus.HEALTH_STATUS_UNHEALTHY };

describe("routability", () => {
  it("routes UP (or UNSPECIFIED) instances that are not unhealthy", () => {
    expect(isRoutable(instance(), false)).toBe(true);
    expect(isRoutable(instance({ state: InstanceState.INSTANCE_STATE_UNSPECIFIED }), false)).toBe(true);
    expect(isRoutable(instance({ healthStatus: HealthStatus.HEALTH_STATUS_HEALTHY }), false)).toBe(true);
    expect(isRoutable(instance(unhealthy), false)).toBe(false);
    expect(isRoutable(instance({ state: InstanceState.INSTANCE_STATE_DRAINING }), false)).toBe(false);
  });

  it("routes unhealthy UP instances while protection is active, never draining ones", () => {
    expect(isRoutable(instance(unhealthy), true)).toBe(true);
    expect(isRoutable(instance({ ...unhealthy, state: InstanceState.INSTANCE_STATE_DRAINING }), true)).toBe(false);
  });
});

describe("protection", () => {
  const service = (healthy: number, sick: number, draining = 0) => [
    ...Array.from({ length: healthy }, () => instance()),
    ...Array.from({ length: sick }, () => instance(unhealthy)),
    ...Array.from({ length: draining }, () => instance({ ...unhealthy, state: InstanceState.INSTANCE_STATE_DRAINING })),
  ];

  it("starts when more than the threshold share of UP instances is unhealthy", () => {
    expect(isProtectionActive(service(3, 0))).toBe(false);
    expect(isProtectionActive(service(2, 2))).toBe(false); // exactly half: not more than 0.5
    expect(isProtectionActive(service(1, 2))).toBe(true); // 2 of 3
    expect(isProtectionActive(service(0, 3))).toBe(true);
    expect(isProtectionActive(service(0, 0))).toBe(false);
  });

  it("needs at least protectionMinInstances (default 3) UP instances", () => {
    // 1 of 1 and 2 of 2 unhealthy: too small for protection; the failing instances leave routing.
    expect(isProtectionActive(service(0, 1))).toBe(false);
    expect(isProtectionActive(service(0, 2))).toBe(false);
    expect(isProtectionActive(service(1, 1, 5))).toBe(false); // draining ones do not count towards the minimum
    // 2 of 3: protection.
    expect(isProtectionActive(service(1, 2))).toBe(true);
    // The minimum is a parameter; 1 lets protection apply to any service.
    expect(isProtectionActive(service(0, 1), 0.5, 1)).toBe(true);
    expect(isProtectionActive(service(1, 3), 0.5, 5)).toBe(false);
    expect(isProtectionActive({ up: 5, unhealthyUp: 3 }, 0.5, 5)).toBe(true);
  });

  it("routes a single failing instance around, and keeps 2 of 3 failing ones in protection", () => {
    const alone = [instance(unhealthy)];
    expect(alone.filter((i) => isRoutable(i, isProtectionActive(alone)))).toEqual([]);
    const three = service(1, 2);
    expect(three.filter((i) => isRoutable(i, isProtectionActive(three)))).toHaveLength(3);
  });

  it("rejects out-of-range settings", () => {
    expect(() => validateProtection(0.5, 3)).not.toThrow();
    expect(() => validateProtection(0, 1)).not.toThrow();
    expect(() => validateProtection(1.5, 3)).toThrow("protectionThreshold must be within [0, 1], got 1.5");
    expect(() => validateProtection(Number.NaN, 3)).toThrow("protectionThreshold");
    expect(() => validateProtection(0.5, 0)).toThrow("protectionMinInstances must be an integer >= 1, got 0");
    expect(() => validateProtection(0.5, 2.5)).toThrow("protectionMinInstances");
  });

  it("counts only UP instances", () => {
    expect(isProtectionActive(service(2, 1, 5))).toBe(false);
  });

  it("takes a threshold; 0 disables", () => {
    expect(isProtectionActive(service(3, 1), 0.2)).toBe(true);
    expect(isProtectionActive(service(0, 5), 0)).toBe(false);
    expect(isProtectionActive(service(0, 5), 1)).toBe(false); // never more than all
    expect(isProtectionActive({ up: 10, unhealthyUp: 8 }, 0.75)).toBe(true);
    expect(isProtectionActive({ up: 10, unhealthyUp: 7 }, 0.75)).toBe(false);
  });
});

describe("filters", () => {
  it("selects by routability, tags (all), zone and metadata", () => {
    const match = compileFilter({ tags: ["grpc", "canary"], zone: "eu-1", metadataSelector: { v: "2" } });
    const good = instance({ tags: ["canary", "grpc", "x"], zone: "eu-1", metadata: { v: "2", other: "y" } });
    expect(match(good, true)).toBe(true);
    expect(match(good, false)).toBe(false);
    expect(match({ ...good, tags: ["grpc"] }, true)).toBe(false);
    expect(match({ ...good, zone: "eu-2" }, true)).toBe(false);
    expect(match({ ...good, metadata: { v: "3" } }, true)).toBe(false);
    expect(compileFilter({ includeUnroutable: true })(instance(unhealthy), false)).toBe(true);
  });
});
