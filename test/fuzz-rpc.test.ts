/**
 * Fuzz run over every method of RegistryService, ConfigService and
 * HealthService against a real server (embedded store): seeded, decodable but
 * hostile requests (test/support/proto-fuzz.ts). It must find
 *   - no status INTERNAL or UNKNOWN for any decodable request (bad input is
 *     INVALID_ARGUMENT naming the field; nothing crashes the server),
 *   - no accepted address that is not an IP literal or a DNS name (checked
 *     with an oracle independent of the server's rule: every consumer must
 *     read the address as the same host),
 *   - nothing logged at error level (e.g. "cache listener failed").
 *
 * SWITCHBOARD_FUZZ_SEED and SWITCHBOARD_FUZZ_ROUNDS replay or lengthen a run;
 * a failure prints the seed, the method and the request.
 */
import { isIP } from "node:net";
import { Writable } from "node:stream";
import { ClientError, createChannel, createClient, Status } from "nice-grpc";
import type { Channel } from "nice-grpc";
import { pino } from "pino";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ConfigServiceDefinition } from "../generated/switchboard/config/v1/config.js";
import { HealthServiceDefinition } from "../generated/switchboard/health/v1/health.js";
import { RegistryServiceDefinition } from "../generated/switchboard/registry/v1/registry.js";
import type { Instance } from "../generated/switchboard/registry/v1/registry.js";
import type { DescMethod } from "@bufbuild/protobuf";
import { createProtoFuzzer } from "./support/proto-fuzz.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const SEED = Number(process.env.SWITCHBOARD_FUZZ_SEED ?? 20261207);
// Requests per method; the default keeps the whole run well under 20 s on a loaded 2-core machine.
const ROUNDS = Number(process.env.SWITCHBOARD_FUZZ_ROUNDS ?? 40);
// A stream's first message comes at once or after one bookmark interval.
const BOOKMARK_MS = 100;
// Calls are cancelled after this: what the server answers at once is judged; waits (a
// min_revision far ahead waits 5 s for UNAVAILABLE, as documented) are cut short.
const CALL_WAIT_MS = 1_500;
const WORKERS = 8;

/** An address every consumer reads as the same host: an IP literal without zone, or an LDH(+_) name a URL keeps as is. */
function addressIsHost(address: string): boolean {
  if (isIP(address) === 4) return new URL(`http://${address}:1/`).hostname === address;
  if (isIP(address) === 6) return !address.includes("%");
  if (!/^[A-Za-z0-9_.-]+$/.test(address)) return false;
  try {
    return new URL(`http://${address}:1/`).hostname === address.toLowerCase();
  } catch {
    return false;
  }
}

/** A request for a failure message (toJSON throws on an invalid Date, which a fuzzed Timestamp can be). */
function show(request: unknown): string {
  return JSON.stringify(request, (_key, value: unknown) =>
    typeof value === "string" && value.length > 80 ? `${value.slice(0, 40)}...(${value.length})` : value,
  ).slice(0, 1_000);
}

/**
 * A client of the service that sends request bytes as they are (responses
 * decoded as usual), so what the server receives is exactly what the
 * generator wrote.
 */
function rawClient(
  channel: Channel,
  serviceName: string,
  definition: {
    methods: Record<
      string,
      { name: string; requestStream: boolean; responseStream: boolean; responseType: { decode(bytes: Uint8Array): unknown } }
    >;
  },
): Record<string, (...args: unknown[]) => unknown> {
  const methods: Record<string, unknown> = {};
  for (const [name, method] of Object.entries(definition.methods)) {
    methods[name] = {
      path: `/${serviceName}/${method.name}`,
      requestStream: method.requestStream,
      responseStream: method.responseStream,
      requestSerialize: (bytes: Uint8Array) => Buffer.from(bytes),
      requestDeserialize: (bytes: Buffer) => bytes,
      responseSerialize: () => Buffer.alloc(0),
      responseDeserialize: (bytes: Buffer) => method.responseType.decode(bytes),
    };
  }
  return createClient(methods as never, channel) as unknown as Record<string, (...args: unknown[]) => unknown>;
}

