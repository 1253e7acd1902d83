import type { HealthCheck } from "../../generated/switchboard/health/v1/check.js";
import { InvalidArgumentError } from "../errors.js";
import { CONTROL, CONTROL_OR_SPACE, truncate } from "./validation.js";

/**
 * The one definition of a declared health check (Instance.health_checks):
 * its bounds, which the registry enforces when it stores an instance
 * (validateHealthChecks), and its defaults, which src/health applies when it
 * runs the checks (resolveChecks). Defaults are applied at run time, never
 * stored, so a changed default reaches instances already registered. The
 * proto comments (check.proto) state the same numbers.
 *
 *   const checks = validateHealthChecks(instance.healthChecks, "instance.health_checks"); // registry
 *   const resolved = resolveChecks(instance.healthChecks, instance);                       // health
 */

/** Defaults of a declared check, for zero (unset) fields. */
export const CHECK_DEFAULTS = {
  intervalMs: 10_000,
  timeoutMs: 2_000,
  unhealthyThreshold: 3,
  healthyThreshold: 2,
  httpPath: "/health",
} as const;

/** Bounds of declared checks; requests beyond them are rejected with INVALID_ARGUMENT. */
export const CHECK_LIMITS = {
  /** Checks per instance. */
  checks: 8,
  nameLength: 63,
  /** interval_ms is 0 (the default) or within [minIntervalMs, maxIntervalMs]; timeout_ms at most maxIntervalMs. */
  minIntervalMs: 1_000,
  maxIntervalMs: 3_600_000,
  /** unhealthy_threshold and healthy_threshold. */
  maxThreshold: 100,
  httpPathLength: 1_024,
  grpcServiceLength: 256,
} as const;

/** Name of the self-report pseudo-check (ReportHealth); declared checks never take it. */
export const SELF_CHECK_NAME = "self";

export type CheckTarget =
  | { kind: "http"; url: string; headers: Record<string, string> }
  | { kind: "grpc"; host: string; port: number; service: string }
  | { kind: "tcp"; host: string; port: number };

/** A declared check with every default applied and its target resolved against the instance. */
export interface ResolvedCheck {
  /** Unique within the instance. */
  name: string;
  target: CheckTarget;
  intervalMs: number;
  timeoutMs: number;
  unhealthyThreshold: number;
  healthyThreshold: number;
}

/** The part of an instance a check target is resolved against. */
export interface CheckHost {
  address: string;
  port: number;
}

const HTTP_HEADER_NAME = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * Declared health checks: at most 8, exactly one target each, intervals 0
 * (default) or 1000..3600000 ms, timeouts at most 3600000 ms, thresholds at
 * most 100, ports at most 65535, http URLs http(s) only. Answers the checks
 * as given: defaults are applied by resolveChecks when they run, not stored.
 */
