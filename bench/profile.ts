// Sizes of every scenario: the full run (`npm run bench`, ~6–8 minutes on 2
// cores) and the quick sanity pass (`npm run bench -- --quick`, well under a
// minute, for CI: it checks that everything runs, not how fast).
import type { FootprintProfile } from "./scenarios/footprint.js";
import type { LeaderKillProfile } from "./scenarios/leader-kill.js";
import type { ReplicaKillProfile } from "./scenarios/replica-kill.js";
import type { SoakProfile } from "./scenarios/soak.js";

export interface StreamLevel {
  /** Concurrent watch streams. */
  watchers: number;
  /** Writes whose propagation is timed. */
  events: number;
  /** Pause between writes (ms); long enough for one fan-out to finish before the next. */
  intervalMs: number;
  /** Load generator processes the streams are spread over. */
  loadgens: number;
}

export interface Profile {
  register: { count: number; concurrency: number; rounds: number };
  /** SDK agents joining, each with its own connection (scenario join). */
  join: {
    count: number;
    concurrency: number;
    rounds: number;
    /** Load generator processes the agents (and the own-connection baseline) are spread over. */ loadgens: number;
  };
  resolve: { instances: number; durationMs: number; warmupMs: number; concurrency: number; channels: number; rounds: number };
  rawWatch: { count: number; intervalMs: number };
  watch: StreamLevel[];
  heartbeat: { instances: number; services: number; ttlSeconds: number; windowSeconds: number };
  failure: { ttlSeconds: number; levels: Array<{ instances: number; hosts: number }> };
  memory: { instances: number; services: number; watchers: number; loadgens: number };
  config: StreamLevel[];
  /** Issue 15's footprint against raw etcd3 and ZooKeeper (scenario footprint). */
  footprint: FootprintProfile;
  /** Fault scenarios of issue 16 (opt-in: run only when named in --only). */
  replicaKill: ReplicaKillProfile;
  leaderKill: LeaderKillProfile;
  soak: SoakProfile;
}

export const FULL: Profile = {
  register: { count: 4_000, concurrency: 64, rounds: 3 },
  join: { count: 1_000, concurrency: 64, rounds: 2, loadgens: 1 },
  resolve: { instances: 10, durationMs: 3_000, warmupMs: 500, concurrency: 64, channels: 4, rounds: 3 },
  rawWatch: { count: 300, intervalMs: 5 },
  watch: [
    { watchers: 1, events: 300, intervalMs: 5, loadgens: 1 },
    { watchers: 1_000, events: 50, intervalMs: 100, loadgens: 1 },
    { watchers: 10_000, events: 20, intervalMs: 500, loadgens: 2 },
  ],
  heartbeat: { instances: 10_000, services: 100, ttlSeconds: 10, windowSeconds: 20 },
  failure: {
    ttlSeconds: 3,
    levels: [
      { instances: 1, hosts: 1 },
      { instances: 1_000, hosts: 4 },
    ],
  },
  memory: { instances: 100_000, services: 1_000, watchers: 10_000, loadgens: 2 },
  config: [
    { watchers: 1, events: 300, intervalMs: 5, loadgens: 1 },
    { watchers: 1_000, events: 50, intervalMs: 100, loadgens: 1 },
    { watchers: 10_000, events: 20, intervalMs: 500, loadgens: 2 },
  ],
  footprint: { instances: 10_000, services: 10, watchers: 1_000, settleMs: 5_000 },
  replicaKill: { watchers: 5_000, watcherProcesses: 4, streamsPerConnection: 100, writeIntervalMs: 200, writesAfterKill: 20 },
  leaderKill: { durationMs: 5 * 60_000, killEveryMs: 30_000, restartAfterMs: 5_000, writers: 8, keys: 4, watchers: 10 },
  soak: {
    durationMs: 30 * 60_000,
    warmupMs: 5 * 60_000,
    instances: 1_000,
    services: 10,
    watchers: 5_000,
    watcherProcesses: 4,
    changesPerSecond: 50,
    ttlSeconds: 10,
  },
};

export const QUICK: Profile = {
  register: { count: 500, concurrency: 64, rounds: 1 },
  join: { count: 200, concurrency: 64, rounds: 1, loadgens: 1 },
  resolve: { instances: 10, durationMs: 1_000, warmupMs: 200, concurrency: 64, channels: 2, rounds: 1 },
  rawWatch: { count: 30, intervalMs: 5 },
  watch: [
    { watchers: 1, events: 30, intervalMs: 5, loadgens: 1 },
    { watchers: 100, events: 10, intervalMs: 50, loadgens: 1 },
    { watchers: 400, events: 5, intervalMs: 100, loadgens: 2 },
  ],
  heartbeat: { instances: 300, services: 10, ttlSeconds: 6, windowSeconds: 3 },
  failure: { ttlSeconds: 3, levels: [{ instances: 10, hosts: 2 }] },
  memory: { instances: 2_000, services: 20, watchers: 200, loadgens: 1 },
  config: [
    { watchers: 1, events: 30, intervalMs: 5, loadgens: 1 },
    { watchers: 100, events: 10, intervalMs: 50, loadgens: 1 },
  ],
  footprint: { instances: 1_000, services: 10, watchers: 100, settleMs: 1_000 },
  replicaKill: { watchers: 500, watcherProcesses: 2, streamsPerConnection: 100, writeIntervalMs: 200, writesAfterKill: 10 },
  leaderKill: { durationMs: 60_000, killEveryMs: 15_000, restartAfterMs: 3_000, writers: 8, keys: 4, watchers: 10 },
  soak: {
    durationMs: 360_000,
    warmupMs: 240_000,
    instances: 200,
    services: 10,
    watchers: 500,
    watcherProcesses: 2,
    changesPerSecond: 50,
    ttlSeconds: 10,
  },
};
