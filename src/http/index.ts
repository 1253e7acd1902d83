export { createApiHandler } from "./api-handler.js";
export type { ApiHandler, ApiHandlerOptions } from "./api-handler.js";
export { createRpcTable } from "./rpc-table.js";
export type { HttpService, RpcMethod, RpcTableOptions } from "./rpc-table.js";
export { createUiHandler } from "./ui-handler.js";
export { loadUiPage } from "./ui-assets.js";
