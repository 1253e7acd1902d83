/**
 * The agent a service runs in-process to stay registered: no sidecar.
 *
 * ```ts
 * const client = createSwitchboardClient();
 * const agent = createAgent({
 *   client,
 *   instance: { service: "orders", address: "10.0.0.5", port: 8080 },
 *   ttlSeconds: 10,
 *   handleSignals: true, // SIGTERM / SIGINT: drain, deregister, exit
 * });
 * await agent.start(); // resolves once registered
 * // ... later, without signals:
 * await agent.drain(); // DRAINING, wait drainGraceMs, deregister
 * ```
 *
 * Lifecycle: `start()` registers (retrying transient errors with backoff) and
 * opens a KeepAlive stream that renews the lease every ttl/3 (the first
 * renewal ttl/3 after registering: Register has just granted the lease). When the server
 * answers ttl 0 or NOT_FOUND the lease is gone and the agent registers the
 * same instance again (same id and owner), with backoff. When the stream
 * breaks (control plane restarting, network) the agent reopens it and renews
 * at once; if the lease expired meanwhile, that renewal answers 0 and the
 * agent registers again. No response for a whole TTL counts as a broken stream.
 *
 * Because of that, an operator's Deregister of an instance whose agent still
 * runs is undone at the next renewal (as with Eureka clients). To take a live
 * instance out of routing, set its state to OUT_OF_SERVICE (UpdateInstance)
 * or stop the process.
 */
import { randomUUID } from "node:crypto";
import { InstanceState } from "../../../generated/switchboard/registry/v1/registry.js";
import type { Instance } from "../../../generated/switchboard/registry/v1/registry.js";
import { NotFoundError } from "../../../src/errors.js";
import { createBackoff } from "./backoff.js";
import type { BackoffOptions } from "./backoff.js";
import type { SwitchboardClient } from "./client.js";
import { sleepOn, systemClock } from "./clock.js";
import type { SdkClock } from "./clock.js";
import { isAbortError, isRetryableError } from "./errors.js";
import { silentLogger } from "./logger.js";
import type { SdkLogger } from "./logger.js";

/** What a service declares about itself; namespace, instanceId, weight etc. are optional. */
export type AgentInstance = Partial<
  Pick<Instance, "namespace" | "instanceId" | "metadata" | "tags" | "zone" | "weight" | "state" | "healthChecks">
> &
  Pick<Instance, "service" | "address" | "port">;

/** Lifecycle events of an agent, passed to `AgentOptions.onEvent`. */
export type AgentEvent =
  | { type: "registered"; instance: Instance; leaseId: string; ttlSeconds: number; revision: number }
  /** A registration attempt of start() failed with a retryable error; the next one follows in delayMs. */
  | { type: "register-failed"; error: unknown; delayMs: number }
  | { type: "renewed"; leaseId: string; ttlSeconds: number }
  | { type: "lease-lost"; leaseId: string }
  | { type: "stream-error"; error: unknown }
  | { type: "draining" }
  | { type: "deregistered" };

/** Options of {@link createAgent}: `client` and `instance` are required. */
export interface AgentOptions {
  /** The connection to the control plane; the agent does not close it. */
  client: SwitchboardClient;
  /** The instance to register: service, address and port are required; the server fills in the rest (namespace "default", a generated instanceId, state UP). */
  instance: AgentInstance;
  /** Lease TTL in seconds (server bounds 2..300). Default 10. */
  ttlSeconds?: number;
  /** Identity that makes re-registration idempotent. Default: a random UUID per agent. */
  owner?: string;
  /** Time between announcing DRAINING and deregistering, so clients move away. Default 5000 ms. */
  drainGraceMs?: number;
  /**
   * On SIGTERM / SIGINT: drain, deregister, then `process.exit(0)` (a second
   * signal exits at once with 1). Pass `{ exit: false }` to keep the process.
   * Default false: signals are left alone.
   */
  handleSignals?: boolean | { exit?: boolean; signals?: NodeJS.Signals[] };
  /** Delay between re-registrations and reconnects. Default 100 ms doubling to 5 s. */
  backoff?: BackoffOptions;
  /** Default: silent. */
  logger?: SdkLogger;
  /** Called on every lifecycle event (for metrics, tests, health endpoints). */
  onEvent?: (event: AgentEvent) => void;
  /** Time source of renewals, the keepalive watchdog, backoff and the drain grace. Default: the system clock. */
  clock?: SdkClock;
}

