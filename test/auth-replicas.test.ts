/**
 * --auth on two server processes sharing one etcd: the bootstrap race gives
 * exactly one first admin; a revocation on one replica ends an open Watch on
 * the other within 2 s; a token scoped to shop/orders with register can
 * register orders but not payments and cannot read config; the CLI's token
 * commands; one audit line per write and per auth failure.
 */
import { randomBytes } from "node:crypto";
import { mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { PassThrough } from "node:stream";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { PermissionDeniedError, UnauthenticatedError, createSwitchboardClient } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { COMMANDS } from "../src/cli/command-table.js";
import { runCli } from "../src/cli/run-cli.js";
import { Role } from "../generated/switchboard/auth/v1/auth.js";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { eventually } from "./support/eventually.js";
import { spawnServer } from "./support/server.js";
import type { SpawnedServer } from "./support/server.js";

const etcdBinary = requireEtcd();

const newToken = () => `${randomBytes(8).toString("hex")}.${randomBytes(32).toString("base64url")}`;

async function cli(address: string, ...argv: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const stdout = new PassThrough();
  const stderr = new PassThrough();
  let out = "";
  let err = "";
  stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
  stderr.on("data", (chunk: Buffer) => (err += chunk.toString()));
  const code = await runCli(argv, COMMANDS, { env: { SWITCHBOARD_ADDRESS: address }, stdout, stderr });
  return { code, stdout: out, stderr: err };
}

describe.skipIf(!etcdBinary)("--auth on two replicas of one etcd", () => {
  let etcd: EtcdServer;
  let dir: string;
  let servers: SpawnedServer[] = [];
  let candidates: string[] = [];
  let admin = "";
  const clients: SwitchboardClient[] = [];
  const client = (address: string, token: string) => {
    const made = createSwitchboardClient({ address, token, defaultTimeoutMs: 10_000 });
    clients.push(made);
    return made;
  };

  beforeAll(async () => {
    etcd = await startEtcd();
    dir = await mkdtemp(join(tmpdir(), "switchboard-auth-"));
    candidates = [newToken(), newToken()];
    await Promise.all(candidates.map((token, i) => writeFile(join(dir, `admin-${i}.token`), `${token}\n`, { mode: 0o600 })));
    // Both replicas start at once, each with its own bootstrap token: a race for the first admin.
    servers = await Promise.all(
      [0, 1].map((i) =>
        spawnServer({
          etcdEndpoints: etcd.endpoints,
          args: [
            "--auth",
            `--auth-bootstrap-token-file=${join(dir, `admin-${i}.token`)}`,
            `--audit-log=${join(dir, `audit-${i}.log`)}`,
          ],
        }),
      ),
    );
  }, 90_000);

  afterAll(async () => {
    for (const made of clients) made.close();
    await Promise.all(servers.map((server) => server.stop()));
    await etcd?.stop();
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it("makes exactly one of two racing bootstrap tokens the first admin", async () => {
    const works = await Promise.all(
      candidates.map(async (token) => {
        const outcomes = await Promise.all(
          servers.map((server) =>
            client(server.grpcAddress, token)
              .auth.whoAmI({})
              .then(() => true)
              .catch((error: unknown) => {
                if (error instanceof UnauthenticatedError) return false;
                throw error;
              }),
          ),
        );
        // Both replicas agree on each token.
        expect(new Set(outcomes).size).toBe(1);
        return outcomes[0]!;
      }),
    );
    expect(works.filter(Boolean)).toHaveLength(1);
    admin = candidates[works.indexOf(true)]!;
    const { tokens } = await client(servers[0]!.grpcAddress, admin).auth.listTokens({});
    expect(tokens.filter((t) => t.bootstrap).map((t) => t.id)).toEqual([admin.split(".")[0]]);
    const created = servers.flatMap((s) => s.output).filter((line) => line.includes("bootstrap admin token created"));
    expect(created).toHaveLength(1);
  });

  it("ends an open Watch on the other replica with UNAUTHENTICATED within 2 s of a revocation", async () => {
    const [a, b] = servers as [SpawnedServer, SpawnedServer];
    const adminA = client(a.grpcAddress, admin);
    const { secret, token } = await adminA.auth.createToken({
      description: "watcher",
      grants: [{ namespace: "shop", service: "", role: Role.ROLE_READ }],
    });
    const readerB = client(b.grpcAddress, secret);

    const controller = new AbortController();
    let received = 0;
    const watching = (async () => {
      for await (const _ of readerB.registry.watch({ namespace: "shop", service: "orders" }, { signal: controller.signal }))
        received++;
    })().catch((error: unknown) => error);
    try {
      await eventually(() => received > 0, 10_000, "the watch's first message");
      const revokedAt = Date.now();
      await adminA.auth.revokeToken({ id: token!.id });
      const ended = await watching;
      const elapsed = Date.now() - revokedAt;
      expect(ended).toBeInstanceOf(UnauthenticatedError);
      expect((ended as Error).message).toContain("revoked");
      expect(elapsed).toBeLessThan(2_000);
    } finally {
      controller.abort();
    }
    await expect(readerB.registry.listServices({ namespace: "shop" })).rejects.toBeInstanceOf(UnauthenticatedError);
  });

  it("lets a register@shop/orders token register orders, but not payments, and not read config", async () => {
    const [a, b] = servers as [SpawnedServer, SpawnedServer];
    const adminA = client(a.grpcAddress, admin);
    const { secret } = await adminA.auth.createToken({
      description: "orders",
      grants: [{ namespace: "shop", service: "orders", role: Role.ROLE_REGISTER }],
    });
    const orders = client(b.grpcAddress, secret);

    const own = await orders.registry.register({
      instance: { namespace: "shop", service: "orders", address: "10.0.0.1", port: 80 },
      ttlSeconds: 30,
    });
    expect(own.instance?.service).toBe("orders");
    expect((await orders.registry.heartbeat({ leaseId: own.leaseId })).ttlSeconds).toBeGreaterThan(0);

    const denied = await orders.registry
      .register({ instance: { namespace: "shop", service: "payments", address: "10.0.0.2", port: 80 }, ttlSeconds: 30 })
      .catch((error: unknown) => error);
    expect(denied).toBeInstanceOf(PermissionDeniedError);
    expect((denied as Error).message).toBe('permission "register" on shop/payments required');

    // Another service's instance: its lease and its name are both out of reach.
    const payments = await adminA.registry.register({
      instance: { namespace: "shop", service: "payments", address: "10.0.0.3", port: 80 },
      ttlSeconds: 30,
    });
    await client(b.grpcAddress, admin).registry.getInstance({
      namespace: "shop",
      service: "payments",
      instanceId: payments.instance!.instanceId,
      minRevision: payments.revision,
    });
    await expect(orders.registry.heartbeat({ leaseId: payments.leaseId })).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(
      orders.registry.deregister({ namespace: "shop", service: "payments", instanceId: payments.instance!.instanceId }),
    ).rejects.toBeInstanceOf(PermissionDeniedError);
    await expect(orders.config.getConfig({ namespace: "shop", service: "orders" })).rejects.toBeInstanceOf(PermissionDeniedError);
    // And the payments instance is still there.
    const listed = await adminA.registry.listInstances({ namespace: "shop", service: "payments", includeUnroutable: true });
    expect(listed.instances.map((i) => i.instanceId)).toEqual([payments.instance!.instanceId]);
  });

  it("switchboard token create | list | whoami | revoke, with --json", async () => {
    const address = servers[0]!.grpcAddress;
    const created = await cli(
      address,
      "token",
      "create",
      "--token",
      admin,
      "--grant",
      "read@shop",
      "--grant",
      "write@shop/orders",
      "--description",
      "cli",
      "--json",
    );
    expect(created.stderr).toBe("");
    const { secret, token } = JSON.parse(created.stdout) as { secret: string; token: { id: string; grants: unknown[] } };
    expect(secret.startsWith(`${token.id}.`)).toBe(true);
    expect(token.grants).toEqual([
      { namespace: "shop", role: "ROLE_READ" },
      { namespace: "shop", service: "orders", role: "ROLE_WRITE" },
    ]);

    const listed = await cli(address, "token", "list", "--token", admin);
    expect(listed.stdout).toMatch(new RegExp(`^${token.id}\\s+read@shop/\\*,write@shop/orders\\s+never\\s+cli$`, "m"));
    expect(listed.stdout).not.toContain(secret.split(".")[1]);

    const whoami = await cli(address, "token", "whoami", "--token", secret, "--json");
    expect(JSON.parse(whoami.stdout)).toMatchObject({ identity: `token:${token.id}` });

    const denied = await cli(address, "token", "list", "--token", secret);
    expect(denied.code).toBe(1);
    expect(denied.stderr).toContain('permission "admin" on * required');

    expect((await cli(address, "token", "revoke", token.id, "--token", admin)).code).toBe(0);
    const after = await cli(address, "token", "whoami", "--token", secret);
    expect(after.code).toBe(1);
    expect(after.stderr).toContain("unknown or revoked token");
  });

  it("writes one audit line per write and per auth failure, never a secret", async () => {
    const address = servers[1]!.grpcAddress;
    const adminB = client(address, admin);
    const { secret, token } = await adminB.auth.createToken({
      description: "audited",
      grants: [{ namespace: "shop", service: "", role: Role.ROLE_READ }],
    });
    const reader = client(address, secret);
    await expect(
      reader.config.putValue({ scope: { namespace: "shop", service: "orders", profile: "" }, key: "audited", value: "v" }),
    ).rejects.toBeInstanceOf(PermissionDeniedError);
    await adminB.config.putValue({ scope: { namespace: "shop", service: "orders", profile: "" }, key: "audited", value: "v" });
    await expect(client(address, "garbage").registry.listServices({})).rejects.toBeInstanceOf(UnauthenticatedError);

    const file = join(dir, "audit-1.log");
    const lines = async () =>
      (await readFile(file, "utf8"))
        .split("\n")
        .filter(Boolean)
        .map((line) => JSON.parse(line) as Record<string, unknown>);
    await eventually(
      async () =>
        (await lines()).some(
          (l) => l.code === "UNAUTHENTICATED" && l.rpc === "/switchboard.registry.v1.RegistryService/ListServices",
        ),
      5_000,
      "audit lines",
    );
    const entries = await lines();
    const puts = entries.filter((l) => l.rpc === "/switchboard.config.v1.ConfigService/PutValue" && l.key === "audited");
    expect(puts.map((l) => [l.who, l.code, l.namespace, l.service])).toEqual([
      [`token:${token!.id}`, "PERMISSION_DENIED", "shop", "orders"],
      [`token:${admin.split(".")[0]}`, "OK", "shop", "orders"],
    ]);
    expect(typeof puts[0]!.time).toBe("number");
    // Reads by an allowed caller are not audited.
    expect(entries.some((l) => l.rpc === "/switchboard.auth.v1.AuthService/WhoAmI" && l.code === "OK")).toBe(false);
    const raw = await readFile(file, "utf8");
    expect(raw).not.toContain(secret.split(".")[1]);
    expect(raw).not.toContain(admin.split(".")[1]);
  });
});
