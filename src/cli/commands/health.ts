import { parseArgs } from "node:util";
import type { CheckResult, GetHealthResponse, InstanceHealth } from "../../../generated/switchboard/health/v1/health.js";
import { createSwitchboardClient, HealthStatus } from "../../client/index.js";
import type { CliContext, Command } from "../command.js";
import { EXIT, UsageError } from "../command.js";

const USAGE = `Usage: switchboard health SERVICE [flags]

The health the control plane decides for each instance of a service: its
status, when it was last checked, the output of its checks and which replica
runs them. Unhealthy instances are left out of default resolves and watches,
unless the service is in protection (too many failed at once; then all stay
routable and this command says so).

Flags:
  -n, --namespace NAME   namespace (default "default")
  -i, --instance ID      only this instance
  --address HOST:PORT    control plane (default $SWITCHBOARD_ADDRESS, else localhost:7000)
  --timeout MS           deadline of the call (default 10000)
  --json                 machine-readable output (one JSON document)

Exit status: 0 when the call succeeded (whatever the health), 1 on errors.

Examples:
  switchboard health orders
  switchboard health orders -n shop --json
`;

export const healthCommand: Command = {
  name: "health",
  summary: "show the health of a service's instances (status, last check, output)",
  usage: USAGE,
  run: runHealth,
};

async function runHealth(context: CliContext): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: context.argv,
      options: {
        namespace: { type: "string", short: "n" },
        instance: { type: "string", short: "i" },
        address: { type: "string" },
        timeout: { type: "string" },
        json: { type: "boolean" },
      },
      strict: true,
      allowPositionals: true,
    });
  } catch (error) {
    throw new UsageError(error instanceof Error ? error.message : String(error));
  }
  const { values, positionals } = parsed;
  if (positionals.length !== 1) throw new UsageError(`expected one SERVICE argument, got ${positionals.length}`);
  const timeoutMs = values.timeout === undefined ? 10_000 : Number(values.timeout);
  if (!Number.isInteger(timeoutMs) || timeoutMs <= 0) throw new UsageError(`--timeout: expected a positive integer, got "${values.timeout}"`);
  const address = values.address ?? context.env.SWITCHBOARD_ADDRESS ?? "localhost:7000";
  const namespace = values.namespace ?? "default";
  const service = positionals[0]!;

  const client = createSwitchboardClient({ address, defaultTimeoutMs: timeoutMs });
  try {
    const response = await client.health.getHealth({ namespace, service, instanceId: values.instance ?? "" });
    context.stdout.write(values.json ? toJson(namespace, service, response) : render(namespace, service, response, Date.now()));
    return EXIT.ok;
  } finally {
    client.close();
  }
}

/** Short status name: HEALTHY, UNHEALTHY or UNKNOWN (no check has decided yet). */
export function statusName(status: HealthStatus): string {
  switch (status) {
    case HealthStatus.HEALTH_STATUS_HEALTHY:
      return "HEALTHY";
    case HealthStatus.HEALTH_STATUS_UNHEALTHY:
      return "UNHEALTHY";
    default:
      return "UNKNOWN";
  }
}

/** The human table. Exported for tests. */
export function render(namespace: string, service: string, response: GetHealthResponse, now: number): string {
  const lines: string[] = [];
  if (response.instances.length === 0) {
    lines.push(`no instances of ${namespace}/${service}`);
  } else {
    const rows = response.instances.map((instance) => {
      const last = lastChecked(instance.checks);
      return [
        instance.instanceId,
        statusName(instance.status),
        last === undefined ? "-" : age(now - last.getTime()),
        instance.checkedBy || "-",
        summary(instance) || "-",
      ];
    });
    lines.push(table(["INSTANCE", "STATUS", "LAST CHECK", "CHECKED BY", "OUTPUT"], rows));
  }
  if (response.protectionActive) {
    lines.push(
      `WARNING: protection active for ${namespace}/${service}: too many instances failed at once, all are kept routable`,
    );
  }
  return `${lines.join("\n")}\n`;
}

function lastChecked(checks: readonly CheckResult[]): Date | undefined {
  let latest: Date | undefined;
  for (const check of checks) {
    if (check.lastCheckedAt && (!latest || check.lastCheckedAt > latest)) latest = check.lastCheckedAt;
  }
  return latest;
}

/** One line: each check's name and output, unhealthy ones first. */
function summary(instance: InstanceHealth): string {
  const ordered = [...instance.checks].sort(
    (a, b) => Number(b.status === HealthStatus.HEALTH_STATUS_UNHEALTHY) - Number(a.status === HealthStatus.HEALTH_STATUS_UNHEALTHY),
  );
  const text = ordered
    .filter((check) => check.output !== "")
    .map((check) => `${check.name}: ${check.output}`)
    .join("; ");
  return text.length > 80 ? `${text.slice(0, 77)}...` : text;
}

function age(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 60) return `${seconds}s ago`;
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`;
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`;
  return `${Math.floor(seconds / 86_400)}d ago`;
}

function table(header: string[], rows: string[][]): string {
  const widths = header.map((title, column) => Math.max(title.length, ...rows.map((row) => (row[column] ?? "").length)));
  const format = (row: string[]) => row.map((cell, column) => cell.padEnd(widths[column]!)).join("  ").trimEnd();
  return [format(header), ...rows.map(format)].join("\n");
}

function toJson(namespace: string, service: string, response: GetHealthResponse): string {
  const document = {
    namespace,
    service,
    revision: Number(response.revision),
    protectionActive: response.protectionActive,
    instances: response.instances.map((instance) => ({
      instanceId: instance.instanceId,
      status: statusName(instance.status),
      checkedBy: instance.checkedBy,
      lastTransitionAt: instance.lastTransitionAt?.toISOString() ?? null,
      checks: instance.checks.map((check) => ({
        name: check.name,
        status: statusName(check.status),
        output: check.output,
        latencyMs: check.latencyMs,
        consecutiveFailures: check.consecutiveFailures,
        consecutiveSuccesses: check.consecutiveSuccesses,
        lastCheckedAt: check.lastCheckedAt?.toISOString() ?? null,
      })),
    })),
  };
  return `${JSON.stringify(document, null, 2)}\n`;
}
