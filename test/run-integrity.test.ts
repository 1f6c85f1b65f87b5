// One writer per run directory, tested with real concurrent processes (the built CLI, the fake
// tasks): two resumes at once, a resume while the run is live, two new runs into one --out, a stale
// lock taken over, a lock of another host refused. A damaged journal never breaks resume, report,
// compare or merge. A hung worker is killed and its job recorded as failed; the run goes on. A job
// that fails on its input says that resuming cannot fix it.
import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { hostname, tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa, type Options, type ResultPromise } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import { readMeta } from '../src/results/meta.js';
import { readRun } from '../src/results/read.js';
import { runPath } from '../src/results/rundir.js';
import { bin, ensureBuilt, fakeRegistry } from './helpers/build.js';

let cwd: string;
const emptyCache = mkdtempSync(join(tmpdir(), 'cache-'));

beforeAll(async () => {
  await ensureBuilt();
  cwd = mkdtempSync(join(tmpdir(), 'integrity-'));
});

function cli(args: string[], env: Record<string, string> = {}, opts: Options = {}) {
  return execa(process.execPath, [bin, ...args], {
    cwd, reject: false, timeout: 90_000,
    env: { FORCE_COLOR: '0', ADAMAS_BENCH_CACHE: emptyCache, ADAMAS_BENCH_DATA: '', ADAMAS_BENCH_TASK_REGISTRY: fakeRegistry, ...env },
    ...opts,
  });
}

/** Resolves once the child's stderr contains `text`. */
function stderrShows(child: ResultPromise, text: string): Promise<void> {
  let err = '';
  return new Promise((resolve, reject) => {
    child.stderr?.on('data', (c: Buffer) => {
      err += c.toString();
      if (err.includes(text)) resolve();
    });
    void child.then(() => reject(new Error(`exited before showing '${text}':\n${err}`)), reject);
  });
}

/** Every line of the journal parses, every row of results.csv is read once: the files are whole. */
function expectIntact(dir: string, jobs: number): void {
  const run = readRun(dir);
  expect(run.unreadableJournalLines).toEqual([]);
  expect(run.latest.size).toBe(jobs);
  const ids = run.rows.filter((r) => r.metric === 'accuracy').map((r) => r.job_id);
  expect(new Set(ids).size).toBe(ids.length);
  expect(ids).toHaveLength(jobs);
  // no row outside what the journal vouches for: the file ends where the last line says
  expect(readFileSync(runPath(dir, 'results')).length).toBe(run.journal.at(-1)!.csvBytes);
}

const passkey16 = ['passkey', '--budget', '64']; // the fake passkey: 16 jobs on the CPU

