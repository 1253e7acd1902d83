import { randomBytes } from "node:crypto";
import { hostname } from "node:os";
import { createServer } from "nice-grpc";
import { HealthDefinition, HealthServiceImpl, HealthState } from "nice-grpc-server-health";
import { ServerReflectionService } from "nice-grpc-server-reflection";
import { pino } from "pino";
import type { Logger } from "pino";
import { Gauge, Registry, collectDefaultMetrics } from "prom-client";
import { AuthServiceDefinition } from "../../generated/switchboard/auth/v1/auth.js";
import { ConfigServiceDefinition } from "../../generated/switchboard/config/v1/config.js";
import { HealthServiceDefinition } from "../../generated/switchboard/health/v1/health.js";
import { RegistryServiceDefinition } from "../../generated/switchboard/registry/v1/registry.js";
import { createKeySpaceCache } from "../cache/index.js";
import type { KeySpaceCache } from "../cache/index.js";
import type { Store } from "../store/index.js";
import { createQuotas, createSecretBox, createTokenStore } from "../auth/index.js";
import { createAuthGuard } from "./auth-guard.js";
import type { AuthGuard } from "./auth-guard.js";
import { createAuthServiceImpl } from "./auth-service.js";
import { createLeaseScopes } from "./lease-scopes.js";
import { createRegistryView } from "../registry/index.js";
import { createApiHandler, createRpcTable, createUiHandler, loadUiPage } from "../http/index.js";
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
import { checkCanListen, listenError, openStoreError, storeTimeoutError } from "./startup-error.js";
import { createStoreHealthMonitor } from "./store-health.js";
import { grpcConnectionOptions } from "./connection-options.js";
import { AggregatedDiscoveryServiceDefinition, createXdsServiceImpl } from "./xds-service.js";
import type { StoreHealthMonitor } from "./store-health.js";
import { insecureExposureWarning } from "./insecure-warning.js";
import { createPeerIdentityInterceptor, peerIdentity, stampHttpPeerIdentity } from "./peer-identity.js";
import { loadCertificateGrantsFile } from "./certificate-grants-file.js";
import type { CertificateGrantsFile } from "./certificate-grants-file.js";
import { createServerTls } from "./tls.js";
import type { ServerTls } from "./tls.js";

