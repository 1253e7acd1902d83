/**
 * Which signals after the first one force `switchboard serve` to exit.
 *
 * A supervisor that signals the whole process group (`timeout`, `kill -- -PGID`,
 * systemd's default KillMode, Ctrl-C in a terminal) reaches both npm and the
 * server under `npm start`, and npm forwards its copy: the server receives the
 * same signal twice within milliseconds. That is one request to stop, not an
 * impatient second one; only a signal arriving later forces the exit.
 *
 *   const policy = createSecondSignalPolicy();
 *   policy.first("SIGTERM");
 *   policy.forces("SIGTERM"); // false within repeatWindowMs, true later
 */

export interface SecondSignalPolicyOptions {
  /** A copy of the first signal within this many ms is the same request. Default 1000. */
  repeatWindowMs?: number;
  /** Default Date.now. */
  now?: () => number;
}

export interface SecondSignalPolicy {
  /** Records the signal that started the shutdown. */
  first(signal: NodeJS.Signals): void;
  /** Whether `signal`, arriving now, forces an immediate exit. */
  forces(signal: NodeJS.Signals): boolean;
}

export function createSecondSignalPolicy(options: SecondSignalPolicyOptions = {}): SecondSignalPolicy {
  const repeatWindowMs = options.repeatWindowMs ?? 1000;
  const now = options.now ?? Date.now;
  let firstSignal: NodeJS.Signals | undefined;
  let firstAt = 0;
  return {
    first(signal) {
      firstSignal = signal;
      firstAt = now();
    },
    forces(signal) {
      return !(signal === firstSignal && now() - firstAt < repeatWindowMs);
    },
  };
}