interface Finding {
  method: string;
  problem: string;
  request: string;
}

const SERVICES = [
  { name: "switchboard.registry.v1.RegistryService", definition: RegistryServiceDefinition },
  { name: "switchboard.config.v1.ConfigService", definition: ConfigServiceDefinition },
  { name: "switchboard.health.v1.HealthService", definition: HealthServiceDefinition },
] as const;

describe("fuzz: every method of every service (embedded store)", () => {
  let server: TestServer;
  let channel: Channel;
  const errorLogs: string[] = [];

  beforeAll(async () => {
    const sink = new Writable({
      write(chunk: Buffer, _encoding, done) {
        for (const line of chunk.toString("utf8").split("\n")) {
          if (line.trim() === "") continue;
          const entry = JSON.parse(line) as { level: number };
          if (entry.level >= 50) errorLogs.push(line.slice(0, 2_000));
        }
        done();
      },
    });
    server = await startTestServer({
      logger: pino({ level: "error" }, sink),
      registry: { bookmarkIntervalMs: BOOKMARK_MS },
      health: { watch: { bookmarkIntervalMs: BOOKMARK_MS } },
      config: { bookmarkIntervalMs: BOOKMARK_MS },
    });
    channel = createChannel(server.grpcAddress, undefined, { "grpc.max_send_message_length": -1 });
  });
  afterAll(async () => {
    channel?.close();
    await server?.close();
  });

  it(`finds no INTERNAL/UNKNOWN, no accepted invalid address, no error log (seed ${SEED}, ${ROUNDS} rounds)`, async () => {
    const fuzz = createProtoFuzzer(SEED);
    const findings: Finding[] = [];
    const outcomes = new Map<string, Map<string, number>>();
    const elapsed = new Map<string, number>();
    const tally = (method: string, outcome: string) => {
      const byOutcome = outcomes.get(method) ?? new Map<string, number>();
      byOutcome.set(outcome, (byOutcome.get(outcome) ?? 0) + 1);
      outcomes.set(method, byOutcome);
    };
    const clients = SERVICES.map(({ name, definition }) => {
      const service = fuzz.service(name);
      return { service, definition, client: rawClient(channel, service.typeName, definition) };
    });

    const checkInstance = (method: string, instance: Instance | undefined, request: string) => {
      // Registry instances only: health answers carry instance health, without an address.
      if (instance && typeof instance.address === "string" && !addressIsHost(instance.address)) {
        findings.push({ method, problem: `accepted address ${JSON.stringify(instance.address)}`, request });
      }
    };

    /** One call, judged. */
    async function exercise(
      name: string,
      method: DescMethod,
      decode: (bytes: Uint8Array) => unknown,
      call: (...args: unknown[]) => unknown,
      requests: Uint8Array[],
    ): Promise<void> {
      const bytes = requests[0]!;
      const shown = () => show(decode(bytes));
      const callStarted = Date.now();
      try {
        if (method.methodKind === "unary") {
          const response = (await call(bytes, { signal: AbortSignal.timeout(CALL_WAIT_MS) })) as Record<string, unknown>;
          if ("instance" in response) checkInstance(name, response["instance"] as Instance | undefined, shown());
          if (Array.isArray(response["instances"]))
            for (const i of response["instances"]) checkInstance(name, i as Instance, shown());
          tally(name, "OK");
        } else {
          // Streams: read the first message (or two) and cancel; client streams send a few requests.
          const signal = AbortSignal.timeout(CALL_WAIT_MS);
          async function* send() {
            yield* requests;
          }
          const responses = (
            method.methodKind === "server_streaming" ? call(bytes, { signal }) : call(send(), { signal })
          ) as AsyncIterable<Record<string, unknown>>;
          let read = 0;
          for await (const message of responses) {
            const kind = message["kind"] as { $case: string; value: Record<string, unknown> } | undefined;
            if (kind?.$case === "snapshot" && Array.isArray(kind.value["instances"])) {
              for (const i of kind.value["instances"]) checkInstance(name, i as Instance, shown());
            }
            if (++read >= 2) break;
          }
          tally(name, "OK");
        }
      } catch (error) {
        if (error instanceof ClientError) {
          // The field an INVALID_ARGUMENT names tells how deep requests got; kept in the summary.
          tally(
            name,
            error.code === Status.INVALID_ARGUMENT ? `INVALID_ARGUMENT(${error.details.split(":")[0]})` : Status[error.code],
          );
          if (error.code === Status.INTERNAL || error.code === Status.UNKNOWN) {
            findings.push({ method: name, problem: `${Status[error.code]}: ${error.details}`, request: shown() });
          }
        } else if (error instanceof Error && (error.name === "AbortError" || error.name === "TimeoutError")) {
          tally(name, "client timeout");
        } else {
          findings.push({ method: name, problem: `client saw ${String(error)}`, request: shown() });
        }
      } finally {
        elapsed.set(name, (elapsed.get(name) ?? 0) + Date.now() - callStarted);
      }
    }

    // Valid registrations and config writes first: their lease ids and revisions are plausible
    // int64 values for the generator (heartbeats that renew, compare-and-set that matches).
    const setupRegistry = createClient(RegistryServiceDefinition, channel);
    const setupConfig = createClient(ConfigServiceDefinition, channel);
    for (const [i, service] of ["orders", "payments", "fuzz"].entries()) {
      const registered = await setupRegistry.register({
        instance: { service, instanceId: "a", address: "127.0.0.1", port: 8080 + i, owner: "owner-1" },
        ttlSeconds: 30,
      });
      fuzz.remember(registered.leaseId);
      fuzz.remember(registered.revision);
      const put = await setupConfig.putValue({ scope: { service }, key: "k", value: "v" });
      fuzz.remember(put.revision);
    }

    // Every request is generated up front, in a fixed order, so a seed replays the same run;
    // a few workers send them (a call that waits, e.g. for a min_revision far ahead, holds one worker).
    const work: Array<() => Promise<void>> = [];
    for (let round = 0; round < ROUNDS; round++) {
      for (const { service, definition, client } of clients) {
        for (const method of service.methods) {
          // Register is where addresses enter: it gets more requests than the rest.
          for (let copy = method.name === "Register" ? 4 : 1; copy > 0; copy--) {
            const spec = (definition.methods as Record<string, { requestType: { decode(bytes: Uint8Array): unknown } }>)[
              method.localName
            ]!;
            // The exact bytes go on the wire (re-encoding a decoded Timestamp can fail on the client).
            const requests = [fuzz.request(method.input.typeName)];
            if (method.methodKind === "bidi_streaming" || method.methodKind === "client_streaming") {
              for (let extra = fuzz.int(3); extra > 0; extra--) requests.push(fuzz.request(method.input.typeName));
            }
            const name = `${service.name}/${method.name}`;
            work.push(() =>
              exercise(name, method, (bytes) => spec.requestType.decode(bytes), client[method.localName]!, requests),
            );
          }
        }
      }
    }
    let next = 0;
    await Promise.all(
      Array.from({ length: WORKERS }, async () => {
        while (next < work.length) await work[next++]!();
      }),
    );

    // Everything stored, whatever the answers said.
    const registry = createClient(RegistryServiceDefinition, channel);
    const { services } = await registry.listServices({});
    for (const { namespace, service } of services) {
      const { instances } = await registry.listInstances({ namespace, service, includeUnroutable: true });
      for (const instance of instances) checkInstance("stored", instance, `${namespace}/${service}/${instance.instanceId}`);
    }

    const summary = [...outcomes].map(
      ([method, byOutcome]) => `${method}: ${[...byOutcome].map(([o, n]) => `${o} ${n}`).join(", ")} (${elapsed.get(method)} ms)`,
    );
    console.info(`fuzz seed ${SEED}, ${ROUNDS} rounds\n${summary.join("\n")}`);
    // Every method was reached.
    expect(outcomes.size).toBe(clients.reduce((n, c) => n + c.service.methods.length, 0));
    expect(findings.slice(0, 20), `seed ${SEED}`).toEqual([]);
    expect(errorLogs.slice(0, 10)).toEqual([]);
  }, 120_000);
});
