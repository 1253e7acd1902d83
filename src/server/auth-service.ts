import { Role as RoleMessage } from "../../generated/switchboard/auth/v1/auth.js";
import type {
  AuthServiceImplementation,
  Grant as GrantMessage,
  Token as TokenMessage,
} from "../../generated/switchboard/auth/v1/auth.js";
import type { Grant, Role, TokenRecord, TokenStore } from "../auth/index.js";
import { InvalidArgumentError } from "../errors.js";
import { callerOf } from "./auth-guard.js";

const ROLE_TO_PROTO: Readonly<Record<Role, RoleMessage>> = {
  read: RoleMessage.ROLE_READ,
  register: RoleMessage.ROLE_REGISTER,
  write: RoleMessage.ROLE_WRITE,
  "read-secrets": RoleMessage.ROLE_READ_SECRETS,
  admin: RoleMessage.ROLE_ADMIN,
};
const ROLE_FROM_PROTO = new Map<number, Role>(Object.entries(ROLE_TO_PROTO).map(([role, value]) => [value, role as Role]));

/**
 * AuthService over src/auth's token store: proto ↔ domain mapping only. Who
 * may call what is decided by the permission table before these run.
 */
export function createAuthServiceImpl(tokens: TokenStore): AuthServiceImplementation {
  return {
    async createToken(request) {
      const grants = request.grants.map((grant, i) => fromGrant(grant, `grants[${i}]`));
      const { record, token } = await tokens.create({ description: request.description, grants, ttlSeconds: request.ttlSeconds });
      return { token: toToken(record), secret: token };
    },
    async listTokens() {
      return { tokens: tokens.list().map(toToken) };
    },
    async revokeToken(request) {
      if (request.id === "") throw new InvalidArgumentError("id", "must not be empty");
      return { revision: String(await tokens.revoke(request.id)) };
    },
    async whoAmI(_request, context) {
      const caller = callerOf(context);
      if (!caller) return { identity: "anonymous (auth is off)", grants: [toGrant({ namespace: "*", role: "admin" })] };
      return { identity: caller.identity, token: caller.token && toToken(caller.token), grants: caller.grants.map(toGrant) };
    },
  };
}

function fromGrant(grant: GrantMessage, field: string): Grant {
  const role = ROLE_FROM_PROTO.get(grant.role);
  if (!role) throw new InvalidArgumentError(`${field}.role`, "must be set");
  return { namespace: grant.namespace, role, ...(grant.service !== "" && { service: grant.service }) };
}

function toGrant(grant: Grant): GrantMessage {
  return { namespace: grant.namespace, service: grant.service ?? "", role: ROLE_TO_PROTO[grant.role] };
}

function toToken(record: TokenRecord): TokenMessage {
  return {
    id: record.id,
    description: record.description,
    grants: record.grants.map(toGrant),
    createdAt: new Date(record.createdAt),
    expiresAt: record.expiresAt === undefined ? undefined : new Date(record.expiresAt),
    bootstrap: record.bootstrap === true,
  };
}
