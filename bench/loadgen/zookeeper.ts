// Baselines against ZooKeeper, the way Curator-based service discovery uses
// it: every instance is an ephemeral znode created under its own session (so
// it disappears when that process dies), and a watcher is a children watch on
// the service's node, re-armed after every notification (PathChildrenCache).
// node-zookeeper-client is a pure-JS client: one session = one TCP connection.
import { setTimeout as sleep } from "node:timers/promises";
import zookeeper, { type Client } from "node-zookeeper-client";
import { runClosedLoop, throughputResult } from "./common.js";
import { sampleInstanceBytes } from "./fixtures.js";
import { monoMs, summarize } from "../lib/stats.js";

/** Curator's default session timeout; ZooKeeper caps it at 20 ticks (40 s with tickTime 2000). */
const SESSION_TIMEOUT_MS = 60_000;
const ROOT = "/switchboard-bench";

const errorText = (error: unknown): string => (error instanceof Error ? error.message : String(error));

/** Opens a session and resolves once it is connected. */
async function openSession(connectString: string, timeoutMs = 30_000): Promise<Client> {
  const client = zookeeper.createClient(connectString, { sessionTimeout: SESSION_TIMEOUT_MS, retries: 0 });
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => {
      client.close();
      reject(new Error(`zookeeper session not connected within ${timeoutMs} ms`));
    }, timeoutMs);
    client.once("connected", () => {
      clearTimeout(timer);
      resolve();
    });
    client.connect();
  });
  return client;
}

function create(client: Client, path: string, data: Buffer, mode: number): Promise<void> {
  return new Promise((resolve, reject) => {
    client.create(path, data, mode, (error) => (error ? reject(error) : resolve()));
  });
}

function mkdirp(client: Client, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    client.mkdirp(path, (error) => (error ? reject(error) : resolve()));
  });
}

/** getChildren that leaves a one-shot watch; onChange runs on the next NODE_CHILDREN_CHANGED. */
function getChildren(client: Client, path: string, onChange: () => void): Promise<string[]> {
  return new Promise((resolve, reject) => {
    client.getChildren(path, onChange, (error, children) => (error ? reject(error) : resolve(children)));
  });
}

const servicePath = (service: string): string => `${ROOT}/${service}`;

/** Sessions (one per registered instance) kept open between tasks, by name. */
const sessionSets = new Map<string, Client[]>();

export interface ZkRegisterParams {
  name: string;
  connectString: string;
  count: number;
  concurrency: number;
  service: string;
  /** Instances are spread round-robin over this many services `${service}-${n}`; 1 = just `service`. */
  services?: number;
}

const serviceOf = (p: { service: string; services?: number }, i: number): string =>
  (p.services ?? 1) > 1 ? `${p.service}-${i % (p.services ?? 1)}` : p.service;

/**
 * Registers `count` instances, `concurrency` in flight: each opens its own
 * session and creates an ephemeral znode with the same Instance bytes the
 * raw-etcd baseline stores. The sessions stay open (as the instances would)
 * until zkCloseSessions.
 */
async function zkRegister(p: ZkRegisterParams) {
  const setup = await openSession(p.connectString);
  try {
    for (let s = 0; s < (p.services ?? 1); s++) await mkdirp(setup, servicePath(serviceOf(p, s)));
  } finally {
    setup.close();
  }
  const values = Array.from({ length: p.count }, (_, i) => Buffer.from(sampleInstanceBytes(serviceOf(p, i), `zk-${i}`, i)));
  const sessions: Client[] = [];
  sessionSets.set(p.name, sessions);
  const run = await runClosedLoop(p.count, p.concurrency, async (i) => {
    const session = await openSession(p.connectString);
    sessions.push(session);
    await create(session, `${servicePath(serviceOf(p, i))}/zk-${i}`, values[i] as Buffer, zookeeper.CreateMode.EPHEMERAL);
  });
  return throughputResult(p.count, run);
}

/** Closes a set of sessions (their ephemeral nodes go with them) and the watchers of that name. */
async function zkCloseSessions(p: { name: string }) {
  const sessions = sessionSets.get(p.name) ?? [];
  for (const session of sessions) session.close();
  sessionSets.delete(p.name);
  // close() only queues the close request: give the sockets a moment to flush it.
  await sleep(sessions.length > 0 ? 1000 : 0);
  return { closed: sessions.length };
}

