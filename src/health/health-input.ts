import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import { InvalidArgumentError } from "../errors.js";
import { parseRevision, validateName, validateNamespace } from "../registry/index.js";
import type { InstanceName } from "../registry/index.js";

/**
 * What the health domain takes, mapped from the requests in
 * src/server/health-service.ts (as the registry and config domains take
 * theirs). Names are validated here with the registry's rules
 * (validation.ts), so an instance name means the same in every service;
 * errors name the request fields (proto names).
 */

/** GetHealth: one instance, or every instance of the service when instanceId is "". An empty namespace means "default". */
export interface GetHealthInput {
  namespace: string;
  service: string;
  instanceId: string;
}

/** ReportHealth: a self-report of one instance. */
export interface ReportHealthInput {
  namespace: string;
  service: string;
  instanceId: string;
  /** HEALTHY or UNHEALTHY. */
  status: HealthStatus;
  /** At most MAX_OUTPUT_CHARS characters. */
  output: string;
  /** 0: holds until the next report; otherwise MIN_TTL_MS..MAX_TTL_MS, after which a silent instance is unhealthy. */
  ttlMs: number;
}

/** WatchHealth: one service, or every service of the namespace when service is "". */
export interface WatchHealthInput {
  namespace: string;
  service: string;
  /** Resume after this revision; 0 starts with a snapshot. */
  sinceRevision: number;
}

/** A validated self-report. */
export interface SelfReportInput extends InstanceName {
  status: HealthStatus.HEALTH_STATUS_HEALTHY | HealthStatus.HEALTH_STATUS_UNHEALTHY;
  output: string;
  ttlMs: number;
}

export const MAX_OUTPUT_CHARS = 4096;
export const MIN_TTL_MS = 1_000;
export const MAX_TTL_MS = 3_600_000;

export function validateGetHealth(input: GetHealthInput): GetHealthInput {
  return {
    namespace: validateNamespace(input.namespace, "namespace"),
    service: validateName(input.service, "service"),
    instanceId: input.instanceId === "" ? "" : validateName(input.instanceId, "instance_id"),
  };
}

export function validateReportHealth(input: ReportHealthInput): SelfReportInput {
  const namespace = validateNamespace(input.namespace, "namespace");
  const service = validateName(input.service, "service");
  const instanceId = validateName(input.instanceId, "instance_id");
  if (input.status !== HealthStatus.HEALTH_STATUS_HEALTHY && input.status !== HealthStatus.HEALTH_STATUS_UNHEALTHY) {
    throw new InvalidArgumentError("status", "must be HEALTH_STATUS_HEALTHY or HEALTH_STATUS_UNHEALTHY");
  }
  if (input.output.length > MAX_OUTPUT_CHARS) throw new InvalidArgumentError("output", `at most ${MAX_OUTPUT_CHARS} characters`);
  if (input.ttlMs !== 0 && (input.ttlMs < MIN_TTL_MS || input.ttlMs > MAX_TTL_MS)) {
    throw new InvalidArgumentError("ttl_ms", `0 or ${MIN_TTL_MS}..${MAX_TTL_MS}`);
  }
  return { namespace, service, instanceId, status: input.status, output: input.output, ttlMs: input.ttlMs };
}

export function validateWatchHealth(input: WatchHealthInput): WatchHealthInput {
  return {
    namespace: validateNamespace(input.namespace, "namespace"),
    service: input.service === "" ? "" : validateName(input.service, "service"),
    sinceRevision: parseRevision(input.sinceRevision, "since_revision"),
  };
}
