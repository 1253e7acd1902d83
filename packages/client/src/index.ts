// The Switchboard SDK. Services join the platform with these, no sidecar needed.
export { createSwitchboardClient } from "./client.js";
export type {
  SwitchboardClient,
  SwitchboardClientOptions,
  RegistryClient,
  ConfigClient,
  HealthClient,
  AuthClient,
} from "./client.js";
export { CA_FILE_ENV, CERT_FILE_ENV, KEY_FILE_ENV, clientTlsFromEnv, createClientCredentials } from "./tls.js";
export type { ClientTlsOptions } from "./tls.js";
export { createAgent, startAgent } from "./agent.js";
export type { Agent, AgentEvent, AgentInstance, AgentOptions, AgentStatus } from "./agent.js";
export { watchService } from "./watch.js";
export type { WatchEventKind, WatchServiceOptions, WatchUpdate } from "./watch.js";
export { registerSwitchboardResolver, parseSwitchboardTarget, SWITCHBOARD_SCHEME } from "./resolver.js";
export type { SwitchboardResolverOptions, SwitchboardTarget } from "./resolver.js";
export { createPicker, pick, closeDefaultPicker } from "./picker.js";
export type { PickedInstance, Picker, PickerOptions } from "./picker.js";
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
export {
  bootstrap,
  envVarFor,
  defaultCacheFile,
  CONFIG_ENV_PREFIX,
  NAMESPACE_ENV,
  SERVICE_ENV,
  PROFILE_ENV,
  CACHE_FILE_ENV,
} from "./bootstrap.js";
export type { BootstrapOptions, BootstrappedConfig, ConfigChange, ConfigOrigin, EffectiveEntry } from "./bootstrap.js";
export { watchConfig } from "./config-watch.js";
export type { ConfigWatchOptions, ConfigWatchUpdate } from "./config-watch.js";
export { deadlineMiddleware } from "./deadline.js";
export type { DeadlineOptions } from "./deadline.js";
export { createRetryMiddleware } from "./retry.js";
export type { RetryCallOptions, RetryOptions } from "./retry.js";
export { errorMappingMiddleware, fromClientError, isRetryableError } from "./errors.js";
export { ADDRESS_ENV, DEFAULT_ADDRESS, resolveAddresses } from "./addresses.js";
export { DEFAULT_NAMESPACE, instanceKey } from "./instances.js";
export type { BackoffOptions } from "./backoff.js";
export type { SdkClock } from "./clock.js";
export type { SdkLogger } from "./logger.js";
// Domain errors, so SDK users can catch them by class.
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
export { resolveToken, TOKEN_ENV, TOKEN_FILE_ENV } from "./token.js";
// Message types and enums users pass and receive.
export { EventType, InstanceState } from "../../../generated/switchboard/registry/v1/registry.js";
export type { Instance, ServiceSummary } from "../../../generated/switchboard/registry/v1/registry.js";
export { HealthStatus } from "../../../generated/switchboard/health/v1/check.js";
export type { HealthCheck } from "../../../generated/switchboard/health/v1/check.js";
