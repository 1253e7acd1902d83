import { readFile, writeFile } from "node:fs/promises";
import { Layer } from "../../../generated/switchboard/config/v1/config.js";
import type { ConfigValue, ConfigVersion, ResolvedEntry, Scope } from "../../../generated/switchboard/config/v1/config.js";
import { InvalidArgumentError, NotFoundError, rollbackConfig, watchConfig } from "@switchboard/client";
import type { ConfigRollback, SwitchboardClient } from "@switchboard/client";
import type { CliContext, Command } from "../command.js";
import { EXIT, UsageError } from "../command.js";
import { withClient } from "../connection.js";
import { parseFlags } from "../flags.js";
import { ConfigFileError, formatOfFile, parseScopeFile, serializeScopeFile } from "./config-file.js";
import type { FileFormat } from "./config-file.js";
import { TLS_FLAGS, TLS_USAGE } from "./tls-flags.js";

const USAGE = `Usage: switchboard config <subcommand> [flags]

Layered, versioned configuration. A value lives in a scope: a namespace,
optionally one service, optionally one profile. A service resolves, lowest to
highest: namespace default, namespace profile, service default, service profile.

Subcommands:
  get KEY [--resolved]               print one value of the scope (--resolved: as the service sees it)
  set KEY VALUE|- | set KEY -f FILE  write a value (- reads stdin; -f/--file reads a file)
      [-t|--content-type T] [--expect-revision N] [--secret]
                                     --secret: stored encrypted; shown masked to callers without read-secrets
  delete KEY [--expect-revision N]   delete a value
  list [--resolved]                  the values of the scope (--resolved: the resolved view with sources)
  history KEY [--limit N]            earlier versions of a key, newest first
  rollback KEY REVISION              put the version written at REVISION back (compare-and-set)
  watch [--since N] [--count N]      stream the resolved view as it changes (Ctrl-C to stop)
  import FILE|- [--replace]          write a YAML/JSON file of values into the scope, all or nothing
  rotate-secrets                     re-seal every secret value and history entry with the newest key of the server's
                                     --secret-key-file (admin on *; scope flags are ignored)
  export [-o|--output F] [--format yaml|json]
                                     write the scope's values as YAML (default) or JSON

Scope and connection flags (every subcommand):
  -n, --namespace NAME   namespace (default "default")
  -s, --service NAME     service (default: namespace-wide)
  -p, --profile NAME     profile (default: the default profile)
  --address HOST:PORT    control plane (default $SWITCHBOARD_ADDRESS, else localhost:7000)
  --token TOKEN          bearer token (default $SWITCHBOARD_TOKEN)
  --token-file FILE      file holding the bearer token (default $SWITCHBOARD_TOKEN_FILE)
  --timeout MS           deadline of each call (default 10000)
  --json                 machine-readable output (one JSON document; watch: one per line)
  --author TEXT          recorded in history by writes (default $USER, else "cli")

${TLS_USAGE}
Content types (-t, --content-type): text/plain (default), application/json,
application/yaml (must parse). --file picks JSON or YAML from a .json/.yaml/.yml extension.
--expect-revision 0 means "only if the key does not exist yet"; a mismatch
fails with the key's current revision.

Import/export file format. Import writes into the file's scope; any scope flag
(-n, -s, -p) names the whole scope instead (the others empty), and import says
so on stderr. Fields other than these are an error, and nothing is written:
  namespace: shop
  service: orders
  profile: prod
  values:
    db.url: postgres://db:5432/orders
    features: {contentType: application/json, value: '{"beta": true}'}

Examples:
  switchboard config set features '{"beta": true}' -t application/json -s orders
  switchboard config set db.pool-size 20 -n shop -s orders -p prod
  switchboard config list --resolved -n shop -s orders -p prod
  switchboard config export -n shop -s orders --output orders.yaml
  switchboard config import orders.yaml --replace
`;

