/**
 * Time source of the SDK's timers (the agent's renewals, watchdog, backoff and drain grace), so
 * tests drive them without sleeping. The same shape as src/health's Clock, declared here because
 * the SDK imports nothing from the server's folders; test/support/manual-clock.ts (the tests' manual clock) fits it.
 */
export interface SdkClock {
  /** Milliseconds since the epoch. */
  now(): number;
  /** Calls fn once after ms; returns a handle for clearTimeout. */
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** Date.now and the global timers. */
export const systemClock: SdkClock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (handle) => clearTimeout(handle as ReturnType<typeof setTimeout>),
};

/** Waits ms on clock, or rejects with an AbortError (timer cleared) as soon as signal aborts. */
export function sleepOn(clock: SdkClock, ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    const abortError = () => Object.assign(new Error("The operation was aborted"), { name: "AbortError", cause: signal?.reason });
    if (signal?.aborted) {
      reject(abortError());
      return;
    }
    const onAbort = (): void => {
      clock.clearTimeout(timer);
      reject(abortError());
    };
    const timer = clock.setTimeout(() => {
      signal?.removeEventListener("abort", onAbort);
      resolve();
    }, ms);
    signal?.addEventListener("abort", onAbort, { once: true });
  });
}
