import type { Logger } from "pino";

/**
 * Expiry hold: the bookkeeping behind Instance.held_until (the rule is written
 * on that field in registry.proto). When the store stalls for longer than the
 * lease TTL, etcd expires every lease on resume and every watcher would see
 * the whole registry REMOVED, then ADDED again as agents re-register. Like
 * Eureka's self-preservation and Nacos's protect threshold, a replica that
 * saw the store unreachable recently, or sees lease expiries arrive in a
 * burst (far more within a second than usual: a stall it did not see, e.g.
 * etcd too slow to answer renewals in time), keeps such instances routable
 * for `holdMs` instead, marked as held; a re-registration replaces them quietly.
 *
 * This module decides and times; the registry view owns the instances and
 * applies releases at the next store revision (it never invents revisions:
 * `requestRevision` asks the server to write a key so that one arrives).
 */
export const DEFAULT_EXPIRY_HOLD_MS = 10_000;
/**
 * Burst rule (written on Instance.held_until): a deletion of a routable
 * instance is part of a burst when, counting it, at least
 * max(BURST_MIN_DELETIONS, BURST_FACTOR × usual) such deletions happened
 * within the last BURST_WINDOW_MS, usual being their mean per second over the
 * BASELINE_SECONDS before (the window's own excluded). etcd's lessor revokes
 * the leases it finds expired every 500 ms one after the other, so the
 * expiries that follow a stall land within a fraction of a second, while
 * failures and deregistrations in normal operation trickle in.
 */
export const BURST_WINDOW_MS = 1_000;
export const BURST_MIN_DELETIONS = 5;
export const BURST_FACTOR = 10;
export const BASELINE_SECONDS = 300;
/** Quiet time after the last held deletion of a service before its share is judged. */
const SETTLE_MS = 1_000;
/** Retry delay when the write that brings a release revision fails. */
const RETRY_MS = 1_000;

export interface ExpiryHoldOptions {
  /** How long a held instance stays, and how long after a failed store ping deletions are held. 0 disables. */
  holdMs: number;
  /** Share of a service's instances the held ones must exceed to stay held (the protection threshold). */
  threshold: number;
  logger: Logger;
  now: () => number;
  /** Makes the store produce a new revision (a write); holds due for release are applied there. */
  requestRevision: (() => Promise<unknown>) | undefined;
}

interface Hold {
  readonly serviceKey: string;
  readonly instanceId: string;
  releaseAt: number;
}

interface Episode {
  readonly namespace: string;
  readonly service: string;
  /** Instances of the service when its first instance was held. */
  readonly baseSize: number;
  readonly ids: Set<string>;
  timer: NodeJS.Timeout | undefined;
}

export interface ExpiryHold {
  readonly holdMs: number;
  /** Records that the store was just seen unreachable. */
  noteStoreUnreachable(): void;
  /** Whether a deletion seen now should be held (store seen unreachable within holdMs). */
  inStallWindow(): boolean;
  /**
   * Counts a deletion of a routable instance seen now; answers whether it is
   * part of an expiry burst (the rule fired now, or within BURST_WINDOW_MS
   * before). Always false when the hold is disabled.
   */
  noteDeletion(): boolean;
  /** Starts holding an instance; answers when the hold ends. serviceSize counts the service's instances, this one included. */
  hold(namespace: string, service: string, instanceId: string, serviceSize: number): number;
  /** Forgets a hold (the instance was registered again or deleted otherwise). */
  forget(namespace: string, service: string, instanceId: string): void;
  /** Holds due for release now, forgotten as they are returned. */
  takeDue(): Array<{ namespace: string; service: string; instanceId: string }>;
  /** Number of instances held now. */
  readonly size: number;
  /** Forgets everything (state reloaded). */
  clear(): void;
  close(): void;
}

const keyOf = (namespace: string, service: string) => `${namespace}/${service}`;

