import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiHandler } from "./api-handler.js";

/**
 * Serves the dashboard page for `/` and for every deep link the page routes
 * itself (`/services/default/orders`, …): GET paths whose first segment has
 * no dot, so RPC paths (`/switchboard.registry.v1.RegistryService/…`) and
 * files never match. `reserved` paths (/metrics, /healthz) are left alone.
 */
export function createUiHandler(page: string | undefined, reserved: readonly string[]): ApiHandler {
  const body =
    page ??
    "<!doctype html><title>Switchboard</title><p>The dashboard was not built: run <code>npm run build</code>.</p>";
  return (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    if (reserved.includes(path) || path.split("/")[1]?.includes(".")) return false;
    res.writeHead(page === undefined ? 503 : 200, {
      "content-type": "text/html; charset=utf-8",
      "cache-control": "no-cache",
      "x-content-type-options": "nosniff",
      "referrer-policy": "no-referrer",
    });
    res.end(req.method === "HEAD" ? undefined : body);
    return true;
  };
}
