import { ClientError, Metadata, ServerError, Status, createChannel, createClient, createServer } from "nice-grpc";
import type { Channel, Server } from "nice-grpc";
import { HealthDefinition } from "nice-grpc-server-health";
import { pino } from "pino";
import { Registry } from "prom-client";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import {
  AlreadyExistsError,
  ConflictError,
  InvalidArgumentError,
  NotFoundError,
  ResourceExhaustedError,
  UnavailableError,
} from "../errors.js";
import { StoreUnavailableError } from "../store/index.js";
import { createCallMiddleware } from "./call-middleware.js";
import { CURRENT_REVISION_TRAILER } from "./error-status.js";

// grpc.health.v1.Health/Check stands in for any service: the requested
// "service" name picks the error the handler throws.
const THROWN: Record<string, () => unknown> = {
  invalid: () => new InvalidArgumentError("instance.metadata", "at most 64 pairs"),
  missing: () => new NotFoundError("instance default/orders/i-1 not found"),
  duplicate: () => new AlreadyExistsError("instance i-1 is owned by another lease"),
  conflict: () => new ConflictError("key changed", 42),
  unavailable: () => new UnavailableError("store unreachable"),
  "store-down": () => new StoreUnavailableError("etcd: connect ECONNREFUSED 127.0.0.1:2379"),
  quota: () => new ResourceExhaustedError("watch queue full"),
  unimplemented: () => new ServerError(Status.UNIMPLEMENTED, "not yet"),
  bug: () => new TypeError("cannot read properties of undefined (reading 'secret')"),
  string: () => "a thrown string",
};

describe("call middleware", () => {
  let server: Server;
  let channel: Channel;
  const metrics = new Registry();
  const logged: string[] = [];

  beforeAll(async () => {
    const logger = pino({ level: "warn" }, { write: (line: string) => void logged.push(line) });
    server = createServer().use(createCallMiddleware({ metrics, logger, shutdownSignal: new AbortController().signal }));
    server.add(HealthDefinition, {
      async check(request) {
        const make = THROWN[request.service];
        if (make) throw make();
        return { status: 1 };
      },
      async *watch() {},
    });
    const port = await server.listen("127.0.0.1:0");
    channel = createChannel(`127.0.0.1:${port}`);
  });

  afterAll(async () => {
    channel.close();
    await server.shutdown();
  });

  async function callWith(service: string): Promise<{ error: ClientError; trailer: Metadata }> {
    const client = createClient(HealthDefinition, channel);
    let trailer = Metadata();
    try {
      await client.check({ service }, { onTrailer: (t) => (trailer = t) });
    } catch (error) {
      if (error instanceof ClientError) return { error, trailer };
      throw error;
    }
    throw new Error(`call for ${service} succeeded`);
  }

  it.each([
    ["invalid", Status.INVALID_ARGUMENT, "instance.metadata: at most 64 pairs"],
    ["missing", Status.NOT_FOUND, "instance default/orders/i-1 not found"],
    ["duplicate", Status.ALREADY_EXISTS, "instance i-1 is owned by another lease"],
    ["conflict", Status.ABORTED, "key changed"],
    ["unavailable", Status.UNAVAILABLE, "store unreachable"],
    ["store-down", Status.UNAVAILABLE, "etcd: connect ECONNREFUSED 127.0.0.1:2379"],
    ["quota", Status.RESOURCE_EXHAUSTED, "watch queue full"],
    ["unimplemented", Status.UNIMPLEMENTED, "not yet"],
  ])("maps %s to %s", async (service, code, details) => {
    const { error } = await callWith(service);
    expect(Status[error.code]).toBe(Status[code]);
    expect(error.details).toBe(details);
  });

  it("sends the current revision of a compare-and-set conflict as a trailer", async () => {
    const { trailer } = await callWith("conflict");
    expect(trailer.get(CURRENT_REVISION_TRAILER)).toBe("42");
  });

  it("answers unknown errors INTERNAL without internals, and logs them", async () => {
    for (const service of ["bug", "string"]) {
      const { error } = await callWith(service);
      expect(error.code).toBe(Status.INTERNAL);
      expect(error.details).toBe("internal error");
    }
    const errors = logged.map((line) => JSON.parse(line) as { msg: string; level: number; err?: { message?: string } });
    expect(errors.some((e) => e.msg === "unexpected error in handler" && e.err?.message?.includes("secret"))).toBe(true);
    expect(errors.some((e) => e.msg === "rpc failed" && e.level === 40)).toBe(true);
  });

  it("counts calls by service, method and code", async () => {
    await createClient(HealthDefinition, channel).check({ service: "" });
    const text = await metrics.metrics();
    expect(text).toContain(
      'grpc_server_handled_total{grpc_type="unary",grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_code="OK"} 1',
    );
    expect(text).toContain(
      'grpc_server_handled_total{grpc_type="unary",grpc_service="grpc.health.v1.Health",grpc_method="Check",grpc_code="INTERNAL"}',
    );
    expect(text).toMatch(/grpc_server_handling_seconds_count\{[^}]*grpc_code="ABORTED"\} [1-9]/);
  });
});

describe("call middleware on shutdown", () => {
  it("ends open streams and refuses new calls with UNAVAILABLE once the shutdown signal aborts", async () => {
    const shutdown = new AbortController();
    const server = createServer().use(
      createCallMiddleware({ metrics: new Registry(), logger: pino({ level: "silent" }), shutdownSignal: shutdown.signal }),
    );
    server.add(HealthDefinition, {
      async check() {
        return { status: 1 };
      },
      async *watch(_request, context) {
        yield { status: 1 };
        // Endless until the (linked) call signal aborts.
        await new Promise((resolve) => context.signal.addEventListener("abort", resolve));
        throw Object.assign(new Error("aborted"), { name: "AbortError" });
      },
    });
    const port = await server.listen("127.0.0.1:0");
    const channel = createChannel(`127.0.0.1:${port}`);
    try {
      const client = createClient(HealthDefinition, channel);
      const stream = client.watch({ service: "" })[Symbol.asyncIterator]();
      expect((await stream.next()).value?.status).toBe(1);
      shutdown.abort();
      const ended = await stream.next().catch((error: unknown) => error);
      expect(ended).toBeInstanceOf(ClientError);
      expect((ended as ClientError).code).toBe(Status.UNAVAILABLE);
      const refused = await client.check({ service: "" }).catch((error: unknown) => error);
      expect((refused as ClientError).code).toBe(Status.UNAVAILABLE);
      expect((refused as ClientError).details).toBe("server is shutting down");
    } finally {
      channel.close();
      await server.shutdown();
    }
  });
});
