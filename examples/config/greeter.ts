/**
 * A tiny service configured entirely from Switchboard, with environment
 * variables overriding single keys (see README.md here for the walkthrough).
 *
 *   SWITCHBOARD_ADDRESS=127.0.0.1:7000 SWITCHBOARD_NAMESPACE=shop SWITCHBOARD_SERVICE=greeter \
 *   SWITCHBOARD_CONFIG_GREETING_TARGET=world node --import tsx examples/config/greeter.ts
 *
 * GET /        {"message": "Hello, world!", ...}  built from the live config
 * GET /config  every effective key with where it came from (a layer, or env)
 *
 * Values are read per request, so a `switchboard config set` shows up on the
 * next request; the service logs each change it is told about.
 */
import { createServer } from "node:http";
import type { AddressInfo } from "node:net";
import { bootstrap } from "@switchboard/client";

interface Limits {
  "max-name-length"?: number;
  shout?: boolean;
}

const config = await bootstrap();
const log = (msg: string, fields: Record<string, unknown> = {}) =>
  process.stdout.write(`${JSON.stringify({ time: new Date().toISOString(), msg, ...fields })}\n`);

config.onChange(({ changedKeys, revision }) => log("configuration changed", { changedKeys, revision }));

function greeting(name: string | null): string {
  const limits = config.getJson<Limits>("limits", {});
  const target = (name ?? config.get("greeting.target", "world")).slice(0, limits["max-name-length"] ?? 64);
  const message = `${config.get("greeting.text", "Hello")}, ${target}!`;
  return limits.shout ? message.toUpperCase() : message;
}

const server = createServer((request, response) => {
  const url = new URL(request.url ?? "/", "http://localhost");
  const body =
    url.pathname === "/config"
      ? { revision: config.revision, source: config.source, entries: config.entries() }
      : { message: greeting(url.searchParams.get("name")), revision: config.revision };
  response.writeHead(url.pathname === "/" || url.pathname === "/config" ? 200 : 404, { "content-type": "application/json" });
  response.end(JSON.stringify(body));
});

server.listen(config.getNumber("http.port", 8080), "127.0.0.1", () => {
  const { port } = server.address() as AddressInfo;
  log("greeter listening", { port, source: config.source, revision: config.revision, config: config.toObject() });
});

for (const signal of ["SIGTERM", "SIGINT"] as const) {
  process.once(signal, () => {
    log("greeter stopping", { signal });
    config.close();
    server.close(() => process.exit(0));
  });
}
