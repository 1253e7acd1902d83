/**
 * Flag parsing for every command: node:util parseArgs, with its errors (multi-line,
 * unbalanced quotes, "argument is ambiguous") replaced by one short UsageError line.
 *
 *   const { values, positionals } = parseFlags(context.argv, { ttl: { type: "string" }, json: { type: "boolean" } });
 */
import { parseArgs } from "node:util";
import type { ParseArgsConfig } from "node:util";
import { UsageError } from "./command.js";

type Options = NonNullable<ParseArgsConfig["options"]>;

/** What parseArgs answers for these options (strict, positionals allowed). */
export type ParsedFlags<T extends Options> = ReturnType<
  typeof parseArgs<{ args: string[]; options: T; strict: true; allowPositionals: true }>
>;

export interface ParseFlagsSettings {
  /**
   * String flags whose value may be left out (`--grpc-check` alone, or before
   * another flag, means ""); `--flag=VALUE` and `--flag VALUE` still give one.
   */
  optionalValue?: readonly string[];
}

/**
 * parseArgs (strict, positionals allowed) that throws UsageError naming the flag:
 * "unknown flag --bogus", "--ttl needs a value", "--json takes no value".
 */
export function parseFlags<T extends Options>(
  argv: readonly string[],
  options: T,
  settings: ParseFlagsSettings = {},
): ParsedFlags<T> {
  const args = withOptionalValues(argv, options, settings.optionalValue ?? []);
  // Non-strict first: its tokens say exactly which flag is wrong, without reading Node's message.
  const { tokens } = parseArgs({ args, options, strict: false, allowPositionals: true, tokens: true });
  for (const token of tokens) {
    if (token.kind !== "option") continue;
    const option = options[token.name];
    if (option === undefined) throw new UsageError(`unknown flag ${token.rawName}`);
    if (option.type === "boolean" && token.inlineValue === true) throw new UsageError(`${token.rawName} takes no value`);
    if (option.type === "string") {
      if (token.value === undefined) throw new UsageError(`${token.rawName} needs a value`);
      if (token.inlineValue === false && token.value.startsWith("-")) {
        throw new UsageError(
          `${token.rawName} needs a value, got the flag "${token.value}" (write ${token.rawName}=${token.value} if that is the value)`,
        );
      }
    }
  }
  try {
    return parseArgs({ args, options, strict: true, allowPositionals: true });
  } catch (error) {
    // Not expected after the checks above; still one line, never Node's multi-line text.
    throw new UsageError(error instanceof Error ? (error.message.split("\n")[0] ?? error.message) : String(error));
  }
}

/** `--name` with nothing after it, or before another flag, becomes `--name=`. */
function withOptionalValues(argv: readonly string[], options: Options, names: readonly string[]): string[] {
  const result: string[] = [];
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "--") {
      result.push(...argv.slice(i));
      break;
    }
    const name = arg.startsWith("--") ? arg.slice(2) : undefined;
    const next = argv[i + 1];
    if (
      name !== undefined &&
      names.includes(name) &&
      options[name]?.type === "string" &&
      (next === undefined || next.startsWith("-"))
    ) {
      result.push(`${arg}=`);
    } else {
      result.push(arg);
    }
  }
  return result;
}
