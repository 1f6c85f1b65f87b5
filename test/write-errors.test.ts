// Write errors name the file: a full disk (/dev/full gives ENOSPC on every write), a read-only or
// missing place, for the appends of a run and the atomic replacement of meta.json.
import { closeSync, existsSync, mkdtempSync, openSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HarnessError } from '../src/core/errors.js';
import { appendSynced, fileError, makeDirectory, openFile } from '../src/core/files.js';
import { writeMeta, type RunMeta } from '../src/results/meta.js';

const full = existsSync('/dev/full');

describe('write errors name the file', () => {
  it.skipIf(!full)('an append on a full disk: ENOSPC with the path', () => {
    const fd = openSync('/dev/full', 'a');
    try {
      expect(() => appendSynced(fd, 'row\n', '/runs/r/results.csv')).toThrow(
        new HarnessError('cannot write /runs/r/results.csv: no space left on the device (ENOSPC)'));
    } finally {
      closeSync(fd);
    }
  });

  it.skipIf(!full)('meta.json on a full disk: its temporary file named, meta.json itself untouched', () => {
    const dir = mkdtempSync(join(tmpdir(), 'full-'));
    symlinkSync('/dev/full', join(dir, `meta.json.${process.pid}.tmp`));
    expect(() => writeMeta(dir, { runId: 'r' } as RunMeta)).toThrow(`cannot write ${join(dir, `meta.json.${process.pid}.tmp`)}: no space left on the device (ENOSPC)`);
    expect(existsSync(join(dir, 'meta.json'))).toBe(false);
  });

  it('opening and creating name the path and the cause', () => {
    const dir = mkdtempSync(join(tmpdir(), 'open-'));
    expect(() => openFile(join(dir, 'no', 'such', 'file'), 'r')).toThrow(`cannot open ${join(dir, 'no', 'such', 'file')}: a directory on the path does not exist (ENOENT)`);
    const file = join(dir, 'f');
    closeSync(openSync(file, 'w'));
    expect(() => makeDirectory(join(file, 'sub'))).toThrow(`cannot create the directory ${join(file, 'sub')}: `);
    expect(fileError(Object.assign(new Error('x'), { code: 'EWEIRD' }), 'write', '/p').message).toBe('cannot write /p: x');
  });
});