export const configCommand: Command = {
  name: "config",
  summary: "get, set, list, watch, import and export layered configuration",
  usage: USAGE,
  run: runConfig,
};

const FLAGS = {
  address: { type: "string" },
  token: { type: "string" },
  "token-file": { type: "string" },
  namespace: { type: "string", short: "n" },
  service: { type: "string", short: "s" },
  profile: { type: "string", short: "p" },
  timeout: { type: "string" },
  json: { type: "boolean" },
  author: { type: "string" },
  secret: { type: "boolean" },
  resolved: { type: "boolean" },
  file: { type: "string", short: "f" },
  "content-type": { type: "string", short: "t" },
  "expect-revision": { type: "string" },
  limit: { type: "string" },
  since: { type: "string" },
  count: { type: "string" },
  replace: { type: "boolean" },
  output: { type: "string", short: "o" },
  format: { type: "string" },
  ...TLS_FLAGS,
} as const;

type FlagName = keyof typeof FLAGS;

/** Which flags each subcommand takes besides the common ones, and how many positionals. */
const SUBCOMMANDS: Record<string, { flags: FlagName[]; positionals: [min: number, max: number]; run: Handler }> = {
  get: { flags: ["resolved"], positionals: [1, 1], run: get },
  set: { flags: ["file", "content-type", "expect-revision", "author", "secret"], positionals: [1, 2], run: set },
  delete: { flags: ["expect-revision", "author"], positionals: [1, 1], run: remove },
  list: { flags: ["resolved"], positionals: [0, 0], run: list },
  history: { flags: ["limit"], positionals: [1, 1], run: history },
  rollback: { flags: ["author"], positionals: [2, 2], run: rollback },
  watch: { flags: ["since", "count"], positionals: [0, 0], run: watch },
  "rotate-secrets": { flags: [], positionals: [0, 0], run: rotateSecrets },
  import: { flags: ["replace", "author", "format"], positionals: [1, 1], run: importFile },
  export: { flags: ["output", "format"], positionals: [0, 0], run: exportFile },
};
const COMMON: FlagName[] = [
  "address",
  "token",
  "token-file",
  "namespace",
  "service",
  "profile",
  "timeout",
  "json",
  ...(Object.keys(TLS_FLAGS) as FlagName[]),
];

interface Invocation {
  context: CliContext;
  client: SwitchboardClient;
  scope: Scope;
  /** Which scope flags were given (import falls back to the file's scope for the others). */
  scopeFlags: { namespace: boolean; service: boolean; profile: boolean };
  positionals: string[];
  flags: Partial<Record<FlagName, string | boolean>>;
  json: boolean;
  author: string;
  out(text: string): void;
}

type Handler = (invocation: Invocation) => Promise<number>;

async function runConfig(context: CliContext): Promise<number> {
  const [name, ...argv] = context.argv;
  if (name === undefined) throw new UsageError(`missing subcommand (one of ${Object.keys(SUBCOMMANDS).join(", ")})`);
  const subcommand = SUBCOMMANDS[name];
  if (subcommand === undefined)
    throw new UsageError(`unknown subcommand "${name}" (one of ${Object.keys(SUBCOMMANDS).join(", ")})`);

  const parsed = parseFlags(argv, FLAGS);
  const flags = parsed.values as Partial<Record<FlagName, string | boolean>>;
  for (const flag of Object.keys(flags) as FlagName[]) {
    if (!COMMON.includes(flag) && !subcommand.flags.includes(flag))
      throw new UsageError(`config ${name} does not take --${flag}`);
  }
  const [min, max] = subcommand.positionals;
  if (parsed.positionals.length < min || parsed.positionals.length > max) {
    throw new UsageError(
      `config ${name} takes ${min === max ? min : `${min} to ${max}`} argument(s), got ${parsed.positionals.length}`,
    );
  }
  const connection = {
    address: flags.address as string | undefined,
    timeout: flags.timeout as string | undefined,
    "ca-file": flags["ca-file"] as string | undefined,
    "cert-file": flags["cert-file"] as string | undefined,
    "key-file": flags["key-file"] as string | undefined,
    token: flags.token as string | undefined,
    "token-file": flags["token-file"] as string | undefined,
  };
  return withClient(connection, context.env, (client) =>
    subcommand.run({
      context,
      client,
      scope: {
        namespace: (flags.namespace as string | undefined) ?? "default",
        service: (flags.service as string | undefined) ?? "",
        profile: (flags.profile as string | undefined) ?? "",
      },
      scopeFlags: {
        namespace: flags.namespace !== undefined,
        service: flags.service !== undefined,
        profile: flags.profile !== undefined,
      },
      positionals: parsed.positionals,
      flags,
      json: flags.json === true,
      author: (flags.author as string | undefined) ?? context.env.USER ?? "cli",
      out: (text) => context.stdout.write(text),
    }),
  );
}

