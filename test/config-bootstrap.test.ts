/**
 * SDK bootstrap() against a real server (on a real etcd, and on the embedded
 * store): layering plus environment overrides, live changes, and starting
 * from the last-known-config file while the control plane is down.
 */
import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pino } from "pino";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { bootstrap, createSwitchboardClient, InvalidArgumentError, UnavailableError } from "@switchboard/client";
import type { BootstrappedConfig, ConfigChange, SdkLogger, SwitchboardClient } from "@switchboard/client";
import { startServer } from "../src/server/index.js";
import type { RunningServer } from "../src/server/index.js";
import { createEmbeddedStore, createEtcdStore } from "../src/store/index.js";
import type { Store } from "../src/store/index.js";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { eventually } from "./support/eventually.js";

const etcdBinary = requireEtcd();
const silent = pino({ level: "silent" });

const backends = [...(etcdBinary ? [{ name: "etcd", etcd: true }] : []), { name: "embedded", etcd: false }];

/** A logger that remembers what it was told. */
function recordingLogger() {
  const lines: { level: string; msg: string; fields: Record<string, unknown> }[] = [];
  const at =
    (level: string) =>
    (fields: unknown, msg?: string): void => {
      if (typeof fields === "string") lines.push({ level, msg: fields, fields: {} });
      else lines.push({ level, msg: msg ?? "", fields: fields as Record<string, unknown> });
    };
  const logger = { debug: at("debug"), info: at("info"), warn: at("warn"), error: at("error") } as unknown as SdkLogger;
  return { logger, lines };
}

const until = (check: () => boolean, timeoutMs = 10_000) => eventually(check, timeoutMs, "condition", 25);

