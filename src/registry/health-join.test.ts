import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import { InstanceHealth } from "../../generated/switchboard/health/v1/health.js";
import type { Instance } from "../../generated/switchboard/registry/v1/registry.js";
import { FakeCache } from "../../test/support/fake-cache.js";
import { testInstance } from "../../test/support/instances.js";
import { encodeInstance } from "./codec.js";
import { healthStatusKey, instanceKey } from "./keys.js";
import { createRegistryView, type RegistryView, type RevisionChanges } from "./registry-view.js";

const PREFIX = "/sb/";
const logger = pino({ level: "silent" });
const H = HealthStatus.HEALTH_STATUS_HEALTHY;
const X = HealthStatus.HEALTH_STATUS_UNHEALTHY;
const U = HealthStatus.HEALTH_STATUS_UNSPECIFIED;
const views: RegistryView[] = [];
afterEach(() => {
  for (const view of views.splice(0)) view.close();
});

const keyOf = (id: string) => instanceKey(PREFIX, "default", "orders", id);
const statusKeyOf = (id: string) => healthStatusKey(PREFIX, "default", "orders", id);
const putInstance = (cache: FakeCache, id: string, lease: string, partial: Partial<Instance> = {}) =>
  cache.put(keyOf(id), encodeInstance(testInstance({ instanceId: id, ...partial })), lease);
const putStatus = (cache: FakeCache, id: string, status: HealthStatus, lease: string) =>
  cache.put(
    statusKeyOf(id),
    InstanceHealth.encode({
      namespace: "default",
      service: "orders",
      instanceId: id,
      status,
      checks: [],
      lastTransitionAt: undefined,
      checkedBy: "r1",
    }).finish(),
    lease,
  );

async function setup(cache: FakeCache) {
  const view = createRegistryView({ cache, prefix: PREFIX, logger, protectionThreshold: 0 });
  views.push(view);
  await view.ready;
  const changes: RevisionChanges[] = [];
  view.subscribe((update) => {
    if (update.type === "changes") changes.push(update.changes);
  });
  const get = (id: string) => view.service("default", "orders")?.instances.get(id);
  const log = () =>
    changes.flatMap((c) =>
      c.services.flatMap((s) =>
        s.changes.map(
          (ch) =>
            `${c.revision} ${ch.instanceId} ${HealthStatus[ch.before?.healthStatus ?? U]}->${HealthStatus[ch.after?.healthStatus ?? U]}` +
            ` routable ${ch.beforeRoutable}->${ch.afterRoutable}`,
        ),
      ),
    );
  return { view, get, log };
}

describe("health status join (health/ record into the instance)", () => {
  it("joins health's record on the instance's lease: status, routability and revision, as one change per transition", async () => {
    const cache = new FakeCache();
    putInstance(cache, "a", "7");
    const registered = putInstance(cache, "b", "8");
    const { view, get, log } = await setup(cache);
    expect(get("a")?.healthStatus).toBe(U);

    const unhealthyAt = putStatus(cache, "a", X, "7");
    expect(get("a")).toMatchObject({ healthStatus: X, revision: String(unhealthyAt), leaseId: "7" });
    expect(view.service("default", "orders")?.isRoutable(get("a")!)).toBe(false);
    const healthyAt = putStatus(cache, "a", H, "7");
    expect(get("a")).toMatchObject({ healthStatus: H, revision: String(healthyAt) });
    expect(log()).toEqual([
      `${unhealthyAt} a HEALTH_STATUS_UNSPECIFIED->HEALTH_STATUS_UNHEALTHY routable true->false`,
      `${healthyAt} a HEALTH_STATUS_UNHEALTHY->HEALTH_STATUS_HEALTHY routable false->true`,
    ]);
    // The other instance is untouched.
    expect(get("b")?.revision).toBe(String(registered));

    // An update of the instance record keeps the joined status.
    const updatedAt = putInstance(cache, "a", "7", { weight: 5 });
    expect(get("a")).toMatchObject({ healthStatus: H, weight: 5, revision: String(updatedAt) });
  });

  it("ignores a record of another lease (an earlier registration), and its removal changes nothing", async () => {
    const cache = new FakeCache();
    putInstance(cache, "a", "7");
    putStatus(cache, "a", X, "7");
    const { get, log } = await setup(cache);
    expect(get("a")?.healthStatus).toBe(X);

    // Re-registered on a new lease: the old record no longer counts.
    const again = putInstance(cache, "a", "9");
    expect(get("a")).toMatchObject({ healthStatus: U, revision: String(again), leaseId: "9" });
    const before = log().length;
    cache.delete(statusKeyOf("a")); // the old lease revoked
    expect(log()).toHaveLength(before);
    expect(get("a")).toMatchObject({ healthStatus: U, revision: String(again) });
  });

  it("reads the status inside the instance record when there is no health record (records of older versions)", async () => {
    const cache = new FakeCache();
    putInstance(cache, "old", "7", { healthStatus: X });
    const { view, get } = await setup(cache);
    expect(get("old")?.healthStatus).toBe(X);
    expect(view.service("default", "orders")?.counts).toEqual({ up: 1, unhealthyUp: 1 });
    // A record health writes later wins.
    putStatus(cache, "old", H, "7");
    expect(get("old")?.healthStatus).toBe(H);
    expect(view.service("default", "orders")?.counts).toEqual({ up: 1, unhealthyUp: 0 });
  });

  it("a record without its instance (or one removed with it) adds nothing", async () => {
    const cache = new FakeCache();
    const { view, log } = await setup(cache);
    putStatus(cache, "ghost", X, "7");
    expect(view.service("default", "orders")).toBeUndefined();
    putInstance(cache, "a", "7");
    putStatus(cache, "a", X, "7");
    // Lease expiry: both keys in one revision.
    const gone = cache.apply([
      { type: "delete", key: keyOf("a") },
      { type: "delete", key: statusKeyOf("a") },
    ]);
    expect(view.service("default", "orders")).toBeUndefined();
    expect(log().filter((line) => line.startsWith(`${gone} `))).toEqual([
      `${gone} a HEALTH_STATUS_UNHEALTHY->HEALTH_STATUS_UNSPECIFIED routable false->false`,
    ]);
  });
});
