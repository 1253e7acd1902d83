/**
 * Tokens in the store, read through the replica's KeySpaceCache, so a
 * revocation written on one replica reaches every replica by the same watch
 * that feeds everything else.
 *
 *   {prefix}auth/tokens/{id}   → TokenRecord (JSON)
 *   {prefix}auth/bootstrap     → id of the first admin token (written once, by compare-and-set)
 *
 *   const tokens = createTokenStore({ store, cache, prefix });
 *   const identity = tokens.authenticate(bearer);          // throws UnauthenticatedError
 *   const stop = tokens.onRemoved(identity.id, () => …);   // revoked or deleted on any replica
 */
import type { KeySpaceCache } from "../cache/index.js";
import { InvalidArgumentError, NotFoundError, UnauthenticatedError } from "../errors.js";
import type { Store } from "../store/index.js";
import { validateGrant } from "./grants.js";
import type { Grant } from "./grants.js";
import { TOKEN_FORMAT, hashSecret, newToken, parseToken, verifySecret } from "./token.js";
import type { TokenRecord } from "./token.js";

export interface TokenStoreOptions {
  store: Store;
  cache: KeySpaceCache;
  /** Root prefix, ending with "/". */
  prefix: string;
  /** Milliseconds since the epoch. Default Date.now. */
  now?: () => number;
}

export interface CreateTokenInput {
  description: string;
  grants: Grant[];
  /** 0 or undefined: no expiry. */
  ttlSeconds?: number;
}

export interface TokenStore {
  /** The record for a bearer token; UnauthenticatedError (reason in the message) when missing, malformed, unknown, revoked or expired. */
  authenticate(bearer: string | undefined): TokenRecord;
  /** Resolves with the record and the one-time token; waits until this replica's cache shows it. */
  create(input: CreateTokenInput): Promise<{ record: TokenRecord; token: string }>;
  list(): TokenRecord[];
  /** NotFoundError when absent. Returns the revision of the delete. */
  revoke(id: string): Promise<number>;
  /**
   * Makes token the first admin token unless the store already had one
   * bootstrapped (one compare-and-set: of two replicas racing, one wins).
   * Returns true when this call created it.
   */
  bootstrap(token: string): Promise<boolean>;
  /** Calls listener once when the token is deleted (revoked) as seen by this replica. Returns the unsubscribe. */
  onRemoved(id: string, listener: () => void): () => void;
  close(): void;
}

const MAX_DESCRIPTION = 256;
const MAX_GRANTS = 64;
const MAX_TTL_SECONDS = 10 * 365 * 24 * 3600;

