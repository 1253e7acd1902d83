import { Counter, Gauge, type Registry } from "prom-client";
import type { RegistryView } from "./registry-view.js";
import type { WatchMetrics } from "./watch-hub.js";

/**
 * Registry metrics, registered once per prom-client Registry:
 * - switchboard_registry_instances{namespace,service}: registered instances (gauge, read from the view at scrape)
 * - switchboard_registry_routable_instances{namespace,service}: of those, routable ones
 * - switchboard_registry_held_instances{namespace,service}: of those, held after a store stall (expiry hold)
 * - switchboard_registry_watch_streams: open Watch streams
 * - switchboard_registry_watch_messages_total{kind}: snapshot / event / bookmark messages handed to gRPC
 * - switchboard_registry_watch_queue_overflows_total: streams ended with RESOURCE_EXHAUSTED
 */
export function createRegistryMetrics(registry: Registry, view: RegistryView): WatchMetrics {
  const existing = registry.getSingleMetric("switchboard_registry_watch_streams");
  if (existing !== undefined) {
    // A second registry service on the same metrics registry (tests): share the counters.
    return fromExisting(registry);
  }
  new Gauge({
    name: "switchboard_registry_instances",
    help: "Registered instances, by namespace and service",
    labelNames: ["namespace", "service"],
    registers: [registry],
    collect() {
      this.reset();
      for (const service of view.services())
        this.set({ namespace: service.namespace, service: service.service }, service.instances.size);
    },
  });
  new Gauge({
    name: "switchboard_registry_routable_instances",
    help: "Registered instances that are routable (state UP and not unhealthy, or in a protected service), by namespace and service",
    labelNames: ["namespace", "service"],
    registers: [registry],
    collect() {
      this.reset();
      for (const service of view.services()) {
        let routable = 0;
        for (const instance of service.instances.values()) if (service.isRoutable(instance)) routable++;
        this.set({ namespace: service.namespace, service: service.service }, routable);
      }
    },
  });
  new Gauge({
    name: "switchboard_registry_held_instances",
    help: "Instances whose lease expired after a store stall, held as routable (Instance.held_until), by namespace and service",
    labelNames: ["namespace", "service"],
    registers: [registry],
    collect() {
      this.reset();
      for (const service of view.services()) {
        let held = 0;
        for (const instance of service.instances.values()) if (instance.heldUntil !== undefined) held++;
        if (held > 0) this.set({ namespace: service.namespace, service: service.service }, held);
      }
    },
  });
  new Gauge({ name: "switchboard_registry_watch_streams", help: "Open Watch streams", registers: [registry] });
  new Counter({
    name: "switchboard_registry_watch_messages_total",
    help: "Watch messages handed to gRPC, by kind (snapshot, event, bookmark)",
    labelNames: ["kind"],
    registers: [registry],
  });
  new Counter({
    name: "switchboard_registry_watch_queue_overflows_total",
    help: "Watch streams ended with RESOURCE_EXHAUSTED because their queue overflowed",
    registers: [registry],
  });
  return fromExisting(registry);
}

function fromExisting(registry: Registry): WatchMetrics {
  const streams = registry.getSingleMetric("switchboard_registry_watch_streams") as Gauge;
  const messages = registry.getSingleMetric("switchboard_registry_watch_messages_total") as Counter<"kind">;
  const overflows = registry.getSingleMetric("switchboard_registry_watch_queue_overflows_total") as Counter;
  const byKind = {
    snapshot: messages.labels("snapshot"),
    event: messages.labels("event"),
    bookmark: messages.labels("bookmark"),
  };
  return {
    streamOpened: () => streams.inc(),
    streamClosed: () => streams.dec(),
    messageSent: (kind) => byKind[kind].inc(),
    queueOverflow: () => overflows.inc(),
  };
}
