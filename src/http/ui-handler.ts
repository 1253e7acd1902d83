import type { IncomingMessage, ServerResponse } from "node:http";
import type { ApiHandler } from "./api-handler.js";

/** First path segments of the page's own routes (ui/app.js): deep links to them get the page. */
const PAGE_SECTIONS = new Set(["services", "config", "health"]);

/**
 * Serves the dashboard page for `/` and for every deep link the page routes
 * itself (`/services/default/orders`, `/config/…`, `/health/…`); any other
 * path stays the server's (404). `reserved` paths (/metrics, /healthz) are
 * left alone.
 */
export function createUiHandler(page: string | undefined, reserved: readonly string[]): ApiHandler {
  const body =
    page ?? "<!doctype html><title>Switchboard</title><p>The dashboard was not built: run <code>npm run build</code>.</p>";
  return (req: IncomingMessage, res: ServerResponse, path: string) => {
    if (req.method !== "GET" && req.method !== "HEAD") return false;
    if (reserved.includes(path) || (path !== "/" && !PAGE_SECTIONS.has(path.split("/")[1] ?? ""))) return false;
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
