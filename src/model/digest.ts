// The sha256 of a model file, computed once: a streamed hash of the file, remembered in a small
// JSON file of the cache (digests.json) under its path, size, mtime and ctime, so that it is
// computed again only when the file changes.
import { createHash } from 'node:crypto';
import { createReadStream, existsSync, mkdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { writeFileAtomic } from '../core/files.js';

interface DigestEntry {
  size: number;
  mtimeMs: number;
  ctimeMs: number;
  sha256: string;
}

interface DigestFile {
  version: 1;
  files: Record<string, DigestEntry>;
}

export async function sha256File(path: string): Promise<string> {
  const hash = createHash('sha256');
  for await (const chunk of createReadStream(path, { highWaterMark: 1 << 20 })) hash.update(chunk as Buffer);
  return hash.digest('hex');
}

export function digestCachePath(cache: string): string {
  return join(cache, 'digests.json');
}

function readDigests(path: string): DigestFile {
  try {
    const d = JSON.parse(readFileSync(path, 'utf8')) as DigestFile;
    if (d.version === 1 && typeof d.files === 'object' && d.files !== null) return d;
  } catch {
    // absent or unreadable: an empty cache (it is only a cache)
  }
  return { version: 1, files: {} };
}

/** The remembered digest of `file`, when its size, mtime and ctime are still the ones hashed. */
export function knownDigest(file: string, cache: string): string | undefined {
  const path = resolve(file);
  if (!existsSync(path)) return undefined;
  const st = statSync(path);
  const e = readDigests(digestCachePath(cache)).files[path];
  return e && e.size === st.size && e.mtimeMs === st.mtimeMs && e.ctimeMs === st.ctimeMs ? e.sha256 : undefined;
}

/** The sha256 of `file`: remembered, or hashed now and remembered in `cache`/digests.json. */
export async function fileDigest(file: string, cache: string): Promise<string> {
  const known = knownDigest(file, cache);
  if (known) return known;
  const path = resolve(file);
  const before = statSync(path);
  const sha256 = await sha256File(path);
  const after = statSync(path);
  // a file that changed while it was hashed is not remembered
  if (before.mtimeMs === after.mtimeMs && before.size === after.size) {
    try {
      const store = digestCachePath(cache);
      const d = readDigests(store);
      d.files[path] = { size: after.size, mtimeMs: after.mtimeMs, ctimeMs: after.ctimeMs, sha256 };
      mkdirSync(dirname(store), { recursive: true });
      writeFileAtomic(store, `${JSON.stringify(d, null, 1)}\n`);
    } catch {
      // a cache that cannot be written only costs hashing again next time
    }
  }
  return sha256;
}
