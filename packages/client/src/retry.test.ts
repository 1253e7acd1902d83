import { connect, createServer as createTcpServer } from "node:net";
import type { AddressInfo, Server as TcpServer, Socket } from "node:net";
import { ClientError, createChannel, createClientFactory, createServer, ServerError, Status } from "nice-grpc";
import type { Channel, Server } from "nice-grpc";
import { afterEach, describe, expect, it } from "vitest";
import { EchoDefinition } from "../../../test/support/echo-server.js";
import { createRetryMiddleware } from "./retry.js";
import type { RetryOptions } from "./retry.js";

/** Fast backoff: the tests are about which calls are retried, not how long apart. */
const FAST: RetryOptions = { backoff: { initialMs: 1, maxMs: 5 } };

describe("createRetryMiddleware", () => {
  const cleanups: Array<() => unknown> = [];
  afterEach(async () => {
    for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
  });

  /** An Echo server whose answers come from `handler`, and a retrying client of it. */
  async function setup(
    handler: (call: number, signal: AbortSignal, sendHeader: () => void) => Promise<string>,
    options: RetryOptions = FAST,
    viaProxy = false,
  ) {
    let calls = 0;
    const server: Server = createServer();
    server.add(EchoDefinition, {
      async whoAmI(_request, context) {
        calls++;
        const sendHeader = () => {
          // nice-grpc sends no empty header.
          context.header.set("attempt", String(calls));
          context.sendHeader();
        };
        return { text: await handler(calls, context.signal, sendHeader) };
      },
    });
    const port = await server.listen("127.0.0.1:0");
    cleanups.push(() => server.forceShutdown());
    const proxy = viaProxy ? await startProxy(port) : undefined;
    if (proxy) cleanups.push(() => proxy.close());
    const channel: Channel = createChannel(`127.0.0.1:${proxy?.port ?? port}`);
    cleanups.push(() => channel.close());
    const client = createClientFactory().use(createRetryMiddleware(options)).create(EchoDefinition, channel);
    return { client, proxy, calls: () => calls };
  }

  it("retries UNAVAILABLE until an attempt succeeds", async () => {
    const { client, calls } = await setup(async (call) => {
      if (call < 3) throw new ServerError(Status.UNAVAILABLE, `attempt ${call} unavailable`);
      return "third";
    });
    expect(await client.whoAmI({ text: "" })).toEqual({ text: "third" });
    expect(calls()).toBe(3);
  });

  it("gives up after maxAttempts with the last error", async () => {
    const { client, calls } = await setup(
      async (call) => {
        throw new ServerError(Status.UNAVAILABLE, `attempt ${call} unavailable`);
      },
      { ...FAST, maxAttempts: 2 },
    );
    await expect(client.whoAmI({ text: "" })).rejects.toMatchObject({
      code: Status.UNAVAILABLE,
      details: "attempt 2 unavailable",
    });
    expect(calls()).toBe(2);
  });

  it("does not retry other codes, nor calls that opt out", async () => {
    const { client, calls } = await setup(async (call) => {
      throw new ServerError(call === 1 ? Status.INTERNAL : Status.UNAVAILABLE, "no");
    });
    await expect(client.whoAmI({ text: "" })).rejects.toMatchObject({ code: Status.INTERNAL });
    expect(calls()).toBe(1);
    await expect(client.whoAmI({ text: "" }, { retry: false })).rejects.toMatchObject({ code: Status.UNAVAILABLE });
    expect(calls()).toBe(2);
  });

  it("retries the codes it is given", async () => {
    const { client, calls } = await setup(
      async (call) => {
        if (call === 1) throw new ServerError(Status.RESOURCE_EXHAUSTED, "busy");
        return "second";
      },
      { ...FAST, retryableCodes: [Status.RESOURCE_EXHAUSTED] },
    );
    expect(await client.whoAmI({ text: "" })).toEqual({ text: "second" });
    expect(calls()).toBe(2);
  });

  it("retries a call whose connection dropped after the response headers (grpc-js has committed it)", async () => {
    const { client, proxy, calls } = await setup(
      async (call, signal, sendHeader) => {
        if (call > 1) return "after the drop";
        sendHeader();
        // Held until the connection is cut below; the client's retry is a new call.
        await new Promise((resolve) => signal.addEventListener("abort", resolve, { once: true }));
        return "never sent";
      },
      FAST,
      true,
    );
    let headers = 0;
    const answer = client.whoAmI(
      { text: "" },
      {
        onHeader: () => {
          // The first attempt's headers arrived: cut its connection as a SIGKILL would.
          if (++headers === 1) setImmediate(() => proxy!.dropConnections());
        },
      },
    );
    expect(await answer).toEqual({ text: "after the drop" });
    expect(headers).toBe(2);
    expect(calls()).toBe(2);
  });

  it("stops waiting between attempts when the call's signal aborts", async () => {
    const { client, calls } = await setup(
      async () => {
        throw new ServerError(Status.UNAVAILABLE, "down");
      },
      { maxAttempts: 5, backoff: { initialMs: 60_000, maxMs: 60_000 } },
    );
    const controller = new AbortController();
    const answer = client.whoAmI({ text: "" }, { signal: controller.signal });
    await expect.poll(calls).toBe(1);
    controller.abort();
    await expect(answer).rejects.toMatchObject({ name: "AbortError" });
    expect(calls()).toBe(1);
  });

  it("rejects a maxAttempts below 1", () => {
    expect(() => createRetryMiddleware({ maxAttempts: 0 })).toThrow(RangeError);
  });

  it("does not retry a call whose signal is already aborted", async () => {
    const { client } = await setup(async () => "ok", { ...FAST, maxAttempts: 1 });
    expect(await client.whoAmI({ text: "" })).toEqual({ text: "ok" });
    await expect(client.whoAmI({ text: "" }, { signal: AbortSignal.abort() })).rejects.not.toBeInstanceOf(ClientError);
  });
});

/** A TCP proxy whose connections the test can cut, as a killed instance's kernel would. */
async function startProxy(targetPort: number): Promise<{ port: number; dropConnections(): void; close(): Promise<void> }> {
  const sockets = new Set<Socket>();
  const track = (socket: Socket) => {
    sockets.add(socket);
    socket.on("error", () => {});
    socket.once("close", () => sockets.delete(socket));
  };
  const server: TcpServer = createTcpServer((downstream) => {
    const upstream = connect(targetPort, "127.0.0.1");
    track(downstream);
    track(upstream);
    downstream.pipe(upstream).on("close", () => downstream.destroy());
    upstream.pipe(downstream).on("close", () => upstream.destroy());
    downstream.once("close", () => upstream.destroy());
    upstream.once("close", () => downstream.destroy());
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const dropConnections = () => {
    for (const socket of sockets) socket.destroy();
  };
  return {
    port: (server.address() as AddressInfo).port,
    dropConnections,
    close: () =>
      new Promise<void>((resolve) => {
        dropConnections();
        server.close(() => resolve());
      }),
  };
}
