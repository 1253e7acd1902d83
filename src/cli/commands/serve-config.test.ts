import { describe, expect, it } from "vitest";
import { UsageError } from "../command.js";
import { parseServeConfig, SERVE_SETTINGS, serverOptionsFrom } from "./serve-config.js";

const TUNING_DEFAULTS = {
  protectionThreshold: 0.5,
  protectionMinInstances: 3,
  watchQueueLimit: undefined,
  bookmarkIntervalMs: 10_000,
  replicaTtlSeconds: 5,
  configHistoryLimit: 100,
  configMaxTxnOps: 128,
  configMaxImportBytes: 655_360,
  tls: undefined,
  etcdSecurity: { caFile: undefined, certFile: undefined, keyFile: undefined, username: undefined, passwordFile: undefined },
  ui: true,
  auth: false,
  authReflection: false,
  authBootstrapTokenFile: undefined,
  authCertGrantsFile: undefined,
  authMaxStreamsPerToken: 1000,
  authRegistrationsPerSecond: 100,
  auditLog: undefined,
  secretKeyFile: undefined,
  keepaliveTimeSeconds: 30,
  keepaliveTimeoutSeconds: 10,
  maxConnectionAgeSeconds: 1800,
  maxConnectionAgeGraceSeconds: 30,
  expiryHoldSeconds: 10,
};

describe("connection settings", () => {
  it("passes keepalive and connection age in milliseconds, from flags or SWITCHBOARD_* variables", () => {
    expect(serverOptionsFrom(parseServeConfig([], {})).connection).toEqual({
      keepaliveTimeMs: 30_000,
      keepaliveTimeoutMs: 10_000,
      maxConnectionAgeMs: 1_800_000,
      maxConnectionAgeGraceMs: 30_000,
    });
    const env = { SWITCHBOARD_KEEPALIVE_TIME: "5", SWITCHBOARD_MAX_CONNECTION_AGE: "0" };
    expect(
      serverOptionsFrom(parseServeConfig(["--keepalive-timeout", "2", "--max-connection-age-grace", "1"], env)).connection,
    ).toEqual({
      keepaliveTimeMs: 5_000,
      keepaliveTimeoutMs: 2_000,
      maxConnectionAgeMs: 0,
      maxConnectionAgeGraceMs: 1_000,
    });
  });

  it("rejects out-of-range values naming the setting", () => {
    expect(() => parseServeConfig(["--keepalive-timeout", "0"], {})).toThrow(
      /--keepalive-timeout: expected a whole number of seconds from 1 to 3600/,
    );
    expect(() => parseServeConfig([], { SWITCHBOARD_KEEPALIVE_TIME: "1.5" })).toThrow(/SWITCHBOARD_KEEPALIVE_TIME/);
    expect(() => parseServeConfig(["--max-connection-age", "-1"], {})).toThrow(/--max-connection-age/);
  });
});

describe("--auth-cert-grants", () => {
  const tls = ["--tls-cert-file", "s.crt", "--tls-key-file", "s.key", "--tls-client-ca-file", "ca.crt"];
  it("takes the file from the flag or SWITCHBOARD_AUTH_CERT_GRANTS, with --auth and mTLS", () => {
    expect(parseServeConfig(["--auth", ...tls, "--auth-cert-grants", "g.json"], {}).authCertGrantsFile).toBe("g.json");
    expect(parseServeConfig(["--auth", ...tls], { SWITCHBOARD_AUTH_CERT_GRANTS: "e.json" }).authCertGrantsFile).toBe("e.json");
  });
  it("needs --auth and --tls-client-ca-file", () => {
    const message = /--auth-cert-grants needs --auth and --tls-client-ca-file/;
    expect(() => parseServeConfig([...tls, "--auth-cert-grants", "g.json"], {})).toThrow(message);
    expect(() => parseServeConfig(["--auth", ...tls.slice(0, 4), "--auth-cert-grants", "g.json"], {})).toThrow(message);
  });
});

