import type { HealthCheck } from "../../generated/switchboard/health/v1/check.js";

/** Defaults and bounds of a declared check (the proto comments state the same). */
export const CHECK_DEFAULTS = {
  intervalMs: 10_000,
  minIntervalMs: 1_000,
  timeoutMs: 2_000,
  unhealthyThreshold: 3,
  healthyThreshold: 2,
  httpPath: "/health",
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

function hostForUrl(address: string): string {
  return address.includes(":") && !address.startsWith("[") ? `[${address}]` : address;
}

/**
 * Applies defaults: interval 10 s (raised to at least 1 s), timeout 2 s (at
 * most the interval), thresholds 3 unhealthy / 2 healthy, HTTP path
 * "/health", ports default to the instance port. Names default to the kind
 * and are made unique ("http", "http-2", ...); "self" is reserved for
 * self-reports. Validation is the registry's (validateHealthChecks).
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
