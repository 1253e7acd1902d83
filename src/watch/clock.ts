/**
 * Time source for everything on the server that keeps time (watch bookmarks,
 * health-check schedules), so tests can drive them without sleeping
 * (test/support/manual-clock.ts). The SDK declares the same shape for itself
 * (packages/client/src/clock.ts) because it imports nothing from the server's folders.
 */
export interface Clock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls fn once after ms; returns a handle for clearTimeout. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock: Date.now and the global timers (unref'd: a pending timer never keeps the process alive). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => {
    const timer = setTimeout(fn, ms);
    timer.unref();
    return timer;
  },
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};
