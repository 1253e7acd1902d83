import { describe, expect, it } from "vitest";
import type { HealthCheck } from "../../generated/switchboard/health/v1/check.js";
import { fieldOf } from "../../test/support/invalid-argument.js";
import { CHECK_DEFAULTS, resolveChecks, validateHealthChecks } from "./health-check-spec.js";

function check(partial: Partial<HealthCheck>): HealthCheck {
  return {
    name: "",
    target: { $case: "tcp", value: { port: 0 } },
    intervalMs: 0,
    timeoutMs: 0,
    unhealthyThreshold: 0,
    healthyThreshold: 0,
    ...partial,
  };
}

const http = (value: Partial<{ url: string; path: string; port: number; headers: Record<string, string> }>) =>
  check({ target: { $case: "http", value: { url: "", path: "", port: 0, headers: {}, ...value } } });

describe("validateHealthChecks", () => {
  it("checks health checks: count, one target, interval, thresholds, URL", () => {
    const f = "instance.health_checks";
    expect(validateHealthChecks([check({})], f)).toHaveLength(1);
    expect(
      fieldOf(() =>
        validateHealthChecks(
          Array.from({ length: 9 }, () => check({})),
          f,
        ),
      ),
    ).toBe(f);
    expect(fieldOf(() => validateHealthChecks([check({}), check({ target: undefined })], f))).toBe(`${f}[1]`);
    expect(fieldOf(() => validateHealthChecks([check({ intervalMs: 999 })], f))).toBe(`${f}[0].interval_ms`);
    expect(validateHealthChecks([check({ intervalMs: 1000 })], f)).toHaveLength(1);
    expect(fieldOf(() => validateHealthChecks([check({ unhealthyThreshold: 101 })], f))).toBe(`${f}[0].unhealthy_threshold`);
    expect(fieldOf(() => validateHealthChecks([check({ target: { $case: "tcp", value: { port: 70000 } } })], f))).toBe(
      `${f}[0].tcp.port`,
    );
    expect(validateHealthChecks([http({ url: "http://127.0.0.1:8080/health" })], f)).toHaveLength(1);
    expect(fieldOf(() => validateHealthChecks([http({ url: "ftp://x" })], f))).toBe(`${f}[0].http.url`);
    expect(fieldOf(() => validateHealthChecks([http({ url: "not a url" })], f))).toBe(`${f}[0].http.url`);
    expect(fieldOf(() => validateHealthChecks([http({ headers: { "bad name": "x" } })], f))).toBe(`${f}[0].http.headers`);
    expect(fieldOf(() => validateHealthChecks([check({ timeoutMs: 3_600_001 })], f))).toBe(`${f}[0].timeout_ms`);
  });

  it("stores checks as given: defaults are applied when they run", () => {
    expect(validateHealthChecks([check({})], "c")).toEqual([check({})]);
  });
});

describe("resolveChecks", () => {
  const host = { address: "10.0.0.5", port: 8080 };

  it("applies the defaults and resolves targets against the instance", () => {
    expect(resolveChecks([http({})], host)).toEqual([
      {
        name: "http",
        target: { kind: "http", url: "http://10.0.0.5:8080/health", headers: {} },
        intervalMs: CHECK_DEFAULTS.intervalMs,
        timeoutMs: CHECK_DEFAULTS.timeoutMs,
        unhealthyThreshold: 3,
        healthyThreshold: 2,
      },
    ]);
    expect(resolveChecks([http({ path: "ready", port: 9000 })], { address: "::1", port: 1 })[0]!.target).toEqual({
      kind: "http",
      url: "http://[::1]:9000/ready",
      headers: {},
    });
    expect(resolveChecks([check({ target: { $case: "grpc", value: { service: "s", port: 0 } } })], host)[0]!.target).toEqual({
      kind: "grpc",
      host: "10.0.0.5",
      port: 8080,
      service: "s",
    });
  });

  it("keeps the interval at least 1 s and the timeout at most the interval", () => {
    const [fast] = resolveChecks([check({ intervalMs: 10, timeoutMs: 5_000, unhealthyThreshold: 1, healthyThreshold: 4 })], host);
    expect(fast).toMatchObject({ intervalMs: 1_000, timeoutMs: 1_000, unhealthyThreshold: 1, healthyThreshold: 4 });
  });

  it("makes names unique and never uses the self-report name", () => {
    const names = resolveChecks([check({}), check({}), check({ name: "self" }), check({ target: undefined })], host).map(
      (c) => c.name,
    );
    expect(names).toEqual(["tcp", "tcp-2", "self-2"]);
  });
});
