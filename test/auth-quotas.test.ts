/**
 * Per-token quotas on a server with --auth (embedded store: quotas are per
 * replica and touch no store): a token over its stream or registration quota
 * gets RESOURCE_EXHAUSTED naming the quota; another token's calls go on.
 */
import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Role } from "../generated/switchboard/auth/v1/auth.js";
import { createSwitchboardClient, ResourceExhaustedError } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { eventually } from "./support/eventually.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

describe("--auth quotas", () => {
  let server: TestServer;
  let a: SwitchboardClient;
  let b: SwitchboardClient;
  const clients: SwitchboardClient[] = [];

  beforeAll(async () => {
    const bootstrapToken = `${randomBytes(8).toString("hex")}.${randomBytes(32).toString("base64url")}`;
    server = await startTestServer({ auth: { bootstrapToken, maxStreamsPerToken: 2, registrationsPerSecondPerToken: 3 } });
    const admin = createSwitchboardClient({ address: server.grpcAddress, token: bootstrapToken });
    clients.push(admin);
    const grants = [
      { namespace: "shop", service: "", role: Role.ROLE_READ },
      { namespace: "shop", service: "", role: Role.ROLE_REGISTER },
    ];
    const [tokenA, tokenB] = await Promise.all([admin.auth.createToken({ grants }), admin.auth.createToken({ grants })]);
    a = createSwitchboardClient({ address: server.grpcAddress, token: tokenA.secret });
    b = createSwitchboardClient({ address: server.grpcAddress, token: tokenB.secret });
    clients.push(a, b);
  });

  afterAll(async () => {
    for (const client of clients) client.close();
    await server?.close();
  });

  /** Opens a Watch and resolves once its first message arrived; the returned function ends it. */
  async function openWatch(client: SwitchboardClient): Promise<{ stop: () => void; ended: Promise<unknown> }> {
    const controller = new AbortController();
    let first = false;
    const ended = (async () => {
      for await (const _ of client.registry.watch({ namespace: "shop", service: "orders" }, { signal: controller.signal }))
        first = true;
    })().catch((error: unknown) => error);
    await Promise.race([eventually(() => first, 10_000, "first watch message"), ended.then((error) => Promise.reject(error))]);
    return { stop: () => controller.abort(), ended };
  }

  it("ends the stream over max-streams-per-token with RESOURCE_EXHAUSTED, and leaves other tokens alone", async () => {
    const open = [await openWatch(a), await openWatch(a)];
    try {
      const third = await openWatch(a).catch((error: unknown) => error);
      expect(third).toBeInstanceOf(ResourceExhaustedError);
      expect((third as Error).message).toBe(
        "quota max-streams-per-token exceeded: 2 of 2 streams open for token:" + (await a.auth.whoAmI({})).token!.id,
      );
      const other = await openWatch(b);
      other.stop();
      await other.ended;
    } finally {
      for (const stream of open) stream.stop();
      await Promise.all(open.map((stream) => stream.ended));
    }
    // Slots come back when streams end.
    await eventually(
      async () => {
        const again = await openWatch(a).catch(() => undefined);
        again?.stop();
        await again?.ended;
        return again !== undefined;
      },
      10_000,
      "a stream slot freed",
    );
  });

  it("refuses registrations over registrations-per-second, and leaves other tokens alone", async () => {
    const register = (client: SwitchboardClient, i: number) =>
      client.registry.register({
        instance: { namespace: "shop", service: "orders", address: "10.0.0.1", port: 1000 + i, instanceId: `q-${i}` },
        ttlSeconds: 30,
      });
    // Sent at once, so they reach the server within a fraction of a second.
    const outcomes = await Promise.all(
      [...Array(10).keys()].map((i) =>
        register(a, i).then(
          () => "ok",
          (error: unknown) => error,
        ),
      ),
    );
    const refused = outcomes.filter((o) => o instanceof ResourceExhaustedError) as Error[];
    expect(outcomes.filter((o) => o !== "ok" && !(o instanceof ResourceExhaustedError))).toEqual([]);
    // A burst of 3; a few more may have refilled while the calls ran on a slow machine.
    expect(refused.length).toBeGreaterThanOrEqual(4);
    expect(refused[0]!.message).toMatch(/^quota registrations-per-second exceeded: at most 3 per second for token:/);
    expect(await register(b, 100).then(() => "ok")).toBe("ok");
  });
});