export function createExpiryHold(options: ExpiryHoldOptions): ExpiryHold {
  const { holdMs, threshold, logger, now } = options;
  let lastUnreachableAt = Number.NEGATIVE_INFINITY;
  const holds = new Map<string, Hold>(); // "ns/service/id" → hold
  const episodes = new Map<string, Episode>(); // "ns/service" → episode being judged
  let releaseTimer: NodeJS.Timeout | undefined;
  let releaseAt = Number.POSITIVE_INFINITY;
  let closed = false;
  // Burst rule: deletions per second over the baseline (a ring of counters) and the times of those in the window.
  const perSecond = new Uint32Array(BASELINE_SECONDS);
  let lastSecond = Number.NaN;
  let baselineTotal = 0;
  let recent: number[] = [];
  let recentHead = 0;
  let burstUntil = Number.NEGATIVE_INFINITY;

  function countDeletion(t: number): number {
    const second = Math.floor(t / 1000);
    if (Number.isNaN(lastSecond) || second - lastSecond >= BASELINE_SECONDS) {
      perSecond.fill(0);
      baselineTotal = 0;
      lastSecond = second;
    } else {
      for (let s = lastSecond + 1; s <= second; s++) {
        baselineTotal -= perSecond[s % BASELINE_SECONDS]!;
        perSecond[s % BASELINE_SECONDS] = 0;
      }
      lastSecond = Math.max(lastSecond, second);
    }
    perSecond[lastSecond % BASELINE_SECONDS]!++;
    baselineTotal++;
    recent.push(t);
    while (recent[recentHead]! <= t - BURST_WINDOW_MS) recentHead++;
    if (recentHead > 1024 && recentHead * 2 > recent.length) {
      recent = recent.slice(recentHead);
      recentHead = 0;
    }
    return recent.length - recentHead;
  }

  function scheduleRelease(at: number): void {
    if (closed || at >= releaseAt) return;
    clearTimeout(releaseTimer);
    releaseAt = at;
    releaseTimer = setTimeout(fireRelease, Math.max(0, at - now()));
    releaseTimer.unref();
  }

  function fireRelease(): void {
    releaseTimer = undefined;
    releaseAt = Number.POSITIVE_INFINITY;
    if (closed || holds.size === 0) return;
    const t = now();
    let next = Number.POSITIVE_INFINITY;
    let due = false;
    for (const hold of holds.values()) {
      if (hold.releaseAt <= t) due = true;
      else next = Math.min(next, hold.releaseAt);
    }
    if (due && options.requestRevision) {
      options.requestRevision().catch((error: unknown) => {
        logger.warn({ err: error }, "expiry hold: could not write the release revision; retrying");
        scheduleRelease(now() + RETRY_MS);
      });
    }
    if (next !== Number.POSITIVE_INFINITY) scheduleRelease(next);
  }

  function settle(serviceKey: string): void {
    const episode = episodes.get(serviceKey);
    episodes.delete(serviceKey);
    if (episode === undefined || closed) return;
    const held = [...episode.ids].filter((id) => holds.has(`${serviceKey}/${id}`));
    if (held.length === 0) return;
    const share = held.length / episode.baseSize;
    const fields = {
      namespace: episode.namespace,
      service: episode.service,
      held: held.length,
      instances: episode.baseSize,
      share,
    };
    if (share > threshold) {
      logger.warn(
        { ...fields, holdMs },
        "expiry hold: leases expired after a store stall or in an expiry burst; keeping the instances routable until they register again or the hold ends",
      );
      return;
    }
    logger.info(fields, "expiry hold: few expiries for the service; removing them as failures");
    const t = now();
    for (const id of held) holds.get(`${serviceKey}/${id}`)!.releaseAt = t;
    scheduleRelease(t);
  }

  return {
    holdMs,
    get size() {
      return holds.size;
    },
    noteStoreUnreachable() {
      lastUnreachableAt = now();
    },
    inStallWindow() {
      return holdMs > 0 && now() - lastUnreachableAt <= holdMs;
    },
    noteDeletion() {
      if (holdMs <= 0) return false;
      const t = now();
      const inWindow = countDeletion(t);
      const usual = Math.max(0, baselineTotal - inWindow) / BASELINE_SECONDS;
      const needed = Math.max(BURST_MIN_DELETIONS, BURST_FACTOR * usual);
      if (inWindow >= needed) {
        if (t > burstUntil)
          logger.warn(
            { deletions: inWindow, windowMs: BURST_WINDOW_MS, usualPerSecond: usual },
            "expiry hold: a burst of lease expiries; holding the instances that expire in it",
          );
        burstUntil = t + BURST_WINDOW_MS;
        return true;
      }
      return t <= burstUntil;
    },
    hold(namespace, service, instanceId, serviceSize) {
      const serviceKey = keyOf(namespace, service);
      const until = now() + holdMs;
      holds.set(`${serviceKey}/${instanceId}`, { serviceKey, instanceId, releaseAt: until });
      let episode = episodes.get(serviceKey);
      if (episode === undefined) {
        episode = { namespace, service, baseSize: serviceSize, ids: new Set(), timer: undefined };
        episodes.set(serviceKey, episode);
      }
      episode.ids.add(instanceId);
      clearTimeout(episode.timer);
      episode.timer = setTimeout(() => settle(serviceKey), SETTLE_MS);
      episode.timer.unref();
      scheduleRelease(until);
      return until;
    },
    forget(namespace, service, instanceId) {
      holds.delete(`${keyOf(namespace, service)}/${instanceId}`);
    },
    takeDue() {
      const t = now();
      const due: Array<{ namespace: string; service: string; instanceId: string }> = [];
      for (const [key, hold] of holds) {
        if (hold.releaseAt > t) continue;
        holds.delete(key);
        const [namespace, service] = hold.serviceKey.split("/") as [string, string];
        due.push({ namespace, service, instanceId: hold.instanceId });
      }
      return due;
    },
    clear() {
      holds.clear();
      burstUntil = Number.NEGATIVE_INFINITY;
      for (const episode of episodes.values()) clearTimeout(episode.timer);
      episodes.clear();
    },
    close() {
      closed = true;
      this.clear();
      clearTimeout(releaseTimer);
    },
  };
}
