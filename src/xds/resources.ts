import { isIP } from "node:net";
import { HealthStatus as SwitchboardHealth } from "../../generated/switchboard/health/v1/check.js";
import { type Instance, InstanceState } from "../../generated/switchboard/registry/v1/registry.js";
import { Cluster, Cluster_DiscoveryType, Cluster_LbPolicy } from "../../generated/xds/envoy/config/cluster/v3/cluster.js";
import { ApiVersion } from "../../generated/xds/envoy/config/core/v3/config_source.js";
import { HealthStatus } from "../../generated/xds/envoy/config/core/v3/health_check.js";
import { ClusterLoadAssignment } from "../../generated/xds/envoy/config/endpoint/v3/endpoint.js";
import { LocalityLbEndpoints } from "../../generated/xds/envoy/config/endpoint/v3/endpoint_components.js";
import { Listener } from "../../generated/xds/envoy/config/listener/v3/listener.js";
import { Router } from "../../generated/xds/envoy/extensions/filters/http/router/v3/router.js";
import { HttpConnectionManager } from "../../generated/xds/envoy/extensions/filters/network/http_connection_manager/v3/http_connection_manager.js";
import type { Any } from "../../generated/xds/google/protobuf/any.js";
import { LIMITS } from "../registry/index.js";
import type { ServiceView } from "../registry/index.js";
import { type XdsServiceName, qualifiedName } from "./names.js";

const TYPE_PREFIX = "type.googleapis.com/";

/** The resource types served, by type URL (what DiscoveryRequest.type_url carries). */
export const TYPE_URLS = {
  listener: `${TYPE_PREFIX}envoy.config.listener.v3.Listener`,
  routeConfiguration: `${TYPE_PREFIX}envoy.config.route.v3.RouteConfiguration`,
  cluster: `${TYPE_PREFIX}envoy.config.cluster.v3.Cluster`,
  clusterLoadAssignment: `${TYPE_PREFIX}envoy.config.endpoint.v3.ClusterLoadAssignment`,
} as const;

const HCM_TYPE_URL = `${TYPE_PREFIX}envoy.extensions.filters.network.http_connection_manager.v3.HttpConnectionManager`;
const ROUTER_TYPE_URL = `${TYPE_PREFIX}envoy.extensions.filters.http.router.v3.Router`;

/**
 * The Listener a client of `xds:///<listenerName>` gets: an api_listener whose
 * HttpConnectionManager carries its route configuration inline (one round
 * trip fewer than RDS, and what every proxyless gRPC client accepts): every
 * call goes to the service's cluster. Depends only on the name.
 */
export function buildListener(listenerName: string, name: XdsServiceName): Any {
  const qualified = qualifiedName(name);
  const hcm = HttpConnectionManager.fromPartial({
    routeSpecifier: {
      $case: "routeConfig",
      value: {
        name: qualified,
        virtualHosts: [
          {
            name: qualified,
            domains: ["*"],
            routes: [
              {
                match: { pathSpecifier: { $case: "prefix", value: "" } },
                action: { $case: "route", value: { clusterSpecifier: { $case: "cluster", value: qualified } } },
              },
            ],
          },
        ],
      },
    },
    httpFilters: [
      {
        name: "router",
        configType: { $case: "typedConfig", value: pack(ROUTER_TYPE_URL, Router.encode(Router.fromPartial({})).finish()) },
      },
    ],
  });
  const listener = Listener.fromPartial({
    name: listenerName,
    apiListener: { apiListener: pack(HCM_TYPE_URL, HttpConnectionManager.encode(hcm).finish()) },
  });
  return pack(TYPE_URLS.listener, Listener.encode(listener).finish());
}

/** The EDS cluster of a service: endpoints come over the same ADS stream, round robin within a locality. */
export function buildCluster(clusterName: string, name: XdsServiceName): Any {
  const cluster = Cluster.fromPartial({
    name: clusterName,
    clusterDiscoveryType: { $case: "type", value: Cluster_DiscoveryType.EDS },
    edsClusterConfig: {
      edsConfig: { configSourceSpecifier: { $case: "ads", value: {} }, resourceApiVersion: ApiVersion.V3 },
      serviceName: qualifiedName(name),
    },
    lbPolicy: Cluster_LbPolicy.ROUND_ROBIN,
  });
  return pack(TYPE_URLS.cluster, Cluster.encode(cluster).finish());
}

/**
 * The ClusterLoadAssignment of a service, from the registry view.
 *
 * Every instance is a locality of its own (zone = the instance's zone,
 * sub_zone = its id) whose load_balancing_weight is the instance's weight:
 * locality weights are the one weighting every proxyless gRPC client honours
 * (weighted_target over localities); endpoint weights only count for
 * ring_hash. The endpoint carries the weight too, for clients that use it.
 *
 * Routability is the registry's (ServiceView.isRoutable, protection
 * included), never decided again here: routable → HEALTHY (UNKNOWN while no
 * check has decided), DRAINING → DRAINING, anything else not routable
 * (UNHEALTHY outside protection, STARTING, OUT_OF_SERVICE) → UNHEALTHY.
 * gRPC clients send only to HEALTHY and UNKNOWN endpoints.
 *
 * Instances whose address is not an IP literal are left out (`skipped`
 * counts them): gRPC clients reject the whole assignment when one address is
 * a host name.
 */
export function buildLoadAssignment(
  assignmentName: string,
  service: ServiceView | undefined,
): { resource: Any; endpoints: number; skipped: number } {
  const localities: LocalityLbEndpoints[] = [];
  let skipped = 0;
  if (service !== undefined) {
    const ids = [...service.instances.keys()].sort();
    for (const id of ids) {
      const instance = service.instances.get(id)!;
      if (isIP(instance.address) === 0 || instance.port === 0) {
        skipped++;
        continue;
      }
      const weight = instance.weight > 0 ? instance.weight : LIMITS.defaultWeight;
      localities.push(
        LocalityLbEndpoints.fromPartial({
          locality: { zone: instance.zone, subZone: id },
          lbEndpoints: [
            {
              hostIdentifier: {
                $case: "endpoint",
                value: {
                  address: {
                    address: {
                      $case: "socketAddress",
                      value: { address: instance.address, portSpecifier: { $case: "portValue", value: instance.port } },
                    },
                  },
                },
              },
              healthStatus: healthStatus(instance, service.isRoutable(instance)),
              loadBalancingWeight: weight,
            },
          ],
          loadBalancingWeight: weight,
        }),
      );
    }
  }
  const assignment = ClusterLoadAssignment.fromPartial({ clusterName: assignmentName, endpoints: localities });
  return {
    resource: pack(TYPE_URLS.clusterLoadAssignment, ClusterLoadAssignment.encode(assignment).finish()),
    endpoints: localities.length,
    skipped,
  };
}

function healthStatus(instance: Instance, routable: boolean): HealthStatus {
  if (routable)
    return instance.healthStatus === SwitchboardHealth.HEALTH_STATUS_HEALTHY ? HealthStatus.HEALTHY : HealthStatus.UNKNOWN;
  if (instance.state === InstanceState.INSTANCE_STATE_DRAINING) return HealthStatus.DRAINING;
  return HealthStatus.UNHEALTHY;
}

function pack(typeUrl: string, value: Uint8Array): Any {
  return { typeUrl, value: Buffer.from(value.buffer, value.byteOffset, value.byteLength) };
}
