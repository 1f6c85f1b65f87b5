// A run, start to end, as a pipeline of named stages: plan (nothing is written before the plan
// stands; --dry-run prints it with its estimate and stops), preflight (every check of the input;
// still nothing written), the run directory (created or continued, and locked), schedule (the jobs
// through the workers, each finished job recorded at once), summarise. The lock is released
// however the run ends.
import { rmSync } from 'node:fs';
import { HarnessError, UsageError, isPermanentFailure } from '../core/errors.js';
import { formatMemoryPlan } from '../report/memory-table.js';
import { formatPlan } from '../report/plan-table.js';
import { formatRunEnding } from '../report/run-ending.js';
import { formatSummary, summarize } from '../report/run-summary.js';
import { readRun } from '../results/read.js';
import { runPath } from '../results/rundir.js';
import { needsModel } from '../tasks/task-registry.js';
import { ratesFor } from './calibration.js';
import { estimatePlan, modelScale } from './estimate.js';
import { memoryPlan } from './memory-plan.js';
import { planRun, preflight, type PlannedRun } from './preflight.js';
import { openRunDirectory, type RunDirectory } from './run-directory.js';
import type { RunOutcome, RunRequest } from './run-request.js';
import { scheduleRun, type ScheduledRun } from './schedule-run.js';

export type { RunOptions, RunOutcome, RunRequest } from './run-request.js';

export async function executeRun(req: RunRequest): Promise<RunOutcome> {
  const stdout = req.stdout ?? process.stdout;
  const stderr = req.stderr ?? process.stderr;
  const log = (message: string) => stderr.write(`${message}\n`);

  const planned = planRun(req);
  if (req.options.dryRun) return printPlan(planned, req, stdout, log);
  const runnable = await preflight(planned, req);
  const rd = await openRunDirectory(runnable, req, log);
  try {
    log(`run ${rd.dir}: ${rd.pending.length} jobs on ${runnable.slots.map((s) => s.name).join(', ')}`);
    const scheduled = await scheduleRun(runnable, rd, req, stderr, log);
    const { plan, jobs } = runnable;
    if (scheduled.result.interrupted) return { exitCode: 130, plan, jobs, dir: rd.dir, interrupted: true };
    if (scheduled.result.fatal) throw workerStartFailure(scheduled, rd);
    scheduled.finish(scheduled.failed ? 'completed-with-failures' : 'completed');
    return summarise(runnable, rd, scheduled, req, stdout, log);
  } finally {
    rd.lock.release();
  }
}

/** The plan and its estimate: this machine's measured rates (measured once, with a probe of a few
 *  seconds, when none are cached), else rough ones; which it is goes to stderr. */
async function printPlan(run: PlannedRun, req: RunRequest, stdout: NodeJS.WritableStream, log: (message: string) => void): Promise<RunOutcome> {
  const { device, plan, jobs } = run;
  const o = req.options;
  const loadsModel = needsModel(req.registry, new Set(jobs.map((j) => j.task)));
  const choice = await ratesFor(device, run.info, { cache: o.cacheDir, threads: o.threads, probe: loadsModel, log });
  const slots = device === 'cuda' ? Math.max(1, o.devices?.length ?? run.info?.cuda.devices.length ?? 1) : 1;
  const estimateSeconds = estimatePlan(jobs, { registry: req.registry, device, rates: choice.rates, slots, loadsModel, scale: modelScale(o.cacheDir, choice.rates) });
  stdout.write(`${formatPlan({ suite: req.suite.name, device, totalJobs: plan.jobs.length, shard: o.shard, jobs,
    skippedAboveLength: plan.skippedAboveLength, duplicates: plan.duplicates, estimateSeconds })}\n`);
  // which models fit the GPU, at each length
  if (device === 'cuda' && loadsModel)
    stdout.write(`\n${formatMemoryPlan(memoryPlan(jobs, req.registry, run.info, { cache: o.cacheDir, devices: o.devices, weights: o.weights }))}\n`);
  if (estimateSeconds !== undefined && choice.note) log(`estimate: ${choice.note}`);
  return { exitCode: 0, plan, jobs };
}

/** A worker could not start: every job would fail the same way, so the run stops. When the cause is
 *  bad input (a missing device, a model or option the engine refuses) and nothing finished, a run
 *  directory this invocation created is removed again: nothing is left of a run that never ran. */
function workerStartFailure(scheduled: ScheduledRun, rd: RunDirectory): HarnessError {
  const fatal = scheduled.result.fatal!;
  const badInput = fatal.code === 'ERR_NO_CUDA' || isPermanentFailure(fatal.code);
  if (badInput && rd.created && scheduled.ok === 0) {
    rd.lock.release();
    rmSync(rd.dir, { recursive: true, force: true });
    return new UsageError(`a worker could not start: ${fatal.message}`, `nothing was run; ${rd.dir} was removed`);
  }
  scheduled.finish('failed');
  return new HarnessError(`a worker could not start: ${fatal.message}`, badInput ? 2 : 1,
    `${rd.dir} keeps what finished (${scheduled.ok} jobs); after fixing the cause: adamas-bench run --resume ${rd.dir}`);
}

/** The summary tables on stdout, the counts and failed jobs on stderr; exit code 1 when a job failed. */
function summarise(run: PlannedRun, rd: RunDirectory, scheduled: ScheduledRun, req: RunRequest, stdout: NodeJS.WritableStream,
  log: (message: string) => void): RunOutcome {
  const data = readRun(rd.dir);
  if (req.summary !== false && data.rows.length) stdout.write(`${formatSummary(summarize(data.rows))}\n`);
  const failures = [...data.latest.values()].filter((e) => e.status === 'failed');
  log(formatRunEnding({ ok: scheduled.ok, total: run.jobs.length, failures, results: runPath(rd.dir, 'results'), dir: rd.dir }));
  return { exitCode: failures.length ? 1 : 0, plan: run.plan, jobs: run.jobs, dir: rd.dir, data };
}
