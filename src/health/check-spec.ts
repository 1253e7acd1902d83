import type { HealthCheck } from "../../generated/switchboard/health/v1/check.js";
import { InvalidArgumentError } from "../errors.js";

/** Defaults and bounds of a declared check (the proto comments state the same). */
export const CHECK_DEFAULTS = {
  intervalMs: 10_000,
  minIntervalMs: 1_000,
  timeoutMs: 2_000,
  unhealthyThreshold: 3,
  healthyThreshold: 2,
  httpPath: "/health",
} as const;

/** Most checks one instance may declare. */
export const MAX_CHECKS_PER_INSTANCE = 8;

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

function hostForUrl(address: string): string {
  return address.includes(":") && !address.startsWith("[") ? `[${address}]` : address;
}

/**
 * Applies defaults: interval 10 s (raised to at least 1 s), timeout 2 s (at
 * most the interval), thresholds 3 unhealthy / 2 healthy, HTTP path
 * "/health", ports default to the instance port. Names default to the kind
 * and are made unique ("http", "http-2", ...).
 */
export function resolveChecks(checks: readonly HealthCheck[], host: CheckHost): ResolvedCheck[] {
  const used = new Set<string>();
  const out: ResolvedCheck[] = [];
  for (const check of checks) {
    const target = resolveTarget(check, host);
    if (target === undefined) continue;
    const base = check.name || target.kind;
    let name = base;
    for (let n = 2; used.has(name); n++) name = `${base}-${n}`;
    used.add(name);
    const intervalMs = Math.max(CHECK_DEFAULTS.minIntervalMs, check.intervalMs || CHECK_DEFAULTS.intervalMs);
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

function resolveTarget(check: HealthCheck, host: CheckHost): CheckTarget | undefined {
  const t = check.target;
  switch (t?.$case) {
    case "http": {
      const url =
        t.value.url ||
        `http://${hostForUrl(host.address)}:${t.value.port || host.port}${normalizePath(t.value.path)}`;
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

/**
 * Validates declared checks (for Register). Throws InvalidArgumentError naming
 * the field, e.g. "instance.health_checks[1].http.url".
 */
export function validateHealthChecks(checks: readonly HealthCheck[], field = "instance.health_checks"): void {
  if (checks.length > MAX_CHECKS_PER_INSTANCE) {
    throw new InvalidArgumentError(field, `at most ${MAX_CHECKS_PER_INSTANCE} checks`);
  }
  checks.forEach((check, i) => {
    const f = `${field}[${i}]`;
    if (check.name.length > 63) throw new InvalidArgumentError(`${f}.name`, "at most 63 characters");
    const t = check.target;
    if (t === undefined) throw new InvalidArgumentError(f, "one of http, grpc or tcp must be set");
    if (t.value.port > 65535) throw new InvalidArgumentError(`${f}.${t.$case}.port`, "must be 1..65535");
    if (t.$case === "http") {
      if (t.value.url) {
        let url: URL;
        try {
          url = new URL(t.value.url);
        } catch {
          throw new InvalidArgumentError(`${f}.http.url`, "not a valid URL");
        }
        if (url.protocol !== "http:" && url.protocol !== "https:") {
          throw new InvalidArgumentError(`${f}.http.url`, "must be http:// or https://");
        }
      }
      if (t.value.path.length > 1024) throw new InvalidArgumentError(`${f}.http.path`, "at most 1024 characters");
      for (const [k, v] of Object.entries(t.value.headers)) {
        if (!/^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/.test(k)) {
          throw new InvalidArgumentError(`${f}.http.headers`, `invalid header name ${JSON.stringify(k)}`);
        }
        if (/[\r\n]/.test(v)) throw new InvalidArgumentError(`${f}.http.headers`, `invalid value for ${k}`);
      }
    }
    if (t.$case === "grpc" && t.value.service.length > 256) {
      throw new InvalidArgumentError(`${f}.grpc.service`, "at most 256 characters");
    }
    if (check.intervalMs !== 0 && check.intervalMs < CHECK_DEFAULTS.minIntervalMs) {
      throw new InvalidArgumentError(`${f}.interval_ms`, `at least ${CHECK_DEFAULTS.minIntervalMs}`);
    }
    if (check.intervalMs > 3_600_000) throw new InvalidArgumentError(`${f}.interval_ms`, "at most 3600000");
    if (check.unhealthyThreshold > 100) throw new InvalidArgumentError(`${f}.unhealthy_threshold`, "at most 100");
    if (check.healthyThreshold > 100) throw new InvalidArgumentError(`${f}.healthy_threshold`, "at most 100");
  });
}
