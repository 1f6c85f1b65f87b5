// What a task (passkey, ppl, longbench, ruler, kernels, e2e) provides to the harness: how to plan
// its jobs from options, and how a worker runs one job.
import type { MethodSpec } from '../methods/spec.js';
import type { LoadedModel } from '../model/model.js';
import type { Tokenizer } from '../model/tokenizer.js';
import type { Job, Measurement, TaskName } from '../core/job.js';

/** A job as a task plans it; the planner adds id, suite, model and method. `model` overrides the
 *  run's model in the rows when the job times no model (kernels: the attention shape). */
export type PlannedJob = Omit<Job, 'id' | 'suite' | 'model' | 'method'> & { model?: string };

export interface PlanContext {
  device: 'cpu' | 'cuda';
  /** The model of the task entry (canonical name), when the planner knows it. */
  model?: string;
  /** Root of the local data sets (LongBench, PG-19), when given. */
  dataDir?: string;
  /** The model's trained context length, when known (planning never loads the model). */
  modelContextLength?: number;
  seed: number;
  /** Planning for --dry-run: nothing will run, so data that is not there may be assumed. */
  dryRun?: boolean;
}

export interface RunContext {
  model: LoadedModel;
  /** The device this worker runs on. */
  device: 'cpu' | 'cuda';
  dataDir?: string;
  /**
   * Makes the engine hold exactly `tokens` as a dense prefill with `method` set, reusing the KV
   * cache when the previous job of this worker left the same prefix key (truncate instead of
   * prefill). Returns the prefill's last logits and, when asked, the per-position NLL (both kept
   * from the first prefill on reuse), whether the cache was reused, and the prefill's seconds
   * (0 on reuse). An empty key never reuses. `reserve`: the tokens the job will hold in all
   * (prompt and new ones), so that the KV cache is sized once (on the GPU, before the prefill).
   */
  preparePrefix(
    key: string,
    tokens: readonly number[],
    method: MethodSpec,
    opts?: { nll?: boolean; reserve?: number },
  ): Promise<{ logits: Float32Array; nll?: Float32Array; reused: boolean; seconds: number }>;
  log(message: string): void;
  /** Facts of the device or of the measurement a job found out (driver, L2 size, copy bandwidth,
   *  the stopping rule): kept in meta.json under the worker's device, the latest value per key. */
  recordFacts(facts: Record<string, unknown>): void;
}

/**
 * A flag of the task's own command (`adamas-bench passkey --lengths 1024,2048`), mapped onto one
 * key of the task's options. Flags given on the command line override the task's defaults; the
 * result is validated against `optionsSchema` like a suite entry.
 */
export interface TaskFlag {
  /** Commander flag syntax, e.g. '--lengths <list>' (a value placeholder unless parse is 'boolean'). */
  flags: string;
  description: string;
  /** How the value is parsed (default 'string'); lists are comma-separated and never empty. */
  parse?: 'int' | 'intList' | 'number' | 'numberList' | 'string' | 'stringList' | 'boolean';
  /** The key of the task's options the value goes to. */
  key: string;
  /** Allowed values (for 'string' and 'stringList'). */
  choices?: string[];
}

export interface TaskModule<Options = unknown> {
  name: TaskName;
  /** One line for --help. */
  description: string;
  /** JSON Schema (draft-07) of this task's entry in a suite, beside the common keys. */
  optionsSchema: object;
  /** Options when neither flags nor suite give them, sized to the device. */
  defaults(device: 'cpu' | 'cuda'): Options;
  /** The jobs for one method spec (called once per method and budget). */
  plan(options: Options, method: MethodSpec, ctx: PlanContext): PlannedJob[];
  /** Runs one job inside a worker process. */
  run(job: Job, ctx: RunContext): Promise<Measurement[]>;

  // ---- optional: the command line and the planner use these when present ----------------------
  /** Flags of the task's command beside the shared ones. */
  flags?: TaskFlag[];
  /** Example command lines for --help (without the leading '$ '). */
  examples?: string[];
  /** false when the task never touches the model (e.g. synthetic kernels): workers then load none. */
  needsModel?: boolean;
  /** true when the task runs on a synthetic model ('synthetic:llama2-7b': random weights, no
   *  tokenizer), i.e. it only times the model; tasks that need text refuse one at planning. */
  syntheticModels?: boolean;
  /** Jobs that time other implementations beside ours (`--peers`, scripts/peers/), planned once per
   *  task entry with the options (not per method); each sets `peer`. Their workers load no model. */
  planPeers?(options: Options, ctx: PlanContext): PlannedJob[];
  /** The work of one job, for --dry-run's estimate and the job's time limit (the runner turns it
   *  into seconds with this machine's measured rates). */
  estimateWork?(job: Job, device: 'cpu' | 'cuda'): JobWork;
  /** Checks of the jobs against their data, before anything is written (e.g. a text long enough
   *  for the lengths asked); throws a UsageError naming the flag. Called once with all the jobs of
   *  the task in the run, in the main process. */
  checkJobs?(jobs: readonly Job[], ctx: CheckContext): Promise<void>;
}

/** The work of a job in tokens and seconds (runner/estimate.ts prices it). */
export interface JobWork {
  /** Tokens of the dense prefill; the jobs of one prefix key pay it once. */
  prefillTokens?: number;
  /** Steps through the decode path, and the KV length at the first of them. */
  decodeSteps?: number;
  decodeFrom?: number;
  /** Seconds of anything else (a timing loop of a fixed length). */
  seconds?: number;
}

export interface CheckContext {
  /** --data-dir (or ADAMAS_BENCH_DATA), resolved. */
  dataDir?: string;
  /** The tokenizer of a job's model (its GGUF metadata; the model is not loaded). */
  tokenizer(model: string): Tokenizer;
}
