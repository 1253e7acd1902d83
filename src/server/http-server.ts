import { createServer } from "node:http";
import type { IncomingMessage, Server, ServerResponse } from "node:http";
import { createServer as createHttpsServer } from "node:https";
import type { Server as HttpsServer } from "node:https";
import type { AddressInfo } from "node:net";
import type { Logger } from "pino";
import type { Registry } from "prom-client";
import type { ListenAddress } from "./listen-address.js";
import type { HealthReport } from "./store-health.js";
import type { ServerTls } from "./tls.js";

export interface HttpServerOptions {
  metrics: Registry;
  health: () => HealthReport;
  logger: Logger;
  /** HTTPS with these certificates (and client certificates required under mTLS), following their reloads. Default: plain HTTP. */
  tls?: ServerTls;
  /**
   * Handlers tried, in order, before /metrics and /healthz: the HTTP/JSON API
   * and the dashboard (src/http). Each returns true when it took the request.
   */
  handlers?: ReadonlyArray<(req: IncomingMessage, res: ServerResponse, path: string) => boolean>;
}

export interface RunningHttpServer {
  /** The bound port (useful when listening on port 0). */
  port: number;
  close(): Promise<void>;
}

/**
 * The HTTP side port: GET /metrics (Prometheus text format) and GET /healthz
 * (JSON HealthReport; 200 when SERVING, 503 otherwise), plus the handlers
 * given (the HTTP/JSON API and the dashboard).
 */
export async function startHttpServer(address: ListenAddress, options: HttpServerOptions): Promise<RunningHttpServer> {
  const routes: Record<string, (res: ServerResponse) => Promise<void>> = {
    "/metrics": async (res) => {
      const body = await options.metrics.metrics();
      res.writeHead(200, { "content-type": options.metrics.contentType }).end(body);
    },
    "/healthz": async (res) => {
      const report = options.health();
      res.writeHead(report.status === "SERVING" ? 200 : 503, { "content-type": "application/json" }).end(JSON.stringify(report));
    },
  };

  const handler = (req: IncomingMessage, res: ServerResponse) => {
    const path = new URL(req.url ?? "/", "http://localhost").pathname;
    for (const handle of options.handlers ?? []) if (handle(req, res, path)) return;
    const route = routes[path];
    if (!route) {
      res.writeHead(404, { "content-type": "text/plain" }).end("not found\n");
      return;
    }
    if (req.method !== "GET" && req.method !== "HEAD") {
      res.writeHead(405, { allow: "GET, HEAD", "content-type": "text/plain" }).end("method not allowed\n");
      return;
    }
    route(res).catch((error: unknown) => {
      options.logger.error({ err: error, path }, "http handler failed");
      if (!res.headersSent) res.writeHead(500, { "content-type": "text/plain" });
      res.end("internal error\n");
    });
  };

  const tls = options.tls;
  let server: Server | HttpsServer;
  let stopFollowing = () => {};
  if (tls) {
    const requireCert = tls.requireClientCertificate;
    const secure = createHttpsServer({ ...tls.current(), requestCert: requireCert, rejectUnauthorized: requireCert }, handler);
    // New connections get reloaded certificates; open ones keep theirs.
    stopFollowing = tls.onReload((material) => secure.setSecureContext({ ...material }));
    server = secure;
  } else {
    server = createServer(handler);
  }

  try {
    await listen(server, address);
  } catch (error) {
    stopFollowing();
    throw error;
  }
  return {
    port: (server.address() as AddressInfo).port,
    close: async () => {
      stopFollowing();
      await closeServer(server);
    },
  };
}

function listen(server: Server | HttpsServer, address: ListenAddress): Promise<void> {
  return new Promise((resolve, reject) => {
    const onError = (error: Error) => reject(error);
    server.once("error", onError);
    server.listen(address.port, address.host, () => {
      server.off("error", onError);
      resolve();
    });
  });
}

function closeServer(server: Server | HttpsServer): Promise<void> {
  return new Promise((resolve) => {
    server.close(() => resolve());
    // Scrapers keep connections alive; do not wait for them.
    server.closeAllConnections();
  });
}