describe.each(backends)("bootstrap() on $name", ({ etcd: useEtcd }) => {
  let etcd: EtcdServer | undefined;
  let store: Store;
  let server: RunningServer | undefined;
  let address: string;
  let admin: SwitchboardClient;
  let dir: string;
  const configs: BootstrappedConfig[] = [];

  const serve = (listen = "127.0.0.1:0") =>
    startServer({ store, listen, httpListen: "127.0.0.1:0", logger: silent, shutdownTimeoutMs: 2_000 });

  beforeAll(async () => {
    if (useEtcd) etcd = await startEtcd();
    store = etcd ? createEtcdStore({ endpoints: etcd.endpoints }) : await createEmbeddedStore();
    server = await serve();
    address = server.grpcAddress;
    admin = createSwitchboardClient({ address });
    dir = await mkdtemp(join(tmpdir(), "config-bootstrap-"));

    const put = (service: string, profile: string, key: string, value: string, contentType = "") =>
      admin.config.putValue({ scope: { namespace: "shop", service, profile }, key, value, contentType });
    await put("", "", "db.host", "db.shop.internal");
    await put("", "", "db.pool-size", "10");
    await put("", "", "log.format", "json");
    await put("", "prod", "db.pool-size", "20");
    await put("", "prod", "cache.enabled", "yes");
    await put("orders", "", "db.name", "orders");
    await put("orders", "", "limits", "rps: 100\nburst: 20\n", "application/yaml");
    await put("orders", "prod", "db.host", "orders-db.prod.internal");
    await put("orders", "prod", "features", '{"beta": false}', "application/json");
  });

  afterEach(() => {
    for (const config of configs.splice(0)) config.close();
  });

  afterAll(async () => {
    admin?.close();
    await server?.close();
    await store?.close();
    await etcd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  const env = (extra: Record<string, string> = {}) => ({
    SWITCHBOARD_ADDRESS: address,
    SWITCHBOARD_NAMESPACE: "shop",
    SWITCHBOARD_SERVICE: "orders",
    SWITCHBOARD_PROFILE: "prod",
    SWITCHBOARD_CACHE_FILE: join(dir, "orders-prod.json"),
    ...extra,
  });

  async function start(options: Parameters<typeof bootstrap>[0]) {
    const config = await bootstrap({ logger: silent, ...options });
    configs.push(config);
    return config;
  }

  it("resolves the four layers and lets environment variables win", async () => {
    const config = await start({
      env: env({
        SWITCHBOARD_CONFIG_DB_POOL_SIZE: "64", // overrides the namespace profile's 20
        SWITCHBOARD_CONFIG_LOG_LEVEL: "debug", // a key only the environment has
        UNRELATED: "x",
      }),
    });
    expect(config.source).toBe("control-plane");
    expect([config.namespace, config.service, config.profile]).toEqual(["shop", "orders", "prod"]);
    expect(config.get("db.host")).toBe("orders-db.prod.internal"); // service profile over namespace default
    expect(config.get("db.name")).toBe("orders"); // service default
    expect(config.getBoolean("cache.enabled")).toBe(true); // namespace profile
    expect(config.get("log.format")).toBe("json"); // namespace default
    expect(config.getNumber("db.pool-size")).toBe(64); // environment
    expect(config.get("log.level")).toBe("debug");
    expect(config.getJson("limits")).toEqual({ rps: 100, burst: 20 });
    expect(config.getJson<{ beta: boolean }>("features")?.beta).toBe(false);
    expect(config.get("missing")).toBeUndefined();
    expect(config.getNumber("missing", 5)).toBe(5);
    expect(() => config.require("missing")).toThrow(InvalidArgumentError);
    expect(() => config.getNumber("db.host")).toThrow(/not a number/);
    expect(config.keys()).toEqual([
      "cache.enabled",
      "db.host",
      "db.name",
      "db.pool-size",
      "features",
      "limits",
      "log.format",
      "log.level",
    ]);
    expect(config.entries().find((e) => e.key === "db.pool-size")).toMatchObject({
      origin: "env",
      envVar: "SWITCHBOARD_CONFIG_DB_POOL_SIZE",
    });
    expect(config.entries().find((e) => e.key === "db.host")).toMatchObject({ origin: "service-profile" });
    expect(config.entries().find((e) => e.key === "cache.enabled")).toMatchObject({ origin: "namespace-profile" });
    expect(config.parse((values) => ({ pool: Number(values["db.pool-size"]), host: values["db.host"] }))).toEqual({
      pool: 64,
      host: "orders-db.prod.internal",
    });

    // Options win over the environment; another profile resolves other layers.
    const staging = await start({ env: env(), profile: "", cacheFile: false });
    expect(staging.get("db.host")).toBe("db.shop.internal");
    expect(staging.getNumber("db.pool-size")).toBe(10);
    expect(staging.has("features")).toBe(false);
  });

  it("calls onChange once per change of the effective config, not for writes it cannot see", async () => {
    const config = await start({ env: env({ SWITCHBOARD_CONFIG_DB_NAME: "pinned" }), backoff: { initialMs: 50, maxMs: 200 } });
    const changes: ConfigChange[] = [];
    config.onChange((change) => changes.push(change));
    const scope = (service: string, profile: string) => ({ namespace: "shop", service, profile });

    const first = await admin.config.putValue({
      scope: scope("orders", "prod"),
      key: "features",
      value: '{"beta": true}',
      contentType: "application/json",
    });
    await until(() => changes.length === 1);
    expect(changes[0]).toEqual({ changedKeys: ["features"], revision: Number(first.revision) });
    expect(config.getJson<{ beta: boolean }>("features")?.beta).toBe(true);
    expect(config.revision).toBe(Number(first.revision));

    await admin.config.putValue({ scope: scope("", ""), key: "db.host", value: "shadowed" }); // below the service profile
    await admin.config.putValue({ scope: scope("orders", ""), key: "db.name", value: "renamed" }); // overridden by the environment
    const last = await admin.config.putValue({ scope: scope("", "prod"), key: "new.key", value: "1" });
    await until(() => changes.length === 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect(changes).toHaveLength(2);
    expect(changes[1]).toEqual({ changedKeys: ["new.key"], revision: Number(last.revision) });
    expect(config.get("db.name")).toBe("pinned");

    // The cache file follows the live view.
    const cached = JSON.parse(await readFile(join(dir, "orders-prod.json"), "utf8"));
    expect(cached.revision).toBe(Number(last.revision));
    expect(cached.entries.find((e: { key: string }) => e.key === "new.key")).toMatchObject({
      value: "1",
      layer: "namespace-profile",
    });
  });

  it("starts from the cache file when the control plane is down, says so, and catches up when it returns", async () => {
    const cacheFile = join(dir, "down.json");
    const live = await start({ env: env(), cacheFile });
    const expected = live.toObject();
    live.close();
    expect(existsSync(cacheFile)).toBe(true);

    await server!.close();
    server = undefined;
    const { logger, lines } = recordingLogger();
    const config = await start({ env: env(), cacheFile, logger, timeoutMs: 2_000, backoff: { initialMs: 50, maxMs: 200 } });
    expect(config.source).toBe("cache-file");
    expect(config.toObject()).toEqual(expected);
    const warning = lines.find((line) => line.level === "warn");
    expect(warning?.msg).toContain("last known configuration from the cache file");
    expect(warning?.fields).toMatchObject({ cacheFile, namespace: "shop", service: "orders", profile: "prod" });

    // No cache file and no control plane: bootstrap fails loudly.
    await expect(start({ env: env(), cacheFile: join(dir, "never-written.json"), timeoutMs: 2_000 })).rejects.toBeInstanceOf(
      UnavailableError,
    );

    // The control plane returns (same address) with a changed value: the instance catches up by itself.
    const changes: ConfigChange[] = [];
    config.onChange((change) => changes.push(change));
    server = await serve(address);
    // grpc-js reconnects with backoff after the outage (its subchannels are shared per address): retry until it has.
    const deadline = Date.now() + 15_000;
    for (;;) {
      try {
        await admin.config.putValue({
          scope: { namespace: "shop", service: "orders", profile: "prod" },
          key: "db.host",
          value: "moved.internal",
        });
        break;
      } catch (error) {
        if (!(error instanceof UnavailableError) || Date.now() > deadline) throw error;
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    await until(() => config.get("db.host") === "moved.internal", 15_000);
    expect(config.source).toBe("control-plane");
    expect(changes.flatMap((change) => change.changedKeys)).toContain("db.host");
    expect(lines.some((line) => line.msg.includes("reachable again"))).toBe(true);
  });
});
