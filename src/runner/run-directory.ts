// The run directory of a run: created, or continued (--resume), and locked while the run writes it
// (results/lock.ts: a second writer is refused). Everything about resuming is here: the request a
// bare `run --resume <dir>` rebuilds from meta.json, and the checks and bookkeeping of continuing
// a directory (same plan, same shard, only the jobs not yet ok).
import { closeSync, existsSync, readdirSync, rmSync } from 'node:fs';
import { basename, resolve } from 'node:path';
import { validateSuite, type Suite } from '../config/suite.js';
import { UsageError } from '../core/errors.js';
import { appendSynced, makeDirectory, openFile } from '../core/files.js';
import type { Job, TaskName } from '../core/job.js';
import { defaultKvCache, defaultWeightType } from '../model/footprint.js';
import { okJobIds, readJournalFile } from '../results/journal.js';
import { RunLock } from '../results/lock.js';
import { gitInfo, packageInfo, readMeta, shellLine, writeMeta, type RunMeta } from '../results/meta.js';
import { readJobs } from '../results/read.js';
import { runFiles, runPath } from '../results/rundir.js';
import { RunWriter } from '../results/write.js';
import type { RunnableRun } from './preflight.js';
import type { RunOptions, RunRequest } from './run-request.js';

export interface RunDirectory {
  dir: string;
  meta: RunMeta;
  writer: RunWriter;
  /** This process's lock of the directory; released when the run ends. */
  lock: RunLock;
  /** Whether this invocation created the directory (a run that could not start removes it). */
  created: boolean;
  /** The jobs of the run still to do. */
  pending: Job[];
  /** Jobs of the run already done (ok) before this invocation. */
  doneBefore: number;
}

/**
 * What `run --resume <dir>` without a suite continues: the suite as meta.json recorded it and the
 * run options it was run with (devices, tasks, data directory, threads, shard), under the options
 * of the command line; the device is the command line's when given there, else the recorded one.
 */
export function resumeRequest(dir: string, fromFlags: RunOptions, deviceFlag: RunOptions['device'] | undefined):
  { suite: Suite; source: string; options: RunOptions } {
  const meta = readMeta(dir);
  const source = `${dir}/meta.json (suiteDefinition)`;
  const o = meta.options;
  const options: RunOptions = {
    ...(o.devices && { devices: o.devices }),
    ...(o.tasks && { tasks: o.tasks as TaskName[] }),
    ...(o.dataDir && { dataDir: o.dataDir }),
    ...(o.threads && { threads: o.threads }),
    ...(o.weights && { weights: o.weights as RunOptions['weights'] }),
    ...(o.kvCache && { kvCache: o.kvCache as RunOptions['kvCache'] }),
    ...(o.jobTimeout && { jobTimeout: o.jobTimeout }),
    ...(meta.shard && { shard: meta.shard }),
    ...fromFlags,
    device: deviceFlag ?? (o.device as RunOptions['device']),
    resume: dir,
  };
  return { suite: validateSuite(meta.suiteDefinition, source), source, options };
}

