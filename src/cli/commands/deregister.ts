import type { CliContext, Command } from "../command.js";
import { EXIT, UsageError } from "../command.js";
import { formatJson } from "../output.js";
import { withClient } from "../connection.js";
import { parseFlags } from "../flags.js";
import { CONNECTION_FLAGS, CONNECTION_USAGE } from "./registry-common.js";

const USAGE = `Usage: switchboard deregister SERVICE INSTANCE_ID [-n NAMESPACE] [flags]

Removes an instance at once and revokes its lease. Fails with "not found"
when the instance does not exist (or its lease already expired).

Flags:
  -n, --namespace NAME             namespace (default "default")
${CONNECTION_USAGE}
JSON output: {"namespace","service","instanceId","revision"}

Example:
  switchboard deregister orders i-7f3a
`;

export const deregisterCommand: Command = {
  name: "deregister",
  summary: "remove an instance at once",
  usage: USAGE,
  run: runDeregister,
};

async function runDeregister(context: CliContext): Promise<number> {
  const { values, positionals } = parseFlags(context.argv, CONNECTION_FLAGS);
  if (positionals.length !== 2) throw new UsageError("expected SERVICE and INSTANCE_ID");
  const [service, instanceId] = positionals as [string, string];
  const namespace = values.namespace || "default";
  return withClient(values, context.env, async (client) => {
    const response = await client.registry.deregister({ namespace, service, instanceId });
    context.stdout.write(
      values.json
        ? formatJson({ namespace, service, instanceId, revision: response.revision })
        : `deregistered ${namespace}/${service}/${instanceId} at revision ${response.revision}\n`,
    );
    return EXIT.ok;
  });
}
