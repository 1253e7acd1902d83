import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { createServer } from "nice-grpc";
import { HealthDefinition, HealthServiceImpl, HealthState } from "nice-grpc-server-health";
import { ServerReflectionService } from "nice-grpc-server-reflection";
import { pino } from "pino";
import type { Logger } from "pino";
import { Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { ConfigServiceDefinition } from "../../generated/switchboard/config/v1/config.js";
import { HealthServiceDefinition } from "../../generated/switchboard/health/v1/health.js";
import { RegistryServiceDefinition } from "../../generated/switchboard/registry/v1/registry.js";
import { createKeySpaceCache } from "../cache/index.js";
import type { KeySpaceCache } from "../cache/index.js";
import type { Store } from "../store/index.js";
import { createRegistryView } from "../registry/index.js";
import { configServiceDefinition, createConfigServiceImpl } from "./config-service.js";
import type { ServiceDeps } from "./deps.js";
import { createCallMiddleware } from "./call-middleware.js";
import { createHealthService } from "./health-service.js";
import { startHttpServer } from "./http-server.js";
import type { RunningHttpServer } from "./http-server.js";
import { formatAddress, parseListenAddress } from "./listen-address.js";
import type { ListenAddress } from "./listen-address.js";
import { openStore } from "./open-store.js";
import {
  REFLECTION_SERVICE_NAMES,
  ServerReflectionV1AlphaService,
  createReflectionImpl,
  loadDescriptorSet,
} from "./reflection.js";
import { createRegistryServiceImpl, registryServiceDefinition } from "./registry-service.js";
import { MAX_RECEIVE_MESSAGE_BYTES, SERVER_DEFAULTS } from "./server-options.js";
import type { RunningServer, ServerOptions } from "./server-options.js";
import { createStoreHealthMonitor } from "./store-health.js";
import { AggregatedDiscoveryServiceDefinition, createXdsServiceImpl } from "./xds-service.js";
import type { StoreHealthMonitor } from "./store-health.js";

const SWITCHBOARD_SERVICES = [
  RegistryServiceDefinition.fullName,
  ConfigServiceDefinition.fullName,
  HealthServiceDefinition.fullName,
] as const;

/**
 * The composition root: store, cache, metrics, the three Switchboard services,
 * grpc.health.v1, reflection (v1 and v1alpha) and the HTTP side port.
 *
 *   const server = await startServer({ listen: "127.0.0.1:0", httpListen: "127.0.0.1:0" });
 *   // … use server.grpcAddress …
 *   await server.close();
 *
 * Resolves once the cache has loaded and both ports listen; rejects (after
 * releasing everything) when that does not happen within startupTimeoutMs.
 */
export async function startServer(options: ServerOptions = {}): Promise<RunningServer> {
  const grpcListen = parseListenAddress(options.listen ?? SERVER_DEFAULTS.listen, "listen");
  const httpListen = parseListenAddress(options.httpListen ?? SERVER_DEFAULTS.httpListen, "http-listen");
  const prefix = options.prefix ?? SERVER_DEFAULTS.prefix;
  const replicaId = options.replicaId ?? defaultReplicaId();
  const logger = (options.logger ?? pino({ level: SERVER_DEFAULTS.logLevel })).child({ replicaId });
  const etcdEndpoints = options.etcdEndpoints?.length ? options.etcdEndpoints : undefined;
  const backend = options.store ? "injected" : etcdEndpoints ? "etcd" : "embedded";
  const dataDir = options.dataDir ?? SERVER_DEFAULTS.dataDir;
  const descriptorSet = options.descriptorSet ?? loadDescriptorSet();

  logger.info(
    { grpcListen: options.listen ?? SERVER_DEFAULTS.listen, prefix, backend, etcdEndpoints, dataDir: etcdEndpoints ? undefined : dataDir },
    "starting switchboard",
  );

  const cleanup: Array<{ step: string; run: () => unknown }> = [];
  const releaseAll = async () => {
    for (const { step, run } of cleanup.reverse()) {
      logger.info(`shutdown: ${step}`);
      try {
        await run();
      } catch (error) {
        logger.error({ err: error }, `shutdown: ${step} failed`);
      }
    }
    cleanup.length = 0;
  };

  try {
    const store: Store =
      options.store ?? (await openStore({ etcdEndpoints, dataDir, logger: logger.child({ component: "store" }) }));
    if (!options.store) cleanup.push({ step: "closing store", run: () => store.close() });

    const cache: KeySpaceCache = createKeySpaceCache({ store, prefix, logger });
    cleanup.push({ step: "closing cache", run: () => cache.close() });

    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });

    const healthState = HealthState();
    const monitor = createStoreHealthMonitor({
      store,
      backend,
      replicaId,
      healthState,
      serviceNames: SWITCHBOARD_SERVICES,
      logger,
      intervalMs: options.healthCheckIntervalMs,
    });
    cleanup.push({ step: "stopping health monitor", run: () => monitor.close() });
    registerServingGauge(metrics, monitor);

    const shutdown = new AbortController();
    const deps: ServiceDeps = {
      store,
      cache,
      prefix,
      replicaId,
      logger,
      metrics,
      shutdownSignal: shutdown.signal,
    };

    const grpcServer = createServer({ "grpc.max_receive_message_length": MAX_RECEIVE_MESSAGE_BYTES })
      .use(createCallMiddleware({ metrics, logger: logger.child({ component: "rpc" }), shutdownSignal: shutdown.signal }));
    // One decoded view of the instances for registry and health: the same routability and protection, decoded once.
    const registryOptions = options.registry ?? {};
    const registryView = createRegistryView({
      cache,
      prefix,
      logger,
      protectionThreshold: registryOptions.protectionThreshold,
      protectionMinInstances: registryOptions.protectionMinInstances,
      historyLimit: registryOptions.historyLimit,
    });
    cleanup.push({ step: "closing registry view", run: () => registryView.close() });
    grpcServer.add(registryServiceDefinition, createRegistryServiceImpl(deps, { ...registryOptions, view: registryView }));
    grpcServer.add(configServiceDefinition, createConfigServiceImpl(deps, options.config));
    const healthService = createHealthService(deps, { ...options.health, view: registryView });
    // Released before the cache and store: it leaves replicas/ while the store is still open.
    cleanup.push({ step: "stopping health checks", run: () => healthService.close() });
    grpcServer.add(HealthServiceDefinition, healthService.impl);
    grpcServer.add(HealthDefinition, HealthServiceImpl(healthState));
    // xDS for proxyless gRPC clients: one more consumer of the registry view, behind the same call middleware.
    grpcServer.add(AggregatedDiscoveryServiceDefinition, createXdsServiceImpl(deps, { view: registryView }));
    const reflection = createReflectionImpl(descriptorSet, [
      ...SWITCHBOARD_SERVICES,
      HealthDefinition.fullName,
      AggregatedDiscoveryServiceDefinition.fullName,
      ...REFLECTION_SERVICE_NAMES,
    ]);
    grpcServer.add(ServerReflectionService, reflection);
    grpcServer.add(ServerReflectionV1AlphaService, reflection);
    for (const extra of options.extraServices ?? []) grpcServer.add(extra.definition, extra.implementation as never);

    await waitForCache(cache, options.startupTimeoutMs ?? 30_000, etcdEndpoints);
    monitor.markCacheReady();
    await monitor.check();

    // HTTP first so that, in reverse on close, /healthz keeps answering 503 while gRPC drains.
    const http: RunningHttpServer = await listening("HTTP", httpListen, () =>
      startHttpServer(httpListen, { metrics, health: () => monitor.report(), logger }),
    );
    cleanup.push({ step: "closing HTTP server", run: () => http.close() });

    const grpcPort = await listening("gRPC", grpcListen, () =>
      grpcServer.listen(formatAddress(grpcListen.host, grpcListen.port)),
    );
    cleanup.push({
      step: "stopping gRPC server",
      run: () => stopGrpc(grpcServer, shutdown, options.shutdownTimeoutMs ?? 10_000, logger),
    });

    const grpcAddress = formatAddress(grpcListen.host, grpcPort);
    const httpAddress = formatAddress(httpListen.host, http.port);
    logger.info({ grpcAddress, httpAddress, status: monitor.status }, "switchboard serving");

    let closing: Promise<void> | undefined;
    return {
      grpcAddress,
      httpAddress,
      replicaId,
      close: () =>
        (closing ??= (async () => {
          logger.info("shutdown: reporting NOT_SERVING");
          monitor.markShuttingDown();
          await releaseAll();
          logger.info("shutdown: complete");
        })()),
    };
  } catch (error) {
    await releaseAll();
    throw error;
  }
}

