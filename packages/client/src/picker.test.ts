import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { startFakeRegistry } from "../../../test/support/fake-registry.js";
import type { FakeRegistry } from "../../../test/support/fake-registry.js";
import { InstanceState } from "../../../generated/switchboard/registry/v1/registry.js";
import { UnavailableError } from "../../../src/errors.js";
import { createSwitchboardClient } from "./client.js";
import type { SwitchboardClient } from "./client.js";
import { createPicker } from "./picker.js";
import type { Picker } from "./picker.js";

let fake: FakeRegistry;
let client: SwitchboardClient;
let picker: Picker;

beforeEach(async () => {
  fake = await startFakeRegistry();
  client = createSwitchboardClient({ address: fake.address });
  picker = createPicker({ client, backoff: { initialMs: 10, maxMs: 50 } });
});

afterEach(async () => {
  picker.close();
  client.close();
  await fake.close();
});

async function counts(service: string, picks: number): Promise<Record<string, number>> {
  const seen: Record<string, number> = {};
  for (let i = 0; i < picks; i++) {
    const { address } = await picker.pick(service);
    seen[address] = (seen[address] ?? 0) + 1;
  }
  return seen;
}

describe("createPicker", () => {
  it("round-robins in proportion to weight", async () => {
    fake.put({ service: "web", instanceId: "a", address: "10.0.0.1", port: 80, weight: 100 });
    fake.put({ service: "web", instanceId: "b", address: "10.0.0.2", port: 80, weight: 300 });
    expect(await counts("web", 40)).toEqual({ "10.0.0.1": 10, "10.0.0.2": 30 });
    const picked = await picker.pick("web");
    expect(picked.port).toBe(80);
    expect(picked.instance.service).toBe("web");
  });

  it("follows drains and removals live, and names namespaces", async () => {
    fake.put({ service: "web", instanceId: "a", address: "10.0.0.1", port: 80 });
    fake.put({ service: "web", instanceId: "b", address: "10.0.0.2", port: 80 });
    fake.put({ namespace: "staging", service: "web", instanceId: "s", address: "10.1.0.1", port: 80 });
    expect(Object.keys(await counts("web", 4)).sort()).toEqual(["10.0.0.1", "10.0.0.2"]);
    fake.put({ service: "web", instanceId: "b", address: "10.0.0.2", port: 80, state: InstanceState.INSTANCE_STATE_DRAINING });
    await expect.poll(() => picker.instances("web").length).toBe(1);
    expect(await counts("web", 4)).toEqual({ "10.0.0.1": 4 });
    expect((await picker.pick("staging/web")).address).toBe("10.1.0.1");
    fake.remove("default/web/a");
    await expect.poll(() => picker.instances("web").length).toBe(0);
    await expect(picker.pick("web")).rejects.toBeInstanceOf(UnavailableError);
  });

  it("fails with UnavailableError when no list arrives in time", async () => {
    const offline = createSwitchboardClient({ address: "127.0.0.1:1" });
    const slow = createPicker({ client: offline, firstListTimeoutMs: 300 });
    try {
      await expect(slow.pick("web")).rejects.toThrow(/no instance list for default\/web within 300 ms/);
    } finally {
      slow.close();
      offline.close();
    }
  });
});