async function get(inv: Invocation): Promise<number> {
  const key = inv.positionals[0]!;
  if (inv.flags.resolved) {
    const { entries } = await inv.client.config.getConfig(inv.scope);
    const entry = entries.find((candidate) => candidate.key === key);
    if (entry === undefined) throw new NotFoundError(`key "${key}" is in no layer of ${describe(inv.scope)}`);
    inv.out(inv.json ? toJson(resolvedJson(entry)) : withNewline(shown(entry)));
    return EXIT.ok;
  }
  const { value } = await inv.client.config.getValue({ scope: inv.scope, key });
  inv.out(inv.json ? toJson(valueJson(value!)) : withNewline(shown(value!)));
  return EXIT.ok;
}

async function set(inv: Invocation): Promise<number> {
  const [key, inline] = inv.positionals as [string, string | undefined];
  const file = inv.flags.file as string | undefined;
  if (inline === undefined && file === undefined)
    throw new UsageError(`missing the value of ${key}: give it as an argument, - to read stdin, or --file FILE`);
  if (inline !== undefined && file !== undefined) throw new UsageError("give the value as an argument or with --file, not both");
  const value = file !== undefined ? await readFile(file, "utf8") : inline === "-" ? await readStdin() : inline!;
  const fileFormat = file !== undefined ? formatOfFile(file) : undefined;
  const contentType =
    (inv.flags["content-type"] as string | undefined) ??
    (fileFormat === "json" ? "application/json" : fileFormat === "yaml" ? "application/yaml" : "text/plain");
  const response = await inv.client.config.putValue({
    scope: inv.scope,
    key,
    value,
    contentType,
    author: inv.author,
    secret: inv.flags.secret === true,
    ...expectedRevision(inv),
  });
  inv.out(
    inv.json
      ? toJson({ revision: Number(response.revision), value: valueJson(response.value!) })
      : `set ${key} in ${describe(inv.scope)}: revision ${response.revision} (version ${response.value?.version})\n`,
  );
  return EXIT.ok;
}

async function remove(inv: Invocation): Promise<number> {
  const key = inv.positionals[0]!;
  const response = await inv.client.config.deleteValue({ scope: inv.scope, key, author: inv.author, ...expectedRevision(inv) });
  inv.out(
    inv.json
      ? toJson({ revision: Number(response.revision) })
      : `deleted ${key} in ${describe(inv.scope)}: revision ${response.revision}\n`,
  );
  return EXIT.ok;
}

