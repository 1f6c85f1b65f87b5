// Whole runs in-process (executeRun) with real workers and the fake tasks: the run directory, a
// failed job and its retry on resume, a journal cut short (kill -9) resumed to the same rows as a
// clean run, and the refusal to resume with another plan.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMeta } from '../src/results/meta.js';
import { readRun } from '../src/results/read.js';
import { runPath } from '../src/results/rundir.js';
import { ensureBuilt } from './helpers/build.js';
import { comparable, fakeSuite, runFake } from './helpers/runs.js';

beforeAll(ensureBuilt);

const suite = fakeSuite;
const run = runFake;

const tmp = () => mkdtempSync(join(tmpdir(), 'run-'));

describe('runs and resume', () => {
  let clean: string;

  it('writes the run directory: results, journal, plan, meta, logs; summary on stdout', async () => {
    clean = join(tmp(), 'clean');
    const { outcome, stdout, stderr } = await run(suite, { out: clean });
    expect(outcome.exitCode).toBe(0);
    const jobs = outcome.jobs.length;
    expect(jobs).toBe(2 * 2 * 2 * 2 + 2 * 2 * 2);
    for (const f of ['results', 'journal', 'jobs', 'meta'] as const) expect(existsSync(runPath(clean, f))).toBe(true);
    expect(existsSync(join(clean, 'logs', 'worker-1.log'))).toBe(true);
    const meta = readMeta(clean);
    expect(meta).toMatchObject({ suite: 'fake', status: 'completed', seed: 42, shard: null, backend: 'cpu', counts: { ok: jobs, failed: 0, pending: 0 } });
    expect(meta.plan.totalJobs).toBe(jobs);
    expect(meta.suiteDefinition).toEqual(suite);
    expect(typeof meta.git.commit).toBe('string');
    expect(meta.native).toHaveProperty('version');
    expect(readRun(clean).rows).toHaveLength(2 * 16 + 8);
    // summary: a table per task on stdout, progress lines on stderr
    expect(stdout).toMatch(/^passkey: accuracy, mean \[95% Wilson interval\] and n\nmethod\s+len=256\s+len=512\n/);
    expect(stdout).toMatch(/\nppl: ppl, mean and n\nmethod\s+a@128\s+a@256\s+b@128\s+b@256\n/);
    expect(stderr).toMatch(/\[1\/24\] /);
    expect(stderr).toContain(`[24/24] `);
    expect(stdout).not.toContain('[1/24]');
  });

  it('a failed job is retried on resume; finished jobs are not run again', async () => {
    const dir = join(tmp(), 'r');
    const first = await run(suite, { out: dir }, { FAKE_TASK_CRASH: 'kill:512:50:adamas' });
    expect(first.outcome.exitCode).toBe(1);
    expect(first.stderr).toMatch(/22 of 24 jobs ok, 2 failed/); // trials 0 and 1 at (512, 50)
    expect(first.stderr).toContain(`retry them with: adamas-bench run --resume ${dir}`);
    expect(readMeta(dir).status).toBe('completed-with-failures');
    const journalBefore = readRun(dir).journal.length;

    const second = await run(suite, { resume: dir });
    expect(second.outcome.exitCode).toBe(0);
    expect(second.stderr).toContain('22 of 24 jobs already done, 2 to run');
    const after = readRun(dir);
    expect(after.journal.length).toBe(journalBefore + 2);
    expect(readMeta(dir).resumes).toHaveLength(1);
    expect(comparable(dir)).toEqual(comparable(clean));
  });

  it('a run cut short (journal and results torn by kill -9) resumes to the same rows as a clean run', async () => {
    const dir = join(tmp(), 'cut');
    await run(suite, { out: dir });
    // keep 5 journal lines; leave the rows of job 6 and half a row behind, as a crash would
    const journal = readFileSync(runPath(dir, 'journal'), 'utf8').split('\n').filter(Boolean);
    const sixth = JSON.parse(journal[5]) as { csvBytes: number };
    writeFileSync(runPath(dir, 'journal'), `${journal.slice(0, 5).join('\n')}\n{"jobId":"12`);
    const csv = readFileSync(runPath(dir, 'results'));
    writeFileSync(runPath(dir, 'results'), Buffer.concat([csv.subarray(0, sixth.csvBytes), Buffer.from('r,fake,passkey,,m')]));
    expect(readRun(dir).journal).toHaveLength(5);

    const resumed = await run(suite, { out: dir, resume: true });
    expect(resumed.outcome.exitCode).toBe(0);
    expect(resumed.stderr).toContain('5 of 24 jobs already done, 19 to run');
    expect(comparable(dir)).toEqual(comparable(clean));
    expect(readRun(dir).journal).toHaveLength(24);
  });

  it('refuses to resume with another plan, and to reuse a non-empty --out', async () => {
    await expect(run({ ...suite, budgets: [32] }, { resume: clean })).rejects.toThrow(/the plan differs from the one of/);
    await expect(run(suite, { out: clean })).rejects.toThrow(/already exists and is not empty/);
    await expect(run(suite, { resume: true })).rejects.toThrow(/--resume needs the run directory/);
  });
});
