import { ServerError, Status } from "nice-grpc";
import type { CallContext } from "nice-grpc-common";
import type { Logger } from "pino";
import {
  AlreadyExistsError,
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  PermissionDeniedError,
  ResourceExhaustedError,
  UnauthenticatedError,
  UnavailableError,
} from "../errors.js";
import { StoreUnavailableError } from "../store/index.js";
import { CURRENT_REVISION_TRAILER } from "../contract.js";
import { isAbortError } from "./abort.js";

export { CURRENT_REVISION_TRAILER };

type ErrorClass = abstract new (...args: never[]) => Error;

/**
 * The one table from domain (and store) errors to gRPC status codes. Anything
 * not listed, and not already a ServerError or AbortError, is a bug: it is
 * logged and answered INTERNAL without details.
 */
const STATUS_BY_ERROR: ReadonlyArray<readonly [ErrorClass, Status]> = [
  [InvalidArgumentError, Status.INVALID_ARGUMENT],
  [NotFoundError, Status.NOT_FOUND],
  [AlreadyExistsError, Status.ALREADY_EXISTS],
  [ConflictError, Status.ABORTED],
  [UnavailableError, Status.UNAVAILABLE],
  [StoreUnavailableError, Status.UNAVAILABLE],
  [ResourceExhaustedError, Status.RESOURCE_EXHAUSTED],
  [UnauthenticatedError, Status.UNAUTHENTICATED],
  [PermissionDeniedError, Status.PERMISSION_DENIED],
];

/** The status a domain error maps to, or undefined when it is not a known domain error. */
export function statusForError(error: unknown): Status | undefined {
  for (const [errorClass, status] of STATUS_BY_ERROR) {
    if (error instanceof errorClass) return status;
  }
  return undefined;
}

/** Turns one thrown value into what the client may see (used by call-middleware.ts). */
export function toServerError(error: unknown, context: CallContext, logger: Logger, path: string): unknown {
  if (error instanceof ServerError || isAbortError(error)) return error;
  const status = statusForError(error);
  if (status !== undefined && error instanceof Error) {
    if (error instanceof ConflictError) {
      context.trailer.set(CURRENT_REVISION_TRAILER, String(error.currentRevision));
    }
    return new ServerError(status, error.message);
  }
  logger.error({ err: error, method: path }, "unexpected error in handler");
  return new ServerError(Status.INTERNAL, "internal error");
}
