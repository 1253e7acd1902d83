/**
 * Keeps calls away from an etcd member that stopped answering but kept its connections open (a
 * frozen process, a hung machine, a partition that leaves TCP up):
 *
 * ```ts
 * const probe = startMemberProbe({ members, intervalMs: 1000, probe: (m, signal) => status(m, signal), isolate });
 * probe.stop();
 * ```
 *
 * Without it, such a member costs every call routed to it a full request deadline, its circuit
 * breaker opens only after several of those, and each half-open retest is again a caller's request
 * that waits out a deadline (a Deregister failed that way ~13 s into a frozen-leader test). Here
 * every member is asked for its own status once per interval; one that does not answer within the
 * interval is isolated (calls skip it at once) until it answers again. The status call is served by
 * the member itself, without consensus, so healthy followers answer while a new leader is elected.
 *
 * A member is isolated after FAILURES_TO_ISOLATE probes in a row fail, so one slow answer on a
 * loaded machine does not do it. At most a minority of the members is isolated at once (one of
 * 3, two of 5, none of 2): etcd cannot work with more of them gone anyway, and a healthy member
 * isolated by mistake must not leave only the hung one. Nor is a member isolated while no other
 * answered its latest probe (all of etcd down, or this process starved): that would only turn
 * slow calls into failed ones, so the circuit breakers alone decide.
 */
export interface MemberProbeOptions {
  /** The members, as the etcd client names them. */
  members: readonly string[];
  /** Period of the probe of each member, and its deadline, in ms. */
  intervalMs: number;
  /** Resolves when the member answered; rejects (or is aborted through signal) otherwise. */
  probe(member: string, signal: AbortSignal): Promise<void>;
  /** Holds calls off the member until the returned handle is disposed. */
  isolate(member: string): { dispose(): void };
  /** Called when a member is isolated or let back in. */
  onChange?(member: string, isolated: boolean, error?: unknown): void;
}

export interface MemberProbe {
  /** Members isolated now. */
  isolated(): string[];
  /** Stops probing and lets every member back in. */
  stop(): void;
}

/** Failed probes in a row before a member is isolated. */
export const FAILURES_TO_ISOLATE = 2;

export function startMemberProbe(options: MemberProbeOptions): MemberProbe {
  const stopping = new AbortController();
  const answered = new Map<string, boolean>(options.members.map((member) => [member, true]));
  const failures = new Map<string, number>();
  const isolation = new Map<string, { dispose(): void }>();
  const maxIsolated = Math.floor((options.members.length - 1) / 2);

  const othersAnswer = (member: string) =>
    options.members.some((other) => other !== member && answered.get(other) === true && !isolation.has(other));

  async function probeOnce(member: string): Promise<void> {
    const deadline = AbortSignal.any([stopping.signal, AbortSignal.timeout(options.intervalMs)]);
    try {
      await abortable(options.probe(member, deadline), deadline);
      answered.set(member, true);
      failures.set(member, 0);
      const held = isolation.get(member);
      if (held !== undefined) {
        isolation.delete(member);
        held.dispose();
        options.onChange?.(member, false);
      }
    } catch (error) {
      if (stopping.signal.aborted) return;
      answered.set(member, false);
      const failed = (failures.get(member) ?? 0) + 1;
      failures.set(member, failed);
      if (failed >= FAILURES_TO_ISOLATE && !isolation.has(member) && isolation.size < maxIsolated && othersAnswer(member)) {
        isolation.set(member, options.isolate(member));
        options.onChange?.(member, true, error);
      }
    }
  }

  async function loop(member: string): Promise<void> {
    while (!stopping.signal.aborted) {
      const started = Date.now();
      await probeOnce(member);
      const rest = options.intervalMs - (Date.now() - started);
      if (rest > 0) await sleep(rest, stopping.signal);
    }
  }

  for (const member of options.members) void loop(member);
  return {
    isolated: () => [...isolation.keys()],
    stop() {
      if (stopping.signal.aborted) return;
      stopping.abort();
      for (const held of isolation.values()) held.dispose();
      isolation.clear();
    },
  };
}

/** Settles with promise, or rejects as soon as signal aborts (the probe may not watch it). */
function abortable<T>(promise: Promise<T>, signal: AbortSignal): Promise<T> {
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => reject(signal.reason);
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    promise.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}

/** Resolves after ms, or early (never rejecting) when signal aborts. */
function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise<void>((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal.removeEventListener("abort", done);
      resolve();
    }
  });
}
