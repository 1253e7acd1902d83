/** Base of every error the store layer throws; backends translate their own errors into these. */
export class StoreError extends Error {
  /** True when retrying the same call later may succeed. */
  readonly retryable: boolean = false;
}

/** The store cannot be reached or did not answer in time. Retryable. */
export class StoreUnavailableError extends StoreError {
  override readonly retryable = true;
  override name = "StoreUnavailableError";
}

/** A watch asked for history that compaction has removed. */
export class CompactedError extends StoreError {
  override name = "CompactedError";
  constructor(
    /** The oldest revision still available is compactRevision + 1. */
    readonly compactRevision: number,
    message = `history before revision ${compactRevision + 1} has been compacted`,
  ) {
    super(message);
  }
}

/** A keepalive or put named a lease that does not exist (expired or revoked). */
export class LeaseNotFoundError extends StoreError {
  override name = "LeaseNotFoundError";
  constructor(readonly leaseId: string) {
    super(`lease ${leaseId} not found`);
  }
}

/** The embedded store's data directory is locked by another live store (this or another process). */
export class DataDirLockedError extends StoreError {
  override name = "DataDirLockedError";
  constructor(
    readonly dir: string,
    /** PID of the process holding the lock. */
    readonly ownerPid: number,
  ) {
    super(`data directory ${dir} is in use by process ${ownerPid} (LOCK file)`);
  }
}
