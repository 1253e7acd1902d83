import type { Command } from "./command.js";
import { configCommand } from "./commands/config.js";
import { deregisterCommand } from "./commands/deregister.js";
import { healthCheckCommand } from "./commands/health-check.js";
import { healthCommand } from "./commands/health.js";
import { instancesCommand } from "./commands/instances.js";
import { registerCommand } from "./commands/register.js";
import { serveCommand } from "./commands/serve.js";
import { servicesCommand } from "./commands/services.js";
import { tokenCommand } from "./commands/token.js";
import { watchCommand } from "./commands/watch.js";
import { xdsBootstrapCommand } from "./commands/xds-bootstrap.js";

/** Every `switchboard` subcommand, in the order `--help` lists them. Add yours here. */
export const COMMANDS: readonly Command[] = [
  serveCommand,
  healthCheckCommand,
  configCommand,
  servicesCommand,
  instancesCommand,
  watchCommand,
  registerCommand,
  deregisterCommand,
  healthCommand,
  tokenCommand,
  xdsBootstrapCommand,
];
