import net from "node:net";
import type { Checker } from "./checker.js";
import { errorText, settleProbe } from "./checker.js";

export interface TcpCheckerOptions {
  host: string;
  port: number;
}

/** Passes when a TCP connection opens; the connection is closed at once. */
export function createTcpChecker(options: TcpCheckerOptions): Checker {
  const where = `${options.host}:${options.port}`;
  return {
    probe: (signal) =>
      settleProbe(signal, (finish) => {
        const socket = net.connect({ host: options.host, port: options.port });
        socket.once("connect", () => finish({ ok: true, output: `connected to ${where}` }));
        socket.once("error", (error) => finish({ ok: false, output: errorText(error) }));
        return {
          onAbort: () => ({ ok: false, output: `connect ${where}: timed out` }),
          release: () => socket.destroy(),
        };
      }),
    close: () => {},
  };
}
