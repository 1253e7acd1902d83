/**
 * Roles, grants and the one rule that decides whether a set of grants allows
 * a permission on a scope. No gRPC, no store: src/server maps each RPC to a
 * permission and a scope (permission-table.ts) and asks `allows`.
 */
import { InvalidArgumentError } from "../errors.js";

/** Roles, weakest first. A grant holds one. */
export const ROLES = ["read", "register", "write", "read-secrets", "admin"] as const;
export type Role = (typeof ROLES)[number];

/** What an RPC needs: a role name ("admin" for token management). */
export type Permission = Role;

/**
 * Which roles satisfy each permission. admin satisfies everything;
 * read-secrets includes read (a caller allowed to see secrets may see the
 * rest). Nothing else implies anything: register cannot read config, write
 * cannot register.
 */
const SATISFIED_BY: Readonly<Record<Permission, readonly Role[]>> = {
  read: ["read", "read-secrets", "admin"],
  register: ["register", "admin"],
  write: ["write", "admin"],
  "read-secrets": ["read-secrets", "admin"],
  admin: ["admin"],
};

/** A role on a namespace ("*": all) and optionally one service of it. */
export interface Grant {
  namespace: string;
  /** Undefined: every service of the namespace. */
  service?: string;
  role: Role;
}

/**
 * What a call touches. namespace undefined: more than one namespace (e.g.
 * ListServices without a namespace, token management); service undefined:
 * the whole namespace (namespace-wide config, a namespace Watch).
 */
export interface AccessScope {
  namespace?: string;
  service?: string;
}

/** True when one of grants gives permission on all of scope. */
export function allows(grants: readonly Grant[], permission: Permission, scope: AccessScope): boolean {
  const roles = SATISFIED_BY[permission];
  return grants.some((grant) => roles.includes(grant.role) && covers(grant, scope));
}

/** True when grants give permission on at least one scope (used before a lease's scope is known). */
export function allowsSomewhere(grants: readonly Grant[], permission: Permission): boolean {
  const roles = SATISFIED_BY[permission];
  return grants.some((grant) => roles.includes(grant.role));
}

function covers(grant: Grant, scope: AccessScope): boolean {
  if (grant.namespace !== "*" && grant.namespace !== scope.namespace) return false;
  if (grant.service === undefined) return true;
  return grant.service === scope.service;
}

/** "shop/orders", "shop/*", "*" — for PERMISSION_DENIED messages and audit lines. */
export function describeAccessScope(scope: AccessScope): string {
  if (scope.namespace === undefined) return "*";
  return `${scope.namespace}/${scope.service ?? "*"}`;
}

export function describeGrant(grant: Grant): string {
  return `${grant.role}@${grant.namespace === "*" ? "*" : `${grant.namespace}/${grant.service ?? "*"}`}`;
}

const NAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;

/** Checks one grant; `field` names it in the error (e.g. "grants[0]"). */
export function validateGrant(grant: Grant, field: string): Grant {
  if (!ROLES.includes(grant.role)) throw new InvalidArgumentError(`${field}.role`, `expected one of ${ROLES.join(", ")}`);
  if (grant.namespace !== "*" && !NAME.test(grant.namespace)) {
    throw new InvalidArgumentError(
      `${field}.namespace`,
      `expected "*" or a DNS-1123 label, got ${JSON.stringify(grant.namespace.slice(0, 64))}`,
    );
  }
  if (grant.service !== undefined) {
    if (grant.namespace === "*") throw new InvalidArgumentError(`${field}.service`, 'a service needs a namespace, not "*"');
    if (!NAME.test(grant.service)) {
      throw new InvalidArgumentError(
        `${field}.service`,
        `expected a DNS-1123 label, got ${JSON.stringify(grant.service.slice(0, 64))}`,
      );
    }
  }
  return grant;
}

/**
 * Parses the CLI form "role@namespace[/service]" ("admin@*",
 * "register@shop/orders", "read@shop").
 */
export function parseGrant(text: string): Grant {
  const match = /^([a-z-]+)@([^/]+)(?:\/(.+))?$/.exec(text.trim());
  if (!match) throw new InvalidArgumentError("grant", `expected role@namespace[/service], got ${JSON.stringify(text)}`);
  const [, role, namespace, service] = match as unknown as [string, string, string, string | undefined];
  return validateGrant({ role: role as Role, namespace, ...(service !== undefined && service !== "*" && { service }) }, "grant");
}
