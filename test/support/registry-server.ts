/**
 * A RegistryService alone on 127.0.0.1:0, in this process, over a given
 * store, with registry tuning the full server does not expose (short
 * bookmarks, small watch queues, small history). The same middleware chain
 * as the real server for errors and shutdown.
 *
 *   const server = await startRegistryServer({ store, registry: { bookmarkIntervalMs: 200 } });
 *   const client = createClient(RegistryServiceDefinition, createChannel(server.address));
 *   ...
 *   await server.close(); // ends open streams; the caller closes the store
 */
import { createServer } from "nice-grpc";
import { pino } from "pino";
import { Registry as MetricsRegistry } from "prom-client";
import { createKeySpaceCache } from "../../src/cache/index.js";
import type { KeySpaceCache } from "../../src/cache/index.js";
import { createCallMiddleware } from "../../src/server/call-middleware.js";
import type { RegistryServiceOptions } from "../../src/server/registry-service.js";
import { createRegistryServiceImpl, registryServiceDefinition } from "../../src/server/registry-service.js";
import type { Store } from "../../src/store/index.js";

export interface RegistryServerOptions {
  store: Store;
  /** Default "/switchboard/". */
  prefix?: string;
  registry?: RegistryServiceOptions;
}

export interface RegistryServer {
  address: string;
  cache: KeySpaceCache;
  metrics: MetricsRegistry;
  close(): Promise<void>;
}

export async function startRegistryServer(options: RegistryServerOptions): Promise<RegistryServer> {
  const logger = pino({ level: process.env.SWITCHBOARD_TEST_LOG_LEVEL ?? "silent" });
  const prefix = options.prefix ?? "/switchboard/";
  const cache = createKeySpaceCache({ store: options.store, prefix, logger });
  const metrics = new MetricsRegistry();
  const shutdown = new AbortController();
  const server = createServer().use(createCallMiddleware({ metrics, logger, shutdownSignal: shutdown.signal }));
  server.add(
    registryServiceDefinition,
    createRegistryServiceImpl(
      { store: options.store, cache, prefix, replicaId: "test", logger, metrics, shutdownSignal: shutdown.signal },
      options.registry,
    ),
  );
  await cache.ready;
  const port = await server.listen("127.0.0.1:0");
  return {
    address: `127.0.0.1:${port}`,
    cache,
    metrics,
    async close() {
      const drained = server.shutdown();
      shutdown.abort();
      const timer = setTimeout(() => server.forceShutdown(), 5_000);
      await drained;
      clearTimeout(timer);
      await cache.close();
    },
  };
}
