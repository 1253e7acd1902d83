/**
 * The ADS protocol as a raw client sees it (the generated envoy types, no
 * xDS library): naming and namespaces, versions from revisions, pushes on
 * registry changes, ACK, NACK (logged, counted, next version still sent),
 * reconnect, protection, bad node metadata. Embedded store: protocol only;
 * test/xds.test.ts runs real xDS clients against etcd.
 */
import { ClientError, Status, createChannel, createClient } from "nice-grpc";
import type { Channel } from "nice-grpc";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Cluster } from "../generated/xds/envoy/config/cluster/v3/cluster.js";
import { HealthStatus as EnvoyHealth } from "../generated/xds/envoy/config/core/v3/health_check.js";
import { ClusterLoadAssignment } from "../generated/xds/envoy/config/endpoint/v3/endpoint.js";
import { Listener } from "../generated/xds/envoy/config/listener/v3/listener.js";
import { HttpConnectionManager } from "../generated/xds/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.js";
import { AggregatedDiscoveryServiceDefinition } from "../generated/xds/envoy/service/discovery/v3/ads.js";
import type { DeepPartial, DiscoveryRequest, DiscoveryResponse } from "../generated/xds/envoy/service/discovery/v3/discovery.js";
import { HealthStatus, InstanceState, createSwitchboardClient } from "@switchboard/client";
import type { SwitchboardClient } from "@switchboard/client";
import { TYPE_URLS } from "../src/xds/index.js";
import { startTestServer } from "./support/server.js";
import type { TestServer } from "./support/server.js";

const NODE = { id: "protocol-test", metadata: { SWITCHBOARD_NAMESPACE: "shop" } };

/** One ADS stream: send requests, await responses, in order. */
function openStream(channel: Channel, signal: AbortSignal) {
  const ads = createClient(AggregatedDiscoveryServiceDefinition, channel);
  const outgoing: Array<DeepPartial<DiscoveryRequest>> = [];
  let wake: (() => void) | undefined;
  async function* requests() {
    while (!signal.aborted) {
      const next = outgoing.shift();
      if (next) yield next;
      else await new Promise<void>((resolve) => (wake = resolve));
    }
  }
  const responses = ads.streamAggregatedResources(requests(), { signal })[Symbol.asyncIterator]();
  // A next() still pending after nextWithin gave up: the following next() takes its answer.
  let pending: Promise<IteratorResult<DiscoveryResponse>> | undefined;
  return {
    send(request: DeepPartial<DiscoveryRequest>) {
      outgoing.push(request);
      wake?.();
    },
    async next(): Promise<DiscoveryResponse> {
      const current = pending ?? responses.next();
      pending = undefined;
      const result = await current;
      if (result.done) throw new Error("stream ended");
      return result.value;
    },
    /** Resolves with the next response, or "none" when none comes within ms. */
    async nextWithin(ms: number): Promise<DiscoveryResponse | "none"> {
      let timer: NodeJS.Timeout | undefined;
      const none = new Promise<"none">((resolve) => (timer = setTimeout(() => resolve("none"), ms)));
      const current = (pending ??= responses.next());
      try {
        const result = await Promise.race([current, none]);
        if (result === "none") return result;
        pending = undefined;
        if (result.done) throw new Error("stream ended");
        return result.value;
      } finally {
        clearTimeout(timer);
      }
    },
  };
}

function endpointsOf(response: DiscoveryResponse) {
  const assignment = ClusterLoadAssignment.decode(response.resources[0]!.value);
  return assignment.endpoints.map((locality) => {
    const lb = locality.lbEndpoints[0]!;
    const endpoint = lb.hostIdentifier?.$case === "endpoint" ? lb.hostIdentifier.value : undefined;
    const address = endpoint?.address?.address?.$case === "socketAddress" ? endpoint.address.address.value : undefined;
    return {
      id: locality.locality?.subZone,
      zone: locality.locality?.zone,
      weight: locality.loadBalancingWeight,
      port: address?.portSpecifier?.$case === "portValue" ? address.portSpecifier.value : undefined,
      health: EnvoyHealth[lb.healthStatus],
    };
  });
}

async function metric(server: TestServer, name: string): Promise<string[]> {
  const body = await (await fetch(`http://${server.httpAddress}/metrics`, { signal: AbortSignal.timeout(5_000) })).text();
  return body.split("\n").filter((line) => line.startsWith(name));
}

