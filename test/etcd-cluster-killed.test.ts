// Production shape, crash fault: the etcd leader dies (SIGKILL, no leadership hand-over).
import { describeEtcdFailover } from "./support/etcd-failover.js";

describeEtcdFailover({
  name: "killed (SIGKILL)",
  inflict: (member) => void process.kill(member.pid, "SIGKILL"),
  // Seen: ~5 s (a write proposed during the election waits for the store's 5 s request deadline).
  recoveryBoundMs: 12_000,
});
