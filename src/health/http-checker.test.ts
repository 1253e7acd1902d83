import http from "node:http";
import type { AddressInfo } from "node:net";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createHttpChecker, judge } from "./http-checker.js";

describe("judge", () => {
  it.each([
    [200, "", true],
    [204, "", true],
    [200, "ok", true],
    [200, '{"status":"UP"}', true],
    [200, '{"status":"up","components":{}}', true],
    [200, '{"status":"SERVING"}', true],
    [200, '{"status":"pass"}', true],
    [200, '{"status":"Ok"}', true],
    [200, '{"status":"healthy"}', true],
    [200, '{"other":"x"}', true],
    [200, "[1,2]", true],
    [200, "{not json", true],
    [200, '{"status":"DOWN"}', false],
    [200, '{"status":"OUT_OF_SERVICE"}', false],
    [200, '{"status":"fail"}', false],
    [200, '{"status":500}', false],
    [503, '{"status":"UP"}', false],
    [503, "", false],
    [301, "", false],
    [404, "", false],
  ])("HTTP %i %s -> %s", (code, body, ok) => {
    expect(judge(code, body).ok).toBe(ok);
  });

  it("reports the status code and a body excerpt", () => {
    expect(judge(503, '{"status":"DOWN"}').output).toBe('HTTP 503: {"status":"DOWN"}');
    expect(judge(200, "x".repeat(1000)).output.length).toBeLessThanOrEqual(220);
  });
});

describe("HTTP checker against a real server", () => {
  let server: http.Server;
  let base: string;
  let headersSeen: http.IncomingHttpHeaders | undefined;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      headersSeen = req.headers;
      if (req.url === "/health") {
        res.writeHead(200, { "content-type": "application/json" }).end('{"status":"UP"}');
      } else if (req.url === "/down") {
        res.writeHead(200, { "content-type": "application/json" }).end('{"status":"DOWN"}');
      } else if (req.url === "/503") {
        res.writeHead(503).end("unavailable");
      } else if (req.url === "/big") {
        res.writeHead(200);
        res.end("y".repeat(1_000_000));
      } else if (req.url === "/hang") {
        // never answers
      } else {
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it("passes on 200 UP and sends the configured headers", async () => {
    const checker = createHttpChecker({ url: `${base}/health`, headers: { "x-probe": "1" } });
    await expect(checker.probe(new AbortController().signal)).resolves.toEqual({ ok: true, output: 'HTTP 200: {"status":"UP"}' });
    expect(headersSeen?.["x-probe"]).toBe("1");
  });

  it("fails on DOWN, 503 and a big 2xx body is still judged", async () => {
    const signal = new AbortController().signal;
    expect((await createHttpChecker({ url: `${base}/down` }).probe(signal)).ok).toBe(false);
    expect(await createHttpChecker({ url: `${base}/503` }).probe(signal)).toEqual({ ok: false, output: "HTTP 503: unavailable" });
    expect((await createHttpChecker({ url: `${base}/big` }).probe(signal)).ok).toBe(true);
  });

  it("fails when aborted (timeout) and when the port is closed", async () => {
    const controller = new AbortController();
    const pending = createHttpChecker({ url: `${base}/hang` }).probe(controller.signal);
    setTimeout(() => controller.abort(), 50);
    await expect(pending).resolves.toEqual({ ok: false, output: "timed out" });

    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, "127.0.0.1", resolve));
    const port = (closed.address() as AddressInfo).port;
    await new Promise<void>((resolve) => closed.close(() => resolve()));
    const result = await createHttpChecker({ url: `http://127.0.0.1:${port}/health` }).probe(new AbortController().signal);
    expect(result.ok).toBe(false);
    expect(result.output).toContain("ECONNREFUSED");
  });
});
