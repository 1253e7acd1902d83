import { readFile } from "node:fs/promises";
import { pino } from "pino";
import { parseSecretKeys } from "../../auth/index.js";
import { startServer, StartupError } from "../../server/index.js";
import type { Command, CliContext } from "../command.js";
import { EXIT } from "../command.js";
import { SERVE_SETTINGS, parseServeConfig, serverOptionsFrom } from "./serve-config.js";
import { createSecondSignalPolicy } from "./shutdown-signals.js";

const SIGNALS = ["SIGTERM", "SIGINT"] as const;

export const serveCommand: Command = {
  name: "serve",
  summary: "run the Switchboard control plane (gRPC + HTTP /metrics, /healthz)",
  usage: usage(),
  run: serve,
};

/**
 * Starts the server and runs until SIGTERM or SIGINT, then shuts down
 * gracefully (exit 0). A second signal exits at once (exit 1), except a copy
 * of the first one within a second (npm forwarding what the process group got).
 * A start failure prints one line naming the cause and the flag to change (exit 1).
 */
async function serve(context: CliContext): Promise<number> {
  const config = parseServeConfig(context.argv, context.env);
  const verbose = config.logLevel === "debug" || config.logLevel === "trace";
  // Stack traces only at debug and trace: at info, an error's message is what an operator acts on.
  const logger = pino({ level: config.logLevel, ...(!verbose && { serializers: { err: errorWithoutStack } }) });
  let server;
  try {
    const options = serverOptionsFrom(config);
    if (options.auth && config.authBootstrapTokenFile) {
      options.auth.bootstrapToken = (await readFile(config.authBootstrapTokenFile, "utf8")).trim();
    }
    // Read (and re-read on change or SIGHUP) by the server, as the TLS files.
    if (options.auth && config.authCertGrantsFile) options.auth.certificateGrantsFile = config.authCertGrantsFile;
    if (config.secretKeyFile)
      options.secretKeys = parseSecretKeys(await readFile(config.secretKeyFile, "utf8"), config.secretKeyFile);
    // A separate destination: audit lines never mix with the operational log.
    if (config.auditLog)
      options.auditLog = pino({ base: undefined }, pino.destination({ dest: config.auditLog, mkdir: true, sync: true }));
    server = await startServer({ ...options, logger });
  } catch (error) {
    const line = startFailure(error);
    logger.fatal(verbose ? { err: error } : {}, `switchboard failed to start: ${line}`);
    context.stderr.write(`switchboard serve: ${line}\n`);
    return EXIT.failure;
  }

  const policy = createSecondSignalPolicy();
  let resolveSignal: (signal: NodeJS.Signals) => void = () => {};
  const received = new Promise<NodeJS.Signals>((resolve) => (resolveSignal = resolve));
  let shuttingDown = false;
  let finished = false;
  // One listener per signal for the whole run, never removed: removing the last listener
  // restores the default action, so a copy arriving between two listeners, or after the
  // shutdown finished but before the process is gone, would kill it (exit by signal).
  // Signal listeners do not keep the process alive.
  const onSignal = (signal: NodeJS.Signals) => {
    if (finished) return;
    if (!shuttingDown) {
      shuttingDown = true;
      policy.first(signal);
      resolveSignal(signal);
    } else if (!policy.forces(signal)) {
      logger.info(
        { signal },
        "shutdown: same signal again (e.g. npm forwarding what the process group got); already shutting down",
      );
    } else {
      logger.warn({ signal }, "shutdown: second signal, exiting now");
      process.exit(EXIT.failure);
    }
  };
  for (const name of SIGNALS) process.on(name, onSignal);
  // SIGHUP re-reads the TLS certificate files and the certificate grants file (they are also watched).
  const running = server;
  process.on("SIGHUP", () => void running.reloadCertificates());
  try {
    const signal = await received;
    logger.info({ signal }, "shutdown: signal received");
    await server.close();
    return EXIT.ok;
  } catch (error) {
    logger.error({ err: error }, "shutdown failed");
    return EXIT.failure;
  } finally {
    finished = true;
  }
}

/** "CAUSE; change --FLAG (ENV)" for a StartupError; the message of anything else. */
function startFailure(error: unknown): string {
  if (error instanceof StartupError) {
    const setting = SERVE_SETTINGS.find((s) => s.flag === error.setting);
    return setting ? `${error.message}; change --${setting.flag} (${setting.env})` : error.message;
  }
  return `unexpected error: ${error instanceof Error ? error.message : String(error)} (--log-level debug shows details)`;
}

function errorWithoutStack(error: unknown): unknown {
  if (!(error instanceof Error)) return error;
  const { stack: _stack, ...rest } = pino.stdSerializers.err(error);
  return rest;
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
    "Signals: SIGTERM and SIGINT shut down gracefully; SIGHUP re-reads the TLS certificate files and --auth-cert-grants.",
    "Exit codes: 0 after a graceful shutdown (SIGTERM, SIGINT), 1 on failure (a start failure prints",
    "one line naming the cause and the flag to change) or a second signal, 2 on bad configuration.",
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
