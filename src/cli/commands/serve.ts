import { readFile } from "node:fs/promises";
import { pino } from "pino";
import { parseSecretKeys } from "../../auth/index.js";
import { startServer } from "../../server/index.js";
import type { Command, CliContext } from "../command.js";
import { EXIT } from "../command.js";
import { SERVE_SETTINGS, parseServeConfig, serverOptionsFrom } from "./serve-config.js";

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

export const serveCommand: Command = {
  name: "serve",
  summary: "run the Switchboard control plane (gRPC + HTTP /metrics, /healthz)",
  usage: usage(),
  run: serve,
};

/**
 * Starts the server and runs until SIGTERM or SIGINT, then shuts down
 * gracefully (exit 0). A second signal exits at once (exit 1).
 */
async function serve(context: CliContext): Promise<number> {
  const config = parseServeConfig(context.argv, context.env);
  const logger = pino({ level: config.logLevel });
  let server;
  try {
    const options = serverOptionsFrom(config);
    if (options.auth && config.authBootstrapTokenFile) {
      options.auth.bootstrapToken = (await readFile(config.authBootstrapTokenFile, "utf8")).trim();
    }
    if (config.secretKeyFile) options.secretKeys = parseSecretKeys(await readFile(config.secretKeyFile, "utf8"), config.secretKeyFile);
    // A separate destination: audit lines never mix with the operational log.
    if (config.auditLog) options.auditLog = pino({ base: undefined }, pino.destination({ dest: config.auditLog, mkdir: true, sync: true }));
    server = await startServer({ ...options, logger });
  } catch (error) {
    logger.fatal({ err: error }, "switchboard failed to start");
    return EXIT.failure;
  }

  const signal = await new Promise<NodeJS.Signals>((resolve) => {
    for (const name of SIGNALS) process.once(name, () => resolve(name));
  });
  logger.info({ signal }, "shutdown: signal received");
  const forceExit = () => {
    logger.warn("shutdown: second signal, exiting now");
    process.exit(EXIT.failure);
  };
  for (const name of SIGNALS) process.once(name, forceExit);
  try {
    await server.close();
    return EXIT.ok;
  } catch (error) {
    logger.error({ err: error }, "shutdown failed");
    return EXIT.failure;
  } finally {
    for (const name of SIGNALS) process.off(name, forceExit);
  }
}

function usage(): string {
  const rows = SERVE_SETTINGS.flatMap((s) => {
    const defaultText = s.default === "" ? "" : ` (default ${s.default})`;
    return [`  --${s.flag}, ${s.env}`, ...wrap(`${s.description}${defaultText}`, 72).map((line) => `      ${line}`)];
  });
  return [
    "Usage: switchboard serve [flags]",
    "",
    "Runs the control plane: RegistryService, ConfigService, HealthService,",
    "grpc.health.v1 and server reflection on the gRPC port; GET /metrics and",
    "GET /healthz on the HTTP port. Each flag can also be set by its environment",
    "variable; a flag wins over the environment, the environment over the default.",
    "",
    "Flags and environment variables:",
    ...rows,
    "",
    "Exit codes: 0 after a graceful shutdown (SIGTERM, SIGINT), 1 on failure, 2 on bad configuration.",
    "",
  ].join("\n");
}

/** Splits text into lines of at most width characters, at spaces. */
function wrap(text: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const word of text.split(" ")) {
    if (line !== "" && line.length + 1 + word.length > width) {
      lines.push(line);
      line = word;
    } else {
      line = line === "" ? word : `${line} ${word}`;
    }
  }
  if (line !== "") lines.push(line);
  return lines;
}
