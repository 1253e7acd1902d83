import type { CliContext, Command } from "./command.js";
import { EXIT, UsageError } from "./command.js";
import { VERSION } from "./version.js";

/**
 * Dispatches `switchboard [--version|--help] <command> [args]` to a command
 * and resolves with the process exit code.
 */
export async function runCli(argv: string[], commands: readonly Command[], io: Omit<CliContext, "argv">): Promise<number> {
  const [first, ...rest] = argv;
  if (first === "--version" || first === "-v" || first === "version") {
    io.stdout.write(`switchboard ${VERSION}\n`);
    return EXIT.ok;
  }
  if (first === undefined || first === "--help" || first === "-h") {
    io.stdout.write(overview(commands));
    return first === undefined ? EXIT.usage : EXIT.ok;
  }
  if (first === "help") {
    const command = rest[0] === undefined ? undefined : commands.find((c) => c.name === rest[0]);
    io.stdout.write(command ? command.usage : overview(commands));
    return rest[0] === undefined || command ? EXIT.ok : EXIT.usage;
  }
  const command = commands.find((c) => c.name === first);
  if (!command) {
    io.stderr.write(`switchboard: unknown command "${first}" (see "switchboard --help" for the list of commands)\n`);
    return EXIT.usage;
  }
  if (rest.includes("--help") || rest.includes("-h")) {
    io.stdout.write(command.usage);
    return EXIT.ok;
  }
  try {
    return await command.run({ ...io, argv: rest });
  } catch (error) {
    if (error instanceof UsageError) {
      io.stderr.write(`switchboard ${command.name}: ${oneLine(error.message)} (see "switchboard ${command.name} --help")\n`);
      return EXIT.usage;
    }
    io.stderr.write(`switchboard ${command.name}: ${oneLine(error instanceof Error ? error.message : String(error))}\n`);
    return EXIT.failure;
  }
}

/** Messages are printed as one line, whatever produced them. */
function oneLine(message: string): string {
  return message.trim().replace(/\s*\n\s*/g, " ");
}

function overview(commands: readonly Command[]): string {
  const width = Math.max(...commands.map((c) => c.name.length));
  const lines = commands.map((c) => `  ${c.name.padEnd(width)}  ${c.summary}`);
  return [
    `switchboard ${VERSION}: a gRPC control plane for microservices`,
    "",
    "Usage: switchboard <command> [flags]",
    "",
    "Commands:",
    ...lines,
    "",
    "Flags:",
    "  -h, --help     show help (also: switchboard <command> --help)",
    "  -v, --version  print the version",
    "",
  ].join("\n");
}
