import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import { type Instance, InstanceState } from "../../generated/switchboard/registry/v1/registry.js";

/**
 * Who gets traffic.
 *
 * An instance is routable when its declared state is UP (UNSPECIFIED counts
 * as UP) and its health is not UNHEALTHY, except while its service is in
 * protection (panic threshold, as Envoy's healthy panic threshold and
 * Eureka's self-preservation): when more than `threshold` of a service's UP
 * instances are UNHEALTHY at once, the checker itself may be the one cut off,
 * so every UP instance of that service is treated as routable, health
 * ignored, until the share drops back to `threshold` or below.
 *
 * threshold is a share in [0, 1]; 0 disables protection (unhealthy instances
 * always leave routing). Default 0.5: protection starts when more than half
 * of the UP instances are unhealthy.
 *
 * minInstances is the number of UP instances (healthy or not) a service
 * needs before protection can apply at all. Default 3: a service with one or
 * two UP instances is too small for "most of it failed at once" to say
 * anything about the checker, and keeping its only, failing instance in
 * routing would mean a single-instance service is never routed around. With
 * fewer UP instances, unhealthy ones always leave routing. 1 lets protection
 * apply to any service.
 *
 * Declared states (DRAINING, STARTING, OUT_OF_SERVICE) are always honoured.
 */
export const DEFAULT_PROTECTION_THRESHOLD = 0.5;
export const DEFAULT_PROTECTION_MIN_INSTANCES = 3;

/** Throws a RangeError naming the option when the protection settings are out of range. */
export function validateProtection(threshold: number, minInstances: number): void {
  if (!(threshold >= 0 && threshold <= 1)) throw new RangeError(`protectionThreshold must be within [0, 1], got ${threshold}`);
  if (!Number.isSafeInteger(minInstances) || minInstances < 1) {
    throw new RangeError(`protectionMinInstances must be an integer >= 1, got ${minInstances}`);
  }
}

export function isUp(instance: Instance): boolean {
  return instance.state === InstanceState.INSTANCE_STATE_UP || instance.state === InstanceState.INSTANCE_STATE_UNSPECIFIED;
}

export function isUnhealthy(instance: Instance): boolean {
  return instance.healthStatus === HealthStatus.HEALTH_STATUS_UNHEALTHY;
}

/** Counts protection is decided on. */
export interface HealthCounts {
  /** Instances whose state is UP. */
  up: number;
  /** UP instances that are UNHEALTHY. */
  unhealthyUp: number;
}

export function countHealth(instances: Iterable<Instance>): HealthCounts {
  let up = 0;
  let unhealthyUp = 0;
  for (const instance of instances) {
    if (!isUp(instance)) continue;
    up++;
    if (isUnhealthy(instance)) unhealthyUp++;
  }
  return { up, unhealthyUp };
}

/**
 * True when the service has at least `minInstances` UP instances and more
 * than `threshold` of them are unhealthy (threshold 0 disables protection).
 * Accepts the counts or the instances of one service.
 */
export function isProtectionActive(
  service: HealthCounts | Iterable<Instance>,
  threshold: number = DEFAULT_PROTECTION_THRESHOLD,
  minInstances: number = DEFAULT_PROTECTION_MIN_INSTANCES,
): boolean {
  const counts = isCounts(service) ? service : countHealth(service);
  if (threshold <= 0 || counts.up === 0 || counts.up < minInstances || counts.unhealthyUp === 0) return false;
  return counts.unhealthyUp / counts.up > threshold;
}

/** Whether the instance gets traffic, given whether its service is in protection. */
export function isRoutable(instance: Instance, protectionActive: boolean): boolean {
  return isUp(instance) && (protectionActive || !isUnhealthy(instance));
}

/** What a resolve or a watch selects, besides namespace and service. */
export interface InstanceFilter {
  /** Also select instances that are not routable. Default false. */
  includeUnroutable?: boolean;
  /** Only instances carrying every one of these tags. */
  tags?: readonly string[];
  /** Only instances in this zone, when non-empty. */
  zone?: string;
  /** Only instances whose metadata contains every one of these pairs. */
  metadataSelector?: Readonly<Record<string, string>>;
}

/** Compiles a filter into a predicate over (instance, routable). */
export function compileFilter(filter: InstanceFilter): (instance: Instance, routable: boolean) => boolean {
  const includeUnroutable = filter.includeUnroutable ?? false;
  const tags = filter.tags ?? [];
  const zone = filter.zone ?? "";
  const selector = Object.entries(filter.metadataSelector ?? {});
  return (instance, routable) => {
    if (!routable && !includeUnroutable) return false;
    if (zone !== "" && instance.zone !== zone) return false;
    for (const tag of tags) if (!instance.tags.includes(tag)) return false;
    for (const [key, value] of selector) if (instance.metadata[key] !== value) return false;
    return true;
  };
}

function isCounts(value: HealthCounts | Iterable<Instance>): value is HealthCounts {
  return typeof (value as HealthCounts).up === "number" && typeof (value as HealthCounts).unhealthyUp === "number";
}
