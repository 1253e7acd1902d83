/**
 * An in-memory RegistryService on 127.0.0.1:0 for unit tests of the SDK
 * (@switchboard/client). It follows the proto contract closely enough for the client's
 * plumbing (snapshots, events with revisions, resume, bookmarks, leases) and
 * lets a test inject faults: cut watch streams with a status, expire leases,
 * fail the next calls of a method. Integration tests use the real server
 * (./server.ts) instead.
 */
import { createServer, ServerError, Status } from "nice-grpc";
import type { CallContext } from "nice-grpc";
import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import {
  EventType,
  Instance,
  InstanceState,
  RegistryServiceDefinition,
} from "../../generated/switchboard/registry/v1/registry.js";
import type {
  DeepPartial,
  KeepAliveRequest,
  RegistryServiceImplementation,
  WatchRequest,
  WatchResponse,
} from "../../generated/switchboard/registry/v1/registry.js";

interface Change {
  revision: number;
  before: Instance | undefined;
  after: Instance | undefined;
}

interface OpenWatch {
  request: WatchRequest;
  push(message: DeepPartial<WatchResponse> | Error): void;
}

export interface FakeRegistry {
  readonly address: string;
  /** Current instances by namespace/service/id. */
  readonly instances: Map<string, Instance>;
  /** Revision of the last write. */
  readonly revision: number;
  /** Every call as "Method" plus its request, in order. */
  readonly calls: Array<{ method: string; request: unknown }>;
  /** Number of Watch streams open now. */
  openWatches(): number;
  /** Ends every open Watch stream with this status (or cleanly when undefined). */
  cutWatches(status?: Status): void;
  /** Ends every open KeepAlive stream with this status. */
  cutKeepAlives(status: Status): void;
  /** Sends a bookmark at the current revision to every open watch. */
  bookmark(): void;
  /** Drops the instance and its lease as an expiry would. */
  expire(key: string): void;
  /** The next `count` calls of `method` ("Register", "Watch", ...) fail with `status`. */
  failNext(method: string, status: Status, count?: number): void;
  /** Forgets history up to the current revision: resumes below it get a reset snapshot. */
  compact(): void;
  /** Writes directly (as another client would): register, update or remove. */
  put(instance: DeepPartial<Instance>): Instance;
  remove(key: string): void;
  close(): Promise<void>;
}

const keyOf = (i: { namespace: string; service: string; instanceId: string }) =>
  `${i.namespace || "default"}/${i.service}/${i.instanceId}`;

const routable = (i: Instance) =>
  (i.state === InstanceState.INSTANCE_STATE_UP || i.state === InstanceState.INSTANCE_STATE_UNSPECIFIED) &&
  i.healthStatus !== HealthStatus.HEALTH_STATUS_UNHEALTHY;

function matches(request: WatchRequest, instance: Instance | undefined): instance is Instance {
  if (instance === undefined) return false;
  if ((request.namespace || "default") !== instance.namespace) return false;
  if (request.service !== "" && request.service !== instance.service) return false;
  if (request.zone !== "" && request.zone !== instance.zone) return false;
  if (!request.tags.every((tag) => instance.tags.includes(tag))) return false;
  return request.includeUnroutable || routable(instance);
}

