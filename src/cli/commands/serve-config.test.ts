import { describe, expect, it } from "vitest";
import { UsageError } from "../command.js";
import { parseServeConfig } from "./serve-config.js";

describe("parseServeConfig", () => {
  it("uses the documented defaults", () => {
    expect(parseServeConfig([], {})).toEqual({
      listen: "0.0.0.0:7000",
      httpListen: "0.0.0.0:7001",
      etcdEndpoints: [],
      dataDir: ".data",
      prefix: "/switchboard/",
      replicaId: undefined,
      logLevel: "info",
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
    });
    const config = parseServeConfig(["--listen", "[::1]:7100", "--log-level=warn", "--etcd-endpoints", ""], env);
    expect(config.listen).toBe("[::1]:7100");
    expect(config.logLevel).toBe("warn");
    // An explicit empty flag means "no etcd": the embedded store.
    expect(config.etcdEndpoints).toEqual([]);
    expect(config.prefix).toBe("/sb/");
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
    [["--log-level", "verbose"], {}, '--log-level: expected one of fatal, error, warn, info, debug, trace, silent, got "verbose"'],
    [["--data-dir", " "], {}, "--data-dir: must not be empty"],
    [["--port", "1"], {}, "Unknown option '--port'"],
    [["extra"], {}, "Unexpected argument 'extra'"],
  ])("rejects %j %j", (argv, env, message) => {
    expect(() => parseServeConfig(argv, env)).toThrow(UsageError);
    expect(() => parseServeConfig(argv, env)).toThrow(message);
  });
});
