// File writes that say which file failed: Node's fd-based calls (writeSync, fsyncSync, ftruncateSync)
// report ENOSPC or EIO without a path, so every write of a run goes through these and a failure
// becomes an error naming the file and the cause.
import { closeSync, fsyncSync, mkdirSync, openSync, renameSync, writeFileSync, writeSync } from 'node:fs';
import { HarnessError } from './errors.js';

const causes: Record<string, string> = {
  ENOSPC: 'no space left on the device',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'operation not permitted',
  EIO: 'an I/O error',
  EFBIG: 'the file is too large',
  ENOTDIR: 'a component of the path is not a directory',
  EEXIST: 'it already exists',
  ENOENT: 'a directory on the path does not exist',
};

/** An fs error as "cannot <action> <path>: <cause> (<code>)", exit code 1. */
export function fileError(err: unknown, action: string, path: string): HarnessError {
  const code = (err as NodeJS.ErrnoException)?.code;
  const cause = code && causes[code] ? `${causes[code]} (${code})` : (err as Error)?.message ?? String(err);
  return new HarnessError(`cannot ${action} ${path}: ${cause}`);
}

/** Runs an fs call; its error becomes fileError(action, path). */
export function withFile<T>(action: string, path: string, call: () => T): T {
  try {
    return call();
  } catch (err) {
    if (err instanceof HarnessError) throw err;
    throw fileError(err, action, path);
  }
}

/** Writes all of `text` at the fd's position (or its end, for 'a'), then fsyncs. */
export function appendSynced(fd: number, text: string | Buffer, path: string): void {
  const buf = typeof text === 'string' ? Buffer.from(text, 'utf8') : text;
  withFile('write', path, () => {
    let off = 0;
    while (off < buf.length) off += writeSync(fd, buf, off, buf.length - off);
    fsyncSync(fd);
  });
}

export function openFile(path: string, flags: string): number {
  return withFile('open', path, () => openSync(path, flags));
}

/** writeFileSync, its error naming the file. */
export function writeWholeFile(path: string, data: string | Uint8Array): void {
  withFile('write', path, () => writeFileSync(path, data));
}

export function makeDirectory(path: string): void {
  withFile('create the directory', path, () => mkdirSync(path, { recursive: true }));
}

/** Replaces `path` atomically: a temporary file beside it (this process's own), fsynced, then
 *  renamed over it. */
export function writeFileAtomic(path: string, text: string): void {
  const tmp = `${path}.${process.pid}.tmp`;
  const fd = openFile(tmp, 'w');
  try {
    appendSynced(fd, text, tmp);
  } finally {
    closeSync(fd);
  }
  withFile('rename', `${tmp} to ${path}`, () => renameSync(tmp, path));
}