export function createTokenStore(options: TokenStoreOptions): TokenStore {
  const { store, cache } = options;
  const now = options.now ?? Date.now;
  const tokensPrefix = `${options.prefix}auth/tokens/`;
  const bootstrapKey = `${options.prefix}auth/bootstrap`;
  const decoded = new Map<string, { modRevision: number; record: TokenRecord }>();
  const removedListeners = new Map<string, Set<() => void>>();
  // Bearer strings that verified, with their record: a hit skips parsing, the
  // store lookup and the SHA-256 of every call (bench/README.md, security
  // overhead). Only verified strings enter, so its size is bounded by the
  // number of tokens (one secret per id), not by what callers send. An entry
  // goes when any write or delete touches its token (revoke), and all go on a
  // cache reset; expiry is checked on every hit.
  const verified = new Map<string, TokenRecord>();
  const verifiedBearerOf = new Map<string, string>();
  const forgetVerified = (id: string) => {
    const bearer = verifiedBearerOf.get(id);
    if (bearer === undefined) return;
    verifiedBearerOf.delete(id);
    verified.delete(bearer);
  };

  const fireRemoved = (id: string) => {
    const listeners = removedListeners.get(id);
    if (!listeners) return;
    removedListeners.delete(id);
    for (const listener of listeners) listener();
  };
  const unsubscribe = cache.subscribe((update) => {
    if (update.type === "batch") {
      for (const event of update.batch.events) {
        const key = event.type === "delete" ? event.key : event.kv.key;
        if (!key.startsWith(tokensPrefix)) continue;
        const id = key.slice(tokensPrefix.length);
        forgetVerified(id);
        if (event.type === "delete") {
          decoded.delete(id);
          fireRemoved(id);
        }
      }
    } else if (update.type === "reset") {
      verified.clear();
      verifiedBearerOf.clear();
      // A relist may have missed deletes: check every watched id again.
      for (const id of [...removedListeners.keys()]) if (!cache.get(tokensPrefix + id)) fireRemoved(id);
    }
  });

  function read(id: string): TokenRecord | undefined {
    const kv = cache.get(tokensPrefix + id);
    if (!kv) return undefined;
    const hit = decoded.get(id);
    if (hit && hit.modRevision === kv.modRevision) return hit.record;
    const record = JSON.parse(Buffer.from(kv.value).toString("utf8")) as TokenRecord;
    decoded.set(id, { modRevision: kv.modRevision, record });
    return record;
  }

  function unexpired(record: TokenRecord): TokenRecord {
    if (record.expiresAt !== undefined && record.expiresAt <= now())
      throw new UnauthenticatedError(`token ${record.id} has expired`);
    return record;
  }

  async function put(record: TokenRecord, compare: Array<{ key: string; modRevision: number }>): Promise<number | undefined> {
    const result = await store.txn({
      compare,
      ops: [{ type: "put", key: tokensPrefix + record.id, value: Buffer.from(JSON.stringify(record)) }],
    });
    return result.succeeded ? result.revision : undefined;
  }

  return {
    authenticate(bearer) {
      if (bearer === undefined || bearer === "")
        throw new UnauthenticatedError("missing bearer token (authorization: Bearer <token>)");
      // A hit is an exact match of the whole string that verified before; a miss
      // (any other string) goes through the constant-time check below.
      const hit = verified.get(bearer);
      if (hit) return unexpired(hit);
      const parsed = parseToken(bearer);
      if (!parsed) throw new UnauthenticatedError("malformed bearer token");
      const record = read(parsed.id);
      // One message for unknown and revoked: nothing tells a guesser which ids exist.
      if (!record || !verifySecret(parsed.secret, record.secretHash)) throw new UnauthenticatedError("unknown or revoked token");
      unexpired(record);
      forgetVerified(record.id);
      verified.set(bearer, record);
      verifiedBearerOf.set(record.id, bearer);
      return record;
    },

    async create(input) {
      const description = input.description ?? "";
      if (description.length > MAX_DESCRIPTION)
        throw new InvalidArgumentError("description", `at most ${MAX_DESCRIPTION} characters`);
      if (input.grants.length === 0) throw new InvalidArgumentError("grants", "at least one grant");
      if (input.grants.length > MAX_GRANTS) throw new InvalidArgumentError("grants", `at most ${MAX_GRANTS}`);
      const grants = input.grants.map((grant, i) => validateGrant(grant, `grants[${i}]`));
      const ttl = input.ttlSeconds ?? 0;
      if (!Number.isInteger(ttl) || ttl < 0 || ttl > MAX_TTL_SECONDS)
        throw new InvalidArgumentError("ttl_seconds", `0..${MAX_TTL_SECONDS}`);
      const { token, id, secretHash } = newToken();
      const createdAt = now();
      const record: TokenRecord = {
        id,
        secretHash,
        description,
        grants,
        createdAt,
        ...(ttl > 0 && { expiresAt: createdAt + ttl * 1000 }),
      };
      const revision = await put(record, [{ key: tokensPrefix + id, modRevision: 0 }]);
      if (revision === undefined) throw new Error("token id collision"); // 64 random bits: a bug, not a user error
      await cache.waitForRevision(revision);
      return { record, token };
    },

    list() {
      return cache
        .list(tokensPrefix)
        .map((kv) => read(kv.key.slice(tokensPrefix.length)))
        .filter((record): record is TokenRecord => record !== undefined);
    },

    async revoke(id) {
      const key = tokensPrefix + id;
      const current = await store.get(key);
      if (!current) throw new NotFoundError(`token ${JSON.stringify(id.slice(0, 64))} not found`);
      const result = await store.txn({ compare: [{ key, modRevision: current.modRevision }], ops: [{ type: "delete", key }] });
      if (!result.succeeded) throw new NotFoundError(`token ${JSON.stringify(id.slice(0, 64))} not found`);
      await cache.waitForRevision(result.revision);
      return result.revision;
    },

    async bootstrap(token) {
      const parsed = parseToken(token.trim());
      if (!parsed) throw new InvalidArgumentError("auth-bootstrap-token-file", `expected ${TOKEN_FORMAT}`);
      const record: TokenRecord = {
        id: parsed.id,
        secretHash: hashSecret(parsed.secret),
        description: "bootstrap admin token",
        grants: [{ namespace: "*", role: "admin" }],
        createdAt: now(),
        bootstrap: true,
      };
      const result = await store.txn({
        compare: [
          { key: bootstrapKey, modRevision: 0 },
          { key: tokensPrefix + record.id, modRevision: 0 },
        ],
        ops: [
          { type: "put", key: bootstrapKey, value: Buffer.from(record.id) },
          { type: "put", key: tokensPrefix + record.id, value: Buffer.from(JSON.stringify(record)) },
        ],
      });
      await cache.waitForRevision(result.revision);
      return result.succeeded;
    },

    onRemoved(id, listener) {
      let listeners = removedListeners.get(id);
      if (!listeners) removedListeners.set(id, (listeners = new Set()));
      listeners.add(listener);
      // Removed between authenticate and this call: tell now (asynchronously, like a cache update).
      if (!cache.get(tokensPrefix + id)) queueMicrotask(() => fireRemoved(id));
      return () => {
        const set = removedListeners.get(id);
        set?.delete(listener);
        if (set?.size === 0) removedListeners.delete(id);
      };
    },

    close() {
      unsubscribe();
      removedListeners.clear();
      verified.clear();
      verifiedBearerOf.clear();
    },
  };
}
