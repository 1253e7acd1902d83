/**
 * Secret config values against a real etcd: sealed (AES-256-GCM) in the
 * store and its history, so etcd never holds them in clear; redacted and
 * flagged for callers without read-secrets, in every read and in the CLI;
 * in clear for read-secrets (and the SDK's bootstrap, whose cache file is
 * 0600); never in server logs or audit lines; a replica with the key file
 * rotated (old key kept) still opens them.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, stat } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough, Writable } from "node:stream";
import { Etcd3 } from "etcd3";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../generated/switchboard/auth/v1/auth.js";
import { parseSecretKeys } from "../src/auth/index.js";
import { COMMANDS } from "../src/cli/command-table.js";
import { runCli } from "../src/cli/run-cli.js";
import { bootstrap, createSwitchboardClient, InvalidArgumentError } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const etcdBinary = requireEtcd();
const SECRET = `pw-${randomBytes(12).toString("hex")}`;
const IMPORTED = `imported-${randomBytes(12).toString("hex")}`;
const keyLine = (id: string) => `${id} ${randomBytes(32).toString("base64")}`;

function collector(): { logger: pino.Logger; text: () => string } {
  const chunks: string[] = [];
  const sink = new Writable({
    write(chunk: Buffer, _encoding, done) {
      chunks.push(chunk.toString());
      done();
    },
  });
  return { logger: pino({ level: "debug" }, sink), text: () => chunks.join("") };
}

describe.skipIf(!etcdBinary)("secret config values", () => {
  let etcd: EtcdServer;
  let server: TestServer;
  let rotated: TestServer;
  let dir: string;
  const logs = collector();
  const audit = collector();
  const adminToken = `${randomBytes(8).toString("hex")}.${randomBytes(32).toString("base64url")}`;
  const k1 = keyLine("k1");
  const rotatedKeys = `${k1}\n${keyLine("k2")}`;
  let reader = "";
  let secretReader = "";
  const clients: SwitchboardClient[] = [];
  const client = (address: string, token: string) => {
    const made = createSwitchboardClient({ address, token });
    clients.push(made);
    return made;
  };
  const scope = { namespace: "shop", service: "orders", profile: "" };

  beforeAll(async () => {
    etcd = await startEtcd();
    dir = await mkdtemp(join(tmpdir(), "switchboard-secrets-"));
    server = await startTestServer({
      etcdEndpoints: etcd.endpoints,
      auth: { bootstrapToken: adminToken },
      secretKeys: parseSecretKeys(k1),
      logger: logs.logger,
      auditLog: audit.logger,
    });
    const admin = client(server.grpcAddress, adminToken);
    reader = (await admin.auth.createToken({ grants: [{ namespace: "shop", service: "", role: Role.ROLE_READ }] })).secret;
    secretReader = (
      await admin.auth.createToken({ grants: [{ namespace: "shop", service: "orders", role: Role.ROLE_READ_SECRETS }] })
    ).secret;
    await admin.config.putValue({ scope, key: "db.password", value: SECRET, secret: true });
    await admin.config.putValue({ scope, key: "db.url", value: "postgres://db:5432/orders" });
    await admin.config.importValues({ scope, entries: [{ key: "api.key", value: IMPORTED, contentType: "", secret: true }] });
    // A second replica whose key file gained a newer key: the newest seals, every key opens.
    rotated = await startTestServer({
      etcdEndpoints: etcd.endpoints,
      auth: {},
      secretKeys: parseSecretKeys(rotatedKeys),
    });
  }, 60_000);

  afterAll(async () => {
    for (const made of clients) made.close();
    await rotated?.close();
    await server?.close();
    await etcd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("never stores a secret in clear in etcd, values or history", async () => {
    const etcd3 = new Etcd3({ hosts: etcd.endpoints });
    try {
      const all = await etcd3.getAll().prefix("/switchboard/").strings();
      const dump = JSON.stringify(all);
      expect(dump).not.toContain(SECRET);
      expect(dump).not.toContain(IMPORTED);
      const sealed = Object.entries(all).filter(([, value]) => value.includes('"secret":true'));
      // db.password and api.key, each as a value and one history record.
      expect(sealed.map(([key]) => key.replace(/\/[0-9]{16}-[0-9a-f]{8}$/, "/<id>")).sort()).toEqual([
        "/switchboard/config-history/shop/orders/_/api.key/<id>",
        "/switchboard/config-history/shop/orders/_/db.password/<id>",
        "/switchboard/config/shop/orders/_/api.key",
        "/switchboard/config/shop/orders/_/db.password",
      ]);
      for (const [, value] of sealed) expect(value).toMatch(/\nsb1:k1:/);
    } finally {
      etcd3.close();
    }
  });

  it("redacts secrets, flagged, in every read of a caller without read-secrets", async () => {
    const c = client(server.grpcAddress, reader);
    const redacted = { value: "", secret: true, redacted: true };
    expect(await c.config.getValue({ scope, key: "db.password" })).toMatchObject({ value: redacted });
    const view = await c.config.getConfig({ namespace: "shop", service: "orders" });
    expect(view.entries.map((e) => [e.key, e.value, e.secret, e.redacted])).toEqual([
      ["api.key", "", true, true],
      ["db.password", "", true, true],
      ["db.url", "postgres://db:5432/orders", false, false],
    ]);
    const { values } = await c.config.listValues({ scope });
    expect(values.filter((v) => v.secret).every((v) => v.redacted && v.value === "")).toBe(true);
    const { versions } = await c.config.getHistory({ scope, key: "db.password" });
    expect(versions[0]).toMatchObject(redacted);
    const controller = new AbortController();
    for await (const update of c.config.watchConfig({ namespace: "shop", service: "orders" }, { signal: controller.signal })) {
      expect(update.entries.find((e) => e.key === "db.password")).toMatchObject(redacted);
      break;
    }
    controller.abort();
  });

  it("opens secrets for read-secrets on the scope, on a replica with a rotated key file too", async () => {
    for (const address of [server.grpcAddress, rotated.grpcAddress]) {
      const c = client(address, secretReader);
      expect((await c.config.getValue({ scope, key: "db.password" })).value).toMatchObject({
        value: SECRET,
        secret: true,
        redacted: false,
      });
      const view = await c.config.getConfig({ namespace: "shop", service: "orders" });
      expect(view.entries.find((e) => e.key === "api.key")).toMatchObject({ value: IMPORTED, secret: true, redacted: false });
      expect((await c.config.getHistory({ scope, key: "db.password" })).versions[0]?.value).toBe(SECRET);
    }
  });

  it("masks secrets in the CLI for a caller without read-secrets", async () => {
    const run = async (...argv: string[]) => {
      const stdout = new PassThrough();
      let out = "";
      stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
      const code = await runCli(argv, COMMANDS, {
        env: { SWITCHBOARD_ADDRESS: server.grpcAddress, SWITCHBOARD_TOKEN: reader },
        stdout,
        stderr: new PassThrough(),
      });
      return { code, out };
    };
    const got = await run("config", "get", "db.password", "-n", "shop", "-s", "orders");
    expect(got).toEqual({ code: 0, out: "********\n" });
    const listed = await run("config", "list", "--resolved", "-n", "shop", "-s", "orders");
    expect(listed.out).toMatch(/^db\.password\s+\*{8}\s/m);
    const json = await run("config", "get", "api.key", "-n", "shop", "-s", "orders", "--json");
    expect(JSON.parse(json.out)).toMatchObject({ value: "", secret: true, redacted: true });
    for (const output of [got.out, listed.out, json.out]) {
      expect(output).not.toContain(SECRET);
      expect(output).not.toContain(IMPORTED);
    }
  });

  it("gives bootstrap() its secrets when its token allows, with the cache file at mode 0600", async () => {
    const cacheFile = join(dir, "orders.json");
    const config = await bootstrap({
      address: server.grpcAddress,
      token: secretReader,
      namespace: "shop",
      service: "orders",
      cacheFile,
      env: {},
      watch: false,
    });
    try {
      expect(config.get("db.password")).toBe(SECRET);
      expect((await stat(cacheFile)).mode & 0o777).toBe(0o600);
    } finally {
      config.close();
    }
    const withoutSecrets = await bootstrap({
      address: server.grpcAddress,
      token: reader,
      namespace: "shop",
      service: "orders",
      cacheFile: false,
      env: {},
      watch: false,
    });
    try {
      expect(withoutSecrets.get("db.password")).toBeUndefined();
      expect(withoutSecrets.get("db.url")).toBe("postgres://db:5432/orders");
    } finally {
      withoutSecrets.close();
    }
  });

  it("keeps secrets out of errors, server logs and audit lines, and refuses secrets on a server without keys", async () => {
    const invalid = await client(server.grpcAddress, adminToken)
      .config.putValue({ scope, key: "bad.json", value: SECRET, contentType: "application/json", secret: true })
      .catch((e: unknown) => e);
    expect(invalid).toBeInstanceOf(InvalidArgumentError);
    expect((invalid as Error).message).toBe("value: is not valid JSON (details withheld: the value is secret)");
    expect(audit.text()).toContain("db.password");
    for (const text of [logs.text(), audit.text()]) {
      expect(text).not.toContain(SECRET);
      expect(text).not.toContain(IMPORTED);
    }
    const noKeys = await startTestServer({ etcdEndpoints: etcd.endpoints });
    try {
      const error = await createSwitchboardClient({ address: noKeys.grpcAddress })
        .config.putValue({ scope, key: "x", value: SECRET, secret: true })
        .catch((e: unknown) => e);
      expect(error).toBeInstanceOf(InvalidArgumentError);
      expect((error as Error).message).toBe("secret: this server has no --secret-key-file: secret values cannot be stored");
    } finally {
      await noKeys.close();
    }
    await readFile(join(dir, "orders.json"), "utf8").then((text) => expect(text).toContain(SECRET)); // only in the 0600 cache file
  });

  // Last: after it the first replica (k1 only) can no longer open the values.
  it("config rotate-secrets re-seals current values with the newest key (admin on * only)", async () => {
    const run = async (token: string) => {
      const stdout = new PassThrough();
      const stderr = new PassThrough();
      let out = "";
      let err = "";
      stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
      stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
      const code = await runCli(["config", "rotate-secrets", "--json"], COMMANDS, {
        env: { SWITCHBOARD_ADDRESS: rotated.grpcAddress, SWITCHBOARD_TOKEN: token },
        stdout,
        stderr,
      });
      return { code, out, err };
    };
    const denied = await run(secretReader);
    expect(denied.code).toBe(1);
    expect(denied.err).toContain('permission "admin" on * required');
    const reader2 = client(rotated.grpcAddress, secretReader);
    const historyBefore = await reader2.config.getHistory({ scope, key: "db.password" });
    const done = await run(adminToken);
    // Two current values and their two history records.
    expect(JSON.parse(done.out)).toMatchObject({ resealed: 4, skipped: 0, keyId: "k2" });
    expect(JSON.parse((await run(adminToken)).out)).toMatchObject({ resealed: 0, skipped: 0 });

    const etcd3 = new Etcd3({ hosts: etcd.endpoints });
    try {
      const values = await etcd3.getAll().prefix("/switchboard/config/shop/orders/").strings();
      expect(
        Object.values(values)
          .filter((v) => v.includes('"secret":true'))
          .map((v) => v.split("\n")[1]!.slice(0, 7)),
      ).toEqual(["sb1:k2:", "sb1:k2:"]);
      expect(JSON.stringify(values)).not.toContain(SECRET);
      const history = await etcd3.getAll().prefix("/switchboard/config-history/shop/orders/").strings();
      const sealedHistory = Object.values(history).filter((v) => v.includes('"secret":true'));
      expect(sealedHistory.map((v) => v.split("\n")[1]!.slice(0, 7))).toEqual(["sb1:k2:", "sb1:k2:"]);
      expect(JSON.stringify(history)).not.toContain(SECRET);
    } finally {
      etcd3.close();
    }
    const c = client(rotated.grpcAddress, secretReader);
    expect((await c.config.getValue({ scope, key: "db.password" })).value?.value).toBe(SECRET);
    // History keeps its versions and their revisions (what rollback names), now sealed with k2.
    expect(await c.config.getHistory({ scope, key: "db.password" })).toEqual(historyBefore);

    // So k1 can leave the key file: a replica that knows only k2 still reads values and history.
    const k2Only = await startTestServer({
      etcdEndpoints: etcd.endpoints,
      auth: {},
      secretKeys: parseSecretKeys(rotatedKeys.split("\n")[1]!),
    });
    try {
      const onlyK2 = client(k2Only.grpcAddress, secretReader);
      expect((await onlyK2.config.getValue({ scope, key: "db.password" })).value?.value).toBe(SECRET);
      expect(await onlyK2.config.getHistory({ scope, key: "db.password" })).toEqual(historyBefore);
      expect((await onlyK2.config.getHistory({ scope, key: "api.key" })).versions.map((v) => [v.value, v.redacted])).toEqual([
        [IMPORTED, false],
      ]);
    } finally {
      await k2Only.close();
    }
  });
});
