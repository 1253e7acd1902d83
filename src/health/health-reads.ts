import { HealthStatus } from "../../generated/switchboard/health/v1/check.js";
import type { CheckResult, GetHealthResponse, InstanceHealth } from "../../generated/switchboard/health/v1/health.js";
import type { Instance } from "../../generated/switchboard/registry/v1/registry.js";
import { NotFoundError, UnavailableError } from "../errors.js";
import { resolveChecks, SELF_CHECK_NAME } from "../registry/index.js";
import type { InstanceName, RegistryView } from "../registry/index.js";
import { fromStoreError } from "../store-errors.js";
import type { GetHealthInput } from "./health-input.js";
import { summarizeChecks } from "./instance-monitor.js";
import type { Ownership } from "./ownership.js";
import type { StatusReader } from "./status-record.js";

export interface HealthReadsOptions {
  view: RegistryView;
  ownership: Ownership;
  readStatus: StatusReader;
  replicaId: string;
  /** Whether the instance record exists in the store now, and at which revision (a read, for callers racing Register). */
  lookUp(name: InstanceName): Promise<number | undefined>;
  closed(): boolean;
}

/**
 * The read side of health (GetHealth, WatchHealth snapshots): status from the
 * registry view (the join of the instance and health's record), check
 * results from the owner's memory when it is this replica, otherwise from
 * the record of the last transition.
 */
export interface HealthReads {
  /** Validated input. */
  getHealth(input: GetHealthInput): Promise<GetHealthResponse>;
  describe(instance: Instance): InstanceHealth;
  /** Output and time of the transition written at revision, when still known. */
  transitionDetail(instance: Instance, revision: number): { output: string; at?: Date };
  /**
   * The instance from the view; on a miss, asks the store once, so a call
   * right after Register (possibly through another replica) still finds it.
   */
  findOrWait(name: InstanceName): Promise<Instance>;
  /** Resolves once the view is loaded; UnavailableError when closed or the store cannot be reached. */
  ready(): Promise<void>;
}

export function createHealthReads(options: HealthReadsOptions): HealthReads {
  const { view, ownership, readStatus, replicaId } = options;

  const findInstance = (name: InstanceName): Instance | undefined =>
    view.service(name.namespace, name.service)?.instances.get(name.instanceId);

  const describe = (instance: Instance): InstanceHealth => {
    const name = { namespace: instance.namespace, service: instance.service, instanceId: instance.instanceId };
    const o = ownership.get(name);
    const stored = readStatus(name)?.health;
    let checks: CheckResult[];
    if (o) checks = o.monitor.results();
    else {
      const byName = new Map((stored?.checks ?? []).map((c) => [c.name, c]));
      checks = resolveChecks(instance.healthChecks, instance).map((check) => byName.get(check.name) ?? emptyResult(check.name));
      const self = byName.get(SELF_CHECK_NAME);
      if (self) checks.push(self);
    }
    const checkedBy = checks.length === 0 ? "" : o ? replicaId : (ownership.ownerOf(name) ?? "");
    return {
      namespace: name.namespace,
      service: name.service,
      instanceId: name.instanceId,
      status: instance.healthStatus,
      checks,
      lastTransitionAt: stored?.lastTransitionAt,
      checkedBy,
    };
  };

  const ready = async () => {
    if (options.closed()) throw new UnavailableError("health monitor closed");
    try {
      await view.waitForRevision(0);
    } catch (error) {
      throw fromStoreError(error);
    }
  };

  const findOrWait = async (name: InstanceName): Promise<Instance> => {
    const found = findInstance(name);
    if (found) return found;
    const notFound = new NotFoundError(`instance ${name.namespace}/${name.service}/${name.instanceId} not found`);
    try {
      const revision = await options.lookUp(name);
      if (revision === undefined) throw notFound;
      await view.waitForRevision(revision, { timeoutMs: 5_000 });
    } catch (error) {
      throw fromStoreError(error);
    }
    const instance = findInstance(name);
    if (!instance) throw notFound;
    return instance;
  };

  return {
    describe,
    ready,
    findOrWait,
    transitionDetail(instance, revision) {
      const stored = readStatus({ namespace: instance.namespace, service: instance.service, instanceId: instance.instanceId });
      if (!stored || stored.kv.modRevision !== revision) return { output: "" };
      return { output: summarizeChecks(stored.health.checks), at: stored.health.lastTransitionAt };
    },
    async getHealth({ namespace, service, instanceId }) {
      await ready();
      let instances: Instance[];
      if (instanceId !== "") {
        instances = [await findOrWait({ namespace, service, instanceId })];
      } else {
        instances = [...(view.service(namespace, service)?.instances.values() ?? [])].sort((a, b) =>
          a.instanceId < b.instanceId ? -1 : 1,
        );
      }
      return {
        instances: instances.map(describe),
        protectionActive: view.service(namespace, service)?.protectionActive ?? false,
        revision: String(view.revision),
      };
    },
  };
}

function emptyResult(name: string): CheckResult {
  return {
    name,
    status: HealthStatus.HEALTH_STATUS_UNSPECIFIED,
    output: "",
    latencyMs: 0,
    consecutiveFailures: 0,
    consecutiveSuccesses: 0,
    lastCheckedAt: undefined,
  };
}
