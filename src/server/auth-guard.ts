/**
 * The server's authentication and authorization step, run by the call
 * middleware for every call before the handler. It sees only the method
 * path, the metadata (`authorization: Bearer …`), the request messages and
 * (for mTLS) a function that names the client certificate — nothing
 * gRPC-specific — so every transport that goes through the same middleware
 * gets the same checks. Permissions come from permission-table.ts only.
 *
 *   const guard = createAuthGuard({ tokens, leaseScopes, quotas, auditLog });
 *   const call = guard.begin(path, context, requestStream, responseStream);
 *   call.check(request);              // UnauthenticatedError / PermissionDeniedError / ResourceExhaustedError
 *   … handler with call.request(request) and call.signal …
 *   call.end(code);                   // audit line, quota release
 */
import type { CallContext } from "nice-grpc-common";
import type { Logger } from "pino";
import { allows, allowsSomewhere, describeAccessScope } from "../auth/index.js";
import type { AccessScope, Grant, Quotas, TokenRecord, TokenStore } from "../auth/index.js";
import { PermissionDeniedError, UnauthenticatedError } from "../errors.js";
import type { LeaseScopes } from "./lease-scopes.js";
import { OPEN_SERVICE_PREFIXES, PERMISSION_TABLE, REFLECTION_PREFIXES } from "./permission-table.js";
import type { PermissionRule, RequestTarget } from "./permission-table.js";

/** Names the verified client certificate of a call (URI SAN or CN), or undefined. Supplied by the TLS layer. */
export type CertificateIdentity = (context: CallContext) => string | undefined;

/** Grants by certificate identity: a Map, or the reloading file of --auth-cert-grants. */
export interface CertificateGrants {
  get(identity: string): readonly Grant[] | undefined;
}

export interface AuthGuardOptions {
  /** False: audit only (no authentication, everything allowed). Default true. */
  enforce?: boolean;
  tokens: TokenStore;
  leaseScopes: LeaseScopes;
  quotas: Quotas;
  /** Require a token for reflection too. Default false (reflection open). */
  protectReflection?: boolean;
  /** With mTLS: the certificate identity of a call. Default: none (tokens only). */
  certificateIdentity?: CertificateIdentity;
  /** Grants of certificate identities (exact match), looked up on every call. Default none. */
  certificateGrants?: CertificateGrants;
  /** One line per write and per auth failure. Default: no audit. */
  auditLog?: Logger;
  /** Milliseconds since the epoch. Default Date.now. */
  now?: () => number;
}

/** Who is calling, as the handlers may ask (callerOf). */
export interface Caller {
  /** "token:<id>" or "cert:<identity>". */
  readonly identity: string;
  readonly grants: readonly Grant[];
  /** The token record, when the caller used a token. */
  readonly token?: TokenRecord;
}

export interface GuardedCall {
  /** Authenticates and authorizes the call (unary: its request; request streams: checked per message by request()). */
  check(request: unknown): void;
  /** The request to hand the handler (request streams come back checked message by message). */
  request<T>(request: T): T;
  /** Aborts when the caller's token is revoked or expires while the call runs (streams only). */
  readonly signal: AbortSignal | undefined;
  /** The error to end with when the call ended because of signal. */
  revoked(): Error | undefined;
  readonly caller: Caller | undefined;
  /** Audits and releases quota. */
  end(code: string): void;
}

export interface AuthGuard {
  begin(path: string, context: CallContext, requestStream: boolean, responseStream: boolean): GuardedCall;
  close(): void;
}

const CALLER = Symbol("switchboard.caller");

/** The caller a handler runs for; undefined when auth is off (everything allowed). */
export function callerOf(context: CallContext): Caller | undefined {
  return (context as { [CALLER]?: Caller })[CALLER];
}

/**
 * The handler's context: context with signal, carrying the caller. One copy
 * per call (this runs on every call).
 */
export function handlerContext<C extends CallContext>(context: C, signal: AbortSignal, caller: Caller | undefined): C {
  const copy: C & { [CALLER]?: Caller } = { ...context, signal };
  if (caller) copy[CALLER] = caller;
  return copy;
}