async function list(inv: Invocation): Promise<number> {
  if (inv.flags.resolved) {
    const { entries, revision } = await inv.client.config.getConfig(inv.scope);
    if (inv.json) {
      inv.out(toJson({ revision: Number(revision), entries: entries.map(resolvedJson) }));
    } else {
      inv.out(
        table(
          ["KEY", "VALUE", "LAYER", "SOURCE", "REVISION"],
          entries.map((entry) => [
            entry.key,
            preview(shown(entry)),
            layerName(entry.layer),
            describe(entry.source!),
            entry.revision,
          ]),
        ),
      );
      inv.out(`${entries.length} key(s) resolved for ${describe(inv.scope)} at revision ${revision}\n`);
    }
    return EXIT.ok;
  }
  const { values, revision } = await inv.client.config.listValues({ scope: inv.scope });
  if (inv.json) {
    inv.out(toJson({ revision: Number(revision), values: values.map(valueJson) }));
  } else {
    inv.out(
      table(
        ["KEY", "VALUE", "TYPE", "REVISION", "VERSION", "AUTHOR", "UPDATED"],
        values.map((v) => [
          v.key,
          preview(shown(v)),
          v.contentType,
          v.revision,
          v.version,
          v.author,
          v.updatedAt?.toISOString() ?? "",
        ]),
      ),
    );
    inv.out(`${values.length} key(s) in ${describe(inv.scope)} at revision ${revision}\n`);
  }
  return EXIT.ok;
}

async function history(inv: Invocation): Promise<number> {
  const key = inv.positionals[0]!;
  const limit = inv.flags.limit === undefined ? 0 : positiveInteger("--limit", inv.flags.limit as string);
  const { versions } = await inv.client.config.getHistory({ scope: inv.scope, key, limit });
  if (inv.json) {
    inv.out(toJson({ key, versions: versions.map(versionJson) }));
  } else {
    inv.out(
      table(
        ["REVISION", "UPDATED", "AUTHOR", "CHANGE", "VALUE"],
        versions.map((v) => [
          v.revision,
          v.updatedAt?.toISOString() ?? "",
          v.author,
          v.deleted ? "deleted" : "set",
          v.deleted ? "" : preview(shown(v)),
        ]),
      ),
    );
  }
  return EXIT.ok;
}

async function rollback(inv: Invocation): Promise<number> {
  const [key, revisionText] = inv.positionals as [string, string];
  const target = positiveInteger("REVISION", revisionText);
  let done: ConfigRollback;
  try {
    done = await rollbackConfig(inv.client, { scope: inv.scope, key, revision: target, author: inv.author });
  } catch (error) {
    if (error instanceof NotFoundError) {
      throw new NotFoundError(`${error.message} in ${describe(inv.scope)} (see "switchboard config history ${key}")`);
    }
    // Nothing to roll back, or a secret version: the request, not the server, is wrong.
    if (error instanceof InvalidArgumentError && error.field === "revision") throw new UsageError(error.message);
    throw error;
  }
  inv.out(
    inv.json
      ? toJson({ revision: done.revision, rolledBackTo: target, deleted: done.deleted })
      : `rolled back ${key} in ${describe(inv.scope)} to revision ${target}${done.deleted ? " (deleted)" : ""}: revision ${done.revision}\n`,
  );
  return EXIT.ok;
}

async function rotateSecrets(inv: Invocation): Promise<number> {
  const response = await inv.client.config.rotateSecrets({});
  inv.out(
    inv.json
      ? toJson({
          resealed: response.resealed,
          skipped: response.skipped,
          keyId: response.keyId,
          revision: Number(response.revision),
        })
      : `re-sealed ${response.resealed} secret value(s) with key ${response.keyId}` +
          (response.skipped > 0
            ? `; ${response.skipped} skipped (changed meanwhile, or sealed with a key not in the key file): run again`
            : "") +
          "\n",
  );
  return EXIT.ok;
}