/** idle (created) → running (after start) → draining → stopped. */
export type AgentStatus = "idle" | "running" | "draining" | "stopped";

/** Keeps one instance registered; made by {@link createAgent}. */
export interface Agent {
  /** Where the agent is in its lifecycle. */
  readonly status: AgentStatus;
  /** The instance as last registered or updated, with instanceId, leaseId and revision. */
  readonly instance: Instance | undefined;
  /** The lease of the current registration (undefined until the first one). */
  readonly leaseId: string | undefined;
  /**
   * Registers and starts keeping the lease alive. Transient errors are retried
   * until `signal` aborts; invalid instances (INVALID_ARGUMENT, ALREADY_EXISTS) throw.
   */
  start(signal?: AbortSignal): Promise<Instance>;
  /** Changes state, weight, metadata or tags; re-registrations keep the change. */
  update(change: {
    state?: InstanceState;
    weight?: number;
    metadata?: Record<string, string>;
    tags?: string[];
  }): Promise<Instance>;
  /** DRAINING, then wait `graceMs` (default drainGraceMs), then deregister and stop. */
  drain(options?: { graceMs?: number }): Promise<void>;
  /** Deregisters at once and stops keeping alive. Safe to call twice. */
  stop(): Promise<void>;
}

/**
 * An agent for one instance; nothing happens until `start()`, which registers and then keeps the
 * lease alive (see the module comment for what happens on failures). Defaults: ttlSeconds 10,
 * drainGraceMs 5000, signals left alone, backoff 100 ms doubling to 5 s, silent logger, system clock.
 */
