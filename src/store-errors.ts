import { LeaseExpiredError, UnavailableError } from "./errors.js";
import type { SwitchboardError } from "./errors.js";
import { LeaseNotFoundError, StoreError, StoreUnavailableError } from "./store/index.js";

type StoreErrorClass<E extends StoreError> = abstract new (...args: never[]) => E;

/**
 * The one table from store errors to domain errors, matched by class (never
 * by name or message). Domain code (registry, config, health) passes every
 * error a store call throws through fromStoreError and then tests for domain
 * classes only; src/server maps those to status codes in its own table
 * (server/error-status.ts).
 */
const DOMAIN_ERROR_BY_STORE_ERROR: ReadonlyArray<readonly [StoreErrorClass<StoreError>, (error: never) => SwitchboardError]> = [
  [StoreUnavailableError, (error: StoreUnavailableError) => new UnavailableError(error.message)],
  [LeaseNotFoundError, (error: LeaseNotFoundError) => new LeaseExpiredError(error.leaseId)],
];

/**
 * The domain error for a store error: listed classes as the table says,
 * other retryable store errors as UnavailableError. Domain errors, aborts and
 * anything unknown pass unchanged (unknown errors are answered INTERNAL).
 */
export function fromStoreError(error: unknown): unknown {
  if (!(error instanceof StoreError)) return error;
  for (const [storeClass, toDomain] of DOMAIN_ERROR_BY_STORE_ERROR) {
    if (error instanceof storeClass) return toDomain(error as never);
  }
  return error.retryable ? new UnavailableError(error.message) : error;
}
