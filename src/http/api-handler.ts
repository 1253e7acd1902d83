import type { IncomingMessage, ServerResponse } from "node:http";
import { Status } from "nice-grpc";
import type { Metadata } from "nice-grpc-common";
import type { Logger } from "pino";
import { createHttpCallContext } from "./call-context.js";
import { connectError, toConnectError } from "./connect-error.js";
import type { ConnectError } from "./connect-error.js";
import { BodyTooLargeError, readBody } from "./read-body.js";
import type { RequestBody, RpcMethod } from "./rpc-table.js";
import { eventFrame, queryToJson, writeEvent } from "./sse.js";

export interface ApiHandlerOptions {
  /**
   * Called with each call's metadata after the headers were copied in: the server removes
   * what a client may not set itself (the peer identity key) and adds the verified client
   * certificate identity under mTLS, exactly as its gRPC interceptor does.
   */
  stampPeer?: (req: IncomingMessage, metadata: Metadata) => void;
  /** Methods by path (createRpcTable). */
  methods: Map<string, RpcMethod>;
  /** Largest request body, in bytes: the gRPC server's message limit. */
  maxBodyBytes: number;
  /** For requests turned away before they reach the call middleware (which logs every call). */
  logger: Logger;
}

/** Handles one request if its path is an RPC's; returns false otherwise. */
export type ApiHandler = (req: IncomingMessage, res: ServerResponse, path: string) => boolean;

/** Seconds an EventSource waits before reconnecting (the SSE `retry:` field), in ms. */
const SSE_RETRY_MS = 1000;

/**
 * The RPCs over HTTP: unary methods by the Connect protocol's unary rules
 * (POST, application/json or application/proto, `{"code","message"}` errors
 * with Connect's HTTP statuses, trailers as `trailer-` headers,
 * Connect-Timeout-Ms), server-streaming methods (the watches) as Server-Sent
 * Events: GET with the request in the query string or POST with a JSON body.
 */
export function createApiHandler(options: ApiHandlerOptions): ApiHandler {
  const { methods, logger } = options;

  const reject = (res: ServerResponse, path: string, error: ConnectError, headers: Record<string, string> = {}) => {
    logger.warn({ method: path, code: error.body.code, details: error.body.message }, "http request rejected");
    sendError(res, error, headers);
  };

  return (req, res, path) => {
    const method = methods.get(path);
    if (!method) return false;
    const serve = method.responseStream ? serveStream : serveUnary;
    serve(req, res, method).catch((error: unknown) => {
      logger.error({ err: error, method: path }, "http call failed");
      if (!res.headersSent) sendError(res, connectError(Status.INTERNAL, "internal error"));
      else res.end();
    });
    return true;
  };

  async function serveUnary(req: IncomingMessage, res: ServerResponse, method: RpcMethod) {
    if (req.method !== "POST") {
      return reject(
        res,
        method.path,
        { ...connectError(Status.UNIMPLEMENTED, "unary methods take POST"), httpStatus: 405 },
        { allow: "POST" },
      );
    }
    const format = bodyFormat(req.headers["content-type"]);
    if (!format) {
      res.writeHead(415, { "accept-post": "application/json, application/proto", connection: "close" }).end();
      return;
    }
    const body = await readRequest(req, res, method, format);
    if (!body) return;
    const { context, abort } = createHttpCallContext(req, res, options.stampPeer);
    const timeout = connectTimeout(headerValue(req.headers["connect-timeout-ms"]), abort);
    try {
      const response = await method.unary(body, context);
      res.writeHead(200, {
        ...metadataHeaders(context.header, ""),
        ...metadataHeaders(context.trailer, "trailer-"),
        "content-type": format === "json" ? "application/json" : "application/proto",
      });
      res.end(response.format === "json" ? JSON.stringify(response.value) : response.value);
    } catch (error) {
      const answer = timeout.fired() ? connectError(Status.DEADLINE_EXCEEDED, "deadline exceeded") : toConnectError(error);
      sendError(res, answer, { ...metadataHeaders(context.header, ""), ...metadataHeaders(context.trailer, "trailer-") });
    } finally {
      timeout.clear();
      abort();
    }
  }

  async function serveStream(req: IncomingMessage, res: ServerResponse, method: RpcMethod) {
    let body: RequestBody | undefined;
    if (req.method === "GET") {
      const query = new URL(req.url ?? "/", "http://localhost").searchParams;
      body = { format: "json", value: JSON.stringify(queryToJson(method.input, query)) };
    } else if (req.method === "POST") {
      if (bodyFormat(req.headers["content-type"]) !== "json") {
        res.writeHead(415, { "accept-post": "application/json", connection: "close" }).end();
        return;
      }
      body = await readRequest(req, res, method, "json");
      if (!body) return;
    } else {
      return reject(
        res,
        method.path,
        { ...connectError(Status.UNIMPLEMENTED, "watches take GET or POST"), httpStatus: 405 },
        { allow: "GET, POST" },
      );
    }
    body = resumeFrom(body, headerValue(req.headers["last-event-id"]));

    const { context, abort } = createHttpCallContext(req, res, options.stampPeer);
    const responses = method.stream(body, context);
    try {
      // Errors before the first message (bad request, auth) are answered like unary ones.
      let next: IteratorResult<unknown>;
      try {
        next = await responses.next();
      } catch (error) {
        sendError(res, toConnectError(error));
        return;
      }
      res.writeHead(200, {
        "content-type": "text/event-stream",
        "cache-control": "no-cache",
        "x-accel-buffering": "no",
      });
      res.write(`retry: ${SSE_RETRY_MS}\n\n`);
      try {
        while (!next.done) {
          await writeEvent(res, eventFrame(next.value as Parameters<typeof eventFrame>[0]), context.signal);
          if (context.signal.aborted) return;
          next = await responses.next();
        }
      } catch (error) {
        if (context.signal.aborted) return;
        // The stream's end, as gRPC's status: overflow (resource_exhausted), shutdown (unavailable), …
        const { body: errorBody } = toConnectError(error);
        res.write(`event: error\ndata: ${JSON.stringify(errorBody)}\n\n`);
      }
      res.end();
    } finally {
      abort();
      await responses.return(undefined);
    }
  }

  async function readRequest(req: IncomingMessage, res: ServerResponse, method: RpcMethod, format: "json" | "binary") {
    try {
      const bytes = await readBody(req, options.maxBodyBytes);
      return (format === "json" ? { format, value: bytes.toString("utf8") } : { format, value: bytes }) as RequestBody;
    } catch (error) {
      if (!(error instanceof BodyTooLargeError)) throw error;
      reject(res, method.path, connectError(Status.RESOURCE_EXHAUSTED, `request body larger than ${error.limit} bytes`), {
        connection: "close",
      });
      return undefined;
    }
  }
}

