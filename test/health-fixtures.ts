/**
 * Helpers for the health integration tests: controllable HTTP, gRPC and TCP
 * endpoints on 127.0.0.1, a registry watch collector, and polling.
 */
import http from "node:http";
import net from "node:net";
import type { AddressInfo } from "node:net";
import { createServer } from "nice-grpc";
import { HealthDefinition, HealthServiceImpl, HealthState } from "nice-grpc-server-health";
import type { WatchHealthResponse } from "../generated/switchboard/health/v1/health.js";
import type { DeepPartial, Instance, WatchResponse } from "../generated/switchboard/registry/v1/registry.js";
import type { SwitchboardClient } from "@switchboard/client";

export { eventually } from "./support/eventually.js";

export type HttpMode = "ok" | "503" | "down-json" | "up-json";

/** An HTTP health endpoint whose answer the test sets; counts requests per path. */
export async function startHttpEndpoint() {
  let mode: HttpMode = "ok";
  let failNext = 0;
  const failing = new Set<string>();
  const hits = new Map<string, number>();
  const server = http.createServer((req, res) => {
    hits.set(req.url ?? "", (hits.get(req.url ?? "") ?? 0) + 1);
    if (failing.has(req.url ?? "")) {
      res.writeHead(503, { "content-type": "text/plain" }).end("this path fails");
      return;
    }
    if (failNext > 0) {
      failNext--;
      res.writeHead(503, { "content-type": "text/plain" }).end("failing once");
      return;
    }
    switch (mode) {
      case "ok":
        res.writeHead(200, { "content-type": "text/plain" }).end("ok");
        return;
      case "up-json":
        res.writeHead(200, { "content-type": "application/json" }).end('{"status":"UP"}');
        return;
      case "503":
        res.writeHead(503, { "content-type": "text/plain" }).end("service unavailable");
        return;
      case "down-json":
        res.writeHead(200, { "content-type": "application/json" }).end('{"status":"DOWN","components":{"db":{"status":"DOWN"}}}');
        return;
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as AddressInfo).port,
    hits,
    set(next: HttpMode) {
      mode = next;
    },
    /** Requests for path answer 503 (on) or follow the mode (off). */
    failPath(path: string, on: boolean) {
      if (on) failing.add(path);
      else failing.delete(path);
    },
    /** The next n requests answer 503, whatever the mode. */
    failNext(n: number) {
      failNext = n;
    },
    close: async () => {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}

/** A gRPC server with the standard health service only. */
export async function startGrpcEndpoint() {
  const state = HealthState();
  const server = createServer();
  server.add(HealthDefinition, HealthServiceImpl(state));
  const port = await server.listen("127.0.0.1:0");
  return {
    port,
    state,
    close: async () => server.forceShutdown(),
  };
}

/** A TCP listener that can be closed and reopened on the same port. */
export async function startTcpEndpoint() {
  const sockets = new Set<net.Socket>();
  let server: net.Server | undefined;
  const open = async (port: number) => {
    server = net.createServer((socket) => {
      sockets.add(socket);
      socket.on("close", () => sockets.delete(socket));
      socket.end();
    });
    await new Promise<void>((resolve) => server!.listen(port, "127.0.0.1", resolve));
    return (server.address() as AddressInfo).port;
  };
  const port = await open(0);
  const close = async () => {
    for (const socket of sockets) socket.destroy();
    if (server) await new Promise<void>((resolve) => server!.close(() => resolve()));
    server = undefined;
  };
  return { port, close, reopen: () => open(port) };
}

/** Collects a registry Watch stream (default filter: routable only) in the background. */
export function collectWatch(client: SwitchboardClient, service: string) {
  const abort = new AbortController();
  const messages: WatchResponse[] = [];
  const present = new Set<string>();
  const done = (async () => {
    try {
      for await (const message of client.registry.watch({ service }, { signal: abort.signal })) {
        messages.push(message);
        const kind = message.kind;
        if (kind?.$case === "snapshot") {
          if (kind.value.reset) present.clear();
          for (const instance of kind.value.instances) present.add(instance.instanceId);
        } else if (kind?.$case === "event") {
          const id = kind.value.instance!.instanceId;
          if (kind.value.type === 3) present.delete(id);
          else present.add(id);
        }
      }
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
  })();
  return {
    messages,
    /** Instance ids the stream currently says are routable. */
    present,
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

/** Collects a WatchHealth stream in the background. */
export function collectHealthWatch(client: SwitchboardClient, service: string) {
  const abort = new AbortController();
  const messages: WatchHealthResponse[] = [];
  const done = (async () => {
    try {
      for await (const message of client.health.watchHealth({ service }, { signal: abort.signal })) messages.push(message);
    } catch (error) {
      if (!abort.signal.aborted) throw error;
    }
  })();
  return {
    messages,
    stop: async () => {
      abort.abort();
      await done;
    },
  };
}

/** Ids ListInstances returns by default (routable only). */
export async function routableIds(client: SwitchboardClient, service: string): Promise<string[]> {
  const { instances } = await client.registry.listInstances({ service });
  return instances.map((i) => i.instanceId).sort();
}

export function instanceSpec(
  service: string,
  instanceId: string,
  port: number,
  check: DeepPartial<Instance>["healthChecks"],
): DeepPartial<Instance> {
  return { service, instanceId, address: "127.0.0.1", port, healthChecks: check };
}
