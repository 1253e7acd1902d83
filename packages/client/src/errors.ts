import { ClientError, Status } from "nice-grpc-common";
import type { CallOptions, ClientMiddlewareCall, Metadata } from "nice-grpc-common";
import type { SwitchboardError } from "../../../src/errors.js";
import {
  AlreadyExistsError,
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
  UnauthenticatedError,
  PermissionDeniedError,
} from "../../../src/errors.js";
// The trailer in which the server sends the current revision with ABORTED (see src/server/error-status.ts).
import { CURRENT_REVISION_TRAILER } from "../../../src/contract.js";

/**
 * The one table from gRPC status codes back to the domain errors of src/errors.ts,
 * mirroring the server's table. Statuses not listed (UNAUTHENTICATED,
 * DEADLINE_EXCEEDED, INTERNAL, ...) stay nice-grpc `ClientError`s.
 */
const ERROR_BY_STATUS: ReadonlyMap<Status, (details: string, trailer: Metadata | undefined) => SwitchboardError> = new Map<
  Status,
  (details: string, trailer: Metadata | undefined) => SwitchboardError
>([
  [Status.INVALID_ARGUMENT, (details) => invalidArgument(details)],
  [Status.NOT_FOUND, (details) => new NotFoundError(details)],
  [Status.ALREADY_EXISTS, (details) => new AlreadyExistsError(details)],
  [Status.ABORTED, (details, trailer) => new ConflictError(details, currentRevision(details, trailer))],
  [Status.FAILED_PRECONDITION, (details, trailer) => new ConflictError(details, currentRevision(details, trailer))],
  [Status.UNAVAILABLE, (details) => new UnavailableError(details)],
  [Status.RESOURCE_EXHAUSTED, (details) => new ResourceExhaustedError(details)],
  [Status.UNAUTHENTICATED, (details) => new UnauthenticatedError(details)],
  [Status.PERMISSION_DENIED, (details) => new PermissionDeniedError(details)],
]);

/** The server sends InvalidArgumentError as "field: reason". */
function invalidArgument(details: string): InvalidArgumentError {
  const separator = details.indexOf(": ");
  if (separator <= 0) return new InvalidArgumentError("", details);
  return new InvalidArgumentError(details.slice(0, separator), details.slice(separator + 2));
}

function currentRevision(details: string, trailer: Metadata | undefined): number {
  const fromTrailer = trailer?.get(CURRENT_REVISION_TRAILER);
  const text = typeof fromTrailer === "string" ? fromTrailer : /current revision:? *(\d+)/i.exec(details)?.[1];
  const value = Number(text ?? 0);
  return Number.isFinite(value) ? value : 0;
}

/**
 * Turns a nice-grpc ClientError into the matching domain error (keeping the
 * ClientError as `cause`); returns anything else unchanged.
 */
export function fromClientError(error: unknown, trailer?: Metadata): unknown {
  if (!(error instanceof ClientError)) return error;
  const make = ERROR_BY_STATUS.get(error.code);
  if (make === undefined) return error;
  const mapped = make(error.details, trailer);
  Object.defineProperty(mapped, "cause", { value: error, enumerable: false, configurable: true, writable: true });
  return mapped;
}

/** Client middleware applying {@link fromClientError} to every call. */
export async function* errorMappingMiddleware<Request, Response>(
  call: ClientMiddlewareCall<Request, Response>,
  options: CallOptions,
): AsyncGenerator<Response, Response | void, undefined> {
  let trailer: Metadata | undefined;
  const onTrailer = options.onTrailer;
  try {
    return yield* call.next(call.request, {
      ...options,
      onTrailer(received: Metadata) {
        trailer = received;
        onTrailer?.(received);
      },
    });
  } catch (error) {
    throw fromClientError(error, trailer);
  }
}

/** True for the AbortError nice-grpc throws when the call's signal is aborted. */
export function isAbortError(error: unknown): boolean {
  return error instanceof Error && error.name === "AbortError";
}

/** Status codes after which a stream (watch, keepalive) is worth opening again. */
const RETRYABLE_CODES: ReadonlySet<Status> = new Set([
  Status.UNAVAILABLE,
  Status.RESOURCE_EXHAUSTED,
  Status.DEADLINE_EXCEEDED,
  Status.INTERNAL,
  Status.UNKNOWN,
  Status.ABORTED,
  Status.CANCELLED,
]);

/**
 * Whether an error from a Switchboard call is transient (server restarting,
 * store unreachable, consumer cut for falling behind), by type, never by message.
 */
export function isRetryableError(error: unknown): boolean {
  if (error instanceof UnavailableError || error instanceof ResourceExhaustedError) return true;
  if (error instanceof ClientError) return RETRYABLE_CODES.has(error.code);
  return false;
}

/** Whether the error means the control plane could not be reached or could not serve (rotate address). */
export function isUnavailableError(error: unknown): boolean {
  return error instanceof UnavailableError || (error instanceof ClientError && error.code === Status.UNAVAILABLE);
}