describe("ADS (state of the world) protocol", () => {
  let server: TestServer;
  let channel: Channel;
  let client: SwitchboardClient;
  const streams = new AbortController();

  beforeAll(async () => {
    server = await startTestServer();
    channel = createChannel(server.grpcAddress);
    client = createSwitchboardClient({ address: server.grpcAddress });
  });

  afterAll(async () => {
    streams.abort();
    client?.close();
    channel?.close();
    await server?.close();
  });

  function register(id: string, port: number, extra: { zone?: string; weight?: number } = {}) {
    return client.registry.register({
      instance: { namespace: "shop", service: "orders", instanceId: id, address: "127.0.0.1", port, ...extra },
      ttlSeconds: 30,
    });
  }

  it("serves listener, cluster and assignment by name, pushes changes, handles ACK and NACK, and answers a reconnect with the current state", async () => {
    const first = await register("o1", 9001, { zone: "z1", weight: 50 });
    const stream = openStream(channel, streams.signal);

    // xds:///orders with SWITCHBOARD_NAMESPACE=shop → service orders in shop, resources named orders.shop.
    stream.send({ node: NODE, typeUrl: TYPE_URLS.listener, resourceNames: ["orders"] });
    const lds = await stream.next();
    expect(lds.typeUrl).toBe(TYPE_URLS.listener);
    expect(Number(lds.versionInfo)).toBeGreaterThanOrEqual(Number(first.revision));
    const listener = Listener.decode(lds.resources[0]!.value);
    expect(listener.name).toBe("orders");
    const hcm = HttpConnectionManager.decode(listener.apiListener!.apiListener!.value);
    const routeConfig = hcm.routeSpecifier?.$case === "routeConfig" ? hcm.routeSpecifier.value : undefined;
    const action = routeConfig?.virtualHosts[0]?.routes[0]?.action;
    expect(action?.$case === "route" && action.value.clusterSpecifier).toEqual({ $case: "cluster", value: "orders.shop" });
    expect(hcm.httpFilters.map((f) => f.configType?.$case === "typedConfig" && f.configType.value.typeUrl)).toEqual([
      "type.googleapis.com/envoy.extensions.filters.http.router.v3.Router",
    ]);
    stream.send({
      typeUrl: TYPE_URLS.listener,
      resourceNames: ["orders"],
      versionInfo: lds.versionInfo,
      responseNonce: lds.nonce,
    });

    stream.send({ typeUrl: TYPE_URLS.cluster, resourceNames: ["orders.shop"] });
    const cds = await stream.next();
    const cluster = Cluster.decode(cds.resources[0]!.value);
    expect(cluster.edsClusterConfig?.serviceName).toBe("orders.shop");
    expect(cluster.edsClusterConfig?.edsConfig?.configSourceSpecifier?.$case).toBe("ads");
    stream.send({
      typeUrl: TYPE_URLS.cluster,
      resourceNames: ["orders.shop"],
      versionInfo: cds.versionInfo,
      responseNonce: cds.nonce,
    });

    stream.send({ typeUrl: TYPE_URLS.clusterLoadAssignment, resourceNames: ["orders.shop"] });
    const eds = await stream.next();
    expect(endpointsOf(eds)).toEqual([{ id: "o1", zone: "z1", weight: 50, port: 9001, health: "UNKNOWN" }]);
    // ACK: nothing is answered.
    stream.send({
      typeUrl: TYPE_URLS.clusterLoadAssignment,
      resourceNames: ["orders.shop"],
      versionInfo: eds.versionInfo,
      responseNonce: eds.nonce,
    });
    expect(await stream.nextWithin(300)).toBe("none");

    // A registration is pushed, versioned by its revision.
    const second = await register("o2", 9002);
    const pushed = await stream.next();
    expect(pushed.typeUrl).toBe(TYPE_URLS.clusterLoadAssignment);
    expect(Number(pushed.versionInfo)).toBeGreaterThanOrEqual(Number(second.revision));
    expect(endpointsOf(pushed).map((e) => [e.id, e.weight, e.health])).toEqual([
      ["o1", 50, "UNKNOWN"],
      ["o2", 100, "UNKNOWN"],
    ]);

    // NACK: logged and counted, not answered; the next change is still sent.
    stream.send({
      typeUrl: TYPE_URLS.clusterLoadAssignment,
      resourceNames: ["orders.shop"],
      versionInfo: eds.versionInfo,
      responseNonce: pushed.nonce,
      errorDetail: { code: 3, message: "test rejects this", details: [] },
    });
    expect(await stream.nextWithin(300)).toBe("none");
    expect(await metric(server, "switchboard_xds_nacks_total")).toContain(
      'switchboard_xds_nacks_total{type="ClusterLoadAssignment"} 1',
    );
    await client.registry.updateInstance({
      namespace: "shop",
      service: "orders",
      instanceId: "o2",
      state: InstanceState.INSTANCE_STATE_DRAINING,
    });
    const afterNack = await stream.next();
    expect(endpointsOf(afterNack).map((e) => [e.id, e.health])).toEqual([
      ["o1", "UNKNOWN"],
      ["o2", "DRAINING"],
    ]);

    // A reconnecting client (new stream, its last version, no nonce) gets the current state.
    const again = openStream(channel, streams.signal);
    again.send({
      node: NODE,
      typeUrl: TYPE_URLS.clusterLoadAssignment,
      resourceNames: ["orders.shop"],
      versionInfo: afterNack.versionInfo,
    });
    const current = await again.next();
    expect(endpointsOf(current).map((e) => [e.id, e.health])).toEqual([
      ["o1", "UNKNOWN"],
      ["o2", "DRAINING"],
    ]);
  });

  it("maps health as the registry routes: UNHEALTHY leaves, protection keeps every UP instance routable", async () => {
    await register("p3", 9003);
    await client.registry.updateInstance({
      namespace: "shop",
      service: "orders",
      instanceId: "o2",
      state: InstanceState.INSTANCE_STATE_UP,
    });
    const stream = openStream(channel, streams.signal);
    // The qualified name works from any node namespace.
    stream.send({ node: { id: "n", metadata: {} }, typeUrl: TYPE_URLS.clusterLoadAssignment, resourceNames: ["orders.shop"] });
    const health = async (id: string, status: HealthStatus) => {
      await client.health.reportHealth({ namespace: "shop", service: "orders", instanceId: id, status, output: "test" });
    };
    const healthOf = async (response: DiscoveryResponse) =>
      Object.fromEntries(endpointsOf(response).map((e) => [e.id, e.health]));
    const untilHealth = async (expected: Record<string, string>) => {
      for (;;) {
        const seen = await healthOf(await stream.next());
        if (JSON.stringify(seen) === JSON.stringify(expected)) return;
      }
    };
    await untilHealth({ o1: "UNKNOWN", o2: "UNKNOWN", p3: "UNKNOWN" });
    await health("o1", HealthStatus.HEALTH_STATUS_UNHEALTHY);
    await untilHealth({ o1: "UNHEALTHY", o2: "UNKNOWN", p3: "UNKNOWN" });
    // Two of three UP instances unhealthy: more than the 0.5 threshold → protection: all routable.
    await health("o2", HealthStatus.HEALTH_STATUS_UNHEALTHY);
    await untilHealth({ o1: "UNKNOWN", o2: "UNKNOWN", p3: "UNKNOWN" });
    await health("o1", HealthStatus.HEALTH_STATUS_HEALTHY);
    await untilHealth({ o1: "HEALTHY", o2: "UNHEALTHY", p3: "UNKNOWN" });
  });

  it("rejects a node namespace that is not a DNS-1123 label with INVALID_ARGUMENT naming the field", async () => {
    const stream = openStream(channel, streams.signal);
    stream.send({
      node: { id: "bad", metadata: { SWITCHBOARD_NAMESPACE: "Not_A_Label" } },
      typeUrl: TYPE_URLS.listener,
      resourceNames: ["orders"],
    });
    const error = await stream.next().catch((thrown: unknown) => thrown);
    expect(error).toBeInstanceOf(ClientError);
    expect((error as ClientError).code).toBe(Status.INVALID_ARGUMENT);
    expect((error as ClientError).details).toContain("node.metadata.SWITCHBOARD_NAMESPACE");
  });

  it("leaves out names that are not services (the client sees them as absent)", async () => {
    const stream = openStream(channel, streams.signal);
    stream.send({ node: NODE, typeUrl: TYPE_URLS.listener, resourceNames: ["Bad_Name", "orders.shop"] });
    const lds = await stream.next();
    expect(lds.resources.map((r) => Listener.decode(r.value).name)).toEqual(["orders.shop"]);
  });
});
