/**
 * The logging the SDK does, as an interface: pass your service's logger. A pino or bunyan
 * logger fits as it is; so does any object with these four methods.
 */
export interface SdkLogger {
  /** Routine detail (resolutions, resumed streams). */
  debug(fields: Record<string, unknown>, message: string): void;
  /** Lifecycle steps (registered, deregistered, configuration loaded). */
  info(fields: Record<string, unknown>, message: string): void;
  /** Failures the SDK recovers from by itself (retries, reconnects, cache fallbacks). */
  warn(fields: Record<string, unknown>, message: string): void;
  /** Failures it cannot recover from (a watch that stopped, a listener that threw). */
  error(fields: Record<string, unknown>, message: string): void;
}

const noop = (): void => {};

/** Default logger: says nothing. */
export const silentLogger: SdkLogger = { debug: noop, info: noop, warn: noop, error: noop };

const LEVELS = ["debug", "info", "warn", "error"] as const;

/**
 * One JSON line per entry on stderr ({"level","time","name","msg",...fields}), from `level` up;
 * errors in fields are written as {type, message}. For defaults that must be visible without
 * a logger (bootstrap's cache-file fallback) and that cannot pull a logging library in.
 */
export function createStderrLogger(name: string, level: (typeof LEVELS)[number] = "info"): SdkLogger {
  const threshold = LEVELS.indexOf(level);
  const entry =
    (at: (typeof LEVELS)[number]) =>
    (fields: Record<string, unknown>, message: string): void => {
      if (LEVELS.indexOf(at) < threshold) return;
      const line = JSON.stringify({ level: at, time: Date.now(), name, msg: message, ...fields }, (_key, value: unknown) =>
        value instanceof Error ? { type: value.name, message: value.message } : value,
      );
      process.stderr.write(`${line}\n`);
    };
  return { debug: entry("debug"), info: entry("info"), warn: entry("warn"), error: entry("error") };
}
