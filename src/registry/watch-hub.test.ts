import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import { EventType, type Instance, InstanceState, type WatchResponse } from "../../generated/switchboard/registry/v1/registry.js";
import { FakeCache } from "../../test/support/fake-cache.js";
import { testInstance } from "../../test/support/instances.js";
import { ResourceExhaustedError, UnavailableError } from "../errors.js";
import { encodeInstance } from "./codec.js";
import { instanceKey } from "./keys.js";
import { createRegistryView, type RegistryView } from "./registry-view.js";
import { createWatchHub, type WatchHub, type WatchHubOptions, type WatchOptions } from "./watch-hub.js";

const PREFIX = "/sb/";
const logger = pino({ level: "silent" });

function instance(id: string, partial: Partial<Instance> = {}): Instance {
  return testInstance({ instanceId: id, ...partial });
}

function keyOf(i: Instance): string {
  return instanceKey(PREFIX, i.namespace, i.service, i.instanceId);
}

/** Reads a stream in the background. */
function reader(stream: AsyncGenerator<WatchResponse>) {
  const messages: WatchResponse[] = [];
  let error: unknown;
  let ended = false;
  const done = (async () => {
    try {
      for await (const message of stream) messages.push(message);
    } catch (e) {
      error = e;
    } finally {
      ended = true;
    }
  })();
  return {
    messages,
    done,
    get error() {
      return error;
    },
    get ended() {
      return ended;
    },
    async until(predicate: () => boolean, timeoutMs = 2_000): Promise<void> {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (Date.now() > deadline) throw new Error(`timed out; got ${JSON.stringify(messages.map(show))}`);
        await new Promise((resolve) => setTimeout(resolve, 2));
      }
    },
  };
}

function show(message: WatchResponse): string {
  const kind = message.kind!;
  if (kind.$case === "snapshot")
    return `snapshot@${kind.value.revision}${kind.value.reset ? "(reset)" : ""}[${kind.value.instances.map((i) => i.instanceId).join(",")}]`;
  if (kind.$case === "bookmark") return `bookmark@${kind.value.revision}`;
  const type = {
    [EventType.EVENT_TYPE_ADDED]: "ADDED",
    [EventType.EVENT_TYPE_UPDATED]: "UPDATED",
    [EventType.EVENT_TYPE_REMOVED]: "REMOVED",
  }[kind.value.type as 1 | 2 | 3];
  return `${type} ${kind.value.instance!.instanceId}@${kind.value.revision}`;
}
const events = (messages: WatchResponse[]) => messages.filter((m) => m.kind?.$case !== "bookmark").map(show);

const cleanup: Array<() => void> = [];
afterEach(() => {
  for (const fn of cleanup.splice(0)) fn();
});

async function setup(
  hubOptions: Partial<WatchHubOptions> = {},
  viewOptions: { protectionThreshold?: number; protectionMinInstances?: number } = {},
  /** Revisions the cache keeps: the one history watches resume from. */
  historyLimit = 10_000,
) {
  const cache = new FakeCache(10, true, historyLimit);
  const view: RegistryView = createRegistryView({ cache, prefix: PREFIX, logger, ...viewOptions });
  await view.ready;
  const hub: WatchHub = createWatchHub({ view, logger, bookmarkIntervalMs: 0, ...hubOptions });
  const controller = new AbortController();
  cleanup.push(() => {
    controller.abort();
    hub.close();
    view.close();
  });
  const put = (i: Instance) => cache.put(keyOf(i), encodeInstance(i));
  const del = (i: Instance) => cache.delete(keyOf(i));
  const watch = (options: Partial<WatchOptions> = {}, signal = controller.signal) =>
    reader(hub.watch({ namespace: "default", service: "orders", sinceRevision: 0, ...options }, signal));
  return { cache, view, hub, put, del, watch, controller };
}