async function watch(inv: Invocation): Promise<number> {
  const since = inv.flags.since === undefined ? 0 : nonNegativeInteger("--since", inv.flags.since as string);
  const count = inv.flags.count === undefined ? Infinity : positiveInteger("--count", inv.flags.count as string);
  const controller = new AbortController();
  const stop = () => controller.abort();
  process.once("SIGINT", stop);
  process.once("SIGTERM", stop);
  let seen = 0;
  try {
    const updates = watchConfig(inv.client, { ...inv.scope, sinceRevision: since }, controller.signal);
    for await (const update of updates) {
      if (inv.json) {
        inv.out(
          JSON.stringify({
            revision: update.revision,
            reset: update.reset,
            changedKeys: update.changedKeys,
            entries: update.entries.map(resolvedJson),
          }) + "\n",
        );
      } else {
        const byKey = new Map(update.entries.map((entry) => [entry.key, entry]));
        inv.out(
          `revision ${update.revision}${update.reset ? " (reset)" : ""}: ${update.changedKeys.length} key(s) changed, ${update.entries.length} in view\n`,
        );
        for (const key of update.changedKeys) {
          const entry = byKey.get(key);
          inv.out(entry ? `  ${key} = ${preview(shown(entry))}  (${layerName(entry.layer)})\n` : `  ${key} removed\n`);
        }
      }
      if (++seen >= count) break;
    }
  } finally {
    process.off("SIGINT", stop);
    process.off("SIGTERM", stop);
    controller.abort();
  }
  return EXIT.ok;
}

async function importFile(inv: Invocation): Promise<number> {
  const path = inv.positionals[0]!;
  const text = path === "-" ? await readStdin() : await readFile(path, "utf8");
  let file;
  try {
    file = parseScopeFile(text, path === "-" ? "stdin" : path);
  } catch (error) {
    if (error instanceof ConfigFileError) throw new UsageError(error.message);
    throw error;
  }
  // Any scope flag names the whole scope; without one the file's scope is used.
  const flagged = inv.scopeFlags.namespace || inv.scopeFlags.service || inv.scopeFlags.profile;
  const fileScope: Scope = { namespace: file.namespace || "default", service: file.service ?? "", profile: file.profile ?? "" };
  const scope: Scope = flagged ? inv.scope : fileScope;
  const fileNamesScope = file.namespace !== undefined || file.service !== undefined || file.profile !== undefined;
  if (flagged && fileNamesScope && describe(scope) !== describe(fileScope)) {
    inv.context.stderr.write(
      `config import: importing into ${describe(scope)} as the scope flags say, not into ${describe(fileScope)} named in the file\n`,
    );
  }
  const response = await inv.client.config.importValues({
    scope,
    entries: file.entries,
    replace: inv.flags.replace === true,
    author: inv.author,
  });
  inv.out(
    inv.json
      ? toJson({ scope, revision: Number(response.revision), written: response.written, deleted: response.deleted })
      : `imported ${file.entries.length} key(s) into ${describe(scope)}: ${response.written} written, ${response.deleted} deleted, revision ${response.revision}\n`,
  );
  return EXIT.ok;
}

async function exportFile(inv: Invocation): Promise<number> {
  const output = inv.flags.output as string | undefined;
  const format = chooseFormat(inv.flags.format as string | undefined, output);
  const { values, revision } = await inv.client.config.listValues({ scope: inv.scope });
  const redacted = values.filter((value) => value.redacted).map((value) => value.key);
  if (redacted.length > 0)
    throw new UsageError(`secret value(s) ${redacted.join(", ")} are redacted for this token: exporting them needs read-secrets`);
  const text = serializeScopeFile(
    {
      ...inv.scope,
      entries: values.map((value) => ({
        key: value.key,
        value: value.value,
        contentType: value.contentType,
        secret: value.secret,
      })),
    },
    format,
  );
  if (output === undefined || output === "-") {
    inv.out(text);
  } else {
    await writeFile(output, text);
    const summary = { scope: inv.scope, revision: Number(revision), keys: values.length, output };
    inv.out(
      inv.json
        ? toJson(summary)
        : `exported ${values.length} key(s) of ${describe(inv.scope)} at revision ${revision} to ${output}\n`,
    );
  }
  return EXIT.ok;
}

