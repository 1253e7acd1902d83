import type { Logger } from "pino";
import type { RegistryView, ViewUpdate } from "./registry-view.js";

export interface ProtectionAlertsOptions {
  view: RegistryView;
  logger: Logger;
  /** Called once per entry into and exit from protection (e.g. a gauge and an activations counter). */
  onChange?: (namespace: string, service: string, active: boolean) => void;
}

/** Stops the alerts. */
export type ProtectionAlerts = () => void;

/**
 * Says when a service enters or leaves protection (routing.ts decides it, the
 * view computes it per service): a warning per activation, an info line when
 * it ends, and onChange for metrics. Routing itself needs nothing from here;
 * this only makes protection visible to operators.
 *
 * Starts at once from the view's current state; call after `view.ready`.
 *
 * @example
 * const stop = watchProtection({ view, logger, onChange: metrics.protection });
 * // …
 * stop();
 */
export function watchProtection(options: ProtectionAlertsOptions): ProtectionAlerts {
  const { view, onChange } = options;
  const log = options.logger;
  const protectedServices = new Set<string>();
  let stopped = false;

  const sync = (namespace: string, service: string) => {
    const svc = view.service(namespace, service);
    const id = `${namespace}/${service}`;
    const active = svc?.protectionActive ?? false;
    if (active === protectedServices.has(id)) return;
    if (active) {
      protectedServices.add(id);
      log.warn(
        {
          namespace,
          service,
          up: svc?.counts.up,
          unhealthy: svc?.counts.unhealthyUp,
          threshold: view.protectionThreshold,
          minInstances: view.protectionMinInstances,
        },
        "health protection active: more than the threshold share of the service's UP instances are unhealthy; " +
          "keeping all of them routable (the checker itself may be cut off)",
      );
    } else {
      protectedServices.delete(id);
      log.info({ namespace, service, up: svc?.counts.up, unhealthy: svc?.counts.unhealthyUp }, "health protection ended");
    }
    onChange?.(namespace, service, active);
  };

  const syncAll = () => {
    const ids = new Set(view.services().map((s) => `${s.namespace}/${s.service}`));
    for (const id of protectedServices) ids.add(id);
    for (const id of ids) {
      const [namespace, service] = id.split("/") as [string, string];
      sync(namespace, service);
    }
  };

  const onViewUpdate = (update: ViewUpdate) => {
    if (stopped) return;
    if (update.type === "reset") syncAll();
    else if (update.type === "changes") {
      for (const svc of update.changes.services) {
        if (
          svc.protectionBefore !== svc.protectionAfter ||
          protectedServices.has(`${svc.namespace}/${svc.service}`) !== svc.protectionAfter
        ) {
          sync(svc.namespace, svc.service);
        }
      }
    }
  };

  const unsubscribe = view.subscribe(onViewUpdate);
  syncAll();
  return () => {
    stopped = true;
    unsubscribe();
  };
}
