export { createRegistry } from "./registry.js";
export type {
  GetInput,
  InstanceRef,
  KeepAliveResult,
  ListInput,
  RegisterInput,
  RegisterResult,
  Registry,
  RegistryOptions,
  UpdateInput,
  WatchInput,
} from "./registry.js";
export { createRegistryView } from "./registry-view.js";
export { DEFAULT_EXPIRY_HOLD_MS } from "./expiry-hold.js";
export type {
  InstanceChange,
  RegistryView,
  RegistryViewOptions,
  RevisionChanges,
  ServiceChange,
  ServiceView,
  ViewUpdate,
} from "./registry-view.js";
export { DEFAULT_BOOKMARK_INTERVAL_MS, DEFAULT_WATCH_QUEUE_LIMIT } from "./watch-hub.js";
export type { WatchHub, WatchMetrics, WatchOptions } from "./watch-hub.js";
export {
  compileFilter,
  countHealth,
  DEFAULT_PROTECTION_MIN_INSTANCES,
  DEFAULT_PROTECTION_THRESHOLD,
  isProtectionActive,
  isRoutable,
  isUnhealthy,
  isUp,
  validateProtection,
} from "./routing.js";
export type { HealthCounts, InstanceFilter } from "./routing.js";
export { decodeInstance, encodeInstance } from "./codec.js";
export {
  healthStatusKey,
  healthStatusPrefix,
  instanceKey,
  instancesPrefix,
  parseHealthStatusKey,
  parseInstanceKey,
} from "./keys.js";
export { joinHealthStatus } from "./health-join.js";
export type { InstanceName } from "./keys.js";
export { DEFAULT_NAMESPACE, LIMITS, isDnsLabel, parseRevision, validateName, validateNamespace } from "./validation.js";
export { watchProtection } from "./protection-alerts.js";
export type { ProtectionAlerts, ProtectionAlertsOptions } from "./protection-alerts.js";
export { CHECK_DEFAULTS, CHECK_LIMITS, SELF_CHECK_NAME, resolveChecks, validateHealthChecks } from "./health-check-spec.js";
export type { CheckHost, CheckTarget, ResolvedCheck } from "./health-check-spec.js";
