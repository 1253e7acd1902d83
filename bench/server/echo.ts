// A bench-only gRPC service, added next to the real Switchboard services on
// the same server process, to measure what the server costs when it does
// nothing: the null baselines of the resolve and memory scenarios. It is not
// part of Switchboard's API and never ships.
//
// Messages are raw bytes (no protobuf schema): Echo returns its request,
// Hold sends one message and then stays open until the client cancels, and
// Gc runs a full garbage collection (when the server runs with --expose-gc)
// and returns process.memoryUsage() as JSON.
import { readFileSync } from "node:fs";
import { getHeapSpaceStatistics, getHeapStatistics } from "node:v8";
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
  /** Where the RSS is, to tell V8's heap from memory outside it (all in bytes). */
  breakdown?: MemoryBreakdown;
}

export interface MemoryBreakdown {
  /** V8 heap committed (heapTotal), by space: new space is committed whole, live or not. */
  spaces: Record<string, number>;
  /** V8's own malloc'd memory (outside the JS heap) and its peak. */
  mallocedMemory: number;
  peakMallocedMemory: number;
  /** /proc/self/smaps_rollup: anonymous (heap, malloc arenas, stacks) and file-backed (code, mapped files) RSS. */
  anonymous?: number;
  fileRss?: number;
}

function memoryBreakdown(): MemoryBreakdown {
  const spaces: Record<string, number> = {};
  for (const space of getHeapSpaceStatistics()) spaces[space.space_name] = space.space_size;
  const heap = getHeapStatistics();
  const breakdown: MemoryBreakdown = {
    spaces,
    mallocedMemory: heap.malloced_memory,
    peakMallocedMemory: heap.peak_malloced_memory,
  };
  try {
    const rollup = readFileSync("/proc/self/smaps_rollup", "utf8");
    const kb = (field: string): number | undefined => {
      const match = new RegExp(`^${field}:\\s+(\\d+) kB`, "m").exec(rollup);
      return match ? Number(match[1]) * 1024 : undefined;
    };
    breakdown.anonymous = kb("Anonymous");
    const rss = kb("Rss");
    if (rss !== undefined && breakdown.anonymous !== undefined) breakdown.fileRss = rss - breakdown.anonymous;
  } catch {
    // Not Linux: the V8 figures alone.
  }
  return breakdown;
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
        breakdown: memoryBreakdown(),
      };
      return encoder.encode(JSON.stringify(report));
    },
  };
}