describe('one writer per run directory (real concurrent processes)', () => {
  it('two resumes of one directory at once: one runs, the other exits 2 naming the holder; no job twice', async () => {
    const dir = join(cwd, 'two-resumes');
    const first = await cli([...passkey16, '--out', dir], { FAKE_TASK_CRASH: 'kill:512:50' });
    expect(first.exitCode).toBe(1); // 2 jobs failed: something to resume
    const [a, b] = await Promise.all([
      cli(['run', '--resume', dir], { FAKE_TASK_SLEEP_MS: '400' }),
      cli(['run', '--resume', dir], { FAKE_TASK_SLEEP_MS: '400' }),
    ]);
    const codes = [a.exitCode, b.exitCode].sort();
    expect(codes, `${a.stderr}\n---\n${b.stderr}`).toEqual([0, 2]);
    const loser = a.exitCode === 2 ? a : b;
    expect(String(loser.stderr)).toMatch(new RegExp(`${dir} is in use by another run: pid \\d+ on host ${hostname()}, since \\S+ \\(adamas-bench run --resume ${dir}\\)`));
    expect(String(loser.stdout)).toBe('');
    expectIntact(dir, 16);
    expect(existsSync(runPath(dir, 'lock'))).toBe(false);
  });

  it('a resume while the run is still live is refused; the run finishes intact and every reader works', async () => {
    const dir = join(cwd, 'live');
    const run = cli([...passkey16, '--out', dir], { FAKE_TASK_SLEEP_MS: '300' });
    await stderrShows(run, '[2/16]');
    const resume = await cli(['run', '--resume', dir]);
    expect(resume.exitCode).toBe(2);
    expect(String(resume.stderr)).toContain(`is in use by another run: pid ${run.pid} on host ${hostname()}`);
    expect(String(resume.stderr)).toContain(`hint: wait for that run to end, or stop it (kill ${run.pid})`);
    expect((await run).exitCode).toBe(0);
    expectIntact(dir, 16);
    for (const args of [['report', dir], ['compare', dir, dir], ['merge', dir, '--out', join(cwd, 'live-merged')], ['run', '--resume', dir]]) {
      const r = await cli(args);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
  });

  it('two new runs into one --out at once: one runs, the other exits 2', async () => {
    const dir = join(cwd, 'same-out');
    const [a, b] = await Promise.all([
      cli([...passkey16, '--out', dir], { FAKE_TASK_SLEEP_MS: '200' }),
      cli([...passkey16, '--out', dir], { FAKE_TASK_SLEEP_MS: '200' }),
    ]);
    expect([a.exitCode, b.exitCode].sort(), `${a.stderr}\n---\n${b.stderr}`).toEqual([0, 2]);
    const loser = a.exitCode === 2 ? a : b;
    expect(String(loser.stderr)).toMatch(/is in use by another run|already exists and is not empty/);
    expectIntact(dir, 16);
    expect(readMeta(dir).resumes).toEqual([]);
  });

  it('a lock left by a process that no longer runs is taken over with a message; one of another host is refused', async () => {
    const dir = join(cwd, 'stale');
    expect((await cli([...passkey16, '--out', dir], { FAKE_TASK_CRASH: 'exit:256:0' })).exitCode).toBe(1);
    const gone = await execa(process.execPath, ['-e', 'process.stdout.write(String(process.pid))']);
    const deadPid = Number(gone.stdout);
    writeFileSync(runPath(dir, 'lock'), JSON.stringify({ pid: deadPid, host: hostname(), startedAt: '2026-01-01T00:00:00.000Z', commandLine: 'passkey' }));
    const taken = await cli(['run', '--resume', dir]);
    expect(taken.exitCode, String(taken.stderr)).toBe(0);
    expect(String(taken.stderr)).toContain(`taking over the lock of ${dir}: pid ${deadPid} on ${hostname()} (since 2026-01-01T00:00:00.000Z) no longer runs`);
    expect(existsSync(runPath(dir, 'lock'))).toBe(false);

    writeFileSync(runPath(dir, 'lock'), JSON.stringify({ pid: 1, host: 'elsewhere', startedAt: '2026-01-01T00:00:00.000Z', commandLine: '' }));
    const refused = await cli(['run', '--resume', dir]);
    expect(refused.exitCode).toBe(2);
    expect(String(refused.stderr)).toContain('pid 1 on host elsewhere');
    expect(String(refused.stderr)).toContain(`a lock of another host is never taken over: once that run is known to be over, remove ${runPath(dir, 'lock')}`);
    expect(existsSync(runPath(dir, 'lock')), 'the other host keeps its lock').toBe(true);
  });

  it('the lock goes with the run: after Ctrl-C, and on a signal before the jobs start', async () => {
    const dir = join(cwd, 'sigint');
    const run = cli([...passkey16, '--out', dir], { FAKE_TASK_SLEEP_MS: '300' });
    await stderrShows(run, '[2/16]');
    expect(existsSync(runPath(dir, 'lock'))).toBe(true);
    expect(JSON.parse(readFileSync(runPath(dir, 'lock'), 'utf8'))).toMatchObject({ pid: run.pid, host: hostname() });
    run.kill('SIGINT');
    expect((await run).exitCode).toBe(130);
    expect(existsSync(runPath(dir, 'lock'))).toBe(false);
    const hup = cli(['run', '--resume', dir], { FAKE_TASK_SLEEP_MS: '300' });
    await stderrShows(hup, 'resuming');
    hup.kill('SIGHUP');
    await hup;
    expect(existsSync(runPath(dir, 'lock'))).toBe(false);
  });
});

describe('a damaged journal never breaks the commands that read it', () => {
  it('resume, report, compare and merge go on; the damaged line\'s job runs again, its rows are counted once', async () => {
    const dir = join(cwd, 'damaged');
    expect((await cli([...passkey16, '--out', dir])).exitCode).toBe(0);
    const lines = readFileSync(runPath(dir, 'journal'), 'utf8').split('\n');
    const victim = JSON.parse(lines[6]) as { jobId: string };
    lines[6] = `${lines[6].slice(0, 40)}${lines[7].slice(0, 25)}`; // two writes interleaved mid-line
    writeFileSync(runPath(dir, 'journal'), lines.join('\n'));
    for (const args of [['report', dir], ['compare', dir, dir], ['merge', dir, '--out', join(cwd, 'damaged-merged')]]) {
      const r = await cli(args);
      expect(r.exitCode, `${args.join(' ')}: ${r.stderr}`).toBe(0);
    }
    const resumed = await cli(['run', '--resume', dir]);
    expect(resumed.exitCode, String(resumed.stderr)).toBe(0);
    expect(String(resumed.stderr)).toContain(`${runPath(dir, 'journal')}: line 7 cannot be read (torn or garbled); their jobs count as not run and run again`);
    expect(String(resumed.stderr)).toContain('15 of 16 jobs already done, 1 to run');
    const run = readRun(dir);
    expect(run.latest.get(victim.jobId)?.status).toBe('ok');
    expect(run.rows.filter((r) => r.job_id === victim.jobId && r.metric === 'accuracy')).toHaveLength(1);
    expect(run.rows.filter((r) => r.metric === 'accuracy')).toHaveLength(16);
  });
});

describe('hung workers and jobs that fail on their input', () => {
  it('a worker silent past --job-timeout is killed, its job recorded as failed with the reason, the run goes on with a new worker', async () => {
    const dir = join(cwd, 'hung');
    const r = await cli(['passkey', '--budget', '64', '--lengths', '256', '--depths', '0,50', '--methods', 'full,adamas', '--out', dir,
      '--job-timeout', '1.5'], { FAKE_TASK_CRASH: 'hang:256:0:adamas' });
    expect(r.exitCode, String(r.stderr)).toBe(1);
    const run = readRun(dir);
    const failed = [...run.latest.values()].filter((e) => e.status === 'failed');
    expect(failed).toHaveLength(1);
    expect(failed[0].label).toBe('passkey adamas@64 len=256 depth=0 trial=0');
    expect(failed[0].code).toBe('ERR_JOB_TIMEOUT');
    expect(failed[0].error).toMatch(/^hung: no message from the worker for 1\.5 s during the job \(the job's time limit: 10x its estimate, at least 60 s, or --job-timeout\); killed it/);
    expect(failed[0].seconds).toBeGreaterThanOrEqual(1.4);
    expect(failed[0].seconds).toBeLessThan(10);
    expect(String(r.stderr)).toMatch(/worker 1 \(cpu\) hung \(killed\) during \w+; starting a new one/);
    expect(run.rows.filter((x) => x.metric === 'accuracy')).toHaveLength(3);
    expect(existsSync(join(dir, 'logs', 'worker-2.log'))).toBe(true);
    expect(String(r.stderr)).toContain(`retry them with: adamas-bench run --resume ${dir}`);
    expect(readMeta(dir).options.jobTimeout).toBe(1.5);
  });

  it('without --job-timeout the limit comes from the estimate: a normal job is not killed', async () => {
    const dir = join(cwd, 'not-hung');
    const r = await cli(['passkey', '--budget', '64', '--lengths', '256', '--depths', '0', '--methods', 'full', '--out', dir], { FAKE_TASK_SLEEP_MS: '1500' });
    expect(r.exitCode, String(r.stderr)).toBe(0);
  });

  it('a job that fails on its input says that a resume cannot fix it, instead of suggesting one', async () => {
    const dir = join(cwd, 'bad-input');
    const r = await cli(['passkey', '--budget', '64', '--lengths', '256', '--depths', '0,50', '--methods', 'full', '--out', dir],
      { FAKE_TASK_CRASH: 'usage:256:0' });
    expect(r.exitCode).toBe(1);
    const err = String(r.stderr);
    expect(err).toContain('fake bad input: --lengths too long for the text (bad input)');
    expect(err).toContain('they failed on their input: running them again cannot help; change the options, model or data named above and start a new run');
    expect(err).not.toContain('--resume');
    expect(readRun(dir).journal.find((e) => e.status === 'failed')?.code).toBe('ERR_USAGE');
  });

  it('beside a crash, only the crashed jobs are offered to resume', async () => {
    const dir = join(cwd, 'mixed');
    const r = await cli(['passkey', '--budget', '64', '--lengths', '256', '--depths', '0,50', '--methods', 'full', '--out', dir],
      { FAKE_TASK_CRASH: 'usage:256:0,kill:256:50' });
    expect(r.exitCode).toBe(1);
    expect(String(r.stderr)).toContain('1 of them failed on their input: running them again cannot help; change the options, model or data named above');
    expect(String(r.stderr)).toContain(`retry the other 1 with: adamas-bench run --resume ${dir}`);
  });
});

describe('bad input refused before anything is written', () => {
  async function refused(args: string[], message: string | RegExp) {
    const r = await cli(args);
    expect(r.exitCode, String(r.stderr)).toBe(2);
    if (typeof message === 'string') expect(String(r.stderr)).toContain(message);
    else expect(String(r.stderr)).toMatch(message);
    expect(existsSync(join(cwd, 'results'))).toBe(false);
    return r;
  }
  it('a budget below one page of --page-size', () =>
    refused(['passkey', '--methods', 'quest', '--budget', '16', '--page-size', '32', '--out', join(cwd, 'nope')],
      "'quest[page-size=32]@16' has budget 16 below one page (--page-size 32)"));
  it('--sink at or above the budget (the engine would clamp it while the label kept it)', () =>
    refused(['passkey', '--methods', 'streaming', '--budget', '16', '--sink', '16'], "'streaming[sink=16]@16' has --sink 16 but the budget is 16"));
  it('the default --sink with a budget it fills', () =>
    refused(['passkey', '--methods', 'streaming', '--budget', '4', '--lengths', '256'], "'streaming@4' has --sink 4 but the budget is 4"));
  it('--out under a path that cannot be created', async () => {
    writeFileSync(join(cwd, 'a-file'), '');
    await refused(['passkey', '--budget', '64', '--out', join(cwd, 'a-file', 'run')], `--out ${join(cwd, 'a-file', 'run')} cannot be created: ${join(cwd, 'a-file')} is not a directory`);
    await refused(['passkey', '--budget', '64', '--out', join(cwd, 'a-file')], 'exists and is not a directory');
  });
  it('--resume of a directory that is no run', async () => {
    await refused(['run', '--resume', join(cwd, 'no-such-run')], 'no-such-run is not a run directory (no meta.json)');
    await refused(['passkey', '--budget', '64', '--resume', join(cwd, 'no-such-run')], 'no-such-run: no such run directory');
  });
  it('--job-timeout that is not a positive number', () => refused(['passkey', '--job-timeout', '0'], "'0' is not a positive number of seconds"));
});
