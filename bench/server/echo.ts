// A bench-only gRPC service, added next to the real Switchboard services on
// the same server process, to measure what the server costs when it does
// nothing: the null baselines of the resolve and memory scenarios. It is not
// part of Switchboard's API and never ships.
//
// Messages are raw bytes (no protobuf schema): Echo returns its request,
// Hold sends one message and then stays open until the client cancels, and
// Gc runs a full garbage collection (when the server runs with --expose-gc)
// and returns process.memoryUsage() as JSON.
import { getHeapSpaceStatistics } from "node:v8";
import type { CallContext } from "nice-grpc-common";

const identity = (value: Uint8Array): Uint8Array => value;

function method<RequestStream extends boolean, ResponseStream extends boolean>(
  name: string,
  requestStream: RequestStream,
  responseStream: ResponseStream,
) {
  return {
    path: `/switchboard.bench.v1.EchoService/${name}`,
    requestStream,
    responseStream,
    requestSerialize: identity,
    requestDeserialize: identity,
    responseSerialize: identity,
    responseDeserialize: identity,
    options: {},
  } as const;
}

export const EchoServiceDefinition = {
  echo: method("Echo", false, false),
  hold: method("Hold", false, true),
  gc: method("Gc", false, false),
} as const;

export interface MemoryReport {
  gcRan: boolean;
  rss: number;
  heapUsed: number;
  heapTotal: number;
  external: number;
  arrayBuffers: number;
  /** process.memoryUsage() before the collection (the footprint scenario's breakdown). */
  beforeGc: { rss: number; heapUsed: number; heapTotal: number; external: number; arrayBuffers: number };
  /** v8.getHeapSpaceStatistics() after the collection: bytes reserved (size) and used per V8 space. */
  heapSpaces: Array<{ name: string; size: number; used: number; physical: number }>;
}

const encoder = new TextEncoder();

export function createEchoServiceImpl() {
  return {
    async echo(request: Uint8Array): Promise<Uint8Array> {
      return request;
    },
    async *hold(_request: Uint8Array, context: CallContext): AsyncGenerator<Uint8Array, void, undefined> {
      yield new Uint8Array([1]);
      if (context.signal.aborted) return;
      await new Promise<void>((resolve) => context.signal.addEventListener("abort", () => resolve(), { once: true }));
    },
    async gc(): Promise<Uint8Array> {
      const beforeGc = process.memoryUsage();
      const gc = (globalThis as { gc?: () => void }).gc;
      if (gc) {
        // Two passes: the first may only finalize objects the second frees.
        gc();
        await new Promise((resolve) => setImmediate(resolve));
        gc();
      }
      const usage = process.memoryUsage();
      const report: MemoryReport = {
        gcRan: gc !== undefined,
        rss: usage.rss,
        heapUsed: usage.heapUsed,
        heapTotal: usage.heapTotal,
        external: usage.external,
        arrayBuffers: usage.arrayBuffers,
        beforeGc: {
          rss: beforeGc.rss,
          heapUsed: beforeGc.heapUsed,
          heapTotal: beforeGc.heapTotal,
          external: beforeGc.external,
          arrayBuffers: beforeGc.arrayBuffers,
        },
        heapSpaces: getHeapSpaceStatistics().map((space) => ({
          name: space.space_name,
          size: space.space_size,
          used: space.space_used_size,
          physical: space.physical_space_size,
        })),
      };
      return encoder.encode(JSON.stringify(report));
    },
  };
}
