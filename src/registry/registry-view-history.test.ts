// The registry view keeps no history of its own: its decoded changes live as
// long as the cache's window keeps the batch they came from, and a resume maps
// the cache's batches after R to them (issue 11: one history).
import { pino } from "pino";
import { afterEach, describe, expect, it } from "vitest";
import { FakeCache } from "../../test/support/fake-cache.js";
import { testInstance } from "../../test/support/instances.js";
import { encodeInstance } from "./codec.js";
import { instanceKey } from "./keys.js";
import { createRegistryView, type RegistryView, type RevisionChanges } from "./registry-view.js";

const PREFIX = "/sb/";
const logger = pino({ level: "silent" });
const views: RegistryView[] = [];
afterEach(() => {
  for (const view of views.splice(0)) view.close();
});

const putInstance = (cache: FakeCache, id: string, port = 8080) =>
  cache.put(instanceKey(PREFIX, "default", "orders", id), encodeInstance(testInstance({ instanceId: id, port })), "7");
// A key of another domain (config): a revision in the shared window with no instance change.
const putOther = (cache: FakeCache, n: number) => cache.put(`${PREFIX}config/default/_/_/k${n}`, new Uint8Array([n]));

async function start(cache: FakeCache) {
  const view = createRegistryView({ cache, prefix: PREFIX, logger });
  views.push(view);
  await view.ready;
  const emitted: RevisionChanges[] = [];
  view.subscribe((update) => {
    if (update.type === "changes") emitted.push(update.changes);
  });
  return { view, emitted };
}

const revisions = (changes: RevisionChanges[] | undefined) => changes?.map((c) => c.revision);

describe("registry view history: the cache's window is the one history", () => {
  it("answers the changes the view emitted, the same objects, skipping revisions of other keys", async () => {
    const cache = new FakeCache(10);
    const { view, emitted } = await start(cache);
    const r1 = putInstance(cache, "a");
    putOther(cache, 1);
    const r3 = putInstance(cache, "b");
    putOther(cache, 2);
    const r5 = putInstance(cache, "a", 9000);
    expect(revisions(view.changesSince(10))).toEqual([r1, r3, r5]);
    const resumed = view.changesSince(r1)!;
    expect(revisions(resumed)).toEqual([r3, r5]);
    // Decoded once, when the batch arrived: a resume hands out what the live streams got.
    expect(resumed[0]).toBe(emitted[1]);
    expect(resumed[1]).toBe(emitted[2]);
    expect(view.changesSince(r5)).toEqual([]);
    expect(view.changesSince(r5 + 1)).toBeUndefined();
  });

  it("counts revisions of any key against the limit: a resume reaches back only as far as the cache's window", async () => {
    const cache = new FakeCache(10, true, 3);
    const { view } = await start(cache);
    const r1 = putInstance(cache, "a");
    const r2 = putInstance(cache, "b");
    putOther(cache, 1);
    putOther(cache, 2);
    // The window holds 3 revisions (r2 and the two others): r1's batch and its changes are gone.
    expect(view.changesSince(r1 - 1)).toBeUndefined();
    expect(revisions(view.changesSince(r1))).toEqual([r2]);
    putOther(cache, 3);
    // Now r2's batch is dropped too: resuming from before it needs a reset snapshot.
    expect(view.changesSince(r1)).toBeUndefined();
    expect(view.changesSince(r2)).toEqual([]);
  });

  it("has no history from before a cache reset, and resumes from the reset revision", async () => {
    const cache = new FakeCache(10);
    const { view } = await start(cache);
    const r1 = putInstance(cache, "a");
    const reset = cache.reset();
    expect(view.revision).toBe(reset);
    expect(view.changesSince(r1)).toBeUndefined();
    expect(view.changesSince(reset)).toEqual([]);
    const r2 = putInstance(cache, "b");
    expect(revisions(view.changesSince(reset))).toEqual([r2]);
  });

  it("has no history from before it loaded, even where the cache's window reaches further", async () => {
    const cache = new FakeCache(10);
    putInstance(cache, "a");
    const before = putInstance(cache, "b");
    const { view } = await start(cache);
    expect(view.revision).toBe(before);
    expect(view.changesSince(10)).toBeUndefined();
    expect(view.changesSince(before)).toEqual([]);
    const r = putInstance(cache, "c");
    expect(revisions(view.changesSince(before))).toEqual([r]);
  });
});
