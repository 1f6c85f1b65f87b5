// The wire protocol between the scheduler and its worker processes: one JSON object a line, the
// scheduler's messages on the worker's stdin, the worker's answers on its stdout.
import type { Job, Measurement } from '../core/job.js';
import type { KvCacheType, WeightType } from '../model/footprint.js';
import type { LoadedModelInfo } from '../results/meta.js';

export interface WorkerInit {
  type: 'init';
  model: string;
  cacheDir?: string;
  device: 'cpu' | 'cuda';
  /** The CUDA engine's weight type (default f16). */
  weights?: WeightType;
  /** The KV cache's element type (default the engine's own). */
  kvCache?: KvCacheType;
  threads?: number;
  dataDir?: string;
  /** false when no job of the run needs the model (every task declares needsModel: false). */
  loadModel: boolean;
  /** Instrumentation (--measure-recall, --record-selection): each job also reports the recall and
   *  writes its per-step records to <runDir>/records/<job id>.json. */
  measureRecall?: boolean;
  recordSelection?: boolean;
  /** --record-logits: each job writes its decode steps' top-20 logits to its records. */
  recordLogits?: boolean;
  /** --replay-selection: the recorded run (absolute path) whose selections the jobs attend over. */
  replaySelection?: string;
  runDir?: string;
}

export interface JobResult {
  jobId: string;
  measurements: Measurement[];
  seconds: number;
  /** Facts the job found out about the device or the measurement (RunContext.recordFacts). */
  facts?: Record<string, unknown>;
}

export type ToWorker = WorkerInit | { type: 'job'; job: Job } | { type: 'shutdown' };

export type FromWorker =
  | { type: 'ready'; model?: LoadedModelInfo; backend: string; device: string }
  | { type: 'result'; result: JobResult }
  /** jobId '' when the worker failed before any job (at init). restart: the worker ends after
   *  this message (a CUDA error can leave the device unusable to the process): start a new one. */
  | { type: 'failed'; jobId: string; error: string; code?: string; seconds: number; restart?: boolean }
  | { type: 'log'; message: string };
