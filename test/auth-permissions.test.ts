/**
 * --auth against a real etcd: every RPC × role answers OK or PERMISSION_DENIED
 * exactly as README's permission table says (the expectations below are
 * written out by hand from it, not computed from the code's table), missing
 * and bad tokens are UNAUTHENTICATED, open services stay open, and a denied
 * write writes nothing.
 */
import { randomBytes } from "node:crypto";
import { ClientError, createChannel, createClient, Metadata, Status } from "nice-grpc";
import type { Channel, CompatServiceDefinition } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { AggregatedDiscoveryServiceDefinition } from "../src/server/xds-service.js";
import { TYPE_URLS } from "../src/xds/index.js";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AuthServiceDefinition, Role } from "../generated/switchboard/auth/v1/auth.js";
import { ConfigServiceDefinition } from "../generated/switchboard/config/v1/config.js";
import { HealthStatus } from "../generated/switchboard/health/v1/check.js";
import { HealthServiceDefinition } from "../generated/switchboard/health/v1/health.js";
import { RegistryServiceDefinition } from "../generated/switchboard/registry/v1/registry.js";
import { PERMISSION_TABLE } from "../src/server/permission-table.js";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { createReflectionClient } from "./support/reflection-client.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const etcdBinary = requireEtcd();

type RoleName = "read" | "register" | "write" | "read-secrets" | "admin-shop" | "admin" | "other";
const ROLES: RoleName[] = ["read", "register", "write", "read-secrets", "admin-shop", "admin", "other"];

// The README table, by hand: which of the test tokens may call each RPC on shop/orders.
const READERS: RoleName[] = ["read", "read-secrets", "admin-shop", "admin"];
const REGISTRANTS: RoleName[] = ["register", "admin-shop", "admin"];
const WRITERS: RoleName[] = ["write", "admin-shop", "admin"];
const EXPECTED_ALLOWED: Record<string, RoleName[]> = {
  "RegistryService/Register": REGISTRANTS,
  "RegistryService/Heartbeat": REGISTRANTS,
  "RegistryService/KeepAlive": REGISTRANTS,
  "RegistryService/Deregister": REGISTRANTS,
  "RegistryService/UpdateInstance": REGISTRANTS,
  "RegistryService/GetInstance": READERS,
  "RegistryService/ListInstances": READERS,
  "RegistryService/ListServices": READERS,
  "RegistryService/Watch": READERS,
  "ConfigService/GetConfig": READERS,
  "ConfigService/GetValue": READERS,
  "ConfigService/PutValue": WRITERS,
  "ConfigService/DeleteValue": WRITERS,
  "ConfigService/ListValues": READERS,
  "ConfigService/ImportValues": WRITERS,
  "ConfigService/GetHistory": READERS,
  "ConfigService/WatchConfig": READERS,
  "ConfigService/RotateSecrets": ["admin"],
  "HealthService/ReportHealth": REGISTRANTS,
  "HealthService/GetHealth": READERS,
  "HealthService/WatchHealth": READERS,
  // Replicas are cluster-wide: read on "*" (only the test's admin@* token has a "*" grant).
  "HealthService/ListReplicas": ["admin"],
  "AuthService/CreateToken": ["admin"],
  "AuthService/ListTokens": ["admin"],
  "AuthService/RevokeToken": ["admin"],
  "AuthService/WhoAmI": ROLES,
  // xDS: read on the namespace the node and resource names address; delta is UNIMPLEMENTED for any valid token.
  "AggregatedDiscoveryService/StreamAggregatedResources": READERS,
  "AggregatedDiscoveryService/DeltaAggregatedResources": ROLES,
};

const GRANTS: Record<Exclude<RoleName, "admin">, { namespace: string; role: Role }> = {
  read: { namespace: "shop", role: Role.ROLE_READ },
  register: { namespace: "shop", role: Role.ROLE_REGISTER },
  write: { namespace: "shop", role: Role.ROLE_WRITE },
  "read-secrets": { namespace: "shop", role: Role.ROLE_READ_SECRETS },
  "admin-shop": { namespace: "shop", role: Role.ROLE_ADMIN },
  other: { namespace: "elsewhere", role: Role.ROLE_ADMIN },
};

const scope = { namespace: "shop", service: "orders", profile: "" };

function bearer(token: string): Metadata {
  return Metadata({ authorization: `Bearer ${token}` });
}

async function outcome(call: () => Promise<unknown>): Promise<Status> {
  try {
    await call();
    return Status.OK;
  } catch (error) {
    if (error instanceof ClientError) return error.code;
    throw error;
  }
}

