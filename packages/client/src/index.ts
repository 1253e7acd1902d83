/**
 * The Switchboard SDK: a Node service joins the platform with these, no sidecar needed.
 * Everything public is listed here by name; other modules of the package are internal.
 */

// Connect.
export { createSwitchboardClient } from "./client.js";
export type {
  SwitchboardClient,
  SwitchboardClientOptions,
  RegistryClient,
  ConfigClient,
  HealthClient,
  AuthClient,
} from "./client.js";
export type { DeadlineOptions } from "./deadline.js";
export type { ClientTlsOptions } from "./tls.js";
export { createClientCredentials } from "./tls.js";
export { DEFAULT_ADDRESS } from "./addresses.js";
export { SWITCHBOARD_ENV } from "./env.js";

// Register: stay registered while the process runs.
export { createAgent } from "./agent.js";
export type { Agent, AgentEvent, AgentInstance, AgentOptions, AgentStatus } from "./agent.js";

// Discover: watch a service, pick an instance, or let grpc-js resolve switchboard:///name.
export { watchService } from "./watch.js";
export type { WatchEventKind, WatchServiceOptions, WatchUpdate } from "./watch.js";
export { createPicker } from "./picker.js";
export type { PickedInstance, Picker, PickerOptions } from "./picker.js";
export { registerSwitchboardResolver } from "./resolver.js";
export type { SwitchboardResolverOptions } from "./resolver.js";
export { createRetryMiddleware } from "./retry.js";
export type { RetryCallOptions, RetryOptions } from "./retry.js";

// Configure.
export { bootstrap } from "./bootstrap.js";
export type { BootstrapOptions, BootstrappedConfig, ConfigChange, ConfigOrigin, EffectiveEntry } from "./bootstrap.js";
export { watchConfig } from "./config-watch.js";
export type { ConfigWatchOptions, ConfigWatchUpdate } from "./config-watch.js";
export { rollbackConfig } from "./config-rollback.js";
export type { ConfigRollback, RollbackConfigOptions } from "./config-rollback.js";

// Report health: an HTTP endpoint the control plane's HTTP check calls.
export { createHealthEndpoint, serveHealth } from "./health-endpoint.js";
export type {
  HealthCheckFunction,
  HealthEndpoint,
  HealthEndpointOptions,
  HealthReport,
  HealthServer,
  HealthState,
  ServeHealthOptions,
} from "./health-endpoint.js";

// Shared option types.
export type { BackoffOptions } from "./backoff.js";
export type { SdkClock } from "./clock.js";
export type { SdkLogger } from "./logger.js";

// Errors: failed calls arrive as these (statuses without a class stay nice-grpc ClientErrors).
export {
  AlreadyExistsError,
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  SwitchboardError,
  UnauthenticatedError,
  UnavailableError,
} from "../../../src/errors.js";

// Messages and enums users pass and receive.
export { EventType, InstanceState } from "../../../generated/switchboard/registry/v1/registry.js";
export type { Instance, ServiceSummary } from "../../../generated/switchboard/registry/v1/registry.js";
export { HealthStatus } from "../../../generated/switchboard/health/v1/check.js";
export type { HealthCheck } from "../../../generated/switchboard/health/v1/check.js";
export type { ConfigVersion, ResolvedEntry, Scope } from "../../../generated/switchboard/config/v1/config.js";
