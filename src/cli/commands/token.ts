import { parseArgs } from "node:util";
import { Grant as GrantMessage, Role, Token } from "../../../generated/switchboard/auth/v1/auth.js";
import { parseGrant } from "../../auth/index.js";
import type { Grant } from "../../auth/index.js";
import { InvalidArgumentError } from "../../errors.js";
import type { CliContext, Command } from "../command.js";
import { EXIT, UsageError } from "../command.js";
import { formatJson, formatTable } from "../output.js";
import { withClient } from "../connection.js";
import { CONNECTION_FLAGS, CONNECTION_USAGE } from "./registry-common.js";

const USAGE = `Usage: switchboard token <create|list|revoke|whoami> [flags]

Manages the bearer tokens of a server started with --auth. Every subcommand but
whoami needs a token with admin on every namespace (admin@*).

  create --grant ROLE@NAMESPACE[/SERVICE]... [--description TEXT] [--ttl SECONDS]
                 prints the new token once (it is stored only as a hash)
  list           every token (never its secret)
  revoke ID      deletes the token; it stops working on every replica within 2 s
  whoami         the caller's identity and grants

Roles: read, register, write, read-secrets, admin. NAMESPACE may be "*" (all).
${CONNECTION_USAGE}
JSON output: create {"token":{…},"secret"}; list {"tokens":[…]}; revoke {"revision"};
whoami {"identity","token","grants"}

Examples:
  switchboard token create --grant register@shop/orders --grant read@shop --description "orders service"
  switchboard token create --grant admin@* --ttl 3600
  switchboard token revoke 3f2a9c0d1e4b5a67
`;

const FLAGS = {
  ...CONNECTION_FLAGS,
  grant: { type: "string", multiple: true },
  description: { type: "string" },
  ttl: { type: "string" },
} as const;

export const tokenCommand: Command = {
  name: "token",
  summary: "create, list and revoke bearer tokens; show who you are",
  usage: USAGE,
  run: runToken,
};

const ROLE_TO_PROTO: Record<Grant["role"], Role> = {
  read: Role.ROLE_READ,
  register: Role.ROLE_REGISTER,
  write: Role.ROLE_WRITE,
  "read-secrets": Role.ROLE_READ_SECRETS,
  admin: Role.ROLE_ADMIN,
};

async function runToken(context: CliContext): Promise<number> {
  const [name, ...argv] = context.argv;
  let parsed;
  try {
    parsed = parseArgs({ args: argv, options: FLAGS, allowPositionals: true, strict: true });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  const createOnly = values.grant !== undefined || values.description !== undefined || values.ttl !== undefined;
  if (name !== "create" && createOnly) throw new UsageError("--grant, --description and --ttl go with create only");
  if (name !== "revoke" && positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);

  const out = (json: unknown, text: string) => context.stdout.write(values.json ? formatJson(json) : text);
  switch (name) {
    case "create": {
      if (!values.grant?.length) throw new UsageError("create needs at least one --grant ROLE@NAMESPACE[/SERVICE]");
      const grants = values.grant.map((text) => {
        try {
          return parseGrant(text);
        } catch (error) {
          throw new UsageError(`--grant: ${error instanceof InvalidArgumentError ? error.message : String(error)}`);
        }
      });
      const ttl = values.ttl === undefined ? 0 : Number(values.ttl);
      if (!Number.isInteger(ttl) || ttl < 0) throw new UsageError(`--ttl: expected whole seconds, got "${values.ttl}"`);
      return withClient(values, context.env, async (client) => {
        const response = await client.auth.createToken({
          description: values.description ?? "",
          ttlSeconds: ttl,
          grants: grants.map((g) => ({ namespace: g.namespace, service: g.service ?? "", role: ROLE_TO_PROTO[g.role] })),
        });
        out(
          { token: response.token && Token.toJSON(response.token), secret: response.secret },
          `${response.secret}\n` +
            `(token ${response.token?.id}: ${describeGrants(response.token?.grants ?? [])}; store it now, it is not shown again)\n`,
        );
        return EXIT.ok;
      });
    }
    case "list":
      return withClient(values, context.env, async (client) => {
        const { tokens } = await client.auth.listTokens({});
        out(
          { tokens: tokens.map((t) => Token.toJSON(t)) },
          tokens.length === 0
            ? "no tokens\n"
            : formatTable(
                ["ID", "GRANTS", "EXPIRES", "DESCRIPTION"],
                tokens.map((t) => [t.id, describeGrants(t.grants), t.expiresAt?.toISOString() ?? "never", t.description || "-"]),
              ),
        );
        return EXIT.ok;
      });
    case "revoke": {
      if (positionals.length !== 1) throw new UsageError("revoke takes one token id");
      const id = positionals[0]!.split(".")[0]!; // accept a whole token too: only its id is sent
      return withClient(values, context.env, async (client) => {
        const { revision } = await client.auth.revokeToken({ id });
        out({ revision }, `revoked token ${id} at revision ${revision}\n`);
        return EXIT.ok;
      });
    }
    case "whoami":
      return withClient(values, context.env, async (client) => {
        const response = await client.auth.whoAmI({});
        out(
          {
            identity: response.identity,
            token: response.token && Token.toJSON(response.token),
            grants: response.grants.map((g) => GrantMessage.toJSON(g)),
          },
          `${response.identity}\ngrants: ${describeGrants(response.grants)}\n`,
        );
        return EXIT.ok;
      });
    default:
      throw new UsageError(
        name === undefined ? "missing subcommand (create, list, revoke, whoami)" : `unknown subcommand "${name}"`,
      );
  }
}

function describeGrants(grants: readonly GrantMessage[]): string {
  const roleName = (role: Role) =>
    (Role[role] ?? String(role))
      .replace(/^ROLE_/, "")
      .toLowerCase()
      .replace("_", "-");
  return (
    grants.map((g) => `${roleName(g.role)}@${g.namespace === "*" ? "*" : `${g.namespace}/${g.service || "*"}`}`).join(",") || "-"
  );
}