/** The first message of a server stream (or its error), then cancels it. */
async function first(stream: (signal: AbortSignal) => AsyncIterable<unknown>): Promise<void> {
  const controller = new AbortController();
  try {
    for await (const _ of stream(controller.signal)) return;
  } finally {
    controller.abort();
  }
}

describe.skipIf(!etcdBinary)("--auth: the permission table, RPC by role", () => {
  let etcd: EtcdServer;
  let server: TestServer;
  let channel: Channel;
  const bootstrapToken = `${randomBytes(8).toString("hex")}.${randomBytes(32).toString("base64url")}`;
  const tokens = {} as Record<RoleName, string>;
  let leaseId = "";
  let instanceId = "";

  const clients = (token: string | undefined) => {
    const options = token === undefined ? {} : { "*": { metadata: bearer(token) } };
    const make = <S extends CompatServiceDefinition>(definition: S) => createClient(definition, channel, options);
    return {
      registry: make(RegistryServiceDefinition),
      config: make(ConfigServiceDefinition),
      health: make(HealthServiceDefinition),
      auth: make(AuthServiceDefinition),
      ads: make(AggregatedDiscoveryServiceDefinition),
    };
  };

  beforeAll(async () => {
    etcd = await startEtcd();
    server = await startTestServer({ etcdEndpoints: etcd.endpoints, auth: { bootstrapToken } });
    channel = createChannel(server.grpcAddress);
    const admin = clients(bootstrapToken);
    tokens.admin = bootstrapToken;
    for (const [name, grant] of Object.entries(GRANTS)) {
      const created = await admin.auth.createToken({ description: name, grants: [{ ...grant, service: "" }] });
      tokens[name as RoleName] = created.secret;
    }
    const registered = await admin.registry.register({
      instance: { namespace: "shop", service: "orders", address: "10.0.0.1", port: 80, instanceId: "fixture" },
      ttlSeconds: 60,
    });
    leaseId = registered.leaseId;
    instanceId = registered.instance!.instanceId;
  }, 60_000);

  afterAll(async () => {
    channel?.close();
    await server?.close();
    await etcd?.stop();
  });

  type Clients = ReturnType<typeof clients>;
  const CALLS: Record<string, (c: Clients, role: string) => Promise<unknown>> = {
    "RegistryService/Register": (c, role) =>
      c.registry.register({
        instance: { namespace: "shop", service: "orders", address: "10.0.0.2", port: 80, instanceId: `by-${role}` },
        ttlSeconds: 30,
      }),
    "RegistryService/Heartbeat": (c) => c.registry.heartbeat({ leaseId }),
    "RegistryService/KeepAlive": (c) =>
      first(() =>
        c.registry.keepAlive(
          (async function* () {
            yield { leaseId };
          })(),
        ),
      ),
    "RegistryService/Deregister": (c) => c.registry.deregister({ namespace: "shop", service: "orders", instanceId: "absent" }),
    "RegistryService/UpdateInstance": (c) =>
      c.registry.updateInstance({ namespace: "shop", service: "orders", instanceId, weight: 7 }),
    "RegistryService/GetInstance": (c) => c.registry.getInstance({ namespace: "shop", service: "orders", instanceId }),
    "RegistryService/ListInstances": (c) => c.registry.listInstances({ namespace: "shop", service: "orders" }),
    "RegistryService/ListServices": (c) => c.registry.listServices({ namespace: "shop" }),
    "RegistryService/Watch": (c) => first((signal) => c.registry.watch({ namespace: "shop", service: "orders" }, { signal })),
    "ConfigService/GetConfig": (c) => c.config.getConfig({ namespace: "shop", service: "orders" }),
    "ConfigService/GetValue": (c) => c.config.getValue({ scope, key: "fixture" }),
    "ConfigService/PutValue": (c, role) => c.config.putValue({ scope, key: `put-${role}`, value: "v" }),
    "ConfigService/DeleteValue": (c) => c.config.deleteValue({ scope, key: "absent" }),
    "ConfigService/ListValues": (c) => c.config.listValues({ scope }),
    "ConfigService/ImportValues": (c, role) => c.config.importValues({ scope, entries: [{ key: `import-${role}`, value: "v" }] }),
    "ConfigService/GetHistory": (c) => c.config.getHistory({ scope, key: "fixture" }),
    "ConfigService/WatchConfig": (c) =>
      first((signal) => c.config.watchConfig({ namespace: "shop", service: "orders" }, { signal })),
    "ConfigService/RotateSecrets": (c) => c.config.rotateSecrets({}),
    "HealthService/ReportHealth": (c) =>
      c.health.reportHealth({ namespace: "shop", service: "orders", instanceId, status: HealthStatus.HEALTH_STATUS_HEALTHY }),
    "HealthService/GetHealth": (c) => c.health.getHealth({ namespace: "shop", service: "orders" }),
    "HealthService/WatchHealth": (c) =>
      first((signal) => c.health.watchHealth({ namespace: "shop", service: "orders" }, { signal })),
    "HealthService/ListReplicas": (c) => c.health.listReplicas({}),
    "AuthService/CreateToken": (c) =>
      c.auth.createToken({ description: "made in a test", grants: [{ namespace: "shop", service: "", role: Role.ROLE_READ }] }),
    "AuthService/ListTokens": (c) => c.auth.listTokens({}),
    "AuthService/RevokeToken": (c) => c.auth.revokeToken({ id: "absent00" }),
    "AuthService/WhoAmI": (c) => c.auth.whoAmI({}),
    "AggregatedDiscoveryService/StreamAggregatedResources": (c) =>
      first((signal) =>
        c.ads.streamAggregatedResources(
          (async function* () {
            yield {
              node: { id: "test", metadata: { SWITCHBOARD_NAMESPACE: "shop" } },
              typeUrl: TYPE_URLS.listener,
              resourceNames: ["orders"],
            };
            // Open until the answer arrives (first() aborts then).
            await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
          })(),
          { signal },
        ),
      ),
    "AggregatedDiscoveryService/DeltaAggregatedResources": (c) =>
      first((signal) =>
        c.ads.deltaAggregatedResources(
          (async function* () {
            yield { typeUrl: TYPE_URLS.listener };
          })(),
          { signal },
        ),
      ),
  };

  it("covers every RPC of the permission table", () => {
    const inTable = Object.keys(PERMISSION_TABLE).map((path) => path.slice(path.lastIndexOf(".") + 1));
    expect(Object.keys(CALLS).sort()).toEqual(inTable.sort());
    expect(Object.keys(EXPECTED_ALLOWED).sort()).toEqual(inTable.sort());
  });

  for (const [rpc, allowed] of Object.entries(EXPECTED_ALLOWED)) {
    it(`${rpc}: ${allowed.join(", ")} pass; every other role gets PERMISSION_DENIED`, async () => {
      const results: Record<string, string> = {};
      for (const role of ROLES) {
        const code = await outcome(() => CALLS[rpc]!(clients(tokens[role]), role));
        // Passing the check means reaching the handler: OK, or its own answer (e.g. NOT_FOUND for an absent key).
        results[role] = code === Status.PERMISSION_DENIED || code === Status.UNAUTHENTICATED ? Status[code] : "passed";
      }
      const expected = Object.fromEntries(ROLES.map((role) => [role, allowed.includes(role) ? "passed" : "PERMISSION_DENIED"]));
      expect(results).toEqual(expected);
    });
  }

  it("answers UNAUTHENTICATED to every RPC without a token, with a malformed one and with an unknown one", async () => {
    const unknown = `${randomBytes(8).toString("hex")}.${randomBytes(32).toString("base64url")}`;
    for (const token of [undefined, "not-a-token", unknown]) {
      for (const [rpc, call] of Object.entries(CALLS)) {
        const code = await outcome(() => call(clients(token), "anonymous"));
        expect(`${rpc}: ${Status[code]}`).toBe(`${rpc}: UNAUTHENTICATED`);
      }
    }
    const wrongScheme = createClient(AuthServiceDefinition, channel, {
      "*": { metadata: Metadata({ authorization: `Basic ${tokens.admin}` }) },
    });
    expect(await outcome(() => wrongScheme.whoAmI({}))).toBe(Status.UNAUTHENTICATED);
  });

  it("keeps grpc.health.v1 and reflection open without a token", async () => {
    const health = createClient(HealthDefinition, channel);
    expect((await health.check({ service: "" })).status).toBe(1);
    expect(await createReflectionClient(channel, "v1alpha").listServices()).toContain("switchboard.auth.v1.AuthService");
  });

  it("writes nothing when a write is denied", async () => {
    const reader = clients(tokens.read);
    const denied = await outcome(() => reader.config.putValue({ scope, key: "denied-write", value: "v" }));
    expect(denied).toBe(Status.PERMISSION_DENIED);
    const admin = clients(tokens.admin);
    expect(await outcome(() => admin.config.getValue({ scope, key: "denied-write" }))).toBe(Status.NOT_FOUND);
    const { instances } = await admin.registry.listInstances({ namespace: "shop", service: "orders", includeUnroutable: true });
    expect(instances.map((i) => i.instanceId)).not.toContain("by-read");
  });

  it("names the permission and scope in PERMISSION_DENIED", async () => {
    const error = await clients(tokens.read)
      .config.putValue({ scope, key: "x", value: "v" })
      .catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).details).toBe('permission "write" on shop/orders required');
  });
});
