import { closeSync, openSync, readFileSync, realpathSync, unlinkSync, writeSync } from "node:fs";
import { join } from "node:path";
import { DataDirLockedError } from "./errors.js";

/** Directories locked by this process: a PID check cannot tell them apart from our own. */
const heldByThisProcess = new Set<string>();

/**
 * Takes the LOCK file of an embedded store's data directory so two stores
 * (in this or another process) never write the same log. The file holds the
 * owner's PID; a lock left by a dead process is taken over. Returns the
 * release function.
 */
export function lockDataDir(dir: string): () => void {
  const real = realpathSync(dir);
  if (heldByThisProcess.has(real)) throw lockedError(dir, process.pid);
  const path = join(real, "LOCK");
  for (let attempt = 0; ; attempt++) {
    try {
      const fd = openSync(path, "wx");
      try {
        writeSync(fd, `${process.pid}\n`);
      } finally {
        closeSync(fd);
      }
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST" || attempt > 0) throw error;
      const owner = Number.parseInt(readFileSync(path, "utf8"), 10);
      // Our own PID here is stale (e.g. PID 1 in a restarted container): live
      // in-process owners were caught by heldByThisProcess above.
      if (owner !== process.pid && isAlive(owner)) throw lockedError(dir, owner);
      unlinkSync(path);
    }
  }
  heldByThisProcess.add(real);
  return () => {
    heldByThisProcess.delete(real);
    try {
      unlinkSync(path);
    } catch {
      // Already gone: nothing to release.
    }
  };
}

function isAlive(pid: number): boolean {
  if (!Number.isInteger(pid) || pid <= 0) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    // EPERM: the process exists but belongs to someone else.
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

function lockedError(dir: string, pid: number): DataDirLockedError {
  return new DataDirLockedError(dir, pid);
}
