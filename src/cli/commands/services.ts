import { ServiceSummary } from "../../../generated/switchboard/registry/v1/registry.js";
import type { CliContext, Command } from "../command.js";
import { EXIT, UsageError } from "../command.js";
import { formatJson, formatTable } from "../output.js";
import { withClient } from "../connection.js";
import { parseFlags } from "../flags.js";
import { CONNECTION_FLAGS, CONNECTION_USAGE } from "./registry-common.js";

const USAGE = `Usage: switchboard services [-n NAMESPACE] [flags]

Lists the services that have at least one registered instance, with how many
instances each has and how many of them are routable (UP and not unhealthy).

Flags:
  -n, --namespace NAME             only this namespace (default: every namespace)
${CONNECTION_USAGE}
JSON output: {"services":[{"namespace","service","instanceCount","routableCount",
  "unhealthyCount","drainingCount","protectionActive"}],"revision"} (zero and false omitted)

Examples:
  switchboard services
  switchboard services -n shop --json | jq -r '.services[].service'
`;

export const servicesCommand: Command = {
  name: "services",
  summary: "list registered services with instance counts",
  usage: USAGE,
  run: runServices,
};

async function runServices(context: CliContext): Promise<number> {
  const { values, positionals } = parseFlags(context.argv, CONNECTION_FLAGS);
  if (positionals.length > 0) throw new UsageError(`unexpected argument "${positionals[0]}"`);
  return withClient(values, context.env, async (client) => {
    const response = await client.registry.listServices({ namespace: values.namespace ?? "" });
    const services = [...response.services].sort((a, b) =>
      `${a.namespace}/${a.service}` < `${b.namespace}/${b.service}` ? -1 : 1,
    );
    if (values.json) {
      context.stdout.write(formatJson({ services: services.map((s) => ServiceSummary.toJSON(s)), revision: response.revision }));
    } else if (services.length === 0) {
      context.stdout.write(values.namespace ? `no services in namespace "${values.namespace}"\n` : "no services registered\n");
    } else {
      context.stdout.write(
        formatTable(
          ["NAMESPACE", "SERVICE", "INSTANCES", "ROUTABLE"],
          services.map((s) => [s.namespace, s.service, String(s.instanceCount), String(s.routableCount)]),
        ),
      );
    }
    return EXIT.ok;
  });
}
