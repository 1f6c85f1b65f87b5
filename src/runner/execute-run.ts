// A run, start to end, as a pipeline of named stages: plan (nothing is written before the plan
// stands; --dry-run prints it and stops), preflight, the run directory (created or continued),
// schedule (the jobs through the workers, each finished job recorded at once), summarise.
import { HarnessError } from '../core/errors.js';
import { formatPlan } from '../report/plan-table.js';
import { formatRunEnding, formatSummary, summarize } from '../report/run-summary.js';
import { readRun } from '../results/read.js';
import { runPath } from '../results/rundir.js';
import { estimatePlan } from './plan.js';
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
  if (req.options.dryRun) return printPlan(planned, req, stdout);
  const runnable = await preflight(planned, req);
  const rd = await openRunDirectory(runnable, req, log);
  log(`run ${rd.dir}: ${rd.pending.length} jobs on ${runnable.slots.map((s) => s.name).join(', ')}`);
  const scheduled = await scheduleRun(runnable, rd, req, stderr, log);
  const { plan, jobs } = runnable;
  if (scheduled.result.interrupted) return { exitCode: 130, plan, jobs, dir: rd.dir, interrupted: true };
  if (scheduled.result.fatal) throw workerStartFailure(scheduled, rd);
  scheduled.finish(scheduled.failed ? 'completed-with-failures' : 'completed');
  return summarise(runnable, rd, scheduled, req, stdout, log);
}

function printPlan(run: PlannedRun, req: RunRequest, stdout: NodeJS.WritableStream): RunOutcome {
  const { device, plan, jobs } = run;
  stdout.write(`${formatPlan({ suite: req.suite.name, device, totalJobs: plan.jobs.length, shard: req.options.shard, jobs,
    skippedAboveLength: plan.skippedAboveLength, duplicates: plan.duplicates, estimateSeconds: estimatePlan(jobs, req.registry, device) })}\n`);
  return { exitCode: 0, plan, jobs };
}

/** A worker could not start: every job would fail the same way, so the run stops (bad input when
 *  the cause is a missing device or an unusable model or option). */
function workerStartFailure(scheduled: ScheduledRun, rd: RunDirectory): HarnessError {
  scheduled.finish('failed');
  const fatal = scheduled.result.fatal!;
  const usage = fatal.code !== undefined && ['ERR_NO_CUDA', 'ERR_GGUF', 'ERR_UNSUPPORTED_MODEL', 'ERR_INVALID_OPTION'].includes(fatal.code);
  return new HarnessError(`a worker could not start: ${fatal.message}`, usage ? 2 : 1,
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
