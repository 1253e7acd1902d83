/**
 * Domain errors. Domain code (registry, config, health) throws only these;
 * src/server maps each class to one gRPC status in one table, and the SDK
 * maps status codes back. Unknown errors become INTERNAL without details.
 */
export class SwitchboardError extends Error {
  override name = "SwitchboardError";
}

/** A request field is malformed or out of bounds. Nothing was written. */
export class InvalidArgumentError extends SwitchboardError {
  override name = "InvalidArgumentError";
  constructor(
    /** Request field path, e.g. "instance.metadata". */
    readonly field: string,
    reason: string,
  ) {
    super(`${field}: ${reason}`);
  }
}

export class NotFoundError extends SwitchboardError {
  override name = "NotFoundError";
}

export class AlreadyExistsError extends SwitchboardError {
  override name = "AlreadyExistsError";
}

/** A compare-and-set did not match; currentRevision is 0 when the key does not exist. */
export class ConflictError extends SwitchboardError {
  override name = "ConflictError";
  constructor(
    message: string,
    readonly currentRevision: number,
  ) {
    super(message);
  }
}

/** The store cannot be reached, or this replica could not catch up in time. Retryable. */
export class UnavailableError extends SwitchboardError {
  override name = "UnavailableError";
}

/** A quota, queue or size limit was exceeded. */
export class ResourceExhaustedError extends SwitchboardError {
  override name = "ResourceExhaustedError";
}

/** No credentials, or credentials that are malformed, unknown, expired or revoked. */
export class UnauthenticatedError extends SwitchboardError {
  override name = "UnauthenticatedError";
}

/** Valid credentials without the permission the call needs; the message names permission and scope. */
export class PermissionDeniedError extends SwitchboardError {
  override name = "PermissionDeniedError";
}

/** A lease named by a call or a write is gone (expired or revoked): whatever was on it went with it. */
export class LeaseExpiredError extends NotFoundError {
  override name = "LeaseExpiredError";
  constructor(readonly leaseId: string) {
    super(`lease ${leaseId} not found or expired`);
  }
}
