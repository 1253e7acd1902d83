/**
 * Two Switchboard server processes on one etcd: register through one,
 * resolve and watch through the other (read-your-writes with min_revision),
 * heartbeat and deregister across replicas.
 */
import { createChannel, createClient, Status } from "nice-grpc";
import type { Channel, ClientError } from "nice-grpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { InstanceState, RegistryServiceDefinition } from "../generated/switchboard/registry/v1/registry.js";
import type { RegistryServiceClient } from "../generated/switchboard/registry/v1/registry.js";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { recordWatch } from "./support/registry-watch.js";
import { spawnServer } from "./support/server.js";
import type { SpawnedServer } from "./support/server.js";

const etcdBinary = requireEtcd();

describe.skipIf(!etcdBinary)("two server processes on one etcd", () => {
  let etcd: EtcdServer;
  let servers: SpawnedServer[] = [];
  let channels: Channel[] = [];
  let a: RegistryServiceClient;
  let b: RegistryServiceClient;

  beforeAll(async () => {
    etcd = await startEtcd();
    servers = await Promise.all([spawnServer({ etcdEndpoints: etcd.endpoints }), spawnServer({ etcdEndpoints: etcd.endpoints })]);
    channels = servers.map((server) => createChannel(server.grpcAddress));
    [a, b] = channels.map((channel) => createClient(RegistryServiceDefinition, channel)) as [
      RegistryServiceClient,
      RegistryServiceClient,
    ];
  }, 60_000);

  afterAll(async () => {
    for (const channel of channels) channel.close();
    await Promise.all(servers.map((server) => server.stop()));
    await etcd?.stop();
  });

  it("reflects a write through one replica in the other's resolves and watches", async () => {
    const watchB = recordWatch(b, { service: "orders" });
    await watchB.until(() => watchB.messages.length > 0);

    const registered = await a.register({
      instance: { service: "orders", instanceId: "a1", address: "10.0.0.1", port: 80 },
      ttlSeconds: 5,
    });
    // Read-your-writes on the other replica: at least the write's revision, no polling.
    const listed = await b.listInstances({ service: "orders", minRevision: registered.revision });
    expect(listed.instances.map((i) => [i.instanceId, i.leaseId])).toEqual([["a1", registered.leaseId]]);
    expect(Number(listed.revision)).toBeGreaterThanOrEqual(Number(registered.revision));
    const got = await b.getInstance({ service: "orders", instanceId: "a1", minRevision: registered.revision });
    expect(got.instance?.revision).toBe(registered.revision);
    const services = await b.listServices({ minRevision: registered.revision });
    expect(services.services).toEqual([
      {
        namespace: "default",
        service: "orders",
        instanceCount: 1,
        routableCount: 1,
        unhealthyCount: 0,
        drainingCount: 0,
        protectionActive: false,
      },
    ]);
    await watchB.caughtUp(Number(registered.revision));
    expect(watchB.eventLog()).toEqual([`ADDED a1@${registered.revision}`]);

    // The lease is in etcd: the other replica renews it.
    expect((await b.heartbeat({ leaseId: registered.leaseId })).ttlSeconds).toBe(5);

    // Drain through B, seen by a watch on A resumed from the registration.
    const watchA = recordWatch(a, { service: "orders", sinceRevision: registered.revision }, { initial: watchB.state });
    const drained = await b.updateInstance({ service: "orders", instanceId: "a1", state: InstanceState.INSTANCE_STATE_DRAINING });
    await watchA.caughtUp(Number(drained.revision));
    expect(watchA.eventLog()).toEqual([`REMOVED a1@${drained.revision}`]);

    const { revision } = await b.deregister({ service: "orders", instanceId: "a1" });
    const after = await a.listInstances({ service: "orders", includeUnroutable: true, minRevision: revision });
    expect(after.instances).toEqual([]);
    const heartbeat = await a.heartbeat({ leaseId: registered.leaseId }).catch((error: unknown) => error);
    expect((heartbeat as ClientError).code).toBe(Status.NOT_FOUND);
    expect([...watchA.violations, ...watchB.violations]).toEqual([]);
    watchA.close();
    watchB.close();
  });

  it("answers UNAVAILABLE for a min_revision no replica has reached", async () => {
    const error = await b.listInstances({ service: "orders", minRevision: "999999999" }).catch((e: unknown) => e);
    expect((error as ClientError).code).toBe(Status.UNAVAILABLE);
  }, 15_000);
});
