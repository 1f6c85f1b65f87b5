// The lock of a run directory: one process writes a run at a time. The lock is a file created with
// O_EXCL (only one creator can succeed), holding who owns it: pid, host, start time and command
// line. It is released when the run ends, when the process exits and on SIGINT, SIGTERM and SIGHUP.
// A lock left behind by a process that no longer runs on this host (kill -9, a crash) is taken
// over with a message; one of another host is never taken over (its process cannot be checked).
import { closeSync, openSync, readFileSync, rmSync, statSync } from 'node:fs';
import { hostname } from 'node:os';
import { UsageError } from '../core/errors.js';
import { appendSynced, fileError, withFile } from '../core/files.js';
import { runPath } from './rundir.js';

export interface LockOwner {
  pid: number;
  host: string;
  startedAt: string;
  commandLine: string;
}

/** How long a lock file may stay empty (its creator between create and write) before it counts as
 *  abandoned. */
const EMPTY_LOCK_GRACE_MS = 2000;

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM'; // alive, another user's
  }
}

function readOwner(path: string): LockOwner | undefined {
  let text: string;
  try {
    text = readFileSync(path, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw err;
  }
  try {
    const o = JSON.parse(text) as Partial<LockOwner>;
    if (typeof o.pid === 'number' && typeof o.host === 'string') return o as LockOwner;
  } catch {
    // empty or torn: its creator has not written it (yet)
  }
  return { pid: 0, host: '', startedAt: '', commandLine: '' };
}

const heldLocks = new Set<RunLock>();
const signals = ['SIGINT', 'SIGTERM', 'SIGHUP'] as const;

function releaseAll(): void {
  for (const lock of heldLocks) lock.release();
}

/** A signal that nothing else handles would end the process without 'exit' handlers: release the
 *  locks, then let the signal do what it would have done. */
function onSignal(signal: NodeJS.Signals): void {
  if (process.listenerCount(signal) > 1) return; // the run's own handler stops it in order
  releaseAll();
  for (const s of signals) process.removeListener(s, onSignal);
  process.kill(process.pid, signal);
}

export class RunLock {
  private released = false;

  private constructor(readonly path: string, readonly owner: LockOwner) {}

  /**
   * Takes the lock of run directory `dir` (which must exist) or throws a usage error naming who
   * holds it. `log` hears about a stale lock taken over.
   */
  static acquire(dir: string, commandLine: string, log: (message: string) => void): RunLock {
    const path = runPath(dir, 'lock');
    const owner: LockOwner = { pid: process.pid, host: hostname(), startedAt: new Date().toISOString(), commandLine };
    for (let attempt = 0; attempt < 200; attempt++) {
      const fd = createExclusive(path);
      if (fd !== undefined) {
        try {
          appendSynced(fd, `${JSON.stringify(owner)}\n`, path);
        } finally {
          closeSync(fd);
        }
        const lock = new RunLock(path, owner);
        lock.hold();
        return lock;
      }
      const holder = readOwner(path);
      if (!holder) continue; // released meanwhile
      let stale: string;
      if (holder.pid === 0) {
        // its creator is between the create and the write, or stopped right there
        if (ageMs(path) < EMPTY_LOCK_GRACE_MS) {
          sleepMs(20);
          continue;
        }
        stale = `taking over ${path}: it names no owner (its creator stopped while taking it)`;
      } else if (holder.host === owner.host && !isAlive(holder.pid)) {
        stale = `taking over the lock of ${dir}: pid ${holder.pid} on ${holder.host} (since ${holder.startedAt}) no longer runs`;
      } else {
        throw new UsageError(
          `${dir} is in use by another run: pid ${holder.pid} on host ${holder.host}, since ${holder.startedAt}` +
            (holder.commandLine ? ` (adamas-bench ${holder.commandLine})` : ''),
          holder.host === owner.host
            ? `wait for that run to end, or stop it (kill ${holder.pid}); then resume with: adamas-bench run --resume ${dir}`
            : `a lock of another host is never taken over: once that run is known to be over, remove ${path}`,
        );
      }
      if (removeStale(path, holder)) log(stale);
    }
    throw new UsageError(`cannot take the lock ${path}: it keeps changing hands`);
  }

  private hold(): void {
    if (heldLocks.size === 0) {
      process.on('exit', releaseAll);
      for (const s of signals) process.on(s, onSignal);
    }
    heldLocks.add(this);
  }

  /** Removes the lock file if it is still this process's. Idempotent. */
  release(): void {
    if (this.released) return;
    this.released = true;
    heldLocks.delete(this);
    if (heldLocks.size === 0) {
      process.removeListener('exit', releaseAll);
      for (const s of signals) process.removeListener(s, onSignal);
    }
    const now = readOwner(this.path);
    if (now && now.pid === this.owner.pid && now.startedAt === this.owner.startedAt)
      withFile('remove', this.path, () => rmSync(this.path, { force: true }));
  }
}

/** O_CREAT | O_EXCL: the fd, or undefined when the file exists. */
function createExclusive(path: string): number | undefined {
  try {
    return openSync(path, 'wx');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'EEXIST') return undefined;
    throw fileError(err, 'create', path);
  }
}

function ageMs(path: string): number {
  try {
    return Date.now() - statSync(path).mtimeMs;
  } catch {
    return 0;
  }
}

/**
 * Removes a stale lock, unless it changed since it was read. Processes that find the same stale
 * lock take turns through a second exclusive file, so that none removes a lock another has just
 * taken. Returns whether this process removed it.
 */
function removeStale(path: string, seen: LockOwner): boolean {
  const guard = `${path}.takeover`;
  const fd = createExclusive(guard);
  if (fd === undefined) {
    // another process is taking over; a guard left by a crash is cleared after a while
    if (ageMs(guard) > 10_000) rmSync(guard, { force: true });
    sleepMs(20);
    return false;
  }
  closeSync(fd);
  try {
    const now = readOwner(path);
    if (!now || now.pid !== seen.pid || now.startedAt !== seen.startedAt) return false;
    withFile('remove', path, () => rmSync(path, { force: true }));
    return true;
  } finally {
    rmSync(guard, { force: true });
  }
}

function sleepMs(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}
