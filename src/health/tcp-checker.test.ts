import net from "node:net";
import type { AddressInfo } from "node:net";
import { describe, expect, it } from "vitest";
import { createTcpChecker } from "./tcp-checker.js";

describe("TCP checker", () => {
  it("passes while the port accepts connections and fails once it is closed", async () => {
    const server = net.createServer((socket) => socket.end());
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    const port = (server.address() as AddressInfo).port;
    const checker = createTcpChecker({ host: "127.0.0.1", port });
    expect(await checker.probe(new AbortController().signal)).toEqual({ ok: true, output: `connected to 127.0.0.1:${port}` });
    await new Promise<void>((resolve) => server.close(() => resolve()));
    const failed = await checker.probe(new AbortController().signal);
    expect(failed.ok).toBe(false);
    expect(failed.output).toContain("ECONNREFUSED");
  });

  it("gives up when aborted", async () => {
    const controller = new AbortController();
    controller.abort();
    const result = await createTcpChecker({ host: "127.0.0.1", port: 9 }).probe(controller.signal);
    expect(result).toEqual({ ok: false, output: "connect 127.0.0.1:9: timed out" });
  });
});
