export { startServer } from "./server.js";
export { SERVER_DEFAULTS, MAX_RECEIVE_MESSAGE_BYTES } from "./server-options.js";
export type { ExtraService, RunningServer, ServerOptions } from "./server-options.js";
export { CURRENT_REVISION_TRAILER, statusForError } from "./error-status.js";
export { parseListenAddress, formatAddress } from "./listen-address.js";
export type { ListenAddress } from "./listen-address.js";
export { REFLECTION_SERVICE_NAMES, ServerReflectionV1AlphaService } from "./reflection.js";
export type { HealthReport, ServingStatus } from "./store-health.js";
export type { ServiceDeps } from "./deps.js";