describe("watch hub", () => {
  it("sends a snapshot, then each change once with its revision", async () => {
    const { put, del, watch } = await setup();
    put(instance("a"));
    const stream = watch();
    await stream.until(() => stream.messages.length === 1);
    const r1 = put(instance("b"));
    const r2 = put(instance("a", { port: 9000 }));
    const r3 = del(instance("b"));
    await stream.until(() => stream.messages.length === 4);
    expect(events(stream.messages)).toEqual(["snapshot@11[a]", `ADDED b@${r1}`, `UPDATED a@${r2}`, `REMOVED b@${r3}`]);
    const updated = stream.messages[2]!.kind!;
    expect(updated.$case === "event" && updated.value.instance!.port).toBe(9000);
    expect(updated.$case === "event" && updated.value.instance!.revision).toBe(String(r2));
  });

  it("only sends what matches: other services, filters, routability", async () => {
    const { put, watch } = await setup();
    const canary = watch({ tags: ["canary"] });
    const everything = watch({ includeUnroutable: true });
    await canary.until(() => canary.messages.length === 1);
    put(instance("other", { service: "payments" }));
    const r1 = put(instance("a", { tags: ["canary"] }));
    const r2 = put(instance("b"));
    const r3 = put(instance("a", { tags: [] })); // stops matching the tag filter
    const r4 = put(instance("b", { state: InstanceState.INSTANCE_STATE_DRAINING }));
    await everything.until(() => everything.messages.length === 5);
    await canary.until(() => canary.messages.length === 3);
    expect(events(canary.messages)).toEqual(["snapshot@10[]", `ADDED a@${r1}`, `REMOVED a@${r3}`]);
    expect(events(everything.messages)).toEqual([
      "snapshot@10[]",
      `ADDED a@${r1}`,
      `ADDED b@${r2}`,
      `UPDATED a@${r3}`,
      `UPDATED b@${r4}`,
    ]);
  });

  it("removes an instance that turns unhealthy, carrying its new state, and adds it back on recovery", async () => {
    const { put, watch } = await setup();
    put(instance("a"));
    put(instance("b"));
    put(instance("c"));
    const stream = watch();
    await stream.until(() => stream.messages.length === 1);
    const r1 = put(instance("b", { healthStatus: HealthStatus.HEALTH_STATUS_UNHEALTHY }));
    const r2 = put(instance("b", { healthStatus: HealthStatus.HEALTH_STATUS_HEALTHY }));
    await stream.until(() => stream.messages.length === 3);
    expect(events(stream.messages)).toEqual(["snapshot@13[a,b,c]", `REMOVED b@${r1}`, `ADDED b@${r2}`]);
    const removed = stream.messages[1]!.kind!;
    expect(removed.$case === "event" && removed.value.instance!.healthStatus).toBe(HealthStatus.HEALTH_STATUS_UNHEALTHY);
  });

  it("keeps every UP instance routable while more than the threshold is unhealthy (protection)", async () => {
    const { put, view, watch } = await setup();
    const sick = { healthStatus: HealthStatus.HEALTH_STATUS_UNHEALTHY };
    put(instance("a"));
    put(instance("b"));
    put(instance("c"));
    const stream = watch();
    await stream.until(() => stream.messages.length === 1);
    const r1 = put(instance("a", sick)); // 1/3: removed
    const r2 = put(instance("b", sick)); // 2/3 > 0.5: protection, a and b back
    expect(view.service("default", "orders")!.protectionActive).toBe(true);
    const r3 = put(instance("c", sick)); // 3/3: still protected, c updated
    const r4 = put(instance("a")); // 2/3: still protected
    const r5 = put(instance("b")); // 1/3: protection ends, c removed
    expect(view.service("default", "orders")!.protectionActive).toBe(false);
    await stream.until(() => stream.messages.length === 8);
    expect(events(stream.messages)).toEqual([
      "snapshot@13[a,b,c]",
      `REMOVED a@${r1}`,
      `UPDATED b@${r2}`,
      `ADDED a@${r2}`,
      `UPDATED c@${r3}`,
      `UPDATED a@${r4}`,
      `UPDATED b@${r5}`,
      `REMOVED c@${r5}`,
    ]);
  });

  /** A service whose only instance, a, turns unhealthy while watched: what the watch saw, and the view. */
  async function soleInstanceFails(viewOptions: Parameters<typeof setup>[1] = {}) {
    const { put, view, watch } = await setup({}, viewOptions);
    put(instance("a"));
    const stream = watch();
    await stream.until(() => stream.messages.length === 1);
    const revision = put(instance("a", { healthStatus: HealthStatus.HEALTH_STATUS_UNHEALTHY }));
    await stream.until(() => stream.messages.length === 2);
    return { seen: events(stream.messages), revision, view };
  }

  it("does not protect when the threshold is 0", async () => {
    const { seen, revision } = await soleInstanceFails({ protectionThreshold: 0 });
    expect(seen).toEqual(["snapshot@11[a]", `REMOVED a@${revision}`]);
  });

  it("removes a service's only instance when it fails: too few UP instances for protection (default minimum 3)", async () => {
    const { seen, revision, view } = await soleInstanceFails();
    expect(seen).toEqual(["snapshot@11[a]", `REMOVED a@${revision}`]);
    expect(view.service("default", "orders")!.protectionActive).toBe(false);
    expect(view.protectionMinInstances).toBe(3);
  });

  it("protects a single instance when protectionMinInstances is 1", async () => {
    const { seen, revision, view } = await soleInstanceFails({ protectionMinInstances: 1 });
    expect(seen).toEqual(["snapshot@11[a]", `UPDATED a@${revision}`]);
    expect(view.service("default", "orders")!.protectionActive).toBe(true);
  });

  it("delivers the changes of one revision together, with that revision", async () => {
    const { cache, watch } = await setup();
    const wide = watch({ service: "" });
    await wide.until(() => wide.messages.length === 1);
    const revision = cache.apply([
      { type: "put", key: keyOf(instance("a")), value: encodeInstance(instance("a")) },
      {
        type: "put",
        key: keyOf(instance("x", { service: "payments" })),
        value: encodeInstance(instance("x", { service: "payments" })),
      },
      { type: "put", key: "/sb/config/default/_/_/k", value: new Uint8Array([1]) },
    ]);
    await wide.until(() => wide.messages.length === 3);
    expect(events(wide.messages)).toEqual(["snapshot@10[]", `ADDED a@${revision}`, `ADDED x@${revision}`]);
  });

  it("resumes from a revision with exactly the missed events, then a bookmark", async () => {
    const { put, del, watch } = await setup();
    const r1 = put(instance("a"));
    const r2 = put(instance("b"));
    const r3 = put(instance("a", { port: 1 }));
    const r4 = del(instance("b"));
    const resumed = watch({ sinceRevision: r2 });
    await resumed.until(() => resumed.messages.length === 3);
    expect(resumed.messages.map(show)).toEqual([`UPDATED a@${r3}`, `REMOVED b@${r4}`, `bookmark@${r4}`]);
    const fromStart = watch({ sinceRevision: 10 });
    await fromStart.until(() => fromStart.messages.length === 5);
    expect(fromStart.messages.map(show)).toEqual([
      `ADDED a@${r1}`,
      `ADDED b@${r2}`,
      `UPDATED a@${r3}`,
      `REMOVED b@${r4}`,
      `bookmark@${r4}`,
    ]);
    // Live events follow the replay.
    const r5 = put(instance("c"));
    await resumed.until(() => resumed.messages.length === 4);
    expect(show(resumed.messages[3]!)).toBe(`ADDED c@${r5}`);
  });

  it("resumes with a reset snapshot when the revision is older than the kept history", async () => {
    const { put, watch } = await setup({}, {}, 2);
    const r1 = put(instance("a"));
    put(instance("b"));
    put(instance("c"));
    const r4 = put(instance("d"));
    const resumed = watch({ sinceRevision: r1 });
    await resumed.until(() => resumed.messages.length === 1);
    expect(resumed.messages.map(show)).toEqual([`snapshot@${r4}(reset)[a,b,c,d]`]);
    const inWindow = watch({ sinceRevision: r4 - 2 });
    await inWindow.until(() => inWindow.messages.length === 3);
    expect(inWindow.messages.map(show)).toEqual([`ADDED c@${r4 - 1}`, `ADDED d@${r4}`, `bookmark@${r4}`]);
  });

  it("resumes from the cache's one window: other keys' revisions count against it, then a reset snapshot", async () => {
    const { cache, put, watch } = await setup({}, {}, 3);
    const other = (n: number) => cache.put(`${PREFIX}config/default/_/_/k${n}`, new Uint8Array([n]));
    const r1 = put(instance("a"));
    other(1);
    const r3 = put(instance("b"));
    const across = watch({ sinceRevision: r1 });
    await across.until(() => across.messages.length === 2);
    expect(across.messages.map(show)).toEqual([`ADDED b@${r3}`, `bookmark@${r3}`]);
    other(2);
    const r5 = other(3);
    // The window (3 revisions) no longer holds r3's batch: resuming from before it is a reset.
    const dropped = watch({ sinceRevision: r1 });
    await dropped.until(() => dropped.messages.length === 1);
    expect(dropped.messages.map(show)).toEqual([`snapshot@${r5}(reset)[a,b]`]);
  });

  it("waits for a revision this replica has not seen yet", async () => {
    const { put, watch } = await setup();
    const resumed = watch({ sinceRevision: 12 });
    await new Promise((resolve) => setTimeout(resolve, 30));
    expect(resumed.messages).toEqual([]);
    put(instance("a"));
    put(instance("b"));
    const r3 = put(instance("c"));
    await resumed.until(() => resumed.messages.length === 2);
    expect(resumed.messages.map(show)).toEqual([`ADDED c@${r3}`, `bookmark@${r3}`]);
  });

  it("answers UNAVAILABLE when the replica cannot catch up in time", async () => {
    const { watch } = await setup({ catchUpTimeoutMs: 50 });
    const resumed = watch({ sinceRevision: 100 });
    await resumed.done;
    expect(resumed.error).toBeInstanceOf(UnavailableError);
  });

  it("sends every stream a reset snapshot when the cache reloads", async () => {
    const { cache, put, watch } = await setup();
    put(instance("a"));
    const stream = watch();
    const resumedLater = watch({ sinceRevision: 11 });
    await stream.until(() => stream.messages.length === 1 && resumedLater.messages.length === 1);
    const reset = cache.reset((kvs) =>
      kvs.set(keyOf(instance("b")), {
        ...kvs.get(keyOf(instance("a")))!,
        key: keyOf(instance("b")),
        value: encodeInstance(instance("b")),
      }),
    );
    await stream.until(() => stream.messages.length === 2 && resumedLater.messages.length === 2);
    expect(stream.messages.map(show)).toEqual(["snapshot@11[a]", `snapshot@${reset}(reset)[a,b]`]);
    expect(resumedLater.messages.map(show)).toEqual(["bookmark@11", `snapshot@${reset}(reset)[a,b]`]);
    // Older history is gone after a reset.
    const old = watch({ sinceRevision: 11 });
    await old.until(() => old.messages.length === 1);
    expect(old.messages.map(show)).toEqual([`snapshot@${reset}(reset)[a,b]`]);
  });

  it("sends bookmarks to idle streams only", async () => {
    const { put, watch } = await setup({ bookmarkIntervalMs: 40 });
    const stream = watch();
    await stream.until(() => stream.messages.filter((m) => m.kind?.$case === "bookmark").length >= 2, 2_000);
    const bookmark = stream.messages.find((m) => m.kind?.$case === "bookmark")!.kind!;
    expect(bookmark.$case === "bookmark" && bookmark.value.revision).toBe("10");
    const r = put(instance("a"));
    await stream.until(() => stream.messages.some((m) => m.kind?.$case === "bookmark" && m.kind.value.revision === String(r)));
  });

  it("ends a stream that falls behind with RESOURCE_EXHAUSTED, without slowing others", async () => {
    const { put, cache, hub, watch } = await setup({ queueLimit: 5 });
    const fast = watch();
    // A consumer that takes the snapshot and then stops reading.
    const slowGen = hub.watch({ namespace: "default", service: "orders", sinceRevision: 0 }, new AbortController().signal);
    const first = await slowGen.next();
    expect(first.value && show(first.value)).toBe("snapshot@10[]");
    // Changes arrive one at a time, as from a store: the fast reader keeps up between them.
    const tick = () => new Promise((resolve) => setImmediate(resolve));
    const revisions: number[] = [];
    for (let i = 0; i < 3; i++) {
      revisions.push(put(instance(`i${i}`)));
      await tick();
    }
    // A two-instance revision that does not fit: the stream overflows before it.
    const both = cache.apply([
      { type: "put", key: keyOf(instance("x")), value: encodeInstance(instance("x")) },
      { type: "put", key: keyOf(instance("y")), value: encodeInstance(instance("y")) },
      { type: "put", key: keyOf(instance("z")), value: encodeInstance(instance("z")) },
    ]);
    await tick();
    for (let i = 3; i < 10; i++) {
      put(instance(`i${i}`));
      await tick();
    }
    await fast.until(() => fast.messages.length === 1 + 3 + 3 + 7);
    expect(hub.streamCount).toBe(1);
    const rest: string[] = [];
    await expect(
      (async () => {
        for await (const message of slowGen) rest.push(show(message));
      })(),
    ).rejects.toBeInstanceOf(ResourceExhaustedError);
    // Nothing queued behind a slow consumer is kept once it overflows: the error comes next.
    expect(rest).toEqual([]);
    expect(revisions).toHaveLength(3);
    expect(fast.messages.slice(4, 7).map(show)).toEqual([`ADDED x@${both}`, `ADDED y@${both}`, `ADDED z@${both}`]);
    expect(fast.ended).toBe(false);
  });

  it("ends streams quietly on cancel and with UNAVAILABLE on close, leaving no listener", async () => {
    const { hub, watch } = await setup();
    const controller = new AbortController();
    const cancelled = watch({}, controller.signal);
    const other = watch();
    await cancelled.until(() => cancelled.messages.length === 1 && other.messages.length === 1);
    expect(hub.streamCount).toBe(2);
    controller.abort();
    await cancelled.done;
    expect(cancelled.error).toBeUndefined();
    expect(hub.streamCount).toBe(1);
    hub.close();
    await other.done;
    expect(other.error).toBeInstanceOf(UnavailableError);
    expect(hub.streamCount).toBe(0);
  });
});
