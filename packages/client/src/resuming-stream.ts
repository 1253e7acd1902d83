import { createBackoff, sleep } from "./backoff.js";
import type { BackoffOptions } from "./backoff.js";
import { isAbortError, isRetryableError } from "./errors.js";
import { silentLogger } from "./logger.js";
import type { SdkLogger } from "./logger.js";

export interface ResumingStreamOptions<Message, Update> {
  /** Opens the server stream from the caller's current resume point. */
  open(signal: AbortSignal): AsyncIterable<Message>;
  /** Folds one message into the caller's state (and resume point); returns what to yield, if anything. */
  apply(message: Message): Update | undefined;
  /** Names the stream in log lines, e.g. "config watch". */
  name: string;
  /** Fields of each log line (what is watched, the resume point), read when the line is written. */
  logFields(): Record<string, unknown>;
  /** Delay between reconnects. Default 100 ms doubling to 5 s. */
  backoff?: BackoffOptions | undefined;
  /** Default: silent. */
  logger?: SdkLogger | undefined;
  /** Called before each reconnect after an error. */
  onRetry?: ((error: unknown, delayMs: number) => void) | undefined;
}

/**
 * The reconnect loop of watchService and watchConfig. Opens the stream and
 * yields what `apply` makes of each message; when the server ends the stream,
 * or it fails with a retryable error (UNAVAILABLE, RESOURCE_EXHAUSTED, a
 * dropped connection, ...), it waits (exponential backoff, reset by every
 * message) and opens it again from wherever `apply` has moved the resume
 * point. Other errors end the iteration with the error; aborting `signal` (or
 * breaking out of the loop) cancels the stream and ends it without an error.
 */
export async function* resumingStream<Message, Update>(
  options: ResumingStreamOptions<Message, Update>,
  signal?: AbortSignal,
): AsyncGenerator<Update, void, undefined> {
  const logger = options.logger ?? silentLogger;
  const backoff = createBackoff(options.backoff);

  while (!isAborted(signal)) {
    const attempt = new AbortController();
    const onAbort = (): void => attempt.abort();
    signal?.addEventListener("abort", onAbort);
    let failure: unknown;
    try {
      for await (const message of options.open(attempt.signal)) {
        backoff.reset();
        const update = options.apply(message);
        if (update !== undefined) yield update;
      }
      logger.debug(options.logFields(), `${options.name} ended by the server; resuming`);
    } catch (error) {
      if (isAborted(signal) || isAbortError(error)) return;
      if (!isRetryableError(error)) throw error;
      failure = error;
    } finally {
      signal?.removeEventListener("abort", onAbort);
      attempt.abort();
    }
    const delay = backoff.next();
    if (failure !== undefined) {
      logger.warn({ ...options.logFields(), err: failure, delayMs: delay }, `${options.name} interrupted; resuming`);
      options.onRetry?.(failure, delay);
    }
    try {
      await sleep(delay, signal);
    } catch {
      return;
    }
  }
}

/** Reads the flag through a call so TypeScript does not keep a narrowing across awaits. */
function isAborted(signal: AbortSignal | undefined): boolean {
  return signal?.aborted === true;
}