/** The SSE reconnect header wins over the since_revision of the URL the EventSource keeps reusing. */
function resumeFrom(body: RequestBody, lastEventId: string | undefined): RequestBody {
  if (lastEventId === undefined || !/^\d+$/.test(lastEventId) || body.format !== "json") return body;
  let json: unknown;
  try {
    json = body.value.trim() === "" ? {} : JSON.parse(body.value);
  } catch {
    return body; // the middleware answers the malformed body
  }
  if (json === null || typeof json !== "object" || Array.isArray(json)) return body;
  const { since_revision: _ignored, ...rest } = json as Record<string, unknown>;
  return { format: "json", value: JSON.stringify({ ...rest, sinceRevision: lastEventId }) };
}

function bodyFormat(contentType: string | undefined): "json" | "binary" | undefined {
  const type = contentType?.split(";")[0]?.trim().toLowerCase();
  if (type === "application/json") return "json";
  if (type === "application/proto") return "binary";
  return undefined;
}

function connectTimeout(header: string | undefined, abort: () => void) {
  let fired = false;
  const ms = header !== undefined && /^\d{1,10}$/.test(header) ? Number(header) : undefined;
  const timer = ms === undefined ? undefined : setTimeout(() => ((fired = true), abort()), ms);
  return { fired: () => fired, clear: () => clearTimeout(timer) };
}

function metadataHeaders(metadata: Metadata, prefix: string): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [key, values] of metadata) {
    headers[prefix + key] = values.map((v) => (typeof v === "string" ? v : Buffer.from(v).toString("base64"))).join(", ");
  }
  return headers;
}

function sendError(res: ServerResponse, error: ConnectError, headers: Record<string, string> = {}) {
  res.writeHead(error.httpStatus, { ...headers, "content-type": "application/json" }).end(JSON.stringify(error.body));
}

function headerValue(value: string | string[] | undefined): string | undefined {
  return Array.isArray(value) ? value[0] : value;
}
