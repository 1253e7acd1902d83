/**
 * Why a control-plane address does not answer gRPC, in words a user can act on.
 * Run only after a call failed, so the happy path never pays for it.
 *
 *   await diagnoseAddress("127.0.0.1:7000"); // "connection refused: nothing listens there", or undefined if it speaks HTTP/2
 */
import { connect } from "node:net";
import type { Socket } from "node:net";

/** The HTTP/2 client connection preface and an empty SETTINGS frame (RFC 9113 §3.4, §6.5). */
const HTTP2_PREFACE = Buffer.concat([
  Buffer.from("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n", "latin1"),
  Buffer.from([0, 0, 0, 0x04, 0, 0, 0, 0, 0]),
]);
const SETTINGS_FRAME_TYPE = 0x04;

const ERRNO_REASONS: Readonly<Record<string, string>> = {
  ECONNREFUSED: "connection refused: nothing listens there",
  ENOTFOUND: "host not found",
  EAI_AGAIN: "host name could not be resolved (DNS not answering)",
  EHOSTUNREACH: "host unreachable",
  ENETUNREACH: "network unreachable",
  ECONNRESET: "connection reset",
  EADDRNOTAVAIL: "address not available",
};

/** Splits "host:port" or "[v6]:port". */
export function splitHostPort(address: string): { host: string; port: number } | undefined {
  const match = /^(?:\[([0-9a-fA-F:.]+)\]|([^\s:[\]/]+)):(\d{1,5})$/.exec(address.trim());
  if (!match) return undefined;
  const port = Number(match[3]);
  if (port < 1 || port > 65_535) return undefined;
  return { host: (match[1] ?? match[2])!, port };
}

/**
 * Connects to `address` and sends the HTTP/2 preface. Resolves with the
 * problem ("connection refused: …", "answered HTTP/1, not gRPC: …", "no answer
 * within 2000 ms"), or undefined when the peer answers HTTP/2 as a gRPC server does.
 */
export function diagnoseAddress(address: string, timeoutMs = 2000): Promise<string | undefined> {
  const target = splitHostPort(address);
  if (target === undefined) return Promise.resolve(`not a HOST:PORT address`);
  return new Promise((resolve) => {
    let socket: Socket | undefined;
    let received = Buffer.alloc(0);
    const finish = (problem: string | undefined) => {
      clearTimeout(timer);
      socket?.removeAllListeners();
      socket?.on("error", () => {});
      socket?.destroy();
      resolve(problem);
    };
    const timer = setTimeout(
      () =>
        finish(
          socket?.readyState === "open" ? `connected, but no answer within ${timeoutMs} ms` : `no answer within ${timeoutMs} ms`,
        ),
      timeoutMs,
    );
    socket = connect({ host: target.host, port: target.port });
    socket.once("connect", () => socket?.write(HTTP2_PREFACE));
    socket.on("data", (chunk: Buffer) => {
      received = Buffer.concat([received, chunk]);
      if (received.subarray(0, 5).toString("latin1") === "HTTP/") {
        finish(`answered HTTP/1, not gRPC: is that the --http-listen port? The gRPC port is --listen (default 7000)`);
      } else if (received.length >= 9) {
        finish(received[3] === SETTINGS_FRAME_TYPE ? undefined : "does not speak gRPC (no HTTP/2 answer)");
      }
    });
    socket.once("end", () =>
      finish(received.length === 0 ? "closed the connection without answering gRPC" : "does not speak gRPC (no HTTP/2 answer)"),
    );
    socket.once("error", (error: NodeJS.ErrnoException) =>
      finish(ERRNO_REASONS[error.code ?? ""] ?? `${error.code ?? error.message}`),
    );
  });
}
