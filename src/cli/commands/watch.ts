import { Instance } from "../../../generated/switchboard/registry/v1/registry.js";
import { watchService } from "@switchboard/client";
import type { WatchUpdate } from "@switchboard/client";
import type { CliContext, Command } from "../command.js";
import { EXIT, UsageError } from "../command.js";
import { connectionTarget, describeUnreachable, explainFailure, isConnectionFailure, openClient } from "../connection.js";
import { parseFlags } from "../flags.js";
import { formatJsonLine, formatTable } from "../output.js";
import {
  CONNECTION_FLAGS,
  CONNECTION_USAGE,
  INSTANCE_FILTER_FLAGS,
  INSTANCE_HEADER,
  hostPort,
  healthName,
  instanceFilter,
  instanceRow,
  intFlag,
  stateName,
  waitForSignal,
} from "./registry-common.js";

const USAGE = `Usage: switchboard watch [SERVICE] [-n NAMESPACE] [flags]

Streams the instances of a service live: first the current list (a snapshot at
revision R), then every change after R with its revision. Reconnects by itself
after errors and resumes from the last revision, so nothing is missed; a
"reset" snapshot means the server could not replay the gap and sent the whole
list again. Without SERVICE, watches every service of the namespace.
Runs until Ctrl-C (or --count updates).

Flags:
  -n, --namespace NAME             namespace (default "default")
  -a, --all                        also draining, starting, out-of-service and unhealthy instances
  --tag TAG                        only instances with this tag (repeatable)
  --zone ZONE                      only instances in this zone
  --since REVISION                 resume after REVISION instead of starting with a snapshot
  --bookmarks                      also print idle progress (bookmark) messages
  --count N                        exit after N updates
${CONNECTION_USAGE}
JSON output: one document per line:
  {"type":"snapshot","revision":12,"reset":false,"instances":[...]}
  {"type":"event","revision":13,"kind":"added|updated|removed","instance":{...},"instanceCount":4}
  {"type":"bookmark","revision":14}

Examples:
  switchboard watch orders
  switchboard watch orders -n shop --json | jq -c 'select(.type=="event")'
`;

export const watchCommand: Command = {
  name: "watch",
  summary: "stream the instances of a service as they change",
  usage: USAGE,
  run: runWatch,
};

async function runWatch(context: CliContext): Promise<number> {
  const { values, positionals } = parseFlags(context.argv, {
    ...CONNECTION_FLAGS,
    ...INSTANCE_FILTER_FLAGS,
    since: { type: "string" },
    bookmarks: { type: "boolean" },
    count: { type: "string" },
  } as const);
  if (positionals.length > 1) throw new UsageError(`unexpected argument "${positionals[1]}"`);
  const service = positionals[0] ?? "";
  const since = intFlag("since", values.since, 0, 0, Number.MAX_SAFE_INTEGER);
  const count = intFlag("count", values.count, 0, 1, Number.MAX_SAFE_INTEGER);
  const json = values.json ?? false;
  const target = connectionTarget(values, context.env);
  const client = openClient(values, context.env);
  const controller = new AbortController();
  // Ctrl-C / SIGTERM end the watch cleanly (exit 0).
  const stopped = waitForSignal(["SIGINT", "SIGTERM"], controller.signal);
  void stopped.then(() => controller.abort());
  let received = 0;
  // A line when the reason for retrying changes (not one per attempt); a connection failure names the address and what is wrong there.
  let lastReason: string | undefined;
  const reportRetry = async (error: unknown, delayMs: number) => {
    const unreachable = isConnectionFailure(error) ? await describeUnreachable(target) : undefined;
    const reason = unreachable ?? (error instanceof Error ? error.message : String(error));
    if (controller.signal.aborted || reason === lastReason) return;
    lastReason = reason;
    context.stderr.write(`watch interrupted: ${reason}; retrying with backoff (next in ${delayMs} ms), Ctrl-C to stop\n`);
  };
  try {
    const updates = watchService(
      client,
      {
        namespace: values.namespace ?? "",
        service,
        ...instanceFilter(values),
        sinceRevision: since,
        bookmarks: values.bookmarks ?? false,
        onRetry: (error, delayMs) => void reportRetry(error, delayMs),
      },
      controller.signal,
    );
    for await (const update of updates) {
      context.stdout.write(json ? formatJsonLine(toJson(update)) : render(update, service));
      received++;
      if (count > 0 && received >= count) break;
    }
    return EXIT.ok;
  } catch (error) {
    throw await explainFailure(error, target);
  } finally {
    controller.abort();
    await stopped;
    client.close();
  }
}

function toJson(update: WatchUpdate): unknown {
  switch (update.type) {
    case "snapshot":
      return {
        type: "snapshot",
        revision: update.revision,
        reset: update.reset,
        instances: update.instances.map((instance) => Instance.toJSON(instance)),
      };
    case "event":
      return {
        type: "event",
        revision: update.revision,
        kind: update.event?.kind,
        instance: update.event === undefined ? undefined : Instance.toJSON(update.event.instance),
        instanceCount: update.instances.length,
      };
    case "bookmark":
      return { type: "bookmark", revision: update.revision };
  }
}

function render(update: WatchUpdate, service: string): string {
  switch (update.type) {
    case "snapshot": {
      const title = `revision ${update.revision}${update.reset ? " (reset: replaces everything above)" : ""}: ${update.instances.length} instance(s)\n`;
      if (update.instances.length === 0) return title;
      const header = service === "" ? ["SERVICE", ...INSTANCE_HEADER] : [...INSTANCE_HEADER];
      const rows = update.instances.map((i) => (service === "" ? [i.service, ...instanceRow(i)] : instanceRow(i)));
      return title + formatTable(header, rows);
    }
    case "event": {
      const event = update.event;
      if (event === undefined) return "";
      const i = event.instance;
      return (
        [
          `[${update.revision}]`,
          event.kind.toUpperCase().padEnd(7),
          `${i.service}/${i.instanceId}`,
          hostPort(i),
          stateName(i.state),
          healthName(i.healthStatus),
          `(${update.instances.length} now)`,
        ].join("  ") + "\n"
      );
    }
    case "bookmark":
      return `[${update.revision}]  bookmark\n`;
  }
}
