/**
 * Watch correctness on a real etcd under concurrent registers, updates,
 * health transitions, multi-key transactions, deregisters and lease
 * expiries.
 *
 * The precise condition: a raw etcd watch on the instance keys gives the
 * truth at every revision (a transaction touching several keys is one
 * revision). For each Watch stream, after each complete revision group of
 * events (all events of one revision, delivered together) and at each
 * snapshot, the state replayed from the stream equals the truth at that
 * revision under the stream's filter; revisions never go back, each
 * instance appears at most once per revision, and events are above the last
 * snapshot / bookmark. At the end each stream equals ListInstances at the
 * same revision. Resuming from a middle revision replays exactly the events
 * after it; resuming on a replica whose history starts after an etcd
 * compaction gives a reset snapshot.
 */
import { ClientError, Status, createChannel, createClient } from "nice-grpc";
import type { Channel } from "nice-grpc";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { HealthStatus } from "../generated/switchboard/health/v1/check.js";
import {
  type Instance,
  InstanceState,
  RegistryServiceDefinition,
  type RegistryServiceClient,
  type WatchRequest,
  type WatchResponse,
} from "../generated/switchboard/registry/v1/registry.js";
import {
  compileFilter,
  countHealth,
  decodeInstance,
  encodeInstance,
  isProtectionActive,
  isRoutable,
  parseInstanceKey,
} from "../src/registry/index.js";
import { createEtcdStore } from "../src/store/index.js";
import type { Store, WatchBatch } from "../src/store/index.js";
import { requireEtcd, startEtcd } from "./support/etcd.js";
import type { EtcdServer } from "./support/etcd.js";
import { startRegistryServer } from "./support/registry-server.js";
import type { RegistryServer } from "./support/registry-server.js";
import { type RecordedWatch, instanceRef, recordWatch } from "./support/registry-watch.js";

const logger = pino({ level: "silent" });
const PREFIX = "/reg-watch/";
const etcdBinary = requireEtcd();

type Truth = Map<string, Instance>; // ref → instance, every instance at a revision

/** Replays raw store batches; truthAt(r) is every instance as of revision r. */
class TruthLog {
  private readonly states: Array<{ revision: number; state: Truth }> = [];
  private current: Truth = new Map();
  constructor(start: number) {
    this.states.push({ revision: start, state: new Map() });
  }
  apply(batch: WatchBatch): void {
    const next = new Map(this.current);
    for (const event of batch.events) {
      const key = event.type === "put" ? event.kv.key : event.key;
      const name = parseInstanceKey(PREFIX, key);
      if (!name) continue;
      const ref = `${name.namespace}/${name.service}/${name.instanceId}`;
      if (event.type === "put") next.set(ref, decodeInstance(event.kv, name));
      else next.delete(ref);
    }
    this.current = next;
    this.states.push({ revision: batch.revision, state: next });
  }
  get revision(): number {
    return this.states[this.states.length - 1]!.revision;
  }
  truthAt(revision: number): Truth {
    let found: Truth | undefined;
    for (const entry of this.states) {
      if (entry.revision <= revision) found = entry.state;
      else break;
    }
    if (!found) throw new Error(`no truth at ${revision}`);
    return found;
  }
}

/** What a stream with this request should hold, given every instance. */
function expected(all: Truth, request: Partial<WatchRequest>): Map<string, string> {
  const match = compileFilter({
    includeUnroutable: request.includeUnroutable ?? false,
    tags: request.tags ?? [],
    zone: request.zone ?? "",
  });
  const byService = new Map<string, Instance[]>();
  for (const instance of all.values()) {
    if (instance.namespace !== (request.namespace || "default")) continue;
    if (request.service && instance.service !== request.service) continue;
    const key = `${instance.namespace}/${instance.service}`;
    byService.set(key, [...(byService.get(key) ?? []), instance]);
  }
  const out = new Map<string, string>();
  for (const instances of byService.values()) {
    const protection = isProtectionActive(countHealth(instances));
    for (const instance of instances)
      if (match(instance, isRoutable(instance, protection))) out.set(instanceRef(instance), instance.revision);
  }
  return new Map([...out].sort());
}