export async function startFakeRegistry(): Promise<FakeRegistry> {
  const instances = new Map<string, Instance>();
  const leases = new Map<string, { key: string; ttl: number }>();
  let history: Change[] = [];
  let compactedBelow = 0;
  let revision = 0;
  let nextLease = 1000;
  let nextId = 1;
  const calls: Array<{ method: string; request: unknown }> = [];
  const watches = new Set<OpenWatch>();
  const keepAlives = new Set<(error: Error) => void>();
  const failures = new Map<string, { status: Status; count: number }>();

  const maybeFail = (method: string, request: unknown) => {
    calls.push({ method, request });
    const failure = failures.get(method);
    if (failure !== undefined && failure.count > 0) {
      failure.count--;
      throw new ServerError(failure.status, `injected ${Status[failure.status]}`);
    }
  };

  function write(key: string, after: Instance | undefined): number {
    revision++;
    const before = instances.get(key);
    if (after === undefined) instances.delete(key);
    else {
      after.revision = String(revision);
      instances.set(key, after);
    }
    const change: Change = { revision, before, after };
    history.push(change);
    for (const watch of watches) {
      const event = eventFor(watch.request, change);
      if (event) watch.push({ kind: { $case: "event", value: event } });
    }
    return revision;
  }

  function eventFor(request: WatchRequest, change: Change) {
    const was = matches(request, change.before);
    const is = matches(request, change.after);
    if (!was && !is) return undefined;
    const type = !was ? EventType.EVENT_TYPE_ADDED : !is ? EventType.EVENT_TYPE_REMOVED : EventType.EVENT_TYPE_UPDATED;
    return { type, instance: (is ? change.after : change.before) as Instance, revision: String(change.revision) };
  }

  const impl: RegistryServiceImplementation = {
    async register(request) {
      maybeFail("Register", request);
      const input = request.instance;
      if (!input || !input.service || !input.address || !input.port) {
        throw new ServerError(Status.INVALID_ARGUMENT, "instance.service: required");
      }
      const instance = Instance.fromPartial({
        ...input,
        namespace: input.namespace || "default",
        instanceId: input.instanceId || `i-${nextId++}`,
        state: input.state || InstanceState.INSTANCE_STATE_UP,
        weight: input.weight || 100,
      });
      const key = keyOf(instance);
      const existing = instances.get(key);
      if (existing && existing.owner !== instance.owner) throw new ServerError(Status.ALREADY_EXISTS, `${key} exists`);
      if (existing) leases.delete(existing.leaseId);
      const ttl = request.ttlSeconds || 10;
      const leaseId = String(nextLease++);
      leases.set(leaseId, { key, ttl });
      instance.leaseId = leaseId;
      instance.ttlSeconds = ttl;
      const rev = write(key, instance);
      return { instance, leaseId, ttlSeconds: ttl, revision: String(rev) };
    },
    async heartbeat(request) {
      maybeFail("Heartbeat", request);
      const lease = leases.get(request.leaseId);
      if (!lease) throw new ServerError(Status.NOT_FOUND, `lease ${request.leaseId} not found`);
      return { ttlSeconds: lease.ttl };
    },
    async *keepAlive(requests: AsyncIterable<KeepAliveRequest>, context: CallContext) {
      maybeFail("KeepAlive", undefined);
      const iterator = requests[Symbol.asyncIterator]();
      let cut: (error: Error) => void = () => {};
      const cutPromise = new Promise<never>((_, reject) => (cut = reject));
      cutPromise.catch(() => {});
      keepAlives.add(cut);
      try {
        for (;;) {
          const next = await Promise.race([iterator.next(), cutPromise]);
          if (next.done || context.signal.aborted) return;
          const request = next.value;
          calls.push({ method: "KeepAlive.renew", request });
          const lease = leases.get(request.leaseId);
          yield { leaseId: request.leaseId, ttlSeconds: lease?.ttl ?? 0 };
        }
      } finally {
        keepAlives.delete(cut);
      }
    },
    async deregister(request) {
      maybeFail("Deregister", request);
      const key = keyOf(request);
      const existing = instances.get(key);
      if (!existing) throw new ServerError(Status.NOT_FOUND, `${key} not found`);
      leases.delete(existing.leaseId);
      return { revision: String(write(key, undefined)) };
    },
    async updateInstance(request) {
      maybeFail("UpdateInstance", request);
      const key = keyOf(request);
      const existing = instances.get(key);
      if (!existing) throw new ServerError(Status.NOT_FOUND, `${key} not found`);
      const updated = Instance.fromPartial(existing);
      if (request.state !== undefined) updated.state = request.state;
      if (request.weight !== undefined) updated.weight = request.weight;
      if (request.metadata) updated.metadata = request.metadata.entries;
      if (request.tags) updated.tags = request.tags.values;
      const rev = write(key, updated);
      return { instance: updated, revision: String(rev) };
    },
    async getInstance(request) {
      maybeFail("GetInstance", request);
      const instance = instances.get(keyOf(request));
      if (!instance) throw new ServerError(Status.NOT_FOUND, "not found");
      return { instance, revision: String(revision) };
    },
    async listInstances(request) {
      maybeFail("ListInstances", request);
      const watchLike = { ...request, sinceRevision: "0" } as unknown as WatchRequest;
      return { instances: [...instances.values()].filter((i) => matches(watchLike, i)), revision: String(revision) };
    },
    async listServices(request) {
      maybeFail("ListServices", request);
      const summaries = new Map<string, { namespace: string; service: string; instanceCount: number; routableCount: number }>();
      for (const i of instances.values()) {
        if (request.namespace && request.namespace !== i.namespace) continue;
        const k = `${i.namespace}/${i.service}`;
        const s = summaries.get(k) ?? { namespace: i.namespace, service: i.service, instanceCount: 0, routableCount: 0 };
        s.instanceCount++;
        if (routable(i)) s.routableCount++;
        summaries.set(k, s);
      }
      return { services: [...summaries.values()], revision: String(revision) };
    },
    async *watch(request, context) {
      maybeFail("Watch", request);
      const queue: Array<DeepPartial<WatchResponse> | Error> = [];
      let wake: (() => void) | undefined;
      const watch: OpenWatch = {
        request,
        push(message) {
          queue.push(message);
          wake?.();
        },
      };
      const since = Number(request.sinceRevision);
      if (since > 0 && since >= compactedBelow) {
        for (const change of history) {
          if (change.revision <= since) continue;
          const event = eventFor(request, change);
          if (event) queue.push({ kind: { $case: "event", value: event } });
        }
      } else {
        queue.push({
          kind: {
            $case: "snapshot",
            value: {
              instances: [...instances.values()].filter((i) => matches(request, i)),
              revision: String(revision),
              reset: since > 0,
            },
          },
        });
      }
      watches.add(watch);
      const onAbort = () => wake?.();
      context.signal.addEventListener("abort", onAbort);
      try {
        while (!context.signal.aborted) {
          const message = queue.shift();
          if (message === undefined) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = undefined;
            continue;
          }
          if (message instanceof Error) {
            if (message.message === "end") return;
            throw message;
          }
          yield message;
        }
      } finally {
        context.signal.removeEventListener("abort", onAbort);
        watches.delete(watch);
      }
    },
  };

  const server = createServer();
  server.add(RegistryServiceDefinition, impl);
  const port = await server.listen("127.0.0.1:0");

  return {
    address: `127.0.0.1:${port}`,
    instances,
    get revision() {
      return revision;
    },
    calls,
    openWatches: () => watches.size,
    cutWatches(status) {
      for (const watch of watches) {
        watch.push(status === undefined ? new Error("end") : new ServerError(status, `injected ${Status[status]}`));
      }
    },
    cutKeepAlives(status) {
      for (const cut of keepAlives) cut(new ServerError(status, `injected ${Status[status]}`));
    },
    bookmark() {
      for (const watch of watches) watch.push({ kind: { $case: "bookmark", value: { revision: String(revision) } } });
    },
    expire(key) {
      const existing = instances.get(key);
      if (!existing) return;
      leases.delete(existing.leaseId);
      write(key, undefined);
    },
    failNext(method, status, count = 1) {
      failures.set(method, { status, count });
    },
    compact() {
      compactedBelow = revision;
      history = [];
    },
    put(partial) {
      const instance = Instance.fromPartial({
        namespace: "default",
        state: InstanceState.INSTANCE_STATE_UP,
        weight: 100,
        ...partial,
      });
      write(keyOf(instance), instance);
      return instance;
    },
    remove(key) {
      write(key, undefined);
    },
    async close() {
      server.forceShutdown();
    },
  };
}
