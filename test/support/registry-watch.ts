/**
 * Records a RegistryService.Watch stream and checks the contract as messages
 * arrive: one snapshot first (or events after since_revision), then events
 * whose revisions never go back and are above the last snapshot or bookmark;
 * within one revision an instance appears at most once; ADDED only for
 * instances not held, UPDATED / REMOVED only for held ones. `state` is the
 * replayed view (key "namespace/service/id" → instance).
 *
 *   const watch = recordWatch(client, { service: "orders" });
 *   await watch.until(() => watch.state.size === 3);
 *   expect(watch.violations).toEqual([]);
 *   watch.close();
 */
import { ClientError } from "nice-grpc";
import {
  EventType,
  type Instance,
  type RegistryServiceClient,
  type WatchRequest,
  type WatchResponse,
} from "../../generated/switchboard/registry/v1/registry.js";

export interface RecordedWatch {
  readonly messages: WatchResponse[];
  readonly state: Map<string, Instance>;
  /** Highest revision seen (snapshot, event or bookmark). */
  readonly revision: number;
  readonly violations: string[];
  readonly error: unknown;
  readonly ended: boolean;
  readonly done: Promise<void>;
  /** Events only, as "TYPE id@revision". */
  eventLog(): string[];
  until(predicate: () => boolean, timeoutMs?: number, what?: string): Promise<void>;
  /** Waits for a bookmark or event at >= revision (the stream has caught up to it). */
  caughtUp(revision: number, timeoutMs?: number): Promise<void>;
  close(): void;
}

export const instanceRef = (i: Pick<Instance, "namespace" | "service" | "instanceId">) =>
  `${i.namespace}/${i.service}/${i.instanceId}`;

const TYPE_NAMES: Record<number, string> = {
  [EventType.EVENT_TYPE_ADDED]: "ADDED",
  [EventType.EVENT_TYPE_UPDATED]: "UPDATED",
  [EventType.EVENT_TYPE_REMOVED]: "REMOVED",
};

export interface RecordWatchOptions {
  /** State at since_revision, for checking the events of a resumed stream; without it held-checks are skipped until a snapshot. */
  initial?: ReadonlyMap<string, Instance>;
}

export function recordWatch(
  client: RegistryServiceClient,
  request: Partial<WatchRequest>,
  options: RecordWatchOptions = {},
): RecordedWatch {
  const controller = new AbortController();
  const messages: WatchResponse[] = [];
  const state = new Map<string, Instance>();
  const violations: string[] = [];
  let revision = 0;
  // Events must be above this (last snapshot or bookmark revision).
  let floor = 0;
  let groupRevision = -1;
  let group = new Set<string>();
  let error: unknown;
  let ended = false;
  let sawSnapshot = false;
  const resumed = request.sinceRevision !== undefined && request.sinceRevision !== "0";
  // Whether state is known, so ADDED / UPDATED / REMOVED can be checked against it.
  let stateKnown = !resumed || options.initial !== undefined;
  for (const [ref, instance] of options.initial ?? []) state.set(ref, instance);

  function apply(message: WatchResponse): void {
    const kind = message.kind;
    if (kind === undefined) {
      violations.push("message without kind");
      return;
    }
    if (kind.$case === "snapshot") {
      const snapshotRevision = Number(kind.value.revision);
      if (sawSnapshot && !kind.value.reset) violations.push(`second snapshot without reset at ${snapshotRevision}`);
      if (!sawSnapshot && messages.length > 1 && !kind.value.reset) violations.push("snapshot after events without reset");
      if (!kind.value.reset && snapshotRevision < revision)
        violations.push(`snapshot revision ${snapshotRevision} below ${revision}`);
      sawSnapshot = true;
      stateKnown = true;
      state.clear();
      for (const instance of kind.value.instances) state.set(instanceRef(instance), instance);
      revision = snapshotRevision;
      floor = snapshotRevision;
      groupRevision = -1;
      return;
    }
    if (kind.$case === "bookmark") {
      const bookmarkRevision = Number(kind.value.revision);
      if (bookmarkRevision < revision) violations.push(`bookmark ${bookmarkRevision} below ${revision}`);
      revision = Math.max(revision, bookmarkRevision);
      floor = revision;
      return;
    }
    const event = kind.value;
    const eventRevision = Number(event.revision);
    const instance = event.instance!;
    const ref = instanceRef(instance);
    if (!sawSnapshot && !resumed) violations.push(`event before snapshot: ${ref}@${eventRevision}`);
    if (eventRevision <= floor) violations.push(`event ${ref}@${eventRevision} not above ${floor}`);
    if (eventRevision < revision) violations.push(`event ${ref}@${eventRevision} after revision ${revision}`);
    if (eventRevision !== groupRevision) {
      groupRevision = eventRevision;
      group = new Set();
    }
    if (group.has(ref)) violations.push(`${ref} twice at revision ${eventRevision}`);
    group.add(ref);
    revision = Math.max(revision, eventRevision);
    if (event.type === EventType.EVENT_TYPE_ADDED) {
      if (stateKnown && state.has(ref)) violations.push(`ADDED ${ref}@${eventRevision} already held`);
      state.set(ref, instance);
    } else if (event.type === EventType.EVENT_TYPE_UPDATED) {
      if (stateKnown && !state.has(ref)) violations.push(`UPDATED ${ref}@${eventRevision} not held`);
      state.set(ref, instance);
    } else if (event.type === EventType.EVENT_TYPE_REMOVED) {
      if (stateKnown && !state.has(ref)) violations.push(`REMOVED ${ref}@${eventRevision} not held`);
      state.delete(ref);
    } else {
      violations.push(`event type ${event.type}`);
    }
  }

  const done = (async () => {
    try {
      for await (const message of client.watch(request, { signal: controller.signal })) {
        messages.push(message);
        apply(message);
      }
    } catch (e) {
      if (!controller.signal.aborted) error = e;
    } finally {
      ended = true;
    }
  })();

  const recorded: RecordedWatch = {
    messages,
    state,
    get revision() {
      return revision;
    },
    violations,
    get error() {
      return error;
    },
    get ended() {
      return ended;
    },
    done,
    eventLog() {
      return messages.flatMap((m) =>
        m.kind?.$case === "event"
          ? [`${TYPE_NAMES[m.kind.value.type]} ${m.kind.value.instance!.instanceId}@${m.kind.value.revision}`]
          : [],
      );
    },
    async until(predicate, timeoutMs = 10_000, what = "condition") {
      const deadline = Date.now() + timeoutMs;
      while (!predicate()) {
        if (ended && !predicate()) {
          const reason = error instanceof ClientError ? `${error.code} ${error.details}` : String(error);
          throw new Error(`watch ended (${reason}) before ${what}; last: ${JSON.stringify(recorded.eventLog().slice(-5))}`);
        }
        if (Date.now() > deadline)
          throw new Error(`timed out waiting for ${what}; last: ${JSON.stringify(recorded.eventLog().slice(-5))}`);
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    },
    caughtUp(target, timeoutMs) {
      return recorded.until(() => revision >= target, timeoutMs, `revision ${target}`);
    },
    close() {
      controller.abort();
    },
  };
  return recorded;
}
