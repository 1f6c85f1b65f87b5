// The schedule stage of a run: the pending jobs through the worker processes, each finished job
// appended to results.csv and the journal at once, progress on stderr, meta.json kept up to date;
// Ctrl-C (SIGINT, SIGTERM) stops the run and keeps what finished.
import { existsSync, readdirSync } from 'node:fs';
import { resolve } from 'node:path';
import { jobLabel, type Job } from '../core/job.js';
import { createProgress } from '../report/progress.js';
import { writeMeta, type RunMeta } from '../results/meta.js';
import { runPath } from '../results/rundir.js';
import { jobNeedsModel } from '../tasks/task-registry.js';
import type { RunnableRun } from './preflight.js';
import type { RunDirectory } from './run-directory.js';
import type { RunRequest } from './run-request.js';
import { ratesFor } from './calibration.js';
import { jobTimeoutSeconds, modelScale } from './estimate.js';
import { runScheduler, type SchedulerResult } from './scheduler.js';

export interface ScheduledRun {
  /** Jobs of the run that are ok (before this invocation included) and that failed. */
  ok: number;
  failed: number;
  result: SchedulerResult;
  /** Ends the run in meta.json with its status and counts. */
  finish(status: RunMeta['status']): void;
}

export async function scheduleRun(run: RunnableRun, rd: RunDirectory, req: RunRequest, stderr: NodeJS.WritableStream & { isTTY?: boolean },
  log: (message: string) => void): Promise<ScheduledRun> {
  const o = req.options;
  const { dir, meta, writer } = rd;
  const progress = createProgress(stderr);
  const controller = new AbortController();
  let ok = rd.doneBefore;
  let failed = 0;
  const finish = (status: RunMeta['status']) => {
    meta.status = status;
    meta.endedAt = new Date().toISOString();
    meta.counts = { ok, failed, pending: run.jobs.length - ok - failed };
    writeMeta(dir, meta);
  };
  const onSignal = (signal: NodeJS.Signals) => {
    if (controller.signal.aborted) return;
    controller.abort();
    progress.stop();
    finish('interrupted');
    log(`\n${signal}: stopped; ${ok} jobs done are kept in ${dir}\nresume with: adamas-bench run --resume ${dir}`);
  };
  // each job's time limit from its estimate at this machine's rates (never probed here)
  const { rates } = await ratesFor(run.device, run.info, { cache: o.cacheDir, threads: o.threads });
  const limits = { registry: req.registry, device: run.device, rates, scale: modelScale(o.cacheDir, rates) };
  const jobTimeoutMs = (job: Job) => 1000 * jobTimeoutSeconds(job, limits, o.jobTimeout);
  process.prependListener('SIGINT', onSignal);
  process.prependListener('SIGTERM', onSignal);
  try {
    progress.start(run.jobs.length, rd.doneBefore);
    const result = await runScheduler({
      jobs: rd.pending,
      slots: run.slots,
      init: {
        loadModel: run.loadModel,
        ...(o.cacheDir && { cacheDir: o.cacheDir }),
        ...(o.threads && { threads: o.threads }),
        ...(o.weights && { weights: o.weights }),
        ...(o.kvCache && { kvCache: o.kvCache }),
        ...(run.dataDir && { dataDir: run.dataDir }),
        ...((o.measureRecall || o.recordSelection) && { measureRecall: o.measureRecall, recordSelection: o.recordSelection, runDir: resolve(dir) }),
        ...(o.recordLogits && { recordLogits: true, runDir: resolve(dir) }),
        ...(o.replaySelection && { replaySelection: resolve(o.replaySelection), runDir: resolve(dir) }),
      },
      logDir: runPath(dir, 'logs'),
      firstWorkerNumber: existsSync(runPath(dir, 'logs')) ? readdirSync(runPath(dir, 'logs')).length + 1 : 1,
      command: req.workerCommand,
      signal: controller.signal,
      jobTimeoutMs,
      loadsModel: (job) => run.loadModel && jobNeedsModel(req.registry, job),
      events: {
        onReady(ready, _slot, model) {
          if (ready.model && !meta.models[model]) {
            meta.models[model] = ready.model;
            writeMeta(dir, meta);
          }
        },
        onStart(job) {
          progress.jobStarted(jobLabel(job));
        },
        onOutcome(out) {
          const entry = writer.appendJob(out.status === 'ok'
            ? { job: out.job, device: out.slot.name, status: 'ok', measurements: out.result.measurements, seconds: out.result.seconds }
            : { job: out.job, device: out.slot.name, status: 'failed', error: out.error, seconds: out.seconds, ...(out.code !== undefined && { code: out.code }) });
          if (entry.status === 'ok') ok++;
          else failed++;
          if (out.status === 'ok' && out.result.facts && Object.keys(out.result.facts).length) {
            meta.facts = { ...meta.facts, [out.slot.name]: { ...meta.facts?.[out.slot.name], ...out.result.facts } };
            writeMeta(dir, meta);
          }
          progress.jobFinished(entry.label, entry.status === 'ok', entry.seconds, entry.error);
        },
        onLog(message, slot) {
          progress.log(`[${slot.name}] ${message}`);
        },
      },
    });
    return { ok, failed, result, finish };
  } finally {
    process.removeListener('SIGINT', onSignal);
    process.removeListener('SIGTERM', onSignal);
    progress.stop();
    writer.close();
  }
}
