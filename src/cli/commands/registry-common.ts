/** Flags, client setup and formatting shared by the registry commands (services, instances, watch, register, deregister). */
import { HealthStatus, InstanceState } from "@switchboard/client";
import type { Instance } from "@switchboard/client";
import { UsageError } from "../command.js";
import { formatPairs } from "../output.js";
import { TLS_FLAGS, TLS_USAGE } from "./tls-flags.js";

/** parseArgs options every registry command takes. */
export const CONNECTION_FLAGS = {
  address: { type: "string" },
  token: { type: "string" },
  "token-file": { type: "string" },
  timeout: { type: "string" },
  json: { type: "boolean" },
  namespace: { type: "string", short: "n" },
  ...TLS_FLAGS,
} as const;

/** parseArgs options choosing which instances a listing or watch covers (instances, watch). */
export const INSTANCE_FILTER_FLAGS = {
  all: { type: "boolean", short: "a" },
  tag: { type: "string", multiple: true },
  zone: { type: "string" },
} as const;

/** The request fields set by {@link INSTANCE_FILTER_FLAGS}. */
export function instanceFilter(values: { all?: boolean | undefined; tag?: string[] | undefined; zone?: string | undefined }): {
  includeUnroutable: boolean;
  tags: string[];
  zone: string;
} {
  return { includeUnroutable: values.all ?? false, tags: values.tag ?? [], zone: values.zone ?? "" };
}

export const CONNECTION_USAGE = `Connection and output flags:
  --address HOST:PORT[,HOST:PORT]  control plane, replicas tried in turn
                                   (default $SWITCHBOARD_ADDRESS, else localhost:7000)
  --token TOKEN                    bearer token (default $SWITCHBOARD_TOKEN)
  --token-file FILE                file holding the bearer token (default $SWITCHBOARD_TOKEN_FILE)
  --timeout MS                     deadline of each call (default 10000)
  --json                           machine-readable output

${TLS_USAGE}`;

/** Parses an integer flag within bounds, or throws a UsageError naming it. */
export function intFlag(name: string, value: string | undefined, fallback: number, min: number, max: number): number {
  if (value === undefined) return fallback;
  const parsed = Number(value);
  if (!Number.isInteger(parsed) || parsed < min || parsed > max) {
    throw new UsageError(`--${name}: expected an integer from ${min} to ${max}, got "${value}"`);
  }
  return parsed;
}

/** "key=value" flags into a map; throws a UsageError on a malformed one. */
export function pairsFlag(name: string, values: readonly string[] | undefined): Record<string, string> {
  const pairs: Record<string, string> = {};
  for (const value of values ?? []) {
    const separator = value.indexOf("=");
    if (separator <= 0) throw new UsageError(`--${name}: expected key=value, got "${value}"`);
    pairs[value.slice(0, separator)] = value.slice(separator + 1);
  }
  return pairs;
}

export function stateName(state: InstanceState): string {
  const name = InstanceState[state] ?? String(state);
  return state === InstanceState.INSTANCE_STATE_UNSPECIFIED ? "UP" : name.replace(/^INSTANCE_STATE_/, "");
}

export function healthName(status: HealthStatus): string {
  if (status === HealthStatus.HEALTH_STATUS_UNSPECIFIED) return "-";
  return (HealthStatus[status] ?? String(status)).replace(/^HEALTH_STATUS_/, "");
}

export function hostPort(instance: Pick<Instance, "address" | "port">): string {
  return instance.address.includes(":") ? `[${instance.address}]:${instance.port}` : `${instance.address}:${instance.port}`;
}

export const INSTANCE_HEADER = ["INSTANCE", "ADDRESS", "STATE", "HEALTH", "WEIGHT", "ZONE", "TAGS", "METADATA"] as const;

export function instanceRow(instance: Instance): string[] {
  return [
    instance.instanceId,
    hostPort(instance),
    // Held after a store stall (Instance.held_until): routable until it registers again or the hold ends.
    instance.heldUntil
      ? `${stateName(instance.state)} (HELD until ${instance.heldUntil.toISOString()})`
      : stateName(instance.state),
    healthName(instance.healthStatus),
    String(instance.weight),
    instance.zone || "-",
    instance.tags.length > 0 ? instance.tags.join(",") : "-",
    formatPairs(instance.metadata),
  ];
}

/**
 * Resolves when one of `signals` arrives (or `abort` aborts); the listeners are
 * removed either way. Used by the long-running commands (watch, register).
 */
export function waitForSignal(signals: readonly NodeJS.Signals[], abort: AbortSignal): Promise<NodeJS.Signals | undefined> {
  return new Promise((resolve) => {
    const done = (name: NodeJS.Signals | undefined) => {
      for (const signal of signals) process.off(signal, handlers[signal]!);
      abort.removeEventListener("abort", onAbort);
      resolve(name);
    };
    const handlers = Object.fromEntries(signals.map((signal) => [signal, () => done(signal)])) as Record<string, () => void>;
    const onAbort = () => done(undefined);
    if (abort.aborted) return done(undefined);
    for (const signal of signals) process.once(signal, handlers[signal]!);
    abort.addEventListener("abort", onAbort);
  });
}
