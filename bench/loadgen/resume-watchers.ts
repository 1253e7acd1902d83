// A process of SDK watchers for the replica-kill scenario (bench/scenarios/replica-kill.ts).
//
//   node --import tsx bench/loadgen/resume-watchers.ts ADDRESSES SERVICES COUNT PER_CONNECTION
//
// Used by the replica-kill and soak scenarios. Opens COUNT watchService
// streams, stream i on the i-th of SERVICES (comma-separated, round robin;
// ADDRESSES comma-separated, in
// rotation order), one SDK client (connection) per PER_CONNECTION streams.
// Prints JSON lines: {"ready":true} once every stream has its snapshot, then
// {"min":R} every 250 ms (the lowest revision any of its streams has reached).
// On a "report" line on stdin it prints {"report":[…one entry per stream…]}
// and exits.
import { setMaxListeners } from "node:events";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { createInterface } from "node:readline";
import { createSwitchboardClient, watchService } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";

const [addressList, service, countText, perConnectionText] = process.argv.slice(2);
if (!addressList || !service || !countText || !perConnectionText) {
  console.error("usage: resume-watchers ADDRESSES SERVICE COUNT PER_CONNECTION");
  process.exit(2);
}
const addresses = addressList.split(",");
const services = service.split(",");
const removalWatch = process.env.REMOVAL_WATCH ? new RegExp(process.env.REMOVAL_WATCH) : undefined;
const count = Number(countText);
const perConnection = Number(perConnectionText);

interface Entry {
  snapshotRevision: number;
  resets: number;
  duplicates: number;
  errors: number;
  /** [revision, epoch ms of arrival] for every event. */
  events: Array<[number, number]>;
  /** REMOVED events of instances whose id matches REMOVAL_WATCH (env), e.g. ^i\d+$ for heartbeating ones. */
  watchedRemovals: number;
  service: string;
  last: string[];
  lastRevision: number;
  /** Times the SDK retried the stream, and the last error it retried on. */
  retries: number;
  lastRetryError: string;
}

// How long this process's event loop stalls: a client that cannot run for longer than the
// server's --keepalive-timeout misses its ping acknowledgement and loses its connection.
const loopDelay = monitorEventLoopDelay({ resolution: 20 });
loopDelay.enable();
const abort = new AbortController();
// Every stream of this process listens on it.
setMaxListeners(0, abort.signal);
const clients: SwitchboardClient[] = [];
const entries: Entry[] = [];
const loops: Promise<void>[] = [];
for (let i = 0; i < count; i++) {
  if (i % perConnection === 0) {
    clients.push(createSwitchboardClient({ addresses, channelOptions: { "grpc.use_local_subchannel_pool": 1 } }));
  }
  const client = clients.at(-1)!;
  const e: Entry = {
    snapshotRevision: 0,
    resets: 0,
    duplicates: 0,
    errors: 0,
    events: [],
    watchedRemovals: 0,
    service: services[i % services.length]!,
    last: [],
    lastRevision: 0,
    retries: 0,
    lastRetryError: "",
  };
  entries.push(e);
  const seenIds = new Set<string>();
  loops.push(
    (async () => {
      for await (const update of watchService(
        client,
        {
          service: e.service,
          backoff: { initialMs: 100, maxMs: 1_000 },
          onRetry: (error) => {
            e.retries++;
            e.lastRetryError = String(error).slice(0, 200);
          },
        },
        abort.signal,
      )) {
        if (update.type === "snapshot") {
          if (e.snapshotRevision === 0) e.snapshotRevision = update.revision;
          else if (update.reset) e.resets++;
        } else if (update.type === "event") {
          const id = update.event!.instance.instanceId;
          if (update.revision <= e.lastRevision) e.duplicates++;
          if (update.event!.kind === "added" && seenIds.has(id)) e.duplicates++;
          if (update.event!.kind === "removed" && removalWatch?.test(id)) e.watchedRemovals++;
          seenIds.add(id);
          if (!process.env.NO_EVENT_LOG) e.events.push([update.revision, Date.now()]);
        }
        e.lastRevision = Math.max(e.lastRevision, update.revision);
        e.last = update.instances.map((x) => x.instanceId);
      }
    })().catch(() => {
      e.errors++;
    }),
  );
}

const write = (value: unknown) => process.stdout.write(`${JSON.stringify(value)}\n`);
const readyTimer = setInterval(() => {
  if (entries.every((e) => e.snapshotRevision > 0)) {
    clearInterval(readyTimer);
    write({ ready: true });
    setInterval(() => {
      // Lowest revision per service: a stream sees only its own service's revisions.
      const byService: Record<string, number> = {};
      for (const e of entries) byService[e.service] = Math.min(byService[e.service] ?? Infinity, e.lastRevision);
      write({ min: Math.min(...entries.map((e) => e.lastRevision)), byService });
    }, 250);
  }
}, 50);

createInterface({ input: process.stdin }).on("line", (line) => {
  if (line.trim() !== "report") return;
  abort.abort();
  for (const client of clients) client.close();
  // Exit only once the (large) report has left: process.exit would cut a pipe write short.
  const loop = { maxMs: loopDelay.max / 1e6, p99Ms: loopDelay.percentile(99) / 1e6 };
  process.stdout.write(`${JSON.stringify({ report: entries, loop })}\n`, () => process.exit(0));
});
