import { pino } from "pino";
import { describe, expect, it } from "vitest";
import { FakeCache } from "../../test/support/fake-cache.js";
import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import type { WatchHealthResponse } from "../../generated/switchboard/health/v1/health.js";
import { Instance } from "../../generated/switchboard/registry/v1/registry.js";
import { ResourceExhaustedError } from "../errors.js";
import { createRegistryView, encodeInstance, instanceKey } from "../registry/index.js";
import { createHealthWatch, REMOVED_OUTPUT } from "./health-watch.js";
import { createManualClock } from "../../test/support/manual-clock.js";

const PREFIX = "/switchboard/";
const H = HealthStatus.HEALTH_STATUS_HEALTHY;
const X = HealthStatus.HEALTH_STATUS_UNHEALTHY;
const U = HealthStatus.HEALTH_STATUS_UNSPECIFIED;

function bytes(id: string, healthStatus: HealthStatus, service = "orders"): Uint8Array {
  return encodeInstance(
    Instance.fromPartial({ namespace: "default", service, instanceId: id, address: "10.0.0.1", port: 80, healthStatus }),
  );
}

function setup(options: { queueLimit?: number } = {}) {
  const cache = new FakeCache();
  const view = createRegistryView({ cache, prefix: PREFIX, logger: pino({ level: "silent" }) });
  const clock = createManualClock();
  const watch = createHealthWatch({
    view,
    clock,
    describe: (instance) => ({
      namespace: instance.namespace,
      service: instance.service,
      instanceId: instance.instanceId,
      status: instance.healthStatus,
      checks: [],
      lastTransitionAt: undefined,
      checkedBy: "",
    }),
    transitionDetail: () => ({ output: "probe output" }),
    queueLimit: options.queueLimit,
    bookmarkIntervalMs: 5_000,
  });
  const key = (id: string, service = "orders") => instanceKey(PREFIX, "default", service, id);
  return { cache, view, clock, watch, key };
}

async function take(iterator: AsyncIterator<WatchHealthResponse>, n: number): Promise<WatchHealthResponse[]> {
  const out: WatchHealthResponse[] = [];
  for (let i = 0; i < n; i++) {
    const next = await iterator.next();
    if (next.done) break;
    out.push(next.value);
  }
  return out;
}

describe("health watch", () => {
  it("sends a snapshot, then only health transitions of the selected service, removals included", async () => {
    const { cache, view, watch, key } = setup();
    cache.put(key("a"), bytes("a", H));
    cache.put(key("z", "other"), bytes("z", H, "other"));
    await view.ready;
    const abort = new AbortController();
    const stream = watch({ namespace: "default", service: "orders", sinceRevision: 0 }, abort.signal);
    const [snapshot] = await take(stream, 1);
    expect(snapshot!.kind).toMatchObject({
      $case: "snapshot",
      value: { reset: false, instances: [{ instanceId: "a", status: H }] },
    });

    cache.put(key("a"), bytes("a", H)); // same status: no transition
    const r2 = cache.put(key("a"), bytes("a", X));
    cache.put(key("z", "other"), bytes("z", X, "other")); // other service
    cache.put(key("b"), bytes("b", U)); // new, undecided: no transition
    const r4 = cache.delete(key("a"));
    const messages = await take(stream, 2);
    expect(messages.map((m) => m.kind)).toEqual([
      {
        $case: "transition",
        value: expect.objectContaining({
          instanceId: "a",
          previous: H,
          current: X,
          output: "probe output",
          revision: String(r2),
        }),
      },
      {
        $case: "transition",
        value: expect.objectContaining({
          instanceId: "a",
          previous: X,
          current: U,
          output: REMOVED_OUTPUT,
          revision: String(r4),
        }),
      },
    ]);
    abort.abort();
    expect((await stream.next()).done).toBe(true);
  });

  it("bookmarks idle streams and resets when history is gone", async () => {
    const { cache, view, clock, watch, key } = setup();
    cache.put(key("a"), bytes("a", H));
    await view.ready;
    const abort = new AbortController();
    const stream = watch({ namespace: "default", service: "", sinceRevision: 0 }, abort.signal);
    await take(stream, 1);
    const pending = stream.next();
    await clock.advance(5_000);
    expect((await pending).value).toEqual({ kind: { $case: "bookmarkRevision", value: String(view.revision) } });

    const afterReset = cache.reset();
    const [reset] = await take(stream, 1);
    expect(reset!.kind).toMatchObject({ $case: "snapshot", value: { reset: true, revision: String(afterReset) } });
    abort.abort();
    await stream.return(undefined);

    // Resuming from before the reset cannot be served: a reset snapshot.
    const resumed = watch({ namespace: "default", service: "", sinceRevision: 1 }, new AbortController().signal);
    const [first] = await take(resumed, 1);
    expect(first!.kind).toMatchObject({ $case: "snapshot", value: { reset: true } });
    await resumed.return(undefined);
  });

  it("ends a stream that falls behind with ResourceExhaustedError", async () => {
    const { cache, view, watch, key } = setup({ queueLimit: 3 });
    cache.put(key("a"), bytes("a", H));
    await view.ready;
    const stream = watch({ namespace: "default", service: "orders", sinceRevision: 0 }, new AbortController().signal);
    await take(stream, 1);
    for (let i = 0; i < 4; i++) cache.put(key("a"), bytes("a", i % 2 === 0 ? X : H));
    await expect(stream.next()).rejects.toThrow(ResourceExhaustedError);
  });
});
