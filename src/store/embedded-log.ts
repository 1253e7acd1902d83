import { mkdir, open, readdir, readFile, rename, truncate, unlink } from "node:fs/promises";
import type { FileHandle } from "node:fs/promises";
import { join } from "node:path";
import type { Logger } from "pino";
import { lockDataDir } from "./data-dir-lock.js";
import { StoreUnavailableError } from "./errors.js";
import { decodeRecords, decodeSnapshot, encodeRecord, encodeSnapshot } from "./wal-codec.js";
import type { LogRecord, SnapshotState } from "./wal-codec.js";

const SNAPSHOT_FILE = "snapshot";
const SEGMENT_PATTERN = /^wal-(\d{12})\.log$/;

export interface DurableLogOptions {
  dir: string;
  logger: Logger;
  /** Log bytes after which the state is snapshotted and older segments dropped. */
  snapshotAfterBytes: number;
}

export interface Recovered {
  snapshot: SnapshotState | undefined;
  /** Records written after the snapshot, oldest first. */
  records: LogRecord[];
}

interface Waiter {
  resolve: () => void;
  reject: (error: Error) => void;
}

/**
 * The embedded store's durability: an append-only write-ahead log in numbered
 * segments plus a snapshot that names the first segment it does not cover.
 *
 * Group commit: records appended during one event-loop turn (and while a
 * flush is in progress) are written and fdatasync'ed together; each append's
 * promise resolves once its record is on disk.
 *
 * Snapshots are taken between two flushes, where the in-memory state equals
 * exactly the records written so far (the store appends synchronously with
 * each state change). The log then moves to a new segment; the snapshot file
 * is written beside it (tmp + fsync + rename), and only then are the covered
 * segments deleted, so a crash at any point leaves a loadable pair.
 */
export class DurableLog {
  private segment: FileHandle | undefined;
  private segmentSeq = 0;
  private bytesSinceSnapshot = 0;
  private pending: Buffer[] = [];
  private waiters: Waiter[] = [];
  private flushing: Promise<void> | undefined;
  private snapshotting: Promise<void> | undefined;
  private failure: Error | undefined;
  private capture: (() => SnapshotState) | undefined;

  private constructor(
    private readonly options: DurableLogOptions,
    private readonly releaseLock: () => void,
    private firstFreeSeq: number,
    /** Segments were read at open: fold them into a snapshot before writing more. */
    private readonly foldOnStart: boolean,
  ) {}

  /** Locks dir and reads what it holds. Call start() after replaying. */
  static async open(options: DurableLogOptions): Promise<{ log: DurableLog; recovered: Recovered }> {
    await mkdir(options.dir, { recursive: true });
    const release = lockDataDir(options.dir);
    try {
      const { recovered, lastSeq, segmentsRead } = await recover(options);
      return { log: new DurableLog(options, release, lastSeq + 1, segmentsRead > 0), recovered };
    } catch (error) {
      release();
      throw error;
    }
  }

  /**
   * Opens a fresh segment for new writes. When segments were read, first
   * folds them into a new snapshot so restarts do not pile up segments.
   */
  async start(capture: () => SnapshotState): Promise<void> {
    this.capture = capture;
    this.segmentSeq = this.firstFreeSeq;
    if (this.foldOnStart) await this.writeSnapshot(capture(), this.segmentSeq);
    this.segment = await open(this.segmentPath(this.segmentSeq), "a");
  }

