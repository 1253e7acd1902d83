import { ClientError, createChannel, createClient, Status } from "nice-grpc";
import type { Channel } from "nice-grpc";
import { afterAll, afterEach, beforeAll, beforeEach, describe, expect, it } from "vitest";
import { startEchoServer } from "../../../test/support/echo-server.js";
import { eventually } from "../../../test/support/eventually.js";
import type { EchoServer } from "../../../test/support/echo-server.js";
import { EchoDefinition } from "../../../test/support/echo-server.js";
import { startFakeRegistry } from "../../../test/support/fake-registry.js";
import type { FakeRegistry } from "../../../test/support/fake-registry.js";
import { InstanceState } from "../../../generated/switchboard/registry/v1/registry.js";
import { parseSwitchboardTarget, registerSwitchboardResolver } from "./resolver.js";

const FAST = { initialMs: 20, maxMs: 100 };

describe("parseSwitchboardTarget", () => {
  it("reads [namespace/]service, the control plane from the authority, and filters from the query", () => {
    expect(parseSwitchboardTarget({ authority: "", path: "orders" }, "default")).toEqual({
      addresses: [],
      namespace: "default",
      service: "orders",
      tags: [],
      zone: "",
    });
    expect(
      parseSwitchboardTarget({ authority: "cp-1:7000,cp-2:7000", path: "staging/orders?tags=grpc,v2&zone=eu-1" }, "default"),
    ).toEqual({
      addresses: ["cp-1:7000", "cp-2:7000"],
      namespace: "staging",
      service: "orders",
      tags: ["grpc", "v2"],
      zone: "eu-1",
    });
    expect(() => parseSwitchboardTarget({ path: "a/b/c" }, "default")).toThrow(/namespace\/\]service/);
    expect(() => parseSwitchboardTarget({ path: "Orders" }, "default")).toThrow();
  });
});

describe("switchboard: resolver (fake control plane)", () => {
  let fake: FakeRegistry;
  const servers: EchoServer[] = [];
  const channels: Channel[] = [];

  beforeAll(async () => {
    fake = await startFakeRegistry();
    registerSwitchboardResolver({ address: fake.address, backoff: FAST });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    fake.instances.clear();
  });
  afterEach(async () => {
    for (const channel of channels.splice(0)) channel.close();
    await Promise.all(servers.splice(0).map((server) => server.close()));
  });

  async function echo(name: string, service = "echo"): Promise<EchoServer> {
    const server = await startEchoServer(name);
    servers.push(server);
    fake.put({ service, instanceId: name, address: "127.0.0.1", port: server.port });
    return server;
  }

  function client(target: string) {
    const channel = createChannel(target);
    channels.push(channel);
    return createClient(EchoDefinition, channel);
  }

  it("spreads calls over every instance", async () => {
    await echo("a");
    await echo("b");
    await echo("c");
    const echoClient = client("switchboard:///echo");
    const seen = new Map<string, number>();
    for (let i = 0; i < 60; i++) {
      const { text: name } = await echoClient.whoAmI({ text: "hi" });
      seen.set(name, (seen.get(name) ?? 0) + 1);
    }
    expect([...seen.keys()].sort()).toEqual(["a", "b", "c"]);
    for (const count of seen.values()) expect(count).toBeGreaterThanOrEqual(10);
  });

  it("follows a drain and a deregistration under load without failed calls", async () => {
    const a = await echo("a");
    const b = await echo("b");
    const c = await echo("c");
    const echoClient = client("switchboard:///echo");
    let failures = 0;
    let stop = false;
    const loops = Array.from({ length: 4 }, async () => {
      while (!stop) {
        try {
          await echoClient.whoAmI({ text: "hi" }, { signal: AbortSignal.timeout(5000) });
        } catch {
          failures++;
          await new Promise((resolve) => setTimeout(resolve, 10));
        }
      }
    });
    const quiet = async (server: EchoServer) => {
      // No new calls for 300 ms: the channel has dropped it.
      for (;;) {
        const before = server.calls;
        await new Promise((resolve) => setTimeout(resolve, 300));
        if (server.calls === before) return;
      }
    };
    try {
      // Every instance takes calls before the changes (round robin over all three).
      await eventually(() => a.calls > 0 && b.calls > 0 && c.calls > 0, 10_000, "calls on a, b and c");
      fake.put({
        service: "echo",
        instanceId: "b",
        address: "127.0.0.1",
        port: b.port,
        state: InstanceState.INSTANCE_STATE_DRAINING,
      });
      await quiet(b);
      await b.close();
      fake.remove("default/echo/c");
      await quiet(c);
      await c.close();
      const aBefore = a.calls;
      await eventually(() => a.calls > aBefore, 10_000, "calls on a after b and c left");
    } finally {
      stop = true;
      await Promise.all(loops);
    }
    expect(failures).toBe(0);
  });

  it("keeps routing to the last list while the control plane is unreachable", async () => {
    await echo("a");
    const echoClient = client("switchboard:///echo");
    expect((await echoClient.whoAmI({ text: "hi" })).text).toBe("a");
    fake.failNext("Watch", Status.UNAVAILABLE, 1_000);
    fake.cutWatches(Status.UNAVAILABLE);
    await new Promise((resolve) => setTimeout(resolve, 300));
    expect((await echoClient.whoAmI({ text: "hi" })).text).toBe("a");
    fake.failNext("Watch", Status.UNAVAILABLE, 0);
  });

  it("resolves namespaced targets and fails fast while a service has no instances", async () => {
    const echoClient = client("switchboard:///staging/echo");
    const error = await echoClient.whoAmI({ text: "hi" }, { signal: AbortSignal.timeout(5000) }).catch((e: unknown) => e);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe(Status.UNAVAILABLE);
    const server = await startEchoServer("s");
    servers.push(server);
    fake.put({ namespace: "staging", service: "echo", instanceId: "s", address: "127.0.0.1", port: server.port });
    await expect
      .poll(
        () =>
          echoClient
            .whoAmI({ text: "hi" }, { signal: AbortSignal.timeout(5000) })
            .then((r) => r.text)
            .catch(() => "failed"),
        { timeout: 5000 },
      )
      .toBe("s");
  });

  it("fails calls with UNAVAILABLE when the control plane cannot be reached at all", async () => {
    const echoClient = client("switchboard://127.0.0.1:1/echo");
    const started = Date.now();
    const error = await echoClient.whoAmI({ text: "hi" }, { signal: AbortSignal.timeout(8000) }).catch((e: unknown) => e);
    expect((error as ClientError).code).toBe(Status.UNAVAILABLE);
    expect((error as ClientError).details).toMatch(/switchboard control plane/);
    expect(Date.now() - started).toBeLessThan(5000);
  });
});