/** A new run directory (--out, or results/runs/<suite>-<UTC time>) with its meta.json, locked. */
async function createRunDirectory(run: RunnableRun, req: RunRequest, log: (message: string) => void): Promise<RunDirectory> {
  const o = req.options;
  const dir = run.dir;
  const created = !existsSync(dir);
  makeDirectory(dir);
  const lock = RunLock.acquire(dir, shellLine(req.argv), log);
  let writer: RunWriter;
  try {
    // another run may have taken the directory between the preflight and the lock
    if (readdirSync(dir).some((f) => f !== runFiles.lock))
      throw new UsageError(`${dir} already exists and is not empty`, `choose another --out, or continue that run with --resume ${dir}`);
    writer = RunWriter.create(dir, basename(resolve(dir)), run.jobs);
  } catch (err) {
    lock.release();
    if (created) rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  const runId = writer.runId;
  const { info, device, slots, plan, jobs, dataDir } = run;
  const meta: RunMeta = {
    schemaVersion: 1,
    runId,
    suite: req.suite.name,
    status: 'running',
    commandLine: shellLine(req.argv),
    argv: req.argv,
    git: await gitInfo(),
    node: process.version,
    package: packageInfo(),
    native: info ?? { error: 'the native addon could not be loaded' },
    backend: device,
    device: {
      kind: device,
      names: slots.map((s) => s.name),
      hardware: slots.map((s) => s.hardware),
      driverVersion: device === 'cuda' ? info?.cuda.driverVersion ?? null : null,
    },
    models: {},
    seed: req.suite.seed ?? run.tasks[0].seed,
    shard: o.shard && o.shard.count > 1 ? o.shard : null,
    plan: { hash: plan.hash, totalJobs: plan.jobs.length, jobsInRun: jobs.length, skippedAboveLength: plan.skippedAboveLength },
    options: {
      device: o.device,
      ...(o.devices && { devices: o.devices }),
      ...(o.tasks && { tasks: o.tasks }),
      ...(dataDir && { dataDir }),
      ...(o.threads && { threads: o.threads }),
      ...(o.weights && { weights: o.weights }),
      ...(o.kvCache && { kvCache: o.kvCache }),
      ...(o.jobTimeout && { jobTimeout: o.jobTimeout }),
    },
    suiteDefinition: req.suite,
    startedAt: new Date().toISOString(),
    endedAt: null,
    resumes: [],
    counts: { ok: 0, failed: 0, pending: jobs.length },
  };
  return { dir, meta, writer, lock, created, pending: jobs, doneBefore: 0 };
}

/** An existing run directory continued: the same plan and shard; jobs whose journal status is ok
 *  are skipped, failed ones run again. */
function resumeRunDirectory(run: RunnableRun, req: RunRequest, log: (message: string) => void): RunDirectory {
  const dir = run.dir;
  readMeta(dir); // a run directory at all, before it is locked
  const lock = RunLock.acquire(dir, shellLine(req.argv), log);
  try {
    return continueRun(run, req, lock, log);
  } catch (err) {
    lock.release();
    throw err;
  }
}

/** A run goes on with the weight type it started with (its results depend on it). */
export function checkResumeWeights(dir: string, recorded: string | undefined, asked: string | undefined): void {
  const before = recorded ?? defaultWeightType, now = asked ?? defaultWeightType;
  if (before !== now)
    throw new UsageError(`${dir} was run with --weights ${before}, not ${now}`, `resume with --weights ${before}, or simply: adamas-bench run --resume ${dir}`);
}

/** A run goes on with the KV cache type it started with; neither naming one means the engine's own
 *  on the device the run goes on with (f32 on the CPU, f16 on CUDA). */
export function checkResumeKvCache(dir: string, recorded: string | undefined, asked: string | undefined, device: 'cpu' | 'cuda'): void {
  const before = recorded ?? defaultKvCache(device), now = asked ?? defaultKvCache(device);
  if (before !== now)
    throw new UsageError(`${dir} was run with --kv-cache ${before}, not ${now}`, `resume with --kv-cache ${before}, or simply: adamas-bench run --resume ${dir}`);
}

function continueRun(run: RunnableRun, req: RunRequest, lock: RunLock, log: (message: string) => void): RunDirectory {
  const o = req.options;
  const dir = run.dir;
  const meta = readMeta(dir);
  if (meta.plan.hash !== run.plan.hash)
    throw new UsageError(`the plan differs from the one of ${dir} (the suite or the flags changed)`,
      `resume with the same command (${meta.commandLine}), or simply: adamas-bench run --resume ${dir}`);
  const before = meta.shard ? `${meta.shard.index}/${meta.shard.count}` : 'none';
  const now = o.shard && o.shard.count > 1 ? `${o.shard.index}/${o.shard.count}` : 'none';
  if (before !== now) throw new UsageError(`${dir} was run with --shard ${before}, not ${now}`);
  checkResumeWeights(dir, meta.options.weights, o.weights);
  checkResumeKvCache(dir, meta.options.kvCache, o.kvCache, run.device);
  const journal = readJournalFile(runPath(dir, 'journal'));
  if (journal.unreadable.length)
    log(`${runPath(dir, 'journal')}: line${journal.unreadable.length > 1 ? 's' : ''} ${journal.unreadable.join(', ')} cannot be read ` +
      '(torn or garbled); their jobs count as not run and run again');
  const writer = RunWriter.open(dir, meta.runId);
  // a merged run with a shard missing lacks those jobs in jobs.jsonl: add them
  const listed = new Set(readJobs(dir).map((j) => j.id));
  const unlisted = run.jobs.filter((j) => !listed.has(j.id));
  if (unlisted.length) {
    const jobsPath = runPath(dir, 'jobs');
    const fd = openFile(jobsPath, 'a');
    try {
      appendSynced(fd, unlisted.map((j) => `${JSON.stringify(j)}\n`).join(''), jobsPath);
    } finally {
      closeSync(fd);
    }
  }
  const ok = okJobIds(journal.entries);
  const pending = run.jobs.filter((j) => !ok.has(j.id));
  const doneBefore = run.jobs.length - pending.length;
  meta.resumes.push({ at: new Date().toISOString(), commandLine: shellLine(req.argv) });
  meta.status = 'running';
  meta.endedAt = null;
  log(`resuming ${dir}: ${doneBefore} of ${run.jobs.length} jobs already done, ${pending.length} to run`);
  return { dir, meta, writer, lock, created: false, pending, doneBefore };
}

/** The run's directory, new or continued, locked, its meta.json written. */
export async function openRunDirectory(run: RunnableRun, req: RunRequest, log: (message: string) => void): Promise<RunDirectory> {
  const opened = run.resuming ? resumeRunDirectory(run, req, log) : await createRunDirectory(run, req, log);
  try {
    writeMeta(opened.dir, opened.meta);
  } catch (err) {
    opened.writer.close();
    opened.lock.release();
    throw err;
  }
  return opened;
}
