/**
 * Ties each call's signal to the server's shutdown signal through ONE
 * listener on the shutdown signal, fanned out to a Set of open calls.
 *
 * Why not one listener per call: the shutdown signal lives as long as the
 * server, and every open stream (Watch, KeepAlive, WatchHealth, WatchConfig)
 * would add an 'abort' listener to it, so Node warns
 * (MaxListenersExceededWarning, "11 abort listeners added to [AbortSignal]")
 * as soon as a handful of watchers and agents connect, and every add/remove
 * walks the listener list. Raising the limit would silence a warning that
 * still catches real leaks elsewhere; a Set costs O(1) per call.
 *
 *   const fanOut = createShutdownFanOut(shutdownSignal);
 *   const link = fanOut.link(context.signal);
 *   try { await work(link.signal); } finally { link.release(); }
 */
export interface ShutdownFanOut {
  /**
   * A signal that aborts when `signal` (the call's) aborts or the server
   * shuts down, whichever comes first. release() when the call ends: it
   * detaches from both.
   */
  link(signal: AbortSignal): ShutdownLink;
}

export interface ShutdownLink {
  readonly signal: AbortSignal;
  release(): void;
}

export function createShutdownFanOut(shutdownSignal: AbortSignal): ShutdownFanOut {
  const open = new Set<AbortController>();
  if (!shutdownSignal.aborted) {
    shutdownSignal.addEventListener(
      "abort",
      () => {
        const calls = [...open];
        open.clear();
        for (const controller of calls) controller.abort();
      },
      { once: true },
    );
  }
  return {
    link(signal) {
      const controller = new AbortController();
      if (signal.aborted || shutdownSignal.aborted) {
        controller.abort();
        return { signal: controller.signal, release() {} };
      }
      const abort = () => {
        open.delete(controller);
        controller.abort();
      };
      // The call's own signal is short-lived and watched only by this call: one listener on it is fine.
      signal.addEventListener("abort", abort, { once: true });
      open.add(controller);
      return {
        signal: controller.signal,
        release() {
          signal.removeEventListener("abort", abort);
          open.delete(controller);
        },
      };
    },
  };
}
