// The request/response protocol between the orchestrator and its load
// generator processes (child_process IPC with structured-clone serialization).
export interface TaskRequest {
  id: number;
  task: string;
  params: unknown;
}

export type TaskReply = { id: number; ok: true; result: unknown } | { id: number; ok: false; error: string };
