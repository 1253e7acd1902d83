/**
 * THE permission table: what every Switchboard RPC needs and where its
 * namespace / service / key are in the request. The auth guard
 * (auth-guard.ts) consults only this; README's "Authentication and
 * authorization" section shows the same table (permission-table.test.ts
 * checks that the README and this table agree).
 *
 * A scope's namespace undefined means "more than one namespace" (only a "*"
 * grant covers it); service undefined means the whole namespace (a grant
 * limited to one service does not cover it).
 */
import type { AccessScope, Permission } from "../auth/index.js";
import { DEFAULT_NAMESPACE } from "../contract.js";
import { nodeNamespace, parseResourceName } from "../xds/index.js";

/** What a request touches, for the permission check and the audit line. */
export interface RequestTarget extends AccessScope {
  /** Config key, when the RPC names one. */
  key?: string;
  /** Heartbeat and KeepAlive name only a lease: the guard finds its instance's scope. */
  leaseId?: string;
}

export interface PermissionRule {
  /** "authenticated": any valid token or bound certificate. */
  permission: Permission | "authenticated";
  /** How to find the scope in one request message (each message of a request stream). */
  target: (request: Record<string, unknown>) => RequestTarget;
  /**
   * For request streams whose later messages depend on an earlier one (xDS sends its
   * node, and so its namespace, only in the first): a fresh stateful `target` per call.
   */
  streamTarget?: () => (request: Record<string, unknown>) => RequestTarget;
  /** Writes produce an audit line on success too (every call produces one on an auth failure). */
  write: boolean;
  /** How README describes the scope. */
  scopeDoc: string;
}

type Req = Record<string, unknown>;

const str = (value: unknown): string => (typeof value === "string" ? value : "");
const ns = (value: unknown): string => str(value) || DEFAULT_NAMESPACE;
const svc = (value: unknown): string | undefined => str(value) || undefined;
const obj = (value: unknown): Req => (value !== null && typeof value === "object" ? (value as Req) : {});

const top = (r: Req): RequestTarget => ({ namespace: ns(r.namespace), service: svc(r.service) });
const configScope = (r: Req): RequestTarget => {
  const scope = obj(r.scope);
  return { namespace: ns(scope.namespace), service: svc(scope.service), ...(str(r.key) && { key: str(r.key) }) };
};
const instance = (r: Req): RequestTarget => top(obj(r.instance));
const lease = (r: Req): RequestTarget => ({ leaseId: str(r.leaseId) });
const everything = (): RequestTarget => ({});

/**
 * ADS: the namespaces of the requested resource names, read as the xDS service reads them
 * (`orders` in the node's namespace, `orders.billing` in billing); more than one needs "*".
 */
const xdsStreamTarget = () => {
  let nodeNs: string | undefined;
  return (r: Req): RequestTarget => {
    const node = obj(r.node);
    if (nodeNs === undefined && r.node !== undefined) nodeNs = nodeNamespace(obj(node.metadata)) ?? "";
    const names = Array.isArray(r.resourceNames) ? r.resourceNames.map(str) : [];
    const namespaces = new Set(
      names.map((name) => parseResourceName(name, nodeNs ?? DEFAULT_NAMESPACE)?.namespace ?? nodeNs ?? DEFAULT_NAMESPACE),
    );
    if (namespaces.size === 0) namespaces.add(nodeNs ?? DEFAULT_NAMESPACE);
    const [only] = namespaces;
    return namespaces.size === 1 && only ? { namespace: only } : {};
  };
};

const rule = (
  permission: PermissionRule["permission"],
  target: PermissionRule["target"],
  scopeDoc: string,
  write = false,
): PermissionRule => ({
  permission,
  target,
  scopeDoc,
  write,
});

