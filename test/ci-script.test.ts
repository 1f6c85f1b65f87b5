// .ci/run's install gate, with npm and npx stood in for: an install that changes a tracked file
// fails CI, naming the file; an install that changes nothing goes on to the tests and the smoke run.
import { chmodSync, copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { describe, expect, it } from 'vitest';
import { root } from './helpers/build.js';

async function checkout(installChanges: string[]): Promise<{ dir: string; env: Record<string, string> }> {
  const dir = mkdtempSync(join(tmpdir(), 'ci-'));
  mkdirSync(join(dir, '.ci'));
  copyFileSync(join(root, '.ci', 'run'), join(dir, '.ci', 'run'));
  writeFileSync(join(dir, 'package-lock.json'), '{"lockfileVersion": 3}\n');
  writeFileSync(join(dir, 'file with space.txt'), 'a\n');
  const git = (...args: string[]) => execa('git', args, { cwd: dir });
  await git('init', '-q');
  await git('add', '.');
  await git('-c', 'user.name=t', '-c', 'user.email=t@t', 'commit', '-qm', 'init');
  const bin = join(dir, 'fake-bin');
  mkdirSync(bin);
  // npm install changes the files it is told to; every other npm and npx call only logs itself
  writeFileSync(join(bin, 'npm'), `#!/bin/sh\necho "npm $*" >> "${join(dir, 'calls')}"\n` +
    `if [ "$1" = install ]; then ${installChanges.map((f) => `echo changed >> '${join(dir, f)}';`).join(' ')} true; fi\n`);
  writeFileSync(join(bin, 'npx'), `#!/bin/sh\necho "npx $*" >> "${join(dir, 'calls')}"\n`);
  chmodSync(join(bin, 'npm'), 0o755);
  chmodSync(join(bin, 'npx'), 0o755);
  return { dir, env: { PATH: `${bin}:${process.env.PATH}` } };
}

describe('.ci/run', () => {
  it('fails when npm install changes a tracked file, naming the files', async () => {
    const { dir, env } = await checkout(['package-lock.json', 'file with space.txt']);
    const r = await execa(join(dir, '.ci', 'run'), { cwd: dir, env, reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ci: npm install changed tracked files:\n  file with space.txt\n  package-lock.json');
    expect(readFileSync(join(dir, 'calls'), 'utf8')).toBe('npm install\n');
  });

  it('also when the file was edited before and the install changes it further', async () => {
    const { dir, env } = await checkout(['package-lock.json']);
    writeFileSync(join(dir, 'package-lock.json'), '{"edited": true}\n');
    const r = await execa(join(dir, '.ci', 'run'), { cwd: dir, env, reject: false });
    expect(r.exitCode).toBe(1);
    expect(r.stderr).toContain('ci: npm install changed tracked files:\n  package-lock.json\n');
  });

  it('goes on to the tests and the smoke run when the install changes nothing, even with local edits', async () => {
    const { dir, env } = await checkout([]);
    writeFileSync(join(dir, 'package-lock.json'), '{"edited": true}\n'); // an edit made before the install
    const r = await execa(join(dir, '.ci', 'run'), { cwd: dir, env, reject: false });
    expect(r.exitCode, r.stderr).toBe(0);
    const calls = readFileSync(join(dir, 'calls'), 'utf8').split('\n');
    expect(calls[0]).toBe('npm install');
    expect(calls).toContain('npm test');
    expect(calls.some((c) => c.startsWith('npx adamas-bench compare results/baselines/ci-smoke'))).toBe(true);
  });
});
