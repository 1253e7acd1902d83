import { Instance } from "../../../generated/switchboard/registry/v1/registry.js";
import type { CliContext, Command } from "../command.js";
import { EXIT, UsageError } from "../command.js";
import { withClient } from "../connection.js";
import { parseFlags } from "../flags.js";
import { formatJson, formatTable } from "../output.js";
import {
  CONNECTION_FLAGS,
  CONNECTION_USAGE,
  INSTANCE_FILTER_FLAGS,
  INSTANCE_HEADER,
  instanceFilter,
  instanceRow,
  pairsFlag,
} from "./registry-common.js";

const USAGE = `Usage: switchboard instances SERVICE [-n NAMESPACE] [--all] [filters] [flags]

Resolves a service to its instances, as clients see it: by default only
routable ones (state UP and not unhealthy).

Flags:
  -n, --namespace NAME             namespace (default "default")
  -a, --all                        also draining, starting, out-of-service and unhealthy instances
  --tag TAG                        only instances with this tag (repeatable: all must match)
  --zone ZONE                      only instances in this zone
  --selector KEY=VALUE             only instances with this metadata pair (repeatable)
${CONNECTION_USAGE}
JSON output: {"instances":[Instance as proto JSON],"revision"}

Examples:
  switchboard instances orders
  switchboard instances orders -n shop --all --json
`;

export const instancesCommand: Command = {
  name: "instances",
  summary: "list the instances of a service",
  usage: USAGE,
  run: runInstances,
};

async function runInstances(context: CliContext): Promise<number> {
  const { values, positionals } = parseFlags(context.argv, {
    ...CONNECTION_FLAGS,
    ...INSTANCE_FILTER_FLAGS,
    selector: { type: "string", multiple: true },
  } as const);
  if (positionals.length !== 1) throw new UsageError("expected exactly one SERVICE");
  const service = positionals[0] as string;
  const selector = pairsFlag("selector", values.selector);
  return withClient(values, context.env, async (client) => {
    const response = await client.registry.listInstances({
      namespace: values.namespace ?? "",
      service,
      ...instanceFilter(values),
      metadataSelector: selector,
    });
    const instances = [...response.instances].sort((a, b) => (a.instanceId < b.instanceId ? -1 : 1));
    if (values.json) {
      context.stdout.write(formatJson({ instances: instances.map((i) => Instance.toJSON(i)), revision: response.revision }));
    } else if (instances.length === 0) {
      const namespace = values.namespace || "default";
      context.stdout.write(`no ${values.all ? "" : "routable "}instances of ${namespace}/${service}\n`);
    } else {
      context.stdout.write(formatTable(INSTANCE_HEADER, instances.map(instanceRow)));
    }
    return EXIT.ok;
  });
}