  /** Queues a record; resolves when it is durable. */
  append(record: LogRecord): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    const frame = encodeRecord(record);
    this.pending.push(frame);
    const done = new Promise<void>((resolve, reject) => this.waiters.push({ resolve, reject }));
    this.flushing ??= this.flushLoop();
    return done;
  }

  /** Flushes what is queued, finishes a running snapshot, releases the lock. */
  async close(): Promise<void> {
    await this.flushing;
    await this.snapshotting;
    await this.segment?.close();
    this.segment = undefined;
    this.releaseLock();
  }

  private async flushLoop(): Promise<void> {
    // Let every append of this event-loop turn join the first batch.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (;;) {
      // Checked and cleared in one synchronous step, so an append never
      // finds a loop that is about to exit.
      if (this.pending.length === 0 || this.failure) {
        this.flushing = undefined;
        return;
      }
      const batch = Buffer.concat(this.pending);
      const waiters = this.waiters;
      this.pending = [];
      this.waiters = [];
      this.bytesSinceSnapshot += batch.length;
      // Captured here, the state covers exactly the records up to this batch.
      const snapshot =
        this.bytesSinceSnapshot >= this.options.snapshotAfterBytes && !this.snapshotting ? this.capture?.() : undefined;
      try {
        await this.segment!.writeFile(batch); // writeFile loops over short writes
        await this.segment!.datasync();
        if (snapshot) await this.rotate(snapshot);
      } catch (error) {
        this.fail(error, waiters);
        continue;
      }
      for (const waiter of waiters) waiter.resolve();
    }
  }

  private async rotate(snapshot: SnapshotState): Promise<void> {
    const nextSeq = this.segmentSeq + 1;
    const next = await open(this.segmentPath(nextSeq), "a");
    await this.segment!.close();
    this.segment = next;
    this.segmentSeq = nextSeq;
    this.bytesSinceSnapshot = 0;
    this.snapshotting = this.writeSnapshot(snapshot, nextSeq)
      .catch((error: unknown) => {
        // The log still holds everything; the next threshold retries.
        this.options.logger.error({ err: error }, "embedded store snapshot failed");
      })
      .finally(() => {
        this.snapshotting = undefined;
      });
  }

  private async writeSnapshot(state: SnapshotState, walSeq: number): Promise<void> {
    const tmp = join(this.options.dir, `${SNAPSHOT_FILE}.tmp`);
    const file = await open(tmp, "w");
    try {
      // Written in chunks: one string for 100k keys would be large.
      let chunk: string[] = [];
      for (const line of encodeSnapshot(state, walSeq)) {
        chunk.push(line);
        if (chunk.length >= 2000) {
          await file.writeFile(chunk.join(""));
          chunk = [];
        }
      }
      await file.writeFile(chunk.join(""));
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(tmp, join(this.options.dir, SNAPSHOT_FILE));
    await syncDir(this.options.dir);
    for (const seq of await listSegments(this.options.dir)) {
      if (seq < walSeq) await unlink(this.segmentPath(seq));
    }
  }

  private fail(error: unknown, waiters: Waiter[]): void {
    this.failure = new StoreUnavailableError(`embedded store cannot write its log: ${String(error)}`);
    this.options.logger.error({ err: error }, "embedded store log write failed; refusing further writes");
    for (const waiter of [...waiters, ...this.waiters]) waiter.reject(this.failure);
    this.waiters = [];
    this.pending = [];
  }

  private segmentPath(seq: number): string {
    return segmentPath(this.options.dir, seq);
  }
}

function segmentPath(dir: string, seq: number): string {
  return join(dir, `wal-${String(seq).padStart(12, "0")}.log`);
}

async function recover(options: DurableLogOptions): Promise<{ recovered: Recovered; lastSeq: number; segmentsRead: number }> {
  let snapshot: SnapshotState | undefined;
  let firstSeq = 0;
  const snapshotText = await readFile(join(options.dir, SNAPSHOT_FILE), "utf8").catch(ignoreMissing);
  if (snapshotText !== undefined) {
    const decoded = decodeSnapshot(snapshotText);
    snapshot = decoded.state;
    firstSeq = decoded.walSeq;
  }
  const records: LogRecord[] = [];
  const segments = await listSegments(options.dir);
  const unfolded = segments.filter((seq) => seq >= firstSeq);
  for (const seq of unfolded) {
    const path = segmentPath(options.dir, seq);
    const data = await readFile(path);
    const decoded = decodeRecords(data);
    if (decoded.validBytes < data.length) {
      // Only a write cut short by a crash ends this way; it was never acknowledged.
      options.logger.warn({ segment: path, dropped: data.length - decoded.validBytes }, "dropping torn log tail");
      await truncate(path, decoded.validBytes);
    }
    for (const record of decoded.records) records.push(record);
  }
  return {
    recovered: { snapshot, records },
    lastSeq: Math.max(firstSeq - 1, ...segments),
    segmentsRead: unfolded.length,
  };
}

async function listSegments(dir: string): Promise<number[]> {
  const seqs: number[] = [];
  for (const name of await readdir(dir)) {
    const match = SEGMENT_PATTERN.exec(name);
    if (match) seqs.push(Number(match[1]));
  }
  return seqs.sort((a, b) => a - b);
}

async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, "r");
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

function ignoreMissing(error: unknown): undefined {
  if ((error as NodeJS.ErrnoException).code === "ENOENT") return undefined;
  throw error;
}
