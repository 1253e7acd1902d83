export { allows, allowsSomewhere, describeAccessScope, describeGrant, parseGrant, ROLES, validateGrant } from "./grants.js";
export type { AccessScope, Grant, Permission, Role } from "./grants.js";
export { createTokenStore } from "./token-store.js";
export type { CreateTokenInput, TokenStore, TokenStoreOptions } from "./token-store.js";
export { parseToken, TOKEN_FORMAT } from "./token.js";
export type { TokenRecord } from "./token.js";
export { createQuotas, DEFAULT_MAX_STREAMS_PER_TOKEN, DEFAULT_REGISTRATIONS_PER_SECOND } from "./quotas.js";
export type { Quotas, QuotaOptions } from "./quotas.js";
