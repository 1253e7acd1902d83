/**
 * Config rollback: put the version of a key written at an earlier revision back, as a new
 * write (history keeps both), with compare-and-set so a concurrent write is never overwritten.
 *
 * ```ts
 * const { versions } = await client.config.getHistory({ scope, key: "timeout" });
 * const done = await rollbackConfig(client, { scope, key: "timeout", revision: Number(versions[1]!.revision) });
 * ```
 */
import type { Scope } from "../../../generated/switchboard/config/v1/config.js";
import { InvalidArgumentError, NotFoundError } from "../../../src/errors.js";
import type { ConfigClient, SwitchboardClient } from "./client.js";

/** What {@link rollbackConfig} restores. */
export interface RollbackConfigOptions {
  /** Where the key lives: namespace ("default" when empty), service and profile (empty: none). */
  scope: Partial<Scope>;
  key: string;
  /** The revision of the version to put back (a `revision` of GetHistory). */
  revision: number;
  /** Recorded in history as "<author> (rollback to revision N)". Default "sdk". */
  author?: string;
  /** Cancels the calls. Default none. */
  signal?: AbortSignal;
}

/** The write a rollback made. */
export interface ConfigRollback {
  /** Revision of the new write (or delete). */
  revision: number;
  /** The revision whose version was put back. */
  rolledBackTo: number;
  /** True when that version was a delete, so the key was deleted again. */
  deleted: boolean;
}

/** GetHistory's upper bound: rollback can reach the 1000 most recent versions of a key. */
const HISTORY_LIMIT = 1000;

/**
 * Puts the version of `key` written at `revision` back: a put of its value, content type and
 * secrecy, or a delete when that version was a delete; compare-and-set on the current revision.
 *
 * Throws NotFoundError when `revision` is not among the key's last 1000 versions;
 * InvalidArgumentError (field "revision") when there is nothing to do (the key is absent now, as
 * it was then) or the version is a secret this caller may not read (needs read-secrets);
 * ConflictError when the key changed between the read and the write (read again and retry).
 */
export async function rollbackConfig(
  client: SwitchboardClient | ConfigClient,
  options: RollbackConfigOptions,
): Promise<ConfigRollback> {
  const config = "config" in client ? client.config : client;
  const { key, revision: target } = options;
  const scope: Scope = { namespace: "", service: "", profile: "", ...options.scope };
  const callOptions = options.signal === undefined ? {} : { signal: options.signal };
  const { versions } = await config.getHistory({ scope, key, limit: HISTORY_LIMIT }, callOptions);
  const version = versions.find((candidate) => Number(candidate.revision) === target);
  if (version === undefined) throw new NotFoundError(`revision ${target} is not in the history of ${key}`);
  let current = 0;
  try {
    current = Number((await config.getValue({ scope, key }, callOptions)).value?.revision ?? 0);
  } catch (error) {
    if (!(error instanceof NotFoundError)) throw error;
  }
  const author = `${options.author ?? "sdk"} (rollback to revision ${target})`;
  if (version.deleted) {
    if (current === 0)
      throw new InvalidArgumentError("revision", `${key} does not exist now, as at revision ${target}: nothing to roll back`);
    const { revision } = await config.deleteValue({ scope, key, expectedRevision: String(current), author }, callOptions);
    return { revision: Number(revision), rolledBackTo: target, deleted: true };
  }
  if (version.redacted) {
    throw new InvalidArgumentError("revision", `the version at revision ${target} is secret: rolling it back needs read-secrets`);
  }
  // Compare-and-set on what was just read: a write in between fails instead of being overwritten.
  const { revision } = await config.putValue(
    {
      scope,
      key,
      value: version.value,
      contentType: version.contentType,
      expectedRevision: String(current),
      author,
      secret: version.secret,
    },
    callOptions,
  );
  return { revision: Number(revision), rolledBackTo: target, deleted: false };
}
