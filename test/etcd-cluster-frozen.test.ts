// Production shape, hang fault: the etcd leader freezes (SIGSTOP): its connections stay open and
// nothing answers, as with a hung machine or a partition; only deadlines, keepalives and the
// store's member probe notice.
//
// This used to pass 2 runs of 3: ~13 s after the freeze a Deregister failed with UNAVAILABLE
// (DEADLINE_EXCEEDED after 5 s on the frozen member). The store's circuit breaker for the member
// half-opened after 1 s and let callers' requests back to it, and a write that timed out there is
// not retried elsewhere (etcd may have applied it). Now the store probes every member's status
// each second and isolates one that misses two answers in a row (src/store/etcd-member-probe.ts),
// so callers' requests stop going to the frozen member within about three seconds and do not
// return to it while it is frozen.
// The killed-leader case is etcd-cluster-killed.test.ts.
import { describeEtcdFailover } from "./support/etcd-failover.js";

describeEtcdFailover({
  name: "frozen (SIGSTOP)",
  inflict: (member) => member.pause(),
  // Requests sent to the frozen member before the probe isolates it (≤ ~3 s) wait out their 5 s
  // deadline, then the agent retries; leader election adds a few seconds on a loaded machine.
  recoveryBoundMs: 20_000,
});