/** Replays a stream's messages; calls check(revision, state) at each snapshot and after each complete revision group. */
function replay(
  messages: WatchResponse[],
  check: (revision: number, state: Map<string, string>) => void,
  initial = new Map<string, string>(),
): void {
  const state = new Map(initial);
  let pending: number | undefined;
  const flush = () => {
    if (pending !== undefined) check(pending, new Map([...state].sort()));
    pending = undefined;
  };
  for (const message of messages) {
    const kind = message.kind!;
    if (kind.$case === "snapshot") {
      flush();
      state.clear();
      for (const i of kind.value.instances) state.set(instanceRef(i), i.revision);
      check(Number(kind.value.revision), new Map([...state].sort()));
    } else if (kind.$case === "bookmark") {
      flush();
    } else {
      const revision = Number(kind.value.revision);
      if (pending !== undefined && revision !== pending) flush();
      pending = revision;
      const i = kind.value.instance!;
      if (kind.value.type === 3) state.delete(instanceRef(i));
      else state.set(instanceRef(i), i.revision);
    }
  }
  flush();
}

const pick = <T>(items: readonly T[]): T => items[Math.floor(Math.random() * items.length)]!;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe.skipIf(!etcdBinary)("watch correctness on etcd", () => {
  let etcd: EtcdServer;
  let store: Store;
  let server: RegistryServer;
  let channel: Channel;
  let client: RegistryServiceClient;
  const truthController = new AbortController();
  let truth: TruthLog;
  let truthDone: Promise<void>;

  beforeAll(async () => {
    etcd = await startEtcd();
    store = createEtcdStore({ endpoints: etcd.endpoints, logger });
    // Expiry hold off: the many TTL-2 leases expiring together are an expiry burst, which the hold
    // keeps routable on purpose (tested in registry-store-stall.test.ts); here streams must equal the store.
    server = await startRegistryServer({ store, prefix: PREFIX, registry: { bookmarkIntervalMs: 150, expiryHoldMs: 0 } });
    channel = createChannel(server.address);
    client = createClient(RegistryServiceDefinition, channel);
    const { revision } = await store.list(PREFIX);
    truth = new TruthLog(revision);
    truthDone = (async () => {
      for await (const batch of store.watch(`${PREFIX}instances/`, revision + 1, truthController.signal)) truth.apply(batch);
    })();
  });

  afterAll(async () => {
    truthController.abort();
    await truthDone?.catch(() => undefined);
    channel?.close();
    await server?.close();
    await store?.close();
    await etcd?.stop();
  });

  it("streams equal the truth at every revision, under concurrent changes and expiries; resume replays exactly the missed events", async () => {
    const requests: Array<Partial<WatchRequest>> = [
      { service: "orders" },
      { service: "orders", includeUnroutable: true },
      { service: "" },
      { service: "orders", tags: ["canary"] },
    ];
    const watches: Array<{ request: Partial<WatchRequest>; watch: RecordedWatch }> = requests.map((request) => ({
      request,
      watch: recordWatch(client, request),
    }));
    await Promise.all(watches.map(({ watch }) => watch.until(() => watch.messages.length > 0)));

    const ids = { orders: Array.from({ length: 24 }, (_, i) => `o${i}`), payments: Array.from({ length: 8 }, (_, i) => `p${i}`) };
    const kept = new Set<string>(); // leases kept alive by heartbeats
    let stop = false;
    const tolerated = new Set([Status.NOT_FOUND, Status.ALREADY_EXISTS, Status.ABORTED]);
    const counts = { register: 0, update: 0, deregister: 0, health: 0, pair: 0, tolerated: 0 };

    async function healthFlip(service: string, id: string): Promise<void> {
      const key = `${PREFIX}instances/default/${service}/${id}`;
      const kv = await store.get(key);
      if (!kv) return;
      const current = decodeInstance(kv, { namespace: "default", service, instanceId: id });
      const healthStatus =
        current.healthStatus === HealthStatus.HEALTH_STATUS_UNHEALTHY
          ? HealthStatus.HEALTH_STATUS_HEALTHY
          : HealthStatus.HEALTH_STATUS_UNHEALTHY;
      try {
        await store.txn({
          compare: [{ key, modRevision: kv.modRevision }],
          ops: [{ type: "put", key, value: encodeInstance({ ...current, healthStatus }), lease: kv.lease }],
        });
        counts.health++;
      } catch {
        counts.tolerated++; // the lease expired in between
      }
    }

    async function pair(n: number): Promise<void> {
      // Two instances in one transaction on one lease: one revision, two events.
      const lease = await store.grantLease(2);
      const make = (id: string): Instance => ({
        namespace: "default",
        service: "orders",
        instanceId: id,
        address: "10.0.0.1",
        port: 80,
        metadata: {},
        tags: n % 2 ? ["canary"] : [],
        zone: "",
        weight: 100,
        state: InstanceState.INSTANCE_STATE_UP,
        healthStatus: HealthStatus.HEALTH_STATUS_UNSPECIFIED,
        healthChecks: [],
        registeredAt: new Date(),
        revision: "0",
        leaseId: lease.id,
        ttlSeconds: 2,
        owner: "",
        heldUntil: undefined,
      });
      await store.txn({
        ops: ["x", "y"].map((s) => ({
          type: "put" as const,
          key: `${PREFIX}instances/default/orders/pair-${n}-${s}`,
          value: encodeInstance(make(`pair-${n}-${s}`)),
          lease: lease.id,
        })),
      });
      counts.pair++;
    }

    async function worker(w: number): Promise<void> {
      let n = 0;
      while (!stop) {
        const service = Math.random() < 0.75 ? "orders" : "payments";
        const id = pick(ids[service]);
        const op = Math.random();
        try {
          if (op < 0.35) {
            const keep = Math.random() < 0.4;
            const result = await client.register({
              instance: {
                service,
                instanceId: id,
                address: "10.0.0.2",
                port: 8000 + w,
                tags: Math.random() < 0.5 ? ["canary"] : [],
              },
              ttlSeconds: keep ? 4 : 2,
            });
            if (keep) kept.add(result.leaseId);
            counts.register++;
          } else if (op < 0.6) {
            await client.updateInstance({
              service,
              instanceId: id,
              state: pick([
                InstanceState.INSTANCE_STATE_UP,
                InstanceState.INSTANCE_STATE_UP,
                InstanceState.INSTANCE_STATE_DRAINING,
              ]),
              weight: 1 + Math.floor(Math.random() * 100),
              ...(Math.random() < 0.3 && { tags: { values: Math.random() < 0.5 ? ["canary"] : [] } }),
            });
            counts.update++;
          } else if (op < 0.7) {
            await client.deregister({ service, instanceId: id });
            counts.deregister++;
          } else if (op < 0.9) {
            await healthFlip(service, id);
          } else {
            await pair(w * 1000 + n++);
          }
        } catch (error) {
          if (error instanceof ClientError && tolerated.has(error.code)) counts.tolerated++;
          else throw error;
        }
      }
    }

    const heartbeats = (async () => {
      while (!stop || kept.size > 0) {
        await Promise.all([...kept].map((leaseId) => client.heartbeat({ leaseId }).catch(() => kept.delete(leaseId))));
        if (stop) break;
        await sleep(700);
      }
    })();

    const workers = Array.from({ length: 6 }, (_, w) => worker(w));
    await sleep(2_000);
    // A stream that starts in the middle of it all.
    const late = { request: { service: "orders" } as Partial<WatchRequest>, watch: recordWatch(client, { service: "orders" }) };
    watches.push(late);
    await sleep(2_000);
    stop = true;
    await Promise.all(workers);
    // Unheartbeated leases (TTL 2) expire; the kept ones (TTL 4) survive on heartbeats, which go on until
    // the final comparisons are done so that no expiry lands between a resolve and the watch it is compared to.
    let comparing = true;
    const keepUntil = Date.now() + 30_000; // bounded, in case an assertion below ends the test early
    const keepAlive = (async () => {
      while (comparing && Date.now() < keepUntil) {
        await Promise.all([...kept].map((leaseId) => client.heartbeat({ leaseId }).catch(() => kept.delete(leaseId))));
        await sleep(600);
      }
    })();
    await sleep(3_500);
    await heartbeats;

    const final = await client.listInstances({ service: "orders", includeUnroutable: true });
    const finalRevision = Number(final.revision);
    await Promise.all(watches.map(({ watch }) => watch.caughtUp(finalRevision)));
    while (truth.revision < finalRevision) await sleep(20);
    expect(counts.register).toBeGreaterThan(20);
    expect(counts.pair).toBeGreaterThan(0);
    expect(final.instances.length).toBeGreaterThan(0); // the heartbeated ones survived

    let checked = 0;
    for (const { request, watch } of watches) {
      expect(watch.violations, JSON.stringify(request)).toEqual([]);
      expect(watch.error).toBeUndefined();
      replay(watch.messages, (revision, state) => {
        expect(state, `${JSON.stringify(request)} at ${revision}`).toEqual(expected(truth.truthAt(revision), request));
        checked++;
      });
      // And at the end, the same as a resolve at that revision.
      const listed =
        request.service === ""
          ? [
              ...(await client.listInstances({ service: "orders", minRevision: String(finalRevision) })).instances,
              ...(await client.listInstances({ service: "payments", minRevision: String(finalRevision) })).instances,
            ]
          : (
              await client.listInstances({
                service: request.service!,
                includeUnroutable: request.includeUnroutable ?? false,
                tags: request.tags ?? [],
                minRevision: String(finalRevision),
              })
            ).instances;
      expect(new Map([...watch.state].map(([ref, i]) => [ref, i.revision] as [string, string]).sort())).toEqual(
        new Map(listed.map((i) => [instanceRef(i), i.revision] as [string, string]).sort()),
      );
    }
    expect(checked).toBeGreaterThan(100);
    comparing = false;
    await keepAlive;

    // Resume from a middle revision: exactly the events after it.
    const full = watches[1]!.watch; // include_unroutable: sees every change
    const eventRevisions = [...new Set(full.eventLog().map((e) => Number(e.split("@")[1])))];
    const middle = eventRevisions[Math.floor(eventRevisions.length / 2)]!;
    const stateAtMiddle = new Map<string, Instance>();
    for (const [ref, instance] of truth.truthAt(middle))
      if (expected(truth.truthAt(middle), watches[1]!.request).has(ref)) stateAtMiddle.set(ref, instance);
    const resumed = recordWatch(
      client,
      { service: "orders", includeUnroutable: true, sinceRevision: String(middle) },
      { initial: stateAtMiddle },
    );
    await resumed.caughtUp(finalRevision);
    expect(resumed.messages[0]?.kind?.$case).toBe("event");
    expect(resumed.eventLog()).toEqual(full.eventLog().filter((e) => Number(e.split("@")[1]) > middle));
    expect(resumed.violations).toEqual([]);
    resumed.close();

    for (const { watch } of watches) watch.close();
    (globalThis as { middleRevision?: number }).middleRevision = middle;
  }, 60_000);

  it("after an etcd compaction, a replica whose history starts later answers a resume below it with a reset snapshot", async () => {
    const middle = (globalThis as { middleRevision?: number }).middleRevision ?? 1;
    const { revision } = await store.list(PREFIX);
    await store.compact(revision);
    // This replica still holds its history in memory and can serve the resume exactly.
    const same = recordWatch(client, { service: "orders", includeUnroutable: true, sinceRevision: String(middle) });
    await same.caughtUp(revision);
    expect(same.messages[0]?.kind?.$case).toBe("event");
    same.close();
    // A fresh replica on the same etcd only knows revisions after its load.
    const other = await startRegistryServer({ store, prefix: PREFIX });
    const otherChannel = createChannel(other.address);
    try {
      const otherClient = createClient(RegistryServiceDefinition, otherChannel);
      const resumed = recordWatch(otherClient, { service: "orders", includeUnroutable: true, sinceRevision: String(middle) });
      await resumed.until(() => resumed.messages.length > 0);
      const first = resumed.messages[0]!.kind!;
      expect(first.$case).toBe("snapshot");
      if (first.$case !== "snapshot") return;
      expect(first.value.reset).toBe(true);
      expect(Number(first.value.revision)).toBeGreaterThanOrEqual(revision);
      const listed = await otherClient.listInstances({
        service: "orders",
        includeUnroutable: true,
        minRevision: first.value.revision,
      });
      expect(first.value.instances.map(instanceRef).sort()).toEqual(listed.instances.map(instanceRef).sort());
      resumed.close();
    } finally {
      otherChannel.close();
      await other.close();
    }
  });
});