function chooseFormat(flag: string | undefined, output: string | undefined): FileFormat {
  if (flag !== undefined) {
    if (flag !== "yaml" && flag !== "json") throw new UsageError(`--format: expected yaml or json, got "${flag}"`);
    return flag;
  }
  return (output && formatOfFile(output)) || "yaml";
}

function expectedRevision(inv: Invocation): { expectedRevision?: string } {
  const flag = inv.flags["expect-revision"] as string | undefined;
  return flag === undefined ? {} : { expectedRevision: String(nonNegativeInteger("--expect-revision", flag)) };
}

function nonNegativeInteger(name: string, text: string): number {
  const value = Number(text);
  if (text.trim() === "" || !Number.isSafeInteger(value) || value < 0)
    throw new UsageError(`${name}: expected an integer >= 0, got "${text}"`);
  return value;
}

function positiveInteger(name: string, text: string): number {
  const value = nonNegativeInteger(name, text);
  if (value === 0) throw new UsageError(`${name}: expected an integer > 0, got "${text}"`);
  return value;
}

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const chunk of process.stdin) chunks.push(Buffer.isBuffer(chunk) ? chunk : Buffer.from(String(chunk)));
  return Buffer.concat(chunks).toString("utf8");
}

/** "shop/orders/prod", "_" for an empty service or profile. */
function describe(scope: Scope): string {
  return `${scope.namespace || "default"}/${scope.service || "_"}/${scope.profile || "_"}`;
}

const LAYER_NAMES: ReadonlyMap<Layer, string> = new Map([
  [Layer.LAYER_NAMESPACE_DEFAULT, "namespace-default"],
  [Layer.LAYER_NAMESPACE_PROFILE, "namespace-profile"],
  [Layer.LAYER_SERVICE_DEFAULT, "service-default"],
  [Layer.LAYER_SERVICE_PROFILE, "service-profile"],
]);

function layerName(layer: Layer): string {
  return LAYER_NAMES.get(layer) ?? "unknown";
}

function valueJson(value: ConfigValue) {
  return {
    scope: value.scope,
    key: value.key,
    value: value.value,
    contentType: value.contentType,
    revision: Number(value.revision),
    version: Number(value.version),
    author: value.author,
    updatedAt: value.updatedAt?.toISOString(),
    secret: value.secret,
    redacted: value.redacted,
  };
}

function resolvedJson(entry: ResolvedEntry) {
  return {
    key: entry.key,
    value: entry.value,
    contentType: entry.contentType,
    layer: layerName(entry.layer),
    source: entry.source,
    revision: Number(entry.revision),
    secret: entry.secret,
    redacted: entry.redacted,
  };
}

function versionJson(version: ConfigVersion) {
  return {
    revision: Number(version.revision),
    value: version.value,
    contentType: version.contentType,
    author: version.author,
    updatedAt: version.updatedAt?.toISOString(),
    deleted: version.deleted,
    secret: version.secret,
    redacted: version.redacted,
  };
}

function toJson(value: unknown): string {
  return `${JSON.stringify(value, null, 2)}\n`;
}

/** What people see of a value: secrets this token may not read are masked. */
function shown(entry: { value: string; redacted: boolean }): string {
  return entry.redacted ? "********" : entry.value;
}

function withNewline(text: string): string {
  return text.endsWith("\n") ? text : `${text}\n`;
}

/** One line, at most 60 characters. */
function preview(value: string): string {
  const line = value.replace(/\r?\n/g, "\\n").replace(/\t/g, "\\t");
  return line.length > 60 ? `${line.slice(0, 57)}...` : line;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const format = (row: string[]) =>
    row
      .map((cell, column) => cell.padEnd(widths[column]!))
      .join("  ")
      .trimEnd();
  return [format(header), ...rows.map(format)].join("\n") + "\n";
}
