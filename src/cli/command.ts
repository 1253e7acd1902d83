/** What a command gets from the dispatcher; tests pass their own streams and env. */
export interface CliContext {
  /** Arguments after the command name. */
  argv: string[];
  env: NodeJS.ProcessEnv;
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}

/**
 * One `switchboard <name>` subcommand. Add a command by writing
 * src/cli/commands/<name>.ts exporting a Command and listing it in
 * src/cli/command-table.ts.
 */
export interface Command {
  name: string;
  /** One line for `switchboard --help`. */
  summary: string;
  /** Full text for `switchboard <name> --help`. */
  usage: string;
  /** Resolves with the exit code. Throw UsageError for bad arguments (exit 2). */
  run(context: CliContext): Promise<number>;
}

/** Bad flags, arguments or configuration: printed with a hint, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** Exit codes of every command. */
export const EXIT = { ok: 0, failure: 1, usage: 2 } as const;
