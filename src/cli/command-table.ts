import type { Command } from "./command.js";
import { configCommand } from "./commands/config.js";
import { healthCheckCommand } from "./commands/health-check.js";
import { serveCommand } from "./commands/serve.js";

/** Every `switchboard` subcommand, in the order `--help` lists them. Add yours here. */
export const COMMANDS: readonly Command[] = [serveCommand, healthCheckCommand, configCommand];
