import { afterEach, describe, expect, it } from "vitest";
import { eventually } from "../../test/support/eventually.js";
import { startMemberProbe } from "./etcd-member-probe.js";
import type { MemberProbe } from "./etcd-member-probe.js";

/** Members that answer, hang (never settle) or refuse, as the test sets them. */
function fakeCluster(members: string[]) {
  const behaviour = new Map<string, "answer" | "hang" | "refuse">(members.map((m) => [m, "answer"]));
  const held = new Map<string, number>();
  const changes: string[] = [];
  let probes = 0;
  return {
    behaviour,
    changes,
    probes: () => probes,
    isolatedNow: () =>
      [...held]
        .filter(([, n]) => n > 0)
        .map(([m]) => m)
        .sort(),
    options: {
      members,
      intervalMs: 20,
      probe: (member: string) => {
        probes++;
        const mode = behaviour.get(member);
        if (mode === "answer") return Promise.resolve();
        if (mode === "refuse") return Promise.reject(new Error("connection refused"));
        return new Promise<void>(() => {});
      },
      isolate: (member: string) => {
        held.set(member, (held.get(member) ?? 0) + 1);
        let disposed = false;
        return {
          dispose: () => {
            if (!disposed) held.set(member, held.get(member)! - 1);
            disposed = true;
          },
        };
      },
      onChange: (member: string, isolated: boolean) => changes.push(`${member} ${isolated ? "isolated" : "back"}`),
    },
  };
}

describe("startMemberProbe", () => {
  let probe: MemberProbe | undefined;
  afterEach(() => probe?.stop());

  it("isolates a member that stops answering (hung or refusing) while others answer, and lets it back when it answers", async () => {
    const cluster = fakeCluster(["a", "b", "c", "d", "e"]);
    probe = startMemberProbe(cluster.options);
    await eventually(() => cluster.probes() >= 10, 5000);
    expect(cluster.isolatedNow()).toEqual([]);

    cluster.behaviour.set("a", "hang");
    await eventually(() => cluster.isolatedNow().join() === "a", 5000, "a isolated");
    cluster.behaviour.set("b", "refuse");
    await eventually(() => cluster.isolatedNow().join() === "a,b", 5000, "b isolated");
    expect(probe.isolated().sort()).toEqual(["a", "b"]);

    cluster.behaviour.set("a", "answer");
    await eventually(() => cluster.isolatedNow().join() === "b", 5000, "a back");
    expect(cluster.changes).toEqual(["a isolated", "b isolated", "a back"]);
  });

  it("isolates only after failed probes in a row", async () => {
    const cluster = fakeCluster(["a", "b", "c"]);
    let calls = 0;
    const probe0 = cluster.options.probe;
    // a fails every other probe: never twice in a row.
    probe = startMemberProbe({
      ...cluster.options,
      probe: (member) => (member === "a" && ++calls % 2 === 1 ? Promise.reject(new Error("slow")) : probe0(member)),
    });
    await eventually(() => calls >= 12, 5000, "probes of a");
    expect(cluster.isolatedNow()).toEqual([]);
  });

  it("isolates at most a minority of the members", async () => {
    const cluster = fakeCluster(["a", "b", "c"]);
    probe = startMemberProbe(cluster.options);
    cluster.behaviour.set("a", "hang");
    await eventually(() => cluster.isolatedNow().join() === "a", 5000, "a isolated");
    cluster.behaviour.set("b", "refuse");
    const probesBefore = cluster.probes();
    await eventually(() => cluster.probes() >= probesBefore + 15, 5000, "more probes");
    // Isolating b as well would leave c alone: etcd has no quorum without two members anyway.
    expect(cluster.isolatedNow()).toEqual(["a"]);
  });

  it("never isolates a member while no other answers", async () => {
    const cluster = fakeCluster(["a", "b", "c", "d", "e"]);
    for (const member of ["a", "b", "c", "d", "e"]) cluster.behaviour.set(member, "refuse");
    probe = startMemberProbe(cluster.options);
    await eventually(() => cluster.probes() >= 25, 5000, "probes");
    expect(cluster.isolatedNow()).toEqual([]);
  });

  it("stop() lets every member back in", async () => {
    const cluster = fakeCluster(["a", "b", "c"]);
    probe = startMemberProbe(cluster.options);
    cluster.behaviour.set("c", "refuse");
    await eventually(() => cluster.isolatedNow().join() === "c", 5000, "c isolated");
    probe.stop();
    expect(cluster.isolatedNow()).toEqual([]);
    expect(probe.isolated()).toEqual([]);
  });
});
