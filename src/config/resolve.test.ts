import { describe, expect, it } from "vitest";
import { changedKeys, LayeredState, layersFor, resolveLayers } from "./resolve.js";
import type { StoredEntry } from "./resolve.js";

const entry = (value: string, revision: number): StoredEntry => ({ value, contentType: "text/plain", revision, secret: false });

describe("layersFor", () => {
  it("uses only the layers the selector names, lowest first", () => {
    expect(layersFor({ namespace: "n", service: "", profile: "" }).map((l) => l.layer)).toEqual(["namespace-default"]);
    expect(layersFor({ namespace: "n", service: "", profile: "prod" }).map((l) => l.layer)).toEqual([
      "namespace-default",
      "namespace-profile",
    ]);
    expect(layersFor({ namespace: "n", service: "s", profile: "" }).map((l) => l.layer)).toEqual([
      "namespace-default",
      "service-default",
    ]);
    const all = layersFor({ namespace: "n", service: "s", profile: "prod" });
    expect(all.map((l) => [l.layer, l.scope])).toEqual([
      ["namespace-default", { namespace: "n", service: "", profile: "" }],
      ["namespace-profile", { namespace: "n", service: "", profile: "prod" }],
      ["service-default", { namespace: "n", service: "s", profile: "" }],
      ["service-profile", { namespace: "n", service: "s", profile: "prod" }],
    ]);
  });
});

describe("resolveLayers", () => {
  it("takes each key from the highest layer that has it, sorted by key", () => {
    const [nsDefault, nsProfile, svcDefault, svcProfile] = layersFor({ namespace: "n", service: "s", profile: "p" });
    const view = resolveLayers([
      {
        source: nsDefault!,
        values: new Map([
          ["a", entry("ns", 1)],
          ["b", entry("ns", 2)],
          ["c", entry("ns", 3)],
          ["d", entry("ns", 4)],
        ]),
      },
      {
        source: nsProfile!,
        values: new Map([
          ["b", entry("nsp", 5)],
          ["c", entry("nsp", 6)],
          ["d", entry("nsp", 7)],
        ]),
      },
      {
        source: svcDefault!,
        values: new Map([
          ["c", entry("svc", 8)],
          ["d", entry("svc", 9)],
        ]),
      },
      {
        source: svcProfile!,
        values: new Map([
          ["d", entry("svcp", 10)],
          ["0", entry("only", 11)],
        ]),
      },
    ]);
    expect(view.map((e) => [e.key, e.value, e.layer, e.revision])).toEqual([
      ["0", "only", "service-profile", 11],
      ["a", "ns", "namespace-default", 1],
      ["b", "nsp", "namespace-profile", 5],
      ["c", "svc", "service-default", 8],
      ["d", "svcp", "service-profile", 10],
    ]);
    expect(view.find((e) => e.key === "c")?.source).toEqual({ namespace: "n", service: "s", profile: "" });
  });
});

describe("changedKeys", () => {
  it("reports added, removed and changed keys but not a revision-only rewrite", () => {
    const state = new LayeredState(layersFor({ namespace: "n", service: "s", profile: "" }));
    state.set(0, "a", entry("1", 1));
    state.set(0, "b", entry("1", 2));
    const before = state.resolve();

    state.set(0, "a", entry("1", 3)); // same value, new revision
    expect(changedKeys(before, state.resolve())).toEqual([]);

    state.set(1, "b", entry("1", 4)); // same value, now from the service layer
    state.set(0, "c", entry("x", 5));
    state.set(0, "a", undefined);
    expect(changedKeys(before, state.resolve())).toEqual(["a", "b", "c"]);
  });

  it("ignores writes shadowed by a higher layer", () => {
    const state = new LayeredState(layersFor({ namespace: "n", service: "s", profile: "" }));
    state.set(1, "k", entry("svc", 1));
    const before = state.resolve();
    state.set(0, "k", entry("ns", 2));
    expect(changedKeys(before, state.resolve())).toEqual([]);
    state.set(1, "k", undefined);
    expect(changedKeys(before, state.resolve())).toEqual(["k"]);
  });
});
