/**
 * An HTTP health endpoint in one call, in the shape Switchboard's HTTP check
 * (and Spring Boot Actuator users) expect: JSON `{"status":"UP"}` with 200, or
 * `{"status":"DOWN"}` with 503.
 *
 * ```ts
 * const health = await serveHealth({ port: 8081, agent, checks: { db: () => pool.ping() } });
 * // register with healthChecks: [{ target: { $case: "http", value: { port: health.port, path: "/health" } } }]
 * await health.close();
 * ```
 *
 * Or mount it in an existing server: `if (!endpoint.handle(req, res)) ...`.
 */
import { createServer } from "node:http";
import type { IncomingMessage, ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";
import type { AgentStatus } from "./agent.js";

/** What the endpoint reports. */
export type HealthState = "UP" | "DOWN";

/** One named check: resolve true (or anything but false) when healthy; false or a throw means DOWN. */
export type HealthCheckFunction = () => boolean | void | Promise<boolean | void>;

/** The JSON body the endpoint answers. */
export interface HealthReport {
  status: HealthState;
  /** Per check, when checks were given. */
  checks?: Record<string, { status: HealthState; error?: string }>;
}

/** Options of {@link createHealthEndpoint}; every one is optional. */
export interface HealthEndpointOptions {
  /** Checks run on every request, in parallel. Default none: UP unless forced DOWN. */
  checks?: Record<string, HealthCheckFunction>;
  /** Time a check may take before it counts as DOWN. Default 2000 ms. */
  checkTimeoutMs?: number;
  /** Path answered. Default "/health" (the HTTP check's default path). */
  path?: string;
  /** An agent: the endpoint says DOWN unless it is running (so draining instances fail checks too). */
  agent?: { readonly status: AgentStatus };
}

/** A health request handler; made by {@link createHealthEndpoint}. */
export interface HealthEndpoint {
  /** Answers GET/HEAD on the configured path and returns true; returns false for anything else. */
  handle(request: IncomingMessage, response: ServerResponse): boolean;
  /** Forces a state (e.g. DOWN while warming up); undefined hands control back to the checks. */
  setStatus(state: HealthState | undefined): void;
  /** Runs the checks now. */
  report(): Promise<HealthReport>;
}

/**
 * The handler alone, to mount in an HTTP server of your own: GET/HEAD on `path` (default "/health")
 * answers 200 {"status":"UP"} or 503 {"status":"DOWN"}; checks time out after 2000 ms by default.
 */
export function createHealthEndpoint(options: HealthEndpointOptions = {}): HealthEndpoint {
  const path = options.path ?? "/health";
  const checkTimeoutMs = options.checkTimeoutMs ?? 2000;
  let forced: HealthState | undefined;

  async function runCheck(check: HealthCheckFunction): Promise<{ status: HealthState; error?: string }> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`check timed out after ${checkTimeoutMs} ms`)), checkTimeoutMs);
    });
    try {
      const result = await Promise.race([Promise.resolve().then(check), timeout]);
      return { status: result === false ? "DOWN" : "UP" };
    } catch (error) {
      return { status: "DOWN", error: error instanceof Error ? error.message : String(error) };
    } finally {
      clearTimeout(timer);
    }
  }

  async function report(): Promise<HealthReport> {
    const entries = Object.entries(options.checks ?? {});
    const results = await Promise.all(entries.map(async ([name, check]) => [name, await runCheck(check)] as const));
    const checks = Object.fromEntries(results);
    let status: HealthState = results.every(([, result]) => result.status === "UP") ? "UP" : "DOWN";
    if (options.agent !== undefined && options.agent.status !== "running") status = "DOWN";
    if (forced !== undefined) status = forced;
    return entries.length > 0 ? { status, checks } : { status };
  }

  return {
    handle(request, response) {
      const url = new URL(request.url ?? "/", "http://localhost");
      if (url.pathname !== path) return false;
      if (request.method !== "GET" && request.method !== "HEAD") {
        response.writeHead(405, { allow: "GET, HEAD" }).end();
        return true;
      }
      report().then(
        (result) => {
          const body = JSON.stringify(result);
          response.writeHead(result.status === "UP" ? 200 : 503, {
            "content-type": "application/json",
            "cache-control": "no-store",
            "content-length": Buffer.byteLength(body),
          });
          response.end(request.method === "HEAD" ? undefined : body);
        },
        () => response.writeHead(503, { "content-type": "application/json" }).end('{"status":"DOWN"}'),
      );
      return true;
    },
    setStatus(state) {
      forced = state;
    },
    report,
  };
}

/** Options of {@link serveHealth}: the endpoint's, plus where to listen. */
export interface ServeHealthOptions extends HealthEndpointOptions {
  /** Port to listen on; 0 picks a free one. Default 0. */
  port?: number;
  /** Interface to listen on. Default all interfaces (the control plane must reach it). */
  host?: string;
}

/** The server {@link serveHealth} started. */
export interface HealthServer {
  readonly endpoint: HealthEndpoint;
  /** The port actually bound. */
  readonly port: number;
  /** e.g. "http://127.0.0.1:34567/health". */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts a small HTTP server that answers only the health path (404 elsewhere). */
export async function serveHealth(options: ServeHealthOptions = {}): Promise<HealthServer> {
  const endpoint = createHealthEndpoint(options);
  const server = createServer((request, response) => {
    if (!endpoint.handle(request, response)) response.writeHead(404).end();
  });
  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, options.host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const host = options.host === undefined || options.host === "0.0.0.0" || options.host === "::" ? "127.0.0.1" : options.host;
  return {
    endpoint,
    port,
    url: `http://${host.includes(":") ? `[${host}]` : host}:${port}${options.path ?? "/health"}`,
    close: () =>
      new Promise<void>((resolve, reject) => {
        server.close((error) => (error ? reject(error) : resolve()));
        server.closeAllConnections();
      }),
  };
}
