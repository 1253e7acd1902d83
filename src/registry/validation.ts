import { randomBytes } from "node:crypto";
import { InstanceState } from "../../generated/switchboard/registry/v1/registry.js";
import { DEFAULT_NAMESPACE } from "../contract.js";
import { InvalidArgumentError } from "../errors.js";
import { addressProblem } from "./address.js";

/**
 * Request validation and normalisation. Every rejection is an
 * InvalidArgumentError naming the request field (proto names, e.g.
 * "instance.metadata"), thrown before anything is written.
 */

/** Bounds of an instance's fields; health checks have theirs in health-check-spec.ts (CHECK_LIMITS). */
export const LIMITS = {
  addressLength: 253,
  metadataPairs: 64,
  metadataKeyLength: 128,
  metadataValueLength: 512,
  tags: 64,
  tagLength: 128,
  zoneLength: 128,
  ownerLength: 256,
  minWeight: 1,
  maxWeight: 10_000,
  defaultWeight: 100,
  minTtlSeconds: 2,
  maxTtlSeconds: 300,
  defaultTtlSeconds: 10,
} as const;

export { DEFAULT_NAMESPACE };

const DNS_1123_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const METADATA_KEY = /^[A-Za-z0-9._/-]+$/;
// Control characters and whitespace never belong in addresses, tags or zones (matching them is the point).
// eslint-disable-next-line no-control-regex
export const CONTROL_OR_SPACE = /[\s\u0000-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex
export const CONTROL = /[\u0000-\u001f\u007f]/;
const POSITIVE_INT64 = /^[1-9][0-9]{0,18}$/;
const NON_NEGATIVE_INT64 = /^(0|[1-9][0-9]{0,18})$/;
const MAX_INT64 = 9223372036854775807n;

export function isDnsLabel(name: string): boolean {
  return DNS_1123_LABEL.test(name);
}

/** An empty namespace means "default". */
export function validateNamespace(namespace: string, field = "namespace"): string {
  if (namespace === "") return DEFAULT_NAMESPACE;
  return validateName(namespace, field);
}

/** A required DNS-1123 label. */
export function validateName(name: string, field: string): string {
  if (name === "") throw new InvalidArgumentError(field, "required");
  if (!DNS_1123_LABEL.test(name)) {
    throw new InvalidArgumentError(
      field,
      `${JSON.stringify(truncate(name))} is not a DNS-1123 label (lower-case letters, digits and '-', at most 63 characters)`,
    );
  }
  return name;
}

/** A lease id: a positive int64 in decimal. */
export function validateLeaseId(leaseId: string, field = "lease_id"): string {
  if (!POSITIVE_INT64.test(leaseId) || BigInt(leaseId) > MAX_INT64) {
    throw new InvalidArgumentError(field, leaseId === "" || leaseId === "0" ? "required" : "must be a positive integer");
  }
  return leaseId;
}

/** A revision (int64 as decimal string, or number) → number; 0 when empty. */
export function parseRevision(revision: string | number, field: string): number {
  if (typeof revision === "number") {
    if (!Number.isSafeInteger(revision) || revision < 0) throw new InvalidArgumentError(field, "must be a non-negative integer");
    return revision;
  }
  if (revision === "") return 0;
  if (!NON_NEGATIVE_INT64.test(revision)) throw new InvalidArgumentError(field, "must be a non-negative integer");
  const value = Number(revision);
  if (!Number.isSafeInteger(value)) throw new InvalidArgumentError(field, "out of range");
  return value;
}

/** An IP literal or a DNS name (the rule is in address.ts). */
export function validateAddress(address: string, field: string): string {
  if (address === "") throw new InvalidArgumentError(field, "required");
  if (address.length > LIMITS.addressLength) throw new InvalidArgumentError(field, `at most ${LIMITS.addressLength} characters`);
  const problem = addressProblem(address);
  if (problem !== undefined) {
    throw new InvalidArgumentError(field, `${JSON.stringify(truncate(address))} is not an IP address or DNS name: ${problem}`);
  }
  return address;
}

export function validatePort(port: number, field: string): number {
  if (!Number.isInteger(port) || port < 1 || port > 65_535) throw new InvalidArgumentError(field, "must be 1..65535");
  return port;
}

export function validateMetadata(metadata: Readonly<Record<string, string>>, field: string): Record<string, string> {
  const entries = Object.entries(metadata);
  if (entries.length > LIMITS.metadataPairs) {
    throw new InvalidArgumentError(field, `at most ${LIMITS.metadataPairs} pairs (got ${entries.length})`);
  }
  const out: Record<string, string> = {};
  for (const [key, value] of entries) {
    if (key === "" || key.length > LIMITS.metadataKeyLength || !METADATA_KEY.test(key)) {
      throw new InvalidArgumentError(
        field,
        `key ${JSON.stringify(truncate(key))} must be 1..${LIMITS.metadataKeyLength} characters of [A-Za-z0-9._/-]`,
      );
    }
    if (typeof value !== "string" || value.length > LIMITS.metadataValueLength) {
      throw new InvalidArgumentError(
        field,
        `value of ${JSON.stringify(key)} must be at most ${LIMITS.metadataValueLength} characters`,
      );
    }
    out[key] = value;
  }
  return out;
}

/** Tags, duplicates dropped (first occurrence kept). */
export function validateTags(tags: readonly string[], field: string): string[] {
  if (tags.length > LIMITS.tags) throw new InvalidArgumentError(field, `at most ${LIMITS.tags} tags (got ${tags.length})`);
  const seen = new Set<string>();
  for (const tag of tags) {
    if (tag === "" || tag.length > LIMITS.tagLength || CONTROL_OR_SPACE.test(tag)) {
      throw new InvalidArgumentError(
        field,
        `tag ${JSON.stringify(truncate(tag))} must be 1..${LIMITS.tagLength} characters without spaces`,
      );
    }
    seen.add(tag);
  }
  return [...seen];
}

export function validateZone(zone: string, field: string): string {
  if (zone.length > LIMITS.zoneLength || CONTROL_OR_SPACE.test(zone)) {
    throw new InvalidArgumentError(field, `at most ${LIMITS.zoneLength} characters without spaces`);
  }
  return zone;
}

/** 0 means the default (100). */
export function validateWeight(weight: number, field: string, allowDefault: boolean): number {
  if (weight === 0 && allowDefault) return LIMITS.defaultWeight;
  if (!Number.isInteger(weight) || weight < LIMITS.minWeight || weight > LIMITS.maxWeight) {
    throw new InvalidArgumentError(
      field,
      `must be ${LIMITS.minWeight}..${LIMITS.maxWeight}${allowDefault ? " (0 for the default 100)" : ""}`,
    );
  }
  return weight;
}

/** 0 means the default (10 s). */
export function validateTtl(ttlSeconds: number, field = "ttl_seconds"): number {
  if (ttlSeconds === 0) return LIMITS.defaultTtlSeconds;
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < LIMITS.minTtlSeconds || ttlSeconds > LIMITS.maxTtlSeconds) {
    throw new InvalidArgumentError(
      field,
      `must be ${LIMITS.minTtlSeconds}..${LIMITS.maxTtlSeconds} seconds (0 for the default ${LIMITS.defaultTtlSeconds})`,
    );
  }
  return ttlSeconds;
}