export function validateHealthChecks(checks: readonly HealthCheck[], field: string): HealthCheck[] {
  if (checks.length > CHECK_LIMITS.checks) throw new InvalidArgumentError(field, `at most ${CHECK_LIMITS.checks} checks`);
  checks.forEach((check, i) => {
    const f = `${field}[${i}]`;
    if (check.name.length > CHECK_LIMITS.nameLength || CONTROL.test(check.name)) {
      throw new InvalidArgumentError(`${f}.name`, `at most ${CHECK_LIMITS.nameLength} printable characters`);
    }
    const target = check.target;
    if (target === undefined) throw new InvalidArgumentError(f, "exactly one of http, grpc or tcp must be set");
    if (!Number.isInteger(target.value.port) || target.value.port < 0 || target.value.port > 65_535) {
      throw new InvalidArgumentError(`${f}.${target.$case}.port`, "must be 1..65535 (0 for the instance port)");
    }
    if (target.$case === "http") {
      const { url, path, headers } = target.value;
      if (url !== "") {
        let parsed: URL;
        try {
          parsed = new URL(url);
        } catch {
          throw new InvalidArgumentError(`${f}.http.url`, "not a valid URL");
        }
        if (parsed.protocol !== "http:" && parsed.protocol !== "https:") {
          throw new InvalidArgumentError(`${f}.http.url`, "must be http:// or https://");
        }
      }
      if (path.length > CHECK_LIMITS.httpPathLength || CONTROL_OR_SPACE.test(path)) {
        throw new InvalidArgumentError(`${f}.http.path`, `at most ${CHECK_LIMITS.httpPathLength} characters without spaces`);
      }
      for (const [name, value] of Object.entries(headers)) {
        if (!HTTP_HEADER_NAME.test(name))
          throw new InvalidArgumentError(`${f}.http.headers`, `invalid header name ${JSON.stringify(truncate(name))}`);
        if (/[\r\n\0]/.test(value)) throw new InvalidArgumentError(`${f}.http.headers`, `invalid value for ${name}`);
      }
    }
    if (target.$case === "grpc" && target.value.service.length > CHECK_LIMITS.grpcServiceLength) {
      throw new InvalidArgumentError(`${f}.grpc.service`, `at most ${CHECK_LIMITS.grpcServiceLength} characters`);
    }
    if (
      check.intervalMs !== 0 &&
      (check.intervalMs < CHECK_LIMITS.minIntervalMs || check.intervalMs > CHECK_LIMITS.maxIntervalMs)
    ) {
      throw new InvalidArgumentError(
        `${f}.interval_ms`,
        `must be ${CHECK_LIMITS.minIntervalMs}..${CHECK_LIMITS.maxIntervalMs} (0 for the default)`,
      );
    }
    if (check.timeoutMs > CHECK_LIMITS.maxIntervalMs)
      throw new InvalidArgumentError(`${f}.timeout_ms`, `at most ${CHECK_LIMITS.maxIntervalMs}`);
    if (check.unhealthyThreshold > CHECK_LIMITS.maxThreshold) {
      throw new InvalidArgumentError(`${f}.unhealthy_threshold`, `at most ${CHECK_LIMITS.maxThreshold}`);
    }
    if (check.healthyThreshold > CHECK_LIMITS.maxThreshold) {
      throw new InvalidArgumentError(`${f}.healthy_threshold`, `at most ${CHECK_LIMITS.maxThreshold}`);
    }
  });
  return [...checks];
}

/**
 * Applies defaults: interval 10 s (raised to at least 1 s), timeout 2 s (at
 * most the interval), thresholds 3 unhealthy / 2 healthy, HTTP path
 * "/health", ports default to the instance port. Names default to the kind
 * and are made unique ("http", "http-2", ...); "self" is reserved for
 * self-reports. Checks without a target (never stored: validateHealthChecks
 * rejects them) are skipped.
 */
export function resolveChecks(checks: readonly HealthCheck[], host: CheckHost): ResolvedCheck[] {
  const used = new Set<string>([SELF_CHECK_NAME]);
  const out: ResolvedCheck[] = [];
  for (const check of checks) {
    const target = resolveTarget(check, host);
    if (target === undefined) continue;
    const base = check.name || target.kind;
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}-${n}`;
    used.add(name);
    const intervalMs = Math.max(CHECK_LIMITS.minIntervalMs, check.intervalMs || CHECK_DEFAULTS.intervalMs);
    out.push({
      name,
      target,
      intervalMs,
      timeoutMs: Math.min(intervalMs, check.timeoutMs || CHECK_DEFAULTS.timeoutMs),
      unhealthyThreshold: check.unhealthyThreshold || CHECK_DEFAULTS.unhealthyThreshold,
      healthyThreshold: check.healthyThreshold || CHECK_DEFAULTS.healthyThreshold,
    });
  }
  return out;
}

function hostForUrl(address: string): string {
  return address.includes(":") && !address.startsWith("[") ? `[${address}]` : address;
}

function resolveTarget(check: HealthCheck, host: CheckHost): CheckTarget | undefined {
  const t = check.target;
  switch (t?.$case) {
    case "http": {
      const url = t.value.url || `http://${hostForUrl(host.address)}:${t.value.port || host.port}${normalizePath(t.value.path)}`;
      return { kind: "http", url, headers: { ...t.value.headers } };
    }
    case "grpc":
      return { kind: "grpc", host: host.address, port: t.value.port || host.port, service: t.value.service };
    case "tcp":
      return { kind: "tcp", host: host.address, port: t.value.port || host.port };
    default:
      return undefined;
  }
}

function normalizePath(path: string): string {
  if (!path) return CHECK_DEFAULTS.httpPath;
  return path.startsWith("/") ? path : `/${path}`;
}