export const PERMISSION_TABLE: Readonly<Record<string, PermissionRule>> = {
  "/switchboard.registry.v1.RegistryService/Register": rule("register", instance, "instance.namespace / instance.service", true),
  "/switchboard.registry.v1.RegistryService/Heartbeat": rule("register", lease, "the instance on lease_id", true),
  "/switchboard.registry.v1.RegistryService/KeepAlive": rule("register", lease, "the instance on each lease_id", true),
  "/switchboard.registry.v1.RegistryService/Deregister": rule("register", top, "namespace / service", true),
  "/switchboard.registry.v1.RegistryService/UpdateInstance": rule("register", top, "namespace / service", true),
  "/switchboard.registry.v1.RegistryService/GetInstance": rule("read", top, "namespace / service"),
  "/switchboard.registry.v1.RegistryService/ListInstances": rule("read", top, "namespace / service"),
  "/switchboard.registry.v1.RegistryService/ListServices": rule(
    "read",
    (r) => (str(r.namespace) ? { namespace: str(r.namespace) } : {}),
    'namespace (all namespaces, "*", when empty)',
  ),
  "/switchboard.registry.v1.RegistryService/Watch": rule("read", top, "namespace / service (whole namespace when empty)"),
  "/switchboard.config.v1.ConfigService/GetConfig": rule("read", top, "namespace / service (namespace-wide when empty)"),
  "/switchboard.config.v1.ConfigService/GetValue": rule("read", configScope, "scope.namespace / scope.service"),
  "/switchboard.config.v1.ConfigService/PutValue": rule("write", configScope, "scope.namespace / scope.service", true),
  "/switchboard.config.v1.ConfigService/DeleteValue": rule("write", configScope, "scope.namespace / scope.service", true),
  "/switchboard.config.v1.ConfigService/ListValues": rule("read", configScope, "scope.namespace / scope.service"),
  "/switchboard.config.v1.ConfigService/ImportValues": rule("write", configScope, "scope.namespace / scope.service", true),
  "/switchboard.config.v1.ConfigService/GetHistory": rule("read", configScope, "scope.namespace / scope.service"),
  "/switchboard.config.v1.ConfigService/WatchConfig": rule("read", top, "namespace / service (namespace-wide when empty)"),
  "/switchboard.config.v1.ConfigService/RotateSecrets": rule("admin", everything, "* (all namespaces)", true),
  "/switchboard.health.v1.HealthService/ReportHealth": rule("register", top, "namespace / service", true),
  "/switchboard.health.v1.HealthService/GetHealth": rule("read", top, "namespace / service"),
  "/switchboard.health.v1.HealthService/WatchHealth": rule("read", top, "namespace / service (whole namespace when empty)"),
  "/switchboard.health.v1.HealthService/ListReplicas": rule("read", everything, "* (all namespaces)"),
  "/switchboard.auth.v1.AuthService/CreateToken": rule("admin", everything, "* (all namespaces)", true),
  "/switchboard.auth.v1.AuthService/ListTokens": rule("admin", everything, "* (all namespaces)"),
  "/switchboard.auth.v1.AuthService/RevokeToken": rule("admin", everything, "* (all namespaces)", true),
  "/switchboard.auth.v1.AuthService/WhoAmI": rule("authenticated", everything, "—"),
  "/envoy.service.discovery.v3.AggregatedDiscoveryService/StreamAggregatedResources": {
    ...rule(
      "read",
      everything,
      "the namespaces of the requested resource names (node metadata `SWITCHBOARD_NAMESPACE`, or `.NAMESPACE` in the name)",
    ),
    streamTarget: xdsStreamTarget,
  },
  // Incremental xDS is not served (UNIMPLEMENTED); any caller may learn that.
  "/envoy.service.discovery.v3.AggregatedDiscoveryService/DeltaAggregatedResources": rule(
    "authenticated",
    everything,
    "— (answers UNIMPLEMENTED)",
  ),
};

/**
 * Services every caller may use with --auth: the standard health service
 * (load balancers and orchestrators probe it without credentials) and, unless
 * --auth-reflection, reflection (it describes the API, which is public in
 * proto/, and reveals no data).
 */
export const OPEN_SERVICE_PREFIXES = ["/grpc.health.v1.Health/"] as const;
export const REFLECTION_PREFIXES = [
  "/grpc.reflection.v1.ServerReflection/",
  "/grpc.reflection.v1alpha.ServerReflection/",
] as const;

/** The README table, generated from PERMISSION_TABLE (see permission-table.test.ts). */
export function renderPermissionTable(): string {
  const lines = ["| RPC | permission | scope taken from |", "|---|---|---|"];
  for (const [path, r] of Object.entries(PERMISSION_TABLE)) {
    const name = path.slice(path.lastIndexOf(".") + 1).replace("/", ".");
    lines.push(
      `| \`${name}\` | ${r.permission === "authenticated" ? "any valid token" : `\`${r.permission}\``} | ${r.scopeDoc} |`,
    );
  }
  return lines.join("\n");
}
