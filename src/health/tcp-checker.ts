import net from "node:net";
import type { Checker, ProbeResult } from "./checker.js";
import { errorText } from "./checker.js";

export interface TcpCheckerOptions {
  host: string;
  port: number;
}

/** Passes when a TCP connection opens; the connection is closed at once. */
export function createTcpChecker(options: TcpCheckerOptions): Checker {
  const where = `${options.host}:${options.port}`;
  return {
    probe: (signal) =>
      new Promise<ProbeResult>((resolve) => {
        let settled = false;
        const finish = (result: ProbeResult) => {
          if (settled) return;
          settled = true;
          signal.removeEventListener("abort", onAbort);
          socket.destroy();
          resolve(result);
        };
        const onAbort = () => finish({ ok: false, output: `connect ${where}: timed out` });
        const socket = net.connect({ host: options.host, port: options.port });
        socket.once("connect", () => finish({ ok: true, output: `connected to ${where}` }));
        socket.once("error", (error) => finish({ ok: false, output: errorText(error) }));
        if (signal.aborted) onAbort();
        else signal.addEventListener("abort", onAbort, { once: true });
      }),
    close: () => {},
  };
}