/** True when the caller may use permission on scope (always true with auth off). */
export function callerAllows(caller: Caller | undefined, permission: Parameters<typeof allows>[1], scope: AccessScope): boolean {
  return caller === undefined || allows(caller.grants, permission, scope);
}

const BEARER = /^bearer\s+(.+)$/i;
// setTimeout's limit; an expiry further away is re-armed by nothing: such a stream outlives 24 days only if the token does.
const MAX_TIMER_MS = 2 ** 31 - 1;

export function createAuthGuard(options: AuthGuardOptions): AuthGuard {
  const { tokens, leaseScopes, quotas, auditLog } = options;
  const now = options.now ?? Date.now;
  const enforce = options.enforce ?? true;
  const open = [...OPEN_SERVICE_PREFIXES, ...(options.protectReflection ? [] : REFLECTION_PREFIXES)];

  // One Caller per token record (records are replaced, never changed, when their key is written),
  // rather than a new object and identity string on every call.
  const tokenCallers = new WeakMap<TokenRecord, Caller>();

  function identify(context: CallContext): Caller {
    const header = context.metadata.get("authorization");
    if (header !== undefined) {
      const match = BEARER.exec(header);
      if (!match) throw new UnauthenticatedError("malformed authorization metadata (expected: Bearer <token>)");
      const token = tokens.authenticate(match[1]!.trim());
      let caller = tokenCallers.get(token);
      if (!caller) tokenCallers.set(token, (caller = { identity: `token:${token.id}`, grants: token.grants, token }));
      return caller;
    }
    const certificate = options.certificateIdentity?.(context);
    if (certificate !== undefined) {
      const grants = options.certificateGrants?.get(certificate);
      if (!grants) throw new UnauthenticatedError("client certificate identity has no grants");
      return { identity: `cert:${certificate}`, grants };
    }
    throw new UnauthenticatedError("missing bearer token (authorization: Bearer <token>)");
  }

  function authorize(caller: Caller, rule: PermissionRule, target: RequestTarget): void {
    const permission = rule.permission;
    if (permission === "authenticated") return;
    if (target.leaseId !== undefined) {
      const scopes = leaseScopes.get(target.leaseId);
      // An unknown lease holds nothing to protect: the handler answers NOT_FOUND (or TTL 0) to any registrant.
      const ok =
        scopes.length === 0
          ? allowsSomewhere(caller.grants, permission)
          : scopes.every((s) => allows(caller.grants, permission, s));
      if (!ok) {
        const where = scopes.length === 0 ? "any scope" : scopes.map(describeAccessScope).join(", ");
        throw new PermissionDeniedError(`permission "${rule.permission}" on ${where} required (lease ${target.leaseId})`);
      }
      return;
    }
    if (!allows(caller.grants, permission, target)) {
      throw new PermissionDeniedError(`permission "${rule.permission}" on ${describeAccessScope(target)} required`);
    }
  }

  const isOpenPath = (path: string) => open.some((prefix) => path.startsWith(prefix));

  /**
   * One call's state. A class rather than an object of closures: this runs on
   * every call, and per-call closures cost allocations (and, under tsx's
   * keepNames in the bench, a defineProperty each).
   */
  class Call implements GuardedCall {
    readonly signal: AbortSignal | undefined;
    caller: Caller | undefined;
    private readonly isOpen: boolean;
    private readonly rule: PermissionRule | undefined;
    private readonly revocation: AbortController | undefined;
    private target: RequestTarget | undefined;
    private failure: string | undefined;
    private releaseStream: (() => void) | undefined;
    private stopWatching: (() => void) | undefined;
    private timer: NodeJS.Timeout | undefined;
    private revokedError: Error | undefined;

    constructor(
      private readonly path: string,
      private readonly context: CallContext,
      private readonly requestStream: boolean,
      private readonly responseStream: boolean,
    ) {
      this.isOpen = isOpenPath(path);
      this.rule = PERMISSION_TABLE[path];
      this.revocation = responseStream ? new AbortController() : undefined;
      this.signal = this.revocation?.signal;
    }

    private fail(error: unknown): never {
      this.failure = (error as Error).message;
      throw error;
    }

    check(request: unknown): void {
      if (this.isOpen) return;
      const { rule, path } = this;
      // Found first, so the audit line of a rejected call names what it tried to touch.
      if (rule && !this.requestStream) this.target = rule.target((request ?? {}) as Record<string, unknown>);
      if (!enforce) return;
      let caller: Caller;
      try {
        caller = this.caller = identify(this.context);
      } catch (error) {
        this.fail(error);
      }
      // Unknown paths (not in the table, not open): deny, default deny.
      if (!rule) this.fail(new PermissionDeniedError(`${path} is not open to tokens`));
      if (this.target) {
        try {
          authorize(caller, rule, this.target);
        } catch (error) {
          this.fail(error);
        }
      }
      const who = caller.identity;
      if (path === "/switchboard.registry.v1.RegistryService/Register") quotas.takeRegistration(who);
      if (this.requestStream || this.responseStream) this.releaseStream = quotas.openStream(who);
      if (this.revocation) this.watchRevocation(caller, this.revocation);
    }

    private watchRevocation(caller: Caller, revocation: AbortController): void {
      const end = (error: Error) => {
        this.revokedError ??= error;
        revocation.abort(error);
      };
      const token = caller.token;
      if (!token) return;
      this.stopWatching = tokens.onRemoved(token.id, () => end(new UnauthenticatedError(`token ${token.id} was revoked`)));
      if (token.expiresAt !== undefined) {
        const ms = token.expiresAt - now();
        if (ms < MAX_TIMER_MS)
          this.timer = setTimeout(() => end(new UnauthenticatedError(`token ${token.id} has expired`)), Math.max(0, ms));
      }
    }

    request<T>(request: T): T {
      const { rule } = this;
      if (this.isOpen || !enforce || !this.requestStream || !rule) return request;
      const messages = request as unknown as AsyncIterable<Record<string, unknown>>;
      const checkedCaller = this.caller!;
      const targetOf = rule.streamTarget?.() ?? rule.target;
      // eslint-disable-next-line @typescript-eslint/no-this-alias -- the generator below records targets and failures on this call
      const call = this;
      return (async function* checked() {
        for await (const message of messages) {
          call.target = targetOf(message);
          try {
            authorize(checkedCaller, rule, call.target);
          } catch (error) {
            call.fail(error);
          }
          yield message;
        }
      })() as unknown as T;
    }

    revoked(): Error | undefined {
      return this.revokedError;
    }

    end(code: string): void {
      this.releaseStream?.();
      this.stopWatching?.();
      if (this.timer !== undefined) clearTimeout(this.timer);
      if (!auditLog || this.isOpen) return;
      const authFailure = code === "UNAUTHENTICATED" || code === "PERMISSION_DENIED";
      if (!authFailure && !this.rule?.write) return;
      const { target, failure } = this;
      auditLog.info(
        {
          who: this.caller?.identity ?? anonymousName(this.context),
          rpc: this.path,
          namespace: target?.namespace,
          service: target?.service,
          key: target?.key,
          leaseId: target?.leaseId,
          code,
          ...(failure !== undefined && { reason: failure }),
        },
        "audit",
      );
    }
  }

  return {
    begin: (path, context, requestStream, responseStream) => new Call(path, context, requestStream, responseStream),
    close() {
      leaseScopes.close();
      tokens.close();
    },
  };
}

/** For audit lines of rejected calls: the token id the caller claimed (never the secret), or "anonymous". */
function anonymousName(context: CallContext): string {
  const header = context.metadata.get("authorization");
  const match = header !== undefined ? /^bearer\s+([a-z0-9]{1,64})\./i.exec(header) : null;
  return match ? `claimed-token:${match[1]}` : "anonymous";
}