export interface ZkWatchParams {
  connectString: string;
  count: number;
  intervalMs: number;
  service: string;
}

/**
 * One children watch on a service node and sequential ephemeral creates from
 * another session of the same process: time from the create's send and from
 * its answer to the watch notification.
 */
async function zkWatchLatency(p: ZkWatchParams) {
  const writer = await openSession(p.connectString);
  const watcher = await openSession(p.connectString);
  const path = servicePath(p.service);
  const fromAck: number[] = [];
  const fromStart: number[] = [];
  let notified: number | undefined;
  let wake: (() => void) | undefined;
  let armed: Promise<string[]> | undefined;
  // PathChildrenCache: a notification re-arms the watch with another getChildren.
  const arm = (): Promise<string[]> =>
    getChildren(watcher, path, () => {
      notified = monoMs();
      wake?.();
      armed = arm();
      // The last re-arm is never awaited and fails when the session closes: not an unhandled rejection.
      armed.catch(() => undefined);
    });
  try {
    await mkdirp(writer, path);
    armed = arm();
    for (let i = 0; i < p.count; i++) {
      // A create before the watch is re-armed would not notify: wait for the re-arming answer.
      await armed;
      notified = undefined;
      const data = Buffer.from(sampleInstanceBytes(p.service, `w-${i}`, i));
      const t0 = monoMs();
      await create(writer, `${path}/w-${i}`, data, zookeeper.CreateMode.EPHEMERAL);
      const t1 = monoMs();
      const deadline = t0 + 10_000;
      while (notified === undefined && monoMs() < deadline) {
        await Promise.race([new Promise<void>((resolve) => (wake = resolve)), sleep(1000)]);
      }
      if (notified === undefined) throw new Error(`no children notification for w-${i} within 10 s`);
      fromAck.push(notified - t1);
      fromStart.push(notified - t0);
      if (p.intervalMs > 0) await sleep(p.intervalMs);
    }
  } finally {
    wake = undefined;
    writer.close();
    watcher.close();
  }
  return { fromAck: summarize(fromAck), fromStart: summarize(fromStart) };
}

export interface ZkOpenWatchersParams {
  name: string;
  connectString: string;
  /** Watchers per service. */
  perService: number;
  service: string;
  services: number;
  /** Watchers sharing one session (a process with several caches shares its Curator client). */
  watchersPerSession: number;
}

const watcherSessions = new Map<string, { sessions: Client[]; notifications: number; errors: number; firstError?: string }>();

/** Opens children watches (PathChildrenCache without data) on every service; each lists the children once. */
async function zkOpenWatchers(p: ZkOpenWatchersParams) {
  const total = p.perService * p.services;
  const sessions = await Promise.all(
    Array.from({ length: Math.ceil(total / p.watchersPerSession) }, () => openSession(p.connectString)),
  );
  const state = { sessions, notifications: 0, errors: 0 } as {
    sessions: Client[];
    notifications: number;
    errors: number;
    firstError?: string;
  };
  watcherSessions.set(p.name, state);
  let children = 0;
  await runClosedLoop(total, 64, async (w) => {
    const session = sessions[Math.floor(w / p.watchersPerSession)] as Client;
    const path = servicePath(serviceOf({ service: p.service, services: p.services }, w));
    const arm = (): Promise<string[]> =>
      getChildren(session, path, () => {
        state.notifications++;
        arm().catch((error: unknown) => {
          state.errors++;
          state.firstError ??= errorText(error);
        });
      });
    // Not `children += await …`: that reads `children` before the await and loses concurrent updates.
    const listed = await arm();
    children += listed.length;
  }).then((run) => {
    state.errors += run.errors;
    state.firstError ??= run.firstError;
  });
  return { watchers: total, sessions: sessions.length, children, errors: state.errors, firstError: state.firstError };
}

async function zkCloseWatchers(p: { name: string }) {
  const state = watcherSessions.get(p.name);
  watcherSessions.delete(p.name);
  for (const session of state?.sessions ?? []) session.close();
  return { notifications: state?.notifications ?? 0 };
}

export const zooKeeperTasks = { zkRegister, zkCloseSessions, zkWatchLatency, zkOpenWatchers, zkCloseWatchers };