const SWITCHBOARD_SERVICES = [
  RegistryServiceDefinition.fullName,
  ConfigServiceDefinition.fullName,
  HealthServiceDefinition.fullName,
  AuthServiceDefinition.fullName,
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
 * Start failures the user can fix (port in use, data directory locked, store
 * unreachable) reject with a StartupError naming the setting to change.
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
    {
      grpcListen: options.listen ?? SERVER_DEFAULTS.listen,
      prefix,
      backend,
      etcdEndpoints,
      dataDir: etcdEndpoints ? undefined : dataDir,
    },
    "starting switchboard",
  );

  const cleanup: Array<{ step: string; run: () => unknown }> = [];
  // After a failed start the steps are details (debug): the error is the news.
  const releaseAll = async (level: "info" | "debug" = "info") => {
    for (const { step, run } of cleanup.reverse()) {
      logger[level](`shutdown: ${step}`);
      try {
        await run();
      } catch (error) {
        logger.error({ err: error }, `shutdown: ${step} failed`);
      }
    }
    cleanup.length = 0;
  };

  const exposureWarning = insecureExposureWarning({
    listen: options.listen ?? SERVER_DEFAULTS.listen,
    tls: options.tls !== undefined,
    // ServerOptions.auth is the authentication switch (serve --auth).
    auth: Boolean((options as { auth?: unknown }).auth),
  });
  if (exposureWarning) logger.warn(exposureWarning);

  try {
    // First: unusable certificate files fail the start before anything else opens.
    let tls: ServerTls | undefined;
    if (options.tls) {
      tls = await createServerTls(options.tls, logger.child({ component: "tls" }));
      const watched = tls;
      cleanup.push({ step: "stopping certificate watch", run: () => watched.close() });
    }

    // Likewise an unusable certificate grants file; later edits are re-read like the certificates.
    let certificateGrantsFile: CertificateGrantsFile | undefined;
    if (options.auth?.certificateGrantsFile !== undefined) {
      const grantsFile = await loadCertificateGrantsFile(
        { file: options.auth.certificateGrantsFile, watchIntervalMs: options.tls?.watchIntervalMs },
        logger.child({ component: "auth" }),
      );
      certificateGrantsFile = grantsFile;
      cleanup.push({ step: "stopping certificate grants watch", run: () => grantsFile.close() });
    }

    // Ports next: a port in use fails before the store is opened or anything reports serving.
    await checkCanListen("gRPC", grpcListen, "listen");
    await checkCanListen("HTTP", httpListen, "http-listen");
    const store: Store =
      options.store ??
      (await openStore({
        etcdEndpoints,
        dataDir,
        prefix,
        logger: logger.child({ component: "store" }),
        ...(options.etcdSecurity && { etcdSecurity: options.etcdSecurity }),
      }).catch((error: unknown) => {
        throw openStoreError(error, etcdEndpoints, dataDir);
      }));
    if (!options.store) cleanup.push({ step: "closing store", run: () => store.close() });

    const cache: KeySpaceCache = createKeySpaceCache({ store, prefix, logger });
    cleanup.push({ step: "closing cache", run: () => cache.close() });

    const metrics = new Registry();
    collectDefaultMetrics({ register: metrics });

    // Set once the registry view exists; failed store pings start its expiry hold.
    let noteStoreUnreachable = (): void => {};
    const healthState = HealthState();
    const monitor = createStoreHealthMonitor({
      store,
      backend,
      replicaId,
      healthState,
      serviceNames: SWITCHBOARD_SERVICES,
      logger,
      intervalMs: options.healthCheckIntervalMs,
      onUnreachable: () => noteStoreUnreachable(),
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

    const tokens = createTokenStore({ store, cache, prefix });
    cleanup.push({ step: "closing token store", run: () => tokens.close() });
    let auth: AuthGuard | undefined;
    if (options.auth || options.auditLog) {
      auth = createAuthGuard({
        enforce: options.auth !== undefined,
        tokens,
        leaseScopes: createLeaseScopes(cache, prefix),
        quotas: createQuotas({
          maxStreams: options.auth?.maxStreamsPerToken,
          registrationsPerSecond: options.auth?.registrationsPerSecondPerToken,
        }),
        protectReflection: options.auth?.protectReflection,
        certificateIdentity: options.auth?.certificateIdentity ?? peerIdentity,
        certificateGrants: certificateGrantsFile ?? options.auth?.certificateGrants,
        auditLog: options.auditLog,
      });
      const guard = auth;
      cleanup.push({ step: "closing auth guard", run: () => guard.close() });
    }

    // One middleware for both transports: the HTTP/JSON API runs its calls through it too.
    const callMiddleware = createCallMiddleware({
      metrics,
      logger: logger.child({ component: "rpc" }),
      shutdownSignal: shutdown.signal,
      auth,
    });
    const grpcServer = createServer({
      "grpc.max_receive_message_length": MAX_RECEIVE_MESSAGE_BYTES,
      interceptors: [createPeerIdentityInterceptor(tls?.requireClientCertificate ?? false)],
      ...grpcConnectionOptions(options.connection),
    }).use(callMiddleware);
    // One decoded view of the instances for registry and health: the same routability and protection, decoded once.
    const registryOptions = options.registry ?? {};
    const registryView = createRegistryView({
      cache,
      prefix,
      logger,
      protectionThreshold: registryOptions.protectionThreshold,
      protectionMinInstances: registryOptions.protectionMinInstances,
      expiryHoldMs: registryOptions.expiryHoldMs,
      // A release of held instances needs a new store revision: this replica's own key under holds/.
      requestRevision: () =>
        store.txn({
          ops: [{ type: "put", key: `${prefix}holds/${replicaId}`, value: new TextEncoder().encode(new Date().toISOString()) }],
        }),
    });
    noteStoreUnreachable = () => registryView.noteStoreUnreachable();
    cleanup.push({ step: "closing registry view", run: () => registryView.close() });
    const registryImpl = createRegistryServiceImpl(deps, { ...registryOptions, view: registryView });
    grpcServer.add(registryServiceDefinition, registryImpl);
    const secrets = options.secretKeys?.length ? createSecretBox(options.secretKeys) : undefined;
    const configImpl = createConfigServiceImpl(deps, options.config, secrets);
    grpcServer.add(configServiceDefinition, configImpl);
    const healthService = createHealthService(deps, { ...options.health, view: registryView }, () => monitor.report());
    // Released before the cache and store: it leaves replicas/ while the store is still open.
    cleanup.push({ step: "stopping health checks", run: () => healthService.close() });
    grpcServer.add(HealthServiceDefinition, healthService.impl);
    grpcServer.add(HealthDefinition, HealthServiceImpl(healthState));
    const authImpl = createAuthServiceImpl(tokens);
    grpcServer.add(AuthServiceDefinition, authImpl);
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
    if (options.auth?.bootstrapToken !== undefined) {
      const created = await tokens.bootstrap(options.auth.bootstrapToken);
      logger.info(
        { created },
        created
          ? "auth: bootstrap admin token created"
          : "auth: an admin token was already bootstrapped; bootstrap token file ignored",
      );
    }
    if (options.auth)
      logger.info({ reflectionOpen: !options.auth.protectReflection }, "auth: bearer tokens required (default deny)");

    // HTTP first so that, in reverse on close, /healthz keeps answering 503 while gRPC drains.
    const http: RunningHttpServer = await listening("HTTP", httpListen, "http-listen", () =>
      startHttpServer(httpListen, {
        metrics,
        health: () => monitor.report(),
        logger,
        tls,
        handlers: [
          createApiHandler({
            methods: createRpcTable({
              services: [
                { definition: registryServiceDefinition, implementation: registryImpl },
                { definition: configServiceDefinition, implementation: configImpl },
                { definition: HealthServiceDefinition, implementation: healthService.impl },
                { definition: AuthServiceDefinition, implementation: authImpl },
              ],
              middleware: callMiddleware,
              descriptorSet,
            }),
            maxBodyBytes: MAX_RECEIVE_MESSAGE_BYTES,
            stampPeer: stampHttpPeerIdentity,
            logger: logger.child({ component: "http" }),
          }),
          ...(options.ui === false ? [] : [createUiHandler(loadUiPage(), ["/metrics", "/healthz"])]),
        ],
      }),
    );
    cleanup.push({ step: "closing HTTP server", run: () => http.close() });

    const grpcPort = await listening("gRPC", grpcListen, "listen", () =>
      grpcServer.listen(formatAddress(grpcListen.host, grpcListen.port), tls?.grpcCredentials),
    );
    cleanup.push({
      step: "stopping gRPC server",
      run: () => stopGrpc(grpcServer, shutdown, options.shutdownTimeoutMs ?? 10_000, logger),
    });

    // SERVING only once both ports listen, so a failed bind never follows "health: serving".
    monitor.markCacheReady();
    await monitor.check();

    const grpcAddress = formatAddress(grpcListen.host, grpcPort);
    const httpAddress = formatAddress(httpListen.host, http.port);
    logger.info(
      { grpcAddress, httpAddress, status: monitor.status, tls: tls !== undefined, mtls: tls?.requireClientCertificate ?? false },
      "switchboard serving",
    );

    let closing: Promise<void> | undefined;
    return {
      grpcAddress,
      httpAddress,
      replicaId,
      reloadCertificates: async () => {
        const [certificates, grants] = await Promise.all([tls?.reload(), certificateGrantsFile?.reload()]);
        return certificates === true || grants === true;
      },
      close: () =>
        (closing ??= (async () => {
          logger.info("shutdown: reporting NOT_SERVING");
          monitor.markShuttingDown();
          await releaseAll();
          logger.info("shutdown: complete");
        })()),
    };
  } catch (error) {
    await releaseAll("debug");
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

/** Runs listen(); a failure (e.g. the port was taken since checkCanListen) becomes a StartupError naming the setting. */
async function listening<T>(
  what: string,
  address: ListenAddress,
  setting: "listen" | "http-listen",
  listen: () => Promise<T>,
): Promise<T> {
  try {
    return await listen();
  } catch (error) {
    throw listenError(what, address, setting, error);
  }
}

async function waitForCache(cache: KeySpaceCache, timeoutMs: number, etcdEndpoints: string[] | undefined) {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(storeTimeoutError(timeoutMs, etcdEndpoints)), timeoutMs);
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
  const host = hostname()
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, "-")
    .replace(/^-+|-+$/g, "")
    .slice(0, 48);
  return `${host || "replica"}-${randomBytes(3).toString("hex")}`;
}
