import { GetHealthResponse } from "../../../generated/switchboard/health/v1/health.js";
import type { CheckResult, InstanceHealth } from "../../../generated/switchboard/health/v1/health.js";
import { HealthStatus } from "@switchboard/client";
import type { CliContext, Command } from "../command.js";
import { EXIT, UsageError } from "../command.js";
import { formatAge, formatJson, formatTable } from "../output.js";
import { withClient } from "../connection.js";
import { parseFlags } from "../flags.js";
import { CONNECTION_FLAGS, CONNECTION_USAGE, healthName } from "./registry-common.js";

const USAGE = `Usage: switchboard health SERVICE [-n NAMESPACE] [-i INSTANCE] [flags]

The health the control plane decides for each instance of a service: status
(HEALTHY, UNHEALTHY, or - while no check has decided), SINCE: how long ago the
status last changed, the replica that runs the checks, and the checks' output
(failing ones first; asked of another replica than CHECKED BY, the output of
the probe that changed the status). Unhealthy instances leave default resolves and watches, unless the
service is in protection (at least the minimum of UP instances, default 3, and
more than the threshold share of them failed at once: all stay routable, and
this command prints a warning).

Flags:
  -n, --namespace NAME             namespace (default "default")
  -i, --instance ID                only this instance
${CONNECTION_USAGE}
JSON output: GetHealthResponse as proto JSON ({"instances":[...],"protectionActive","revision"}).
Exit status: 0 when the call succeeded, whatever the health; 1 on errors.

Examples:
  switchboard health orders
  switchboard health orders -n shop -i orders-7f3a --json
`;

export const healthCommand: Command = {
  name: "health",
  summary: "show the health of a service's instances (status, since when, output)",
  usage: USAGE,
  run: runHealth,
};

async function runHealth(context: CliContext): Promise<number> {
  const { values, positionals } = parseFlags(context.argv, {
    ...CONNECTION_FLAGS,
    instance: { type: "string", short: "i" },
  } as const);
  if (positionals.length !== 1) throw new UsageError("expected exactly one SERVICE");
  const service = positionals[0]!;
  const namespace = values.namespace || "default";
  return withClient(values, context.env, async (client) => {
    const response = await client.health.getHealth({ namespace, service, instanceId: values.instance ?? "" });
    context.stdout.write(
      values.json ? formatJson(GetHealthResponse.toJSON(response)) : renderHealth(namespace, service, response, Date.now()),
    );
    return EXIT.ok;
  });
}

// SINCE is the last status change, known alike on every replica; the time of the
// latest probe is known only on the replica that runs the checks, so it is not shown.
const HEALTH_HEADER = ["INSTANCE", "STATUS", "SINCE", "CHECKED BY", "OUTPUT"] as const;

/** The human table (and the protection warning). */
function renderHealth(namespace: string, service: string, response: GetHealthResponse, now: number): string {
  let text =
    response.instances.length === 0
      ? `no instances of ${namespace}/${service}\n`
      : formatTable(
          HEALTH_HEADER,
          response.instances.map((instance) => {
            const since = instance.lastTransitionAt;
            return [
              instance.instanceId,
              healthName(instance.status),
              since === undefined ? "-" : `${formatAge(since, now)} ago`,
              instance.checkedBy || "-",
              outputOf(instance) || "-",
            ];
          }),
        );
  if (response.protectionActive) {
    text += `WARNING: protection active for ${namespace}/${service}: more than the threshold share of its instances failed at once; all are kept routable\n`;
  }
  return text;
}

/** "name: output" of each check, failing ones first, cut to 100 characters. */
function outputOf(instance: InstanceHealth): string {
  const failing = (c: CheckResult) => Number(c.status === HealthStatus.HEALTH_STATUS_UNHEALTHY);
  const text = [...instance.checks]
    .sort((a, b) => failing(b) - failing(a))
    .filter((check) => check.output !== "")
    .map((check) => `${check.name}: ${check.output}`)
    .join("; ");
  return text.length > 100 ? `${text.slice(0, 97)}...` : text;
}
