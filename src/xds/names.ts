import { DEFAULT_NAMESPACE, isDnsLabel } from "../registry/index.js";

/**
 * How xDS resource names map to Switchboard services.
 *
 * A client dials `xds:///orders`: it asks for the Listener "orders", which
 * means service "orders" in the client's namespace (the node metadata key
 * SWITCHBOARD_NAMESPACE of its bootstrap, else "default"). `xds:///orders.billing`
 * names service "orders" in namespace "billing", whatever the node says, as
 * a Kubernetes DNS name does (`service.namespace`): names are DNS-1123 labels
 * and never contain a dot, so the split is unambiguous.
 *
 * The route configuration, cluster and ClusterLoadAssignment of a service are
 * always named by the qualified form `orders.billing`, so two clients of
 * different namespaces asking for "orders" never share a resource by mistake.
 */
export interface XdsServiceName {
  readonly namespace: string;
  readonly service: string;
}

/** Node metadata key naming the client's default namespace. */
export const NAMESPACE_METADATA_KEY = "SWITCHBOARD_NAMESPACE";

/** The service a resource name addresses, or undefined when the name is not one of ours. */
export function parseResourceName(name: string, defaultNamespace: string): XdsServiceName | undefined {
  const dot = name.indexOf(".");
  const service = dot === -1 ? name : name.slice(0, dot);
  const namespace = dot === -1 ? defaultNamespace : name.slice(dot + 1);
  if (!isDnsLabel(service) || !isDnsLabel(namespace)) return undefined;
  return { namespace, service };
}

/** The qualified name `service.namespace` of the cluster, route and assignment of a service. */
export function qualifiedName(name: XdsServiceName): string {
  return `${name.service}.${name.namespace}`;
}

/**
 * The namespace a client's node metadata asks for: the SWITCHBOARD_NAMESPACE
 * string when present, else "default". Undefined when present but not a
 * DNS-1123 label (the caller rejects the stream).
 */
export function nodeNamespace(metadata: Readonly<Record<string, unknown>> | undefined): string | undefined {
  const value = metadata?.[NAMESPACE_METADATA_KEY];
  if (value === undefined || value === null || value === "") return DEFAULT_NAMESPACE;
  return typeof value === "string" && isDnsLabel(value) ? value : undefined;
}