describe("parseServeConfig", () => {
  it("turns the dashboard off with --ui=false or SWITCHBOARD_UI=false", () => {
    expect(parseServeConfig(["--ui=false"], {}).ui).toBe(false);
    expect(parseServeConfig([], { SWITCHBOARD_UI: "false" }).ui).toBe(false);
    expect(serverOptionsFrom(parseServeConfig(["--ui", "false"], { SWITCHBOARD_UI: "true" })).ui).toBe(false);
    expect(() => parseServeConfig(["--ui=off"], {})).toThrow(/--ui: expected true or false, got "off"/);
  });

  it("uses the documented defaults", () => {
    expect(parseServeConfig([], {})).toEqual({
      listen: "0.0.0.0:7000",
      httpListen: "0.0.0.0:7001",
      etcdEndpoints: [],
      dataDir: ".data",
      prefix: "/switchboard/",
      replicaId: undefined,
      logLevel: "info",
      ...TUNING_DEFAULTS,
    });
  });

  it("documents in the help the defaults it applies", () => {
    const shown = Object.fromEntries(SERVE_SETTINGS.map((s) => [s.flag, s.default]));
    expect(shown).toMatchObject({
      "protection-threshold": "0.5",
      "protection-min-instances": "3",
      "watch-queue-limit": "",
      "bookmark-interval": "10000",
      "replica-ttl": "5",
      "config-history-limit": "100",
      "config-max-txn-ops": "128",
      "config-max-import-bytes": "655360",
    });
    const queue = SERVE_SETTINGS.find((s) => s.flag === "watch-queue-limit")!;
    expect(queue.description).toContain("default 1000 messages for Watch and WatchHealth, 256 views for WatchConfig");
  });

  it("reads the tuning flags and their SWITCHBOARD_* variables", () => {
    const env = {
      SWITCHBOARD_PROTECTION_THRESHOLD: "0.75",
      SWITCHBOARD_PROTECTION_MIN_INSTANCES: "5",
      SWITCHBOARD_WATCH_QUEUE_LIMIT: "64",
      SWITCHBOARD_BOOKMARK_INTERVAL: "2500",
      SWITCHBOARD_REPLICA_TTL: "10",
      SWITCHBOARD_CONFIG_HISTORY_LIMIT: "20",
      SWITCHBOARD_CONFIG_MAX_TXN_OPS: "256",
      SWITCHBOARD_CONFIG_MAX_IMPORT_BYTES: "1048576",
    };
    expect(parseServeConfig([], env)).toMatchObject({
      protectionThreshold: 0.75,
      protectionMinInstances: 5,
      watchQueueLimit: 64,
      bookmarkIntervalMs: 2_500,
      replicaTtlSeconds: 10,
      configHistoryLimit: 20,
      configMaxTxnOps: 256,
      configMaxImportBytes: 1_048_576,
    });
    const flags = [
      "--protection-threshold",
      "0",
      "--protection-min-instances=1",
      "--watch-queue-limit",
      "10",
      "--bookmark-interval",
      "100",
      "--replica-ttl",
      "2",
      "--config-history-limit",
      "1",
      "--config-max-txn-ops",
      "2",
      "--config-max-import-bytes",
      "1",
    ];
    expect(parseServeConfig(flags, env)).toMatchObject({
      protectionThreshold: 0,
      protectionMinInstances: 1,
      watchQueueLimit: 10,
      bookmarkIntervalMs: 100,
      replicaTtlSeconds: 2,
      configHistoryLimit: 1,
      configMaxTxnOps: 2,
      configMaxImportBytes: 1,
    });
    expect(parseServeConfig(["--protection-threshold", "1"], {}).protectionThreshold).toBe(1);
    expect(parseServeConfig(["--protection-threshold", ".25"], {}).protectionThreshold).toBe(0.25);
  });

  it("hands each tuning setting to every service it concerns", () => {
    const defaults = serverOptionsFrom(parseServeConfig([], {}));
    expect(defaults).toMatchObject({
      registry: { protectionThreshold: 0.5, protectionMinInstances: 3, bookmarkIntervalMs: 10_000 },
      health: { replicaTtlSeconds: 5, watch: { bookmarkIntervalMs: 10_000 } },
      config: { historyLimit: 100, maxTxnOps: 128, maxImportBytes: 655_360, bookmarkIntervalMs: 10_000 },
    });
    // Unset queue limit: each stream kind keeps its own default.
    expect(defaults.registry).not.toHaveProperty("watchQueueLimit");
    expect(defaults.health!.watch).not.toHaveProperty("queueLimit");
    expect(defaults.config).not.toHaveProperty("watchQueueLimit");

    const tuned = serverOptionsFrom(
      parseServeConfig(["--watch-queue-limit", "50", "--bookmark-interval", "500", "--replica-ttl", "7"], {}),
    );
    expect(tuned.registry).toMatchObject({ watchQueueLimit: 50, bookmarkIntervalMs: 500 });
    expect(tuned.health).toEqual({ replicaTtlSeconds: 7, watch: { queueLimit: 50, bookmarkIntervalMs: 500 } });
    expect(tuned.config).toMatchObject({ watchQueueLimit: 50, bookmarkIntervalMs: 500 });
    expect(tuned).toMatchObject({
      listen: "0.0.0.0:7000",
      httpListen: "0.0.0.0:7001",
      dataDir: ".data",
      prefix: "/switchboard/",
    });
  });

  it("reads SWITCHBOARD_* variables, and flags win over them", () => {
    const env = {
      SWITCHBOARD_LISTEN: "127.0.0.1:9000",
      SWITCHBOARD_HTTP_LISTEN: "127.0.0.1:9001",
      SWITCHBOARD_ETCD_ENDPOINTS: "127.0.0.1:2379, https://etcd-2:2379",
      SWITCHBOARD_DATA_DIR: "/var/lib/switchboard",
      SWITCHBOARD_PREFIX: "/sb/",
      SWITCHBOARD_REPLICA_ID: "replica-a",
      SWITCHBOARD_LOG_LEVEL: "DEBUG",
    };
    expect(parseServeConfig([], env)).toEqual({
      listen: "127.0.0.1:9000",
      httpListen: "127.0.0.1:9001",
      etcdEndpoints: ["http://127.0.0.1:2379", "https://etcd-2:2379"],
      dataDir: "/var/lib/switchboard",
      prefix: "/sb/",
      replicaId: "replica-a",
      logLevel: "debug",
      ...TUNING_DEFAULTS,
    });
    const config = parseServeConfig(["--listen", "[::1]:7100", "--log-level=warn", "--etcd-endpoints", ""], env);
    expect(config.listen).toBe("[::1]:7100");
    expect(config.logLevel).toBe("warn");
    // An explicit empty flag means "no etcd": the embedded store.
    expect(config.etcdEndpoints).toEqual([]);
    expect(config.prefix).toBe("/sb/");
  });

  it("reads the TLS and etcd security files from flags and SWITCHBOARD_* variables", () => {
    const env = {
      SWITCHBOARD_TLS_CERT_FILE: "/tls/server.crt",
      SWITCHBOARD_TLS_KEY_FILE: "/tls/server.key",
      SWITCHBOARD_TLS_CLIENT_CA_FILE: "/tls/clients.crt",
      SWITCHBOARD_ETCD_CA_FILE: "/etcd/ca.crt",
      SWITCHBOARD_ETCD_CERT_FILE: "/etcd/client.crt",
      SWITCHBOARD_ETCD_KEY_FILE: "/etcd/client.key",
      SWITCHBOARD_ETCD_USERNAME: "switchboard",
      SWITCHBOARD_ETCD_PASSWORD_FILE: "/etcd/password",
    };
    const config = parseServeConfig(["--tls-client-ca-file", "/other/ca.crt"], env);
    expect(config.tls).toEqual({ certFile: "/tls/server.crt", keyFile: "/tls/server.key", clientCaFile: "/other/ca.crt" });
    expect(config.etcdSecurity).toEqual({
      caFile: "/etcd/ca.crt",
      certFile: "/etcd/client.crt",
      keyFile: "/etcd/client.key",
      username: "switchboard",
      passwordFile: "/etcd/password",
    });
    expect(serverOptionsFrom(config)).toMatchObject({
      tls: { certFile: "/tls/server.crt", keyFile: "/tls/server.key", clientCaFile: "/other/ca.crt" },
      etcdSecurity: config.etcdSecurity,
    });
    const plainTls = serverOptionsFrom(parseServeConfig(["--tls-cert-file", "a.crt", "--tls-key-file", "a.key"], {}));
    expect(plainTls.tls).toEqual({ certFile: "a.crt", keyFile: "a.key" });
    expect(plainTls.etcdSecurity).toEqual({});
    expect(serverOptionsFrom(parseServeConfig([], {}))).not.toHaveProperty("tls");
  });

  it("treats empty environment variables as unset", () => {
    expect(parseServeConfig([], { SWITCHBOARD_LISTEN: "", SWITCHBOARD_ETCD_ENDPOINTS: "" }).listen).toBe("0.0.0.0:7000");
  });

  it.each([
    [["--listen", "7000"], {}, '--listen: expected host:port (e.g. 0.0.0.0:7000 or [::]:7000), got "7000"'],
    [[], { SWITCHBOARD_HTTP_LISTEN: "localhost:99999" }, "SWITCHBOARD_HTTP_LISTEN: expected host:port"],
    [["--listen", "0.0.0.0:7000", "--http-listen", "127.0.0.1:7000"], {}, "must use different ports (both 7000)"],
    [["--etcd-endpoints", "etcd:2379,ftp://x:1"], {}, '--etcd-endpoints: expected http(s)://host:port entries, got "ftp://x:1"'],
    [[], { SWITCHBOARD_ETCD_ENDPOINTS: "etcd" }, 'SWITCHBOARD_ETCD_ENDPOINTS: expected http(s)://host:port entries, got "etcd"'],
    [["--prefix", "/switchboard"], {}, '--prefix: must end with "/"'],
    [["--replica-id", "a b"], {}, "--replica-id: letters, digits"],
    [
      ["--log-level", "verbose"],
      {},
      '--log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"',
    ],
    [["--data-dir", " "], {}, "--data-dir: must not be empty"],
    [["--protection-threshold", "1.5"], {}, '--protection-threshold: expected a share from 0 to 1 (e.g. 0.5), got "1.5"'],
    [["--protection-threshold=-0.1"], {}, "--protection-threshold: expected a share from 0 to 1"],
    [
      [],
      { SWITCHBOARD_PROTECTION_THRESHOLD: "half" },
      'SWITCHBOARD_PROTECTION_THRESHOLD: expected a share from 0 to 1 (e.g. 0.5), got "half"',
    ],
    [["--protection-min-instances", "0"], {}, '--protection-min-instances: expected a whole number from 1 to 1000000, got "0"'],
    [["--protection-min-instances", "2.5"], {}, "--protection-min-instances: expected a whole number"],
    [["--watch-queue-limit", "0"], {}, '--watch-queue-limit: expected a whole number from 1 to 1000000, got "0"'],
    [[], { SWITCHBOARD_WATCH_QUEUE_LIMIT: "1e3" }, "SWITCHBOARD_WATCH_QUEUE_LIMIT: expected a whole number"],
    [
      ["--bookmark-interval", "10s"],
      {},
      '--bookmark-interval: expected a whole number of milliseconds from 100 to 3600000, got "10s"',
    ],
    [["--bookmark-interval", "50"], {}, "--bookmark-interval: expected a whole number of milliseconds from 100"],
    [["--replica-ttl", "1"], {}, '--replica-ttl: expected a whole number of seconds from 2 to 300, got "1"'],
    [[], { SWITCHBOARD_REPLICA_TTL: "301" }, "SWITCHBOARD_REPLICA_TTL: expected a whole number of seconds from 2 to 300"],
    [["--config-history-limit", "0"], {}, "--config-history-limit: expected a whole number from 1 to 10000"],
    [["--config-max-txn-ops", "1"], {}, "--config-max-txn-ops: expected a whole number from 2 to 100000"],
    [
      ["--config-max-import-bytes", "640KiB"],
      {},
      '--config-max-import-bytes: expected a whole number from 1 to 1073741824, got "640KiB"',
    ],
    [["--tls-cert-file", "a.crt"], {}, "--tls-cert-file and --tls-key-file go together"],
    [[], { SWITCHBOARD_TLS_KEY_FILE: "a.key" }, "--tls-cert-file and --tls-key-file go together"],
    [["--tls-client-ca-file", "ca.crt"], {}, "--tls-client-ca-file needs --tls-cert-file and --tls-key-file"],
    [["--etcd-key-file", "k"], {}, "--etcd-cert-file and --etcd-key-file go together"],
    [["--etcd-username", "root"], {}, "--etcd-username and --etcd-password-file go together"],
    [["--port", "1"], {}, "unknown flag --port"],
    [["extra"], {}, 'unexpected argument "extra"'],
  ])("rejects %j %j", (argv, env, message) => {
    expect(() => parseServeConfig(argv, env)).toThrow(UsageError);
    expect(() => parseServeConfig(argv, env)).toThrow(message);
  });

  it("reads the auth switches and refuses a bootstrap token file without --auth", () => {
    expect(
      parseServeConfig(["--auth", "--auth-bootstrap-token-file", "admin.token", "--audit-log", "audit.log"], {}),
    ).toMatchObject({
      auth: true,
      authBootstrapTokenFile: "admin.token",
      auditLog: "audit.log",
    });
    expect(parseServeConfig([], { SWITCHBOARD_AUTH: "1", SWITCHBOARD_AUTH_REFLECTION: "true" })).toMatchObject({
      auth: true,
      authReflection: true,
    });
    expect(() => parseServeConfig(["--auth-bootstrap-token-file", "admin.token"], {})).toThrow(
      new UsageError("--auth-bootstrap-token-file needs --auth"),
    );
    expect(() => parseServeConfig([], { SWITCHBOARD_AUTH: "yes" })).toThrow(
      new UsageError('SWITCHBOARD_AUTH: expected true or false, got "yes"'),
    );
    expect(serverOptionsFrom(parseServeConfig(["--auth", "--auth-max-streams-per-token", "5"], {})).auth).toEqual({
      protectReflection: false,
      maxStreamsPerToken: 5,
      registrationsPerSecondPerToken: 100,
    });
  });
});