const SETTABLE_STATES = new Set<number>([
  InstanceState.INSTANCE_STATE_UP,
  InstanceState.INSTANCE_STATE_DRAINING,
  InstanceState.INSTANCE_STATE_STARTING,
  InstanceState.INSTANCE_STATE_OUT_OF_SERVICE,
]);

/** UNSPECIFIED becomes UP when allowDefault (Register); otherwise it is rejected. */
export function validateState(state: InstanceState, field: string, allowDefault: boolean): InstanceState {
  if (state === InstanceState.INSTANCE_STATE_UNSPECIFIED && allowDefault) return InstanceState.INSTANCE_STATE_UP;
  if (!SETTABLE_STATES.has(state)) {
    throw new InvalidArgumentError(field, "must be INSTANCE_STATE_UP, _DRAINING, _STARTING or _OUT_OF_SERVICE");
  }
  return state;
}

export function validateOwner(owner: string, field: string): string {
  if (owner.length > LIMITS.ownerLength || CONTROL.test(owner)) {
    throw new InvalidArgumentError(field, `at most ${LIMITS.ownerLength} printable characters`);
  }
  return owner;
}

/** A random instance id: 16 characters of [a-z0-9], starting with a letter (a DNS-1123 label). */
export function generateInstanceId(): string {
  const alphabet = "abcdefghijklmnopqrstuvwxyz0123456789";
  const bytes = randomBytes(16);
  let id = alphabet[bytes[0]! % 26]!;
  for (let i = 1; i < 16; i++) id += alphabet[bytes[i]! % alphabet.length]!;
  return id;
}

/** A value cut for error messages. */
export function truncate(value: string): string {
  return value.length > 70 ? `${value.slice(0, 64)}...` : value;
}