export function createAgent(options: AgentOptions): Agent {
  const registry = options.client.registry;
  const logger = options.logger ?? silentLogger;
  const owner = options.owner ?? randomUUID();
  const requestedTtl = options.ttlSeconds ?? 10;
  const drainGraceMs = options.drainGraceMs ?? 5000;
  const clock = options.clock ?? systemClock;
  const sleep = (ms: number, signal?: AbortSignal): Promise<void> => sleepOn(clock, ms, signal);
  const emit = (event: AgentEvent): void => {
    try {
      options.onEvent?.(event);
    } catch (error) {
      logger.warn({ err: error }, "agent onEvent callback threw");
    }
  };

  // What we register with; update() edits it so a re-registration keeps the change.
  const desired: AgentInstance = { ...options.instance };
  let status: AgentStatus = "idle";
  let current: Instance | undefined;
  let leaseId: string | undefined;
  // When Register granted the current lease, until its first KeepAlive stream has used it.
  let grantedAt: number | undefined;
  let ttlSeconds = requestedTtl;
  const stopController = new AbortController();
  let loop: Promise<void> | undefined;
  let stopping: Promise<void> | undefined;
  let draining: Promise<void> | undefined;
  // Shared by the keepalive loop: reset by every renewal and registration.
  const loopBackoff = createBackoff(options.backoff);
  let removeSignalHandlers = (): void => {};

  const ids = () => ({
    namespace: current?.namespace ?? desired.namespace ?? "",
    service: desired.service,
    instanceId: current?.instanceId ?? desired.instanceId ?? "",
  });

  async function registerOnce(signal: AbortSignal | undefined): Promise<Instance> {
    const response = await registry.register(
      {
        instance: { ...desired, instanceId: ids().instanceId, owner },
        ttlSeconds: requestedTtl,
      },
      { signal },
    );
    const instance = response.instance;
    if (instance === undefined) throw new Error("Register answered without an instance");
    current = instance;
    leaseId = response.leaseId;
    grantedAt = clock.now();
    ttlSeconds = response.ttlSeconds || requestedTtl;
    logger.info(
      { service: instance.service, instanceId: instance.instanceId, leaseId, ttlSeconds },
      "registered with switchboard",
    );
    emit({ type: "registered", instance, leaseId: response.leaseId, ttlSeconds, revision: Number(response.revision) });
    return instance;
  }

  /** Registers until it works; rethrows errors that retrying cannot fix. */
  async function registerWithRetry(signal: AbortSignal): Promise<Instance> {
    const backoff = createBackoff(options.backoff);
    for (;;) {
      try {
        return await registerOnce(signal);
      } catch (error) {
        if (signal.aborted || isAbortError(error) || !isRetryableError(error)) throw error;
        const delay = backoff.next();
        logger.warn({ err: error, delayMs: delay }, "switchboard register failed; retrying");
        emit({ type: "register-failed", error, delayMs: delay });
        await sleep(delay, signal);
      }
    }
  }

  /** One KeepAlive stream; resolves "lost" when the lease is gone, "broken" when the stream ended. */
  async function keepAliveStream(lease: string, signal: AbortSignal): Promise<"lost" | "broken"> {
    const stream = new AbortController();
    const onStop = (): void => stream.abort();
    signal.addEventListener("abort", onStop);
    const intervalMs = Math.max(500, (ttlSeconds * 1000) / 3);
    // A stream that answers nothing for a whole TTL is as good as broken.
    let watchdog = clock.setTimeout(() => stream.abort(), ttlSeconds * 1000);
    async function* requests() {
      try {
        // The first stream after Register waits ttl/3 from the grant: renewing at once would be a wasted round trip.
        // A reopened stream renews at once (the lease may have expired while it was down).
        const firstDelay = grantedAt === undefined ? 0 : grantedAt + intervalMs - clock.now();
        grantedAt = undefined;
        if (firstDelay > 0) await sleep(firstDelay, stream.signal);
        for (;;) {
          yield { leaseId: lease };
          await sleep(intervalMs, stream.signal);
        }
      } catch (error) {
        if (!isAbortError(error)) throw error;
      }
    }
    try {
      for await (const response of registry.keepAlive(requests(), { signal: stream.signal })) {
        if (response.leaseId !== lease) continue;
        if (response.ttlSeconds === 0) return "lost";
        clock.clearTimeout(watchdog);
        watchdog = clock.setTimeout(() => stream.abort(), ttlSeconds * 1000);
        loopBackoff.reset();
        emit({ type: "renewed", leaseId: lease, ttlSeconds: response.ttlSeconds });
      }
      return "broken";
    } catch (error) {
      if (signal.aborted) throw error;
      if (error instanceof NotFoundError) return "lost";
      if (stream.signal.aborted) {
        emit({ type: "stream-error", error: new Error("no keepalive response within the TTL") });
        return "broken";
      }
      emit({ type: "stream-error", error });
      logger.warn({ err: error, leaseId: lease }, "switchboard keepalive stream failed; reconnecting");
      return "broken";
    } finally {
      clock.clearTimeout(watchdog);
      signal.removeEventListener("abort", onStop);
      stream.abort();
    }
  }

  async function keepAliveLoop(signal: AbortSignal): Promise<void> {
    const backoff = loopBackoff;
    while (!signal.aborted) {
      const lease = leaseId;
      const outcome = lease === undefined ? "lost" : await keepAliveStream(lease, signal);
      if (signal.aborted) return;
      if (outcome === "lost") {
        if (lease !== undefined) {
          logger.warn({ leaseId: lease }, "switchboard lease lost; registering again");
          emit({ type: "lease-lost", leaseId: lease });
        }
        leaseId = undefined;
        if (status === "draining") return; // leaving anyway: do not come back
        await sleep(backoff.next(), signal);
        try {
          await registerOnce(signal);
          backoff.reset();
        } catch (error) {
          if (signal.aborted) return;
          logger.warn({ err: error }, "switchboard re-register failed; retrying");
        }
      } else {
        await sleep(backoff.next(), signal);
      }
    }
  }

  function installSignalHandlers(): void {
    if (options.handleSignals === undefined || options.handleSignals === false) return;
    const config = options.handleSignals === true ? {} : options.handleSignals;
    const signals = config.signals ?? ["SIGTERM", "SIGINT"];
    const exit = config.exit ?? true;
    let received = false;
    const handler = (name: NodeJS.Signals): void => {
      if (received) {
        logger.warn({ signal: name }, "second signal: exiting without waiting for the drain");
        if (exit) process.exit(1);
        return;
      }
      received = true;
      logger.info({ signal: name }, "signal received: draining, then deregistering");
      agent.drain().then(
        () => {
          if (exit) process.exit(0);
        },
        (error: unknown) => {
          logger.error({ err: error }, "drain failed");
          if (exit) process.exit(1);
        },
      );
    };
    for (const name of signals) process.on(name, handler);
    removeSignalHandlers = () => {
      for (const name of signals) process.off(name, handler);
    };
  }

  const agent: Agent = {
    get status() {
      return status;
    },
    get instance() {
      return current;
    },
    get leaseId() {
      return leaseId;
    },

    async start(signal) {
      if (status !== "idle") throw new Error(`agent already ${status}`);
      status = "running";
      const combined = signal === undefined ? stopController.signal : AbortSignal.any([signal, stopController.signal]);
      let instance: Instance;
      try {
        instance = await registerWithRetry(combined);
      } catch (error) {
        status = "stopped";
        throw error;
      }
      installSignalHandlers();
      loop = keepAliveLoop(stopController.signal).catch((error: unknown) => {
        if (!isAbortError(error)) logger.error({ err: error }, "switchboard keepalive loop ended");
      });
      return instance;
    },

    async update(change) {
      if (change.state !== undefined) desired.state = change.state;
      if (change.weight !== undefined) desired.weight = change.weight;
      if (change.metadata !== undefined) desired.metadata = change.metadata;
      if (change.tags !== undefined) desired.tags = change.tags;
      const response = await registry.updateInstance({
        ...ids(),
        state: change.state,
        weight: change.weight,
        metadata: change.metadata === undefined ? undefined : { entries: change.metadata },
        tags: change.tags === undefined ? undefined : { values: change.tags },
      });
      if (response.instance !== undefined) current = response.instance;
      return current as Instance;
    },

    drain(drainOptions = {}) {
      if (status === "idle") return Promise.resolve();
      draining ??= (async () => {
        if (status === "running") {
          status = "draining";
          emit({ type: "draining" });
          try {
            await agent.update({ state: InstanceState.INSTANCE_STATE_DRAINING });
          } catch (error) {
            logger.warn({ err: error }, "could not mark the instance DRAINING; deregistering anyway");
          }
          await sleep(drainOptions.graceMs ?? drainGraceMs);
        }
        await agent.stop();
      })();
      return draining;
    },

    stop() {
      stopping ??= (async () => {
        status = "stopped";
        stopController.abort();
        removeSignalHandlers();
        await loop;
        if (current === undefined) return;
        try {
          await registry.deregister(ids());
          logger.info({ instanceId: current.instanceId }, "deregistered from switchboard");
        } catch (error) {
          // Already gone (lease expired) is the outcome we wanted.
          if (!(error instanceof NotFoundError)) throw error;
        }
        emit({ type: "deregistered" });
      })();
      return stopping;
    },
  };
  return agent;
}
