import type { CheckTarget } from "../registry/index.js";

/** Outcome of one probe. */
export interface ProbeResult {
  ok: boolean;
  /** Human-readable: HTTP status and body excerpt, gRPC status, connect error. */
  output: string;
}

/**
 * A Checker probes one target. It is created when a check starts and closed
 * when it stops, so it may keep a connection (gRPC channel) between probes.
 * probe() must settle soon after signal aborts (the scheduler aborts it at
 * the check's timeout) and must not throw: failures are results.
 */
export interface Checker {
  probe(signal: AbortSignal): Promise<ProbeResult>;
  close(): void;
}

/**
 * Builds checkers by target kind. HTTP and TCP live in src/health; gRPC is
 * supplied by the server (domain code does not import gRPC libraries).
 */
export type CheckerFactory = (target: CheckTarget) => Checker;

/**
 * The factory's checker for a target, or, when it cannot be built (an HTTP
 * URL that does not parse, say, from an instance stored before addresses
 * were validated), a checker whose every probe fails and says why. A check
 * that cannot run then makes its instance UNHEALTHY, visibly in GetHealth,
 * instead of being skipped and leaving the instance routable.
 */
export function buildChecker(factory: CheckerFactory, target: CheckTarget): Checker {
  try {
    return factory(target);
  } catch (error) {
    const output = truncateOutput(`check cannot be built: ${errorText(error)}`);
    return { probe: async () => ({ ok: false, output }), close: () => {} };
  }
}

/** Cuts long probe output so results stay small in memory and in the store. */
export function truncateOutput(text: string, max = 512): string {
  const oneLine = text.replace(/\s+/g, " ").trim();
  return oneLine.length <= max ? oneLine : `${oneLine.slice(0, max - 1)}…`;
}

export function errorText(error: unknown): string {
  if (error instanceof Error) {
    const code = (error as NodeJS.ErrnoException).code;
    return code && !error.message.includes(code) ? `${code}: ${error.message}` : error.message;
  }
  return String(error);
}

/** What a callback-style probe tells settleProbe. */
export interface ProbeHooks {
  /** Stops the probe's I/O and gives the result when the signal aborts first. */
  onAbort(): ProbeResult;
  /** Runs once the probe has settled, either way (e.g. closes a socket). */
  release?(): void;
}

/**
 * Settles a callback-style probe exactly once: with the first result `start`
 * reports through `finish`, or with `onAbort()` when `signal` aborts first.
 * The abort listener is removed when it settles.
 */
export function settleProbe(
  signal: AbortSignal,
  start: (finish: (result: ProbeResult) => void) => ProbeHooks,
): Promise<ProbeResult> {
  return new Promise<ProbeResult>((resolve) => {
    let settled = false;
    let hooks: ProbeHooks | undefined;
    const finish = (result: ProbeResult): void => {
      if (settled) return;
      settled = true;
      signal.removeEventListener("abort", abort);
      hooks?.release?.();
      resolve(result);
    };
    const abort = (): void => {
      if (hooks !== undefined) finish(hooks.onAbort());
    };
    hooks = start(finish);
    if (signal.aborted) abort();
    else if (!settled) signal.addEventListener("abort", abort, { once: true });
  });
}
