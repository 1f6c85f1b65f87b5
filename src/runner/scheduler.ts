// The scheduler: one worker process per device slot, fed whole prefix groups (jobs sharing a
// prompt prefix run back to back on one worker). A worker that dies mid-job costs that job only:
// it is reported failed with the exit code or signal and the worker's last stderr lines, and a
// fresh worker takes the next job. A worker silent for longer than the job's time limit is hung:
// it is killed, the job fails with that reason, and a fresh worker goes on. A worker that cannot
// start (model missing, no CUDA engine) stops the run: every job would fail the same way. A worker
// that ends itself after a failed job (a CUDA error) is replaced for the next job. Jobs that load
// no model (a peer's) get a worker of their own that loads none, so that the GPU is theirs.
import { makeDirectory } from '../core/files.js';
import { join } from 'node:path';
import type { Job } from '../core/job.js';
import type { WorkerSlot } from './device.js';
import { groupJobs, type JobGroup } from './shard.js';
import { WorkerProcess, WorkerStartError, defaultWorkerCommand, jobTimeoutCode, type ReadyInfo, type WorkerCommand } from './worker-process.js';
import type { JobResult, WorkerInit } from './worker-protocol.js';

export type JobOutcome =
  | { status: 'ok'; job: Job; slot: WorkerSlot; result: JobResult }
  | { status: 'failed'; job: Job; slot: WorkerSlot; error: string; code?: string; seconds: number; crashed: boolean };

export interface SchedulerEvents {
  /** A worker became ready (once per started worker). */
  onReady?(info: ReadyInfo, slot: WorkerSlot, model: string): void;
  onStart?(job: Job, slot: WorkerSlot): void;
  /** A job finished (ok or failed); called synchronously before the next job of that slot. */
  onOutcome(outcome: JobOutcome): void;
  /** A message a task logged, or a note of the scheduler (worker restarts). */
  onLog?(message: string, slot: WorkerSlot): void;
}

export interface SchedulerOptions {
  jobs: readonly Job[];
  slots: readonly WorkerSlot[];
  /** What every worker's 'init' carries beside model and device. */
  init: Omit<WorkerInit, 'type' | 'model' | 'device'>;
  /** logs/ of the run: worker n writes worker-<n>.log. */
  logDir: string;
  /** Number of the first worker started (resumed runs continue the numbering). */
  firstWorkerNumber?: number;
  command?: WorkerCommand;
  events: SchedulerEvents;
  /** Aborting stops dispatching and kills the workers; unfinished jobs are not reported. */
  signal?: AbortSignal;
  /** Milliseconds a worker may stay silent during a job (none: no limit). */
  jobTimeoutMs?: (job: Job) => number;
  /** Milliseconds a worker may take to start (default 10 minutes). */
  startTimeoutMs?: number;
  /** Whether the worker of `job` loads its model (default: init.loadModel for every job). */
  loadsModel?: (job: Job) => boolean;
}

const defaultStartTimeoutMs = 600_000;

export interface SchedulerResult {
  interrupted: boolean;
  /** Set when a worker could not start; the run stopped. */
  fatal?: WorkerStartError;
  workersStarted: number;
}

export async function runScheduler(opts: SchedulerOptions): Promise<SchedulerResult> {
  const command = opts.command ?? defaultWorkerCommand();
  const loadsModel = opts.loadsModel ?? (() => opts.init.loadModel);
  // what a worker is started for: jobs of one kind stay together so that a worker reloads as rarely as possible
  const kindOf = (job: Job) => `${job.model}\u241f${loadsModel(job)}`;
  const groups = groupJobs(opts.jobs);
  const order = new Map<string, number>();
  for (const g of groups) if (!order.has(kindOf(g.jobs[0]))) order.set(kindOf(g.jobs[0]), order.size);
  const queue: JobGroup[] = groups
    .map((g, i) => ({ g, i }))
    .sort((a, b) => order.get(kindOf(a.g.jobs[0]))! - order.get(kindOf(b.g.jobs[0]))! || a.i - b.i)
    .map((x) => x.g);

  let nextWorker = opts.firstWorkerNumber ?? 1;
  let fatal: WorkerStartError | undefined;
  const live = new Set<WorkerProcess>();
  const stopped = () => opts.signal?.aborted === true || fatal !== undefined;
  const killAll = () => {
    for (const w of live) w.kill();
  };
  opts.signal?.addEventListener('abort', killAll, { once: true });

  async function startWorker(slot: WorkerSlot, model: string, loadModel: boolean): Promise<WorkerProcess> {
    const n = nextWorker++;
    makeDirectory(opts.logDir);  // a resumed or merged run may have none
    const w = new WorkerProcess(slot, n, command, join(opts.logDir, `worker-${n}.log`), model,
      (message) => opts.events.onLog?.(message, slot));
    live.add(w);
    try {
      const info = await w.start({ ...opts.init, model, loadModel, device: slot.device }, opts.startTimeoutMs ?? defaultStartTimeoutMs);
      opts.events.onReady?.(info, slot, model);
      return w;
    } catch (err) {
      w.kill();
      live.delete(w);
      throw err instanceof WorkerStartError ? err : new WorkerStartError((err as Error).message);
    }
  }

  async function slotLoop(slot: WorkerSlot): Promise<void> {
    let worker: WorkerProcess | undefined;
    try {
      while (!stopped()) {
        const group = queue.shift();
        if (!group) break;
        for (const job of group.jobs) {
          if (stopped()) break;
          const load = loadsModel(job);
          if (worker && (!worker.alive || worker.model !== job.model || worker.loadsModel !== load)) {
            await worker.shutdown();
            live.delete(worker);
            worker = undefined;
          }
          if (!worker) {
            try {
              worker = await startWorker(slot, job.model, load);
            } catch (err) {
              fatal ??= err as WorkerStartError;
              killAll();
              return;
            }
          }
          opts.events.onStart?.(job, slot);
          const reply = await worker.run(job, opts.jobTimeoutMs?.(job));
          if (opts.signal?.aborted) return; // killed by the abort: not a result
          if (reply.status === 'ok') opts.events.onOutcome({ status: 'ok', job, slot, result: reply.result });
          else {
            opts.events.onOutcome({ status: 'failed', job, slot, error: reply.error, seconds: reply.seconds, crashed: reply.crashed,
              ...(reply.code !== undefined && { code: reply.code }) });
            if (reply.crashed) {
              const how = reply.code === jobTimeoutCode ? 'hung (killed)' : 'died';
              opts.events.onLog?.(`worker ${worker.number} (${slot.name}) ${how} during ${job.id}; starting a new one`, slot);
              live.delete(worker);
              worker = undefined;
            } else if (reply.restart) {
              opts.events.onLog?.(`worker ${worker.number} (${slot.name}) ends after the error of ${job.id}; starting a new one`, slot);
              await worker.shutdown();
              live.delete(worker);
              worker = undefined;
            }
          }
        }
      }
    } finally {
      if (worker) {
        await worker.shutdown();
        live.delete(worker);
      }
    }
  }

  await Promise.all(opts.slots.map((s) => slotLoop(s)));
  await Promise.all([...live].map((w) => w.exitedPromise()));
  opts.signal?.removeEventListener('abort', killAll);
  return { interrupted: opts.signal?.aborted === true, ...(fatal && { fatal }), workersStarted: nextWorker - (opts.firstWorkerNumber ?? 1) };
}
