import { ServerError, Status } from "nice-grpc";

/**
 * gRPC status → Connect error code and HTTP status, as the Connect protocol
 * specifies them (connectrpc.com/docs/protocol#error-codes).
 */
const CONNECT_CODES: Readonly<Record<Status, readonly [code: string, httpStatus: number]>> = {
  [Status.OK]: ["ok", 200],
  [Status.CANCELLED]: ["canceled", 499],
  [Status.UNKNOWN]: ["unknown", 500],
  [Status.INVALID_ARGUMENT]: ["invalid_argument", 400],
  [Status.DEADLINE_EXCEEDED]: ["deadline_exceeded", 504],
  [Status.NOT_FOUND]: ["not_found", 404],
  [Status.ALREADY_EXISTS]: ["already_exists", 409],
  [Status.PERMISSION_DENIED]: ["permission_denied", 403],
  [Status.RESOURCE_EXHAUSTED]: ["resource_exhausted", 429],
  [Status.FAILED_PRECONDITION]: ["failed_precondition", 400],
  [Status.ABORTED]: ["aborted", 409],
  [Status.OUT_OF_RANGE]: ["out_of_range", 400],
  [Status.UNIMPLEMENTED]: ["unimplemented", 501],
  [Status.INTERNAL]: ["internal", 500],
  [Status.UNAVAILABLE]: ["unavailable", 503],
  [Status.DATA_LOSS]: ["data_loss", 500],
  [Status.UNAUTHENTICATED]: ["unauthenticated", 401],
};

/** A Connect error: HTTP status and the JSON body `{"code", "message"}`. */
export interface ConnectError {
  httpStatus: number;
  body: { code: string; message: string };
}

/**
 * What the middleware threw, as a Connect error. The middleware has already
 * turned every domain error into a ServerError (and logged unknown ones);
 * anything else here is an AbortError of a call the client gave up on.
 */
export function toConnectError(error: unknown): ConnectError {
  if (error instanceof ServerError) return connectError(error.code, error.details);
  return connectError(Status.CANCELLED, "the call was cancelled");
}

export function connectError(status: Status, message: string): ConnectError {
  const [code, httpStatus] = CONNECT_CODES[status] ?? CONNECT_CODES[Status.UNKNOWN];
  return { httpStatus, body: { code, message } };
}
