/**
 * Client-side load balancing for callers that do not speak gRPC (HTTP, raw TCP).
 *
 * ```ts
 * const picker = createPicker({ client });
 * const { address, port } = await picker.pick("orders"); // smooth weighted round-robin
 * await fetch(`http://${address}:${port}/orders/42`);
 * picker.close();
 * ```
 *
 * The first pick of a service opens a Watch (see watchService) and waits for
 * its first list; later picks are local and follow every change live. Only
 * the instances the server routes to are picked (UP and not unhealthy, or
 * every UP one while the service is in protection), in proportion to their
 * weight (nginx's smooth weighted round-robin).
 */
import type { Instance } from "../../../generated/switchboard/registry/v1/registry.js";
import { UnavailableError } from "../../../src/errors.js";
import type { BackoffOptions } from "./backoff.js";
import type { SwitchboardClient } from "./client.js";
import { DEFAULT_NAMESPACE, instanceKey } from "./instances.js";
import type { SdkLogger } from "./logger.js";
import { watchService } from "./watch.js";

/** Options of {@link createPicker}: `client` is required. */
export interface PickerOptions {
  client: SwitchboardClient;
  /** Namespace of services named without one ("ns/service" names it). Default "default". */
  namespace?: string;
  /** Only instances carrying all these tags. Default none. */
  tags?: string[];
  /** Only instances in this zone. Default any. */
  zone?: string;
  /** How long the first pick of a service waits for the control plane. Default 5000 ms. */
  firstListTimeoutMs?: number;
  backoff?: BackoffOptions;
  logger?: SdkLogger;
}

/** The instance a pick chose, with its address and port at hand. */
export interface PickedInstance {
  address: string;
  port: number;
  instance: Instance;
}

/** Weighted round-robin over live instance lists; made by {@link createPicker}. */
export interface Picker {
  /** The next instance of `service` ("orders" or "namespace/orders"); UnavailableError when there is none. */
  pick(service: string): Promise<PickedInstance>;
  /** The routable instances currently known for a service ([] before its first pick). */
  instances(service: string): Instance[];
  /** Ends every watch. */
  close(): void;
}

interface ServiceEntry {
  instances: Instance[];
  /** Smooth weighted round-robin state per instance key. */
  current: Map<string, number>;
  ready: Promise<void>;
  failure: unknown;
}

/**
 * A picker on `client`: the first pick of a service opens a watch and waits up to
 * `firstListTimeoutMs` (default 5000) for its list; later picks are local. Close it to end the watches.
 */
export function createPicker(options: PickerOptions): Picker {
  const controller = new AbortController();
  const services = new Map<string, ServiceEntry>();
  const firstListTimeoutMs = options.firstListTimeoutMs ?? 5000;

  const split = (service: string): { namespace: string; service: string; name: string } => {
    const slash = service.indexOf("/");
    const namespace = slash >= 0 ? service.slice(0, slash) : options.namespace || DEFAULT_NAMESPACE;
    const name = slash >= 0 ? service.slice(slash + 1) : service;
    return { namespace, service: name, name: `${namespace}/${name}` };
  };

  function entryFor(service: string): ServiceEntry {
    const target = split(service);
    const entry = services.get(target.name);
    if (entry !== undefined) return entry;
    let markReady = (): void => {};
    const created: ServiceEntry = {
      instances: [],
      current: new Map(),
      ready: new Promise<void>((resolve) => (markReady = resolve)),
      failure: undefined,
    };
    services.set(target.name, created);
    void (async () => {
      try {
        for await (const update of watchService(
          options.client,
          {
            namespace: target.namespace,
            service: target.service,
            tags: options.tags,
            zone: options.zone,
            backoff: options.backoff,
            logger: options.logger,
          },
          controller.signal,
        )) {
          // The default stream carries exactly the instances the server routes to (it alone
          // knows whether the service is in protection): no second filter here.
          created.instances = update.instances;
          created.failure = undefined;
          markReady();
        }
      } catch (error) {
        // Not retryable (e.g. an invalid name): later picks of this service fail with it.
        created.failure = error;
        services.delete(target.name);
        markReady();
      }
    })();
    return created;
  }

  function choose(entry: ServiceEntry): Instance | undefined {
    let total = 0;
    let best: Instance | undefined;
    let bestWeight = -Infinity;
    const live = new Set<string>();
    for (const instance of entry.instances) {
      const key = instanceKey(instance);
      live.add(key);
      const weight = instance.weight > 0 ? instance.weight : 100;
      const value = (entry.current.get(key) ?? 0) + weight;
      entry.current.set(key, value);
      total += weight;
      if (value > bestWeight) {
        bestWeight = value;
        best = instance;
      }
    }
    for (const key of entry.current.keys()) if (!live.has(key)) entry.current.delete(key);
    if (best !== undefined) entry.current.set(instanceKey(best), bestWeight - total);
    return best;
  }

  return {
    async pick(service) {
      const entry = entryFor(service);
      let timer: NodeJS.Timeout | undefined;
      const timedOut = await Promise.race([
        entry.ready.then(() => false),
        new Promise<boolean>((resolve) => (timer = setTimeout(() => resolve(true), firstListTimeoutMs))),
      ]).finally(() => clearTimeout(timer));
      if (entry.failure !== undefined) throw entry.failure;
      if (timedOut) throw new UnavailableError(`no instance list for ${split(service).name} within ${firstListTimeoutMs} ms`);
      const instance = choose(entry);
      if (instance === undefined) throw new UnavailableError(`no routable instance of ${split(service).name}`);
      return { address: instance.address, port: instance.port, instance };
    },
    instances(service) {
      return [...(services.get(split(service).name)?.instances ?? [])];
    },
    close() {
      controller.abort();
      services.clear();
    },
  };
}
