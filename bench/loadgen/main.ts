// A load generator process. The orchestrator (bench/run.ts) forks it and
// sends it tasks over IPC; it keeps state (open streams, lease sets) between
// tasks, so one scenario can open 10,000 watch streams, then measure, then
// close them.
import type { TaskReply, TaskRequest } from "../lib/ipc.js";
import { rawEtcdTasks } from "./raw-etcd.js";
import { sdkJoinTasks } from "./sdk-join.js";
import { switchboardTasks } from "./switchboard.js";
import { zooKeeperTasks } from "./zookeeper.js";

const tasks = {
  async ping(_: Record<string, never>) {
    return { pid: process.pid };
  },
  ...rawEtcdTasks,
  ...switchboardTasks,
  ...sdkJoinTasks,
  ...zooKeeperTasks,
};

export type Tasks = typeof tasks;

// Only when forked: importing this module for its types must not do anything.
if (process.send) {
  const send = process.send.bind(process);
  process.on("message", (request: TaskRequest) => {
    const task = (tasks as Record<string, (params: unknown) => Promise<unknown>>)[request.task];
    const reply = (message: TaskReply): void => {
      send(message);
    };
    if (!task) {
      reply({ id: request.id, ok: false, error: `unknown task ${request.task}` });
      return;
    }
    task(request.params).then(
      (result) => reply({ id: request.id, ok: true, result }),
      (error: unknown) =>
        reply({ id: request.id, ok: false, error: error instanceof Error ? (error.stack ?? error.message) : String(error) }),
    );
  });
  // The orchestrator going away ends this process.
  process.on("disconnect", () => process.exit(0));
  // A clean exit on the orchestrator's SIGTERM, so --cpu-prof (bench --profile) writes its profile.
  process.on("SIGTERM", () => process.exit(0));
}
