import type { IncomingMessage, ServerResponse } from "node:http";
import { Metadata } from "nice-grpc-common";
import type { CallContext, Metadata as MetadataType } from "nice-grpc-common";

/** Headers that describe the HTTP exchange itself, not the call: kept out of the call metadata. */
const TRANSPORT_HEADERS = new Set([
  "host",
  "connection",
  "content-length",
  "content-type",
  "content-encoding",
  "accept",
  "accept-encoding",
  "transfer-encoding",
  "keep-alive",
  "te",
  "upgrade",
  "connect-protocol-version",
  "connect-timeout-ms",
  "last-event-id",
]);

export interface HttpCallContext {
  context: CallContext;
  /** Stops the call's signal (done when the exchange ends, so nothing outlives it). */
  abort(): void;
}

/**
 * The CallContext of an HTTP call, as the gRPC server would build it: request
 * headers become the metadata (so `authorization: Bearer …` reaches the
 * middleware exactly as the gRPC header does; Connect sends binary values of
 * `-bin` keys base64 encoded), and the signal aborts when the client goes away.
 */
export function createHttpCallContext(
  req: IncomingMessage,
  res: ServerResponse,
  stampPeer?: (req: IncomingMessage, metadata: MetadataType) => void,
): HttpCallContext {
  const metadata = Metadata();
  for (const [key, value] of Object.entries(req.headers)) {
    if (value === undefined || TRANSPORT_HEADERS.has(key)) continue;
    for (const one of Array.isArray(value) ? value : [value]) {
      if (key.endsWith("-bin")) metadata.append(key, Buffer.from(one, "base64"));
      else metadata.append(key, one);
    }
  }
  stampPeer?.(req, metadata);
  const controller = new AbortController();
  const onClose = () => {
    if (!res.writableFinished) controller.abort();
  };
  res.once("close", onClose);
  const address = req.socket.remoteAddress ?? "unknown";
  const family = req.socket.remoteFamily === "IPv6" ? "ipv6" : "ipv4";
  const context: CallContext = {
    metadata,
    peer: `${family}:${family === "ipv6" ? `[${address}]` : address}:${req.socket.remotePort ?? 0}`,
    header: Metadata(),
    sendHeader() {},
    trailer: Metadata(),
    signal: controller.signal,
  };
  return {
    context,
    abort() {
      res.off("close", onClose);
      controller.abort();
    },
  };
}
