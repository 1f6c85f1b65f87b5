// What a run is asked to do (a suite, its source, the task modules, the run options) and what it
// comes back with; the stages of runner/execute-run.ts share them.
import type { Suite } from '../config/suite.js';
import type { Job, Shard, TaskName } from '../core/job.js';
import type { KvCacheType, WeightType } from '../model/footprint.js';
import type { ProgressStream } from '../report/progress.js';
import type { RunData } from '../results/read.js';
import type { TaskRegistry } from '../tasks/task-registry.js';
import type { DeviceRequest } from './device.js';
import type { Plan } from './plan.js';
import type { WorkerCommand } from './worker-process.js';

export interface RunOptions {
  /** The device asked for (flag, else the suite's, else 'auto'). */
  device: DeviceRequest;
  /** GPU indices for --device cuda (default: all). */
  devices?: number[];
  /** The CUDA engine's weight type (--weights; default f16). */
  weights?: WeightType;
  /** The KV cache's element type (--kv-cache; default the engine's own: f32 on the CPU, f16 on CUDA). */
  kvCache?: KvCacheType;
  out?: string;
  /** A run directory to continue, or true for --out's. */
  resume?: string | true;
  shard?: Shard;
  dryRun?: boolean;
  /** --data-dir; ADAMAS_BENCH_DATA when absent. */
  dataDir?: string;
  cacheDir?: string;
  threads?: number;
  /** Seconds a worker may stay silent during a job before it counts as hung (--job-timeout);
   *  default: 10x the job's estimate, at least 60 s. */
  jobTimeout?: number;
  /** Only these tasks of the suite. */
  tasks?: TaskName[];
  /** Instrumentation of the sparse decode steps (see WorkerInit). */
  measureRecall?: boolean;
  recordSelection?: boolean;
  /** --record-logits (see WorkerInit). */
  recordLogits?: boolean;
  /** --replay-selection <run>: attend over the selections recorded there (results/replay-source.ts). */
  replaySelection?: string;
}

/** How a suite entry is named in messages: '/tasks/<i>' for files, '' for a task command's flags. */
export type PathOf = (index: number) => string;

export interface RunRequest {
  suite: Suite;
  /** Where the suite came from, for messages: a file path or 'the command line'. */
  source: string;
  registry: TaskRegistry;
  options: RunOptions;
  /** The command line (without node and the script), recorded in meta.json. */
  argv: string[];
  workerCommand?: WorkerCommand;
  stdout?: NodeJS.WritableStream;
  stderr?: ProgressStream;
  /** Print the generic summary tables at the end (default true). */
  summary?: boolean;
  pathOf?: PathOf;
}

export interface RunOutcome {
  exitCode: number;
  plan: Plan;
  /** The jobs of this run (after --shard). */
  jobs: Job[];
  dir?: string;
  data?: RunData;
  interrupted?: boolean;
}
