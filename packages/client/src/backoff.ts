import { setTimeout as sleepTimeout } from "node:timers/promises";

/** Exponential backoff between retries of a stream or registration. */
export interface BackoffOptions {
  /** First delay in ms. Default 100. */
  initialMs?: number;
  /** Largest delay in ms. Default 5000. */
  maxMs?: number;
  /** Growth per attempt. Default 2. */
  factor?: number;
  /** Random share taken off each delay (0..1), so clients do not retry in step. Default 0.2. */
  jitter?: number;
}

/** Delays of one retry loop (internal). */
export interface Backoff {
  /** The delay to wait before the next attempt; grows each call. */
  next(): number;
  /** Back to the initial delay (after a success). */
  reset(): void;
}

/** A backoff with the defaults of BackoffOptions (internal). */
export function createBackoff(options: BackoffOptions = {}): Backoff {
  const initialMs = options.initialMs ?? 100;
  const maxMs = options.maxMs ?? 5000;
  const factor = options.factor ?? 2;
  const jitter = options.jitter ?? 0.2;
  let current = initialMs;
  return {
    next() {
      const delay = current * (1 - jitter * Math.random());
      current = Math.min(maxMs, current * factor);
      return Math.round(delay);
    },
    reset() {
      current = initialMs;
    },
  };
}

/** Waits ms, or rejects with an AbortError as soon as signal aborts. */
export async function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  await sleepTimeout(ms, undefined, { signal });
}
