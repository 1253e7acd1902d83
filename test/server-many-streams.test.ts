/**
 * Many open streams on one server: no per-stream listener piles up on a
 * server-wide signal (Node would warn "MaxListenersExceededWarning: 11 abort
 * listeners added to [AbortSignal]"), and shutdown still ends every stream.
 */
import { afterEach, describe, expect, it } from "vitest";
import { createSwitchboardClient, UnavailableError } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

// Well past Node's default limit of 10 listeners per signal, for each stream kind.
const STREAMS = 15;

describe("a server with many open streams", () => {
  let server: TestServer | undefined;
  let client: SwitchboardClient | undefined;
  const warnings: Error[] = [];
  const onWarning = (warning: Error) => warnings.push(warning);

  afterEach(async () => {
    process.off("warning", onWarning);
    client?.close();
    await server?.close();
  });

  it(`serves ${STREAMS} each of Watch, WatchHealth, WatchConfig and KeepAlive without MaxListenersExceededWarning, and ends them all on shutdown`, async () => {
    process.on("warning", onWarning);
    server = await startTestServer();
    client = createSwitchboardClient({ address: server.grpcAddress });
    const c = client;
    const registered = await c.registry.register({
      instance: { service: "many", address: "127.0.0.1", port: 1 },
      ttlSeconds: 30,
    });

    // Each stream has its own client-side signal (one shared signal would warn on the client side instead).
    const controllers: AbortController[] = [];
    const signal = () => {
      const controller = new AbortController();
      controllers.push(controller);
      return controller.signal;
    };
    /** Runs a stream, resolving `first` on its first message and `done` with how it ended. */
    const run = <T>(open: (signal: AbortSignal) => AsyncIterable<T>) => {
      let onFirst!: () => void;
      const first = new Promise<void>((resolve) => (onFirst = resolve));
      const done = (async (): Promise<unknown> => {
        try {
          for await (const _ of open(signal())) onFirst();
          return "ended";
        } catch (error) {
          return error;
        }
      })();
      return { first, done };
    };
    async function* keepAliveRequests(leaseId: string, until: AbortSignal) {
      yield { leaseId };
      await new Promise((resolve) => until.addEventListener("abort", resolve, { once: true }));
    }

    const streams = Array.from({ length: STREAMS }, () => [
      run((s) => c.registry.watch({ service: "many" }, { signal: s })),
      run((s) => c.health.watchHealth({ service: "many" }, { signal: s })),
      run((s) => c.config.watchConfig({ service: "many" }, { signal: s })),
      run((s) => c.registry.keepAlive(keepAliveRequests(registered.leaseId, s), { signal: s })),
    ]).flat();
    await Promise.all(streams.map((stream) => stream.first));
    // Warnings are emitted on the next tick.
    await new Promise((resolve) => setImmediate(resolve));
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning").map((w) => w.message)).toEqual([]);

    // Shutdown ends every stream (through the one fan-out listener) with UNAVAILABLE.
    await server.close();
    server = undefined;
    const outcomes = await Promise.all(streams.map((stream) => stream.done));
    expect(outcomes.every((outcome) => outcome instanceof UnavailableError)).toBe(true);
    for (const controller of controllers) controller.abort();
    expect(warnings.filter((w) => w.name === "MaxListenersExceededWarning")).toEqual([]);
  });
});