/** Stops accepting calls, ends streams through the shutdown signal, then cancels what is left. */
async function stopGrpc(
  server: { shutdown(): Promise<void>; forceShutdown(): void },
  shutdown: AbortController,
  timeoutMs: number,
  logger: Logger,
): Promise<void> {
  const drained = server.shutdown();
  logger.info("shutdown: stopped accepting calls; ending open streams");
  shutdown.abort();
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<"timeout">((resolve) => (timer = setTimeout(() => resolve("timeout"), timeoutMs)));
  try {
    const outcome = await Promise.race([drained.then(() => "drained" as const), timedOut]);
    if (outcome === "timeout") {
      logger.warn({ timeoutMs }, "shutdown: calls still open after the deadline; cancelling them");
      server.forceShutdown();
    } else {
      logger.info("shutdown: all calls finished");
    }
  } finally {
    clearTimeout(timer);
    drained.catch(() => undefined);
  }
}

/** Runs listen(), naming the port and address in the error when it fails (e.g. address in use). */
async function listening<T>(what: string, address: ListenAddress, listen: () => Promise<T>): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    throw new Error(`cannot listen for ${what} on ${formatAddress(address.host, address.port)}: ${reason}`);
  }
}

async function waitForCache(cache: KeySpaceCache, timeoutMs: number, etcdEndpoints: string[] | undefined) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      const where = etcdEndpoints ? `etcd at ${etcdEndpoints.join(",")}` : "the embedded store";
      reject(new Error(`could not load state from ${where} within ${timeoutMs} ms`));
    }, timeoutMs);
  });
  try {
    await Promise.race([cache.ready, timeout]);
  } finally {
    clearTimeout(timer);
  }
}

function registerServingGauge(metrics: Registry, monitor: StoreHealthMonitor): void {
  new Gauge({
    name: "switchboard_serving",
    help: "1 while this replica reports SERVING (store reachable, cache loaded, not shutting down).",
    registers: [metrics],
    collect() {
      this.set(monitor.status === "SERVING" ? 1 : 0);
    },
  });
}

function defaultReplicaId(): string {
  const host = hostname().toLowerCase().replace(/[^a-z0-9-]+/g, "-").replace(/^-+|-+$/g, "").slice(0, 48);
  return `${host || "replica"}-${randomBytes(3).toString("hex")}`;
}

