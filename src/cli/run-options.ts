// Flags of every command that runs jobs (the task commands, run, ablate): which model, methods,
// budgets and device, where the run goes, resume, shards, dry runs. Flags override a suite.
import { Command, InvalidArgumentError, Option } from 'commander';
import type { MethodEntry, SuiteOverrides } from '../config/suite.js';
import { UsageError } from '../core/errors.js';
import type { Shard } from '../core/job.js';
import { methodNames } from '../methods/names.js';
import { cudaKvCacheNote, kvCacheTypes, weightTypes, type KvCacheType, type WeightType } from '../model/footprint.js';
import type { DeviceRequest } from '../runner/device.js';
import type { RunOptions } from '../runner/execute-run.js';
import { addModelOptions, type ModelFlags } from './model-options.js';
import { listOf, nonNegativeInt, parseShard, positiveInt, positiveIntList } from './parse.js';

export interface RunFlags extends ModelFlags {
  methods?: MethodEntry[];
  budgets?: number[];
  budget?: number;
  device: DeviceRequest;
  devices?: number[];
  weights?: WeightType;
  kvCache?: KvCacheType;
  out?: string;
  seed?: number;
  resume?: string | true;
  shard?: Shard;
  dryRun?: boolean;
  dataDir?: string;
  measureRecall?: boolean;
  recordSelection?: boolean;
  recordLogits?: boolean;
  replaySelection?: string;
  jobTimeout?: number;
}

/** Seconds: a positive number. */
export function positiveSeconds(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`'${value}' is not a positive number of seconds`);
  return n;
}

/** "0,1" -> [0, 1]: GPU indices. */
export function deviceList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.every((p) => p === '')) throw new InvalidArgumentError('must not be empty');
  return parts.map((p) => {
    if (!/^\d+$/.test(p)) throw new InvalidArgumentError(`'${p}' is not a device index (0, 1, ...)`);
    return Number(p);
  });
}

export function addRunOptions(cmd: Command, opts: { methods?: boolean } = {}): Command {
  addModelOptions(cmd);
  if (opts.methods !== false)
    cmd.option('--methods <list>', `attention methods, comma-separated (${methodNames.join(', ')}; default: all)`, listOf(methodNames));
  return cmd
    .option('--budgets <list>', 'token budgets of the sparse methods, e.g. 64,256 (default 16,32,...,2048; defaults above a length are skipped)', positiveIntList)
    .option('-b, --budget <n>', 'one budget: the same as --budgets <n>', positiveInt)
    .addOption(new Option('--device <kind>', 'where to run: cpu, cuda (one worker per GPU) or auto').choices(['auto', 'cpu', 'cuda']).default('auto'))
    .option('--devices <list>', 'CUDA device indices for --device cuda, e.g. 0,1 (default: all)', deviceList)
    .addOption(new Option('--weights <type>', "the CUDA engine's weight matrices: f16 (default), bf16, or f32 (the CPU's weights exactly, for agreement checks; twice the memory)").choices([...weightTypes]))
    .addOption(new Option('--kv-cache <type>', "the KV cache's element type: f32 (the CPU's default) or f16 (the CUDA engine's, its only one); f16 on the CPU rounds every key and value to fp16, as the GPU holds them, for agreement checks").choices([...kvCacheTypes]))
    .option('-o, --out <dir>', 'run directory (default results/runs/<suite>-<UTC time>)')
    .option('--seed <n>', 'seed of everything random in the cases (default 42)', nonNegativeInt)
    .option('--resume [dir]', 'continue a run: skip jobs the journal has as ok, retry failed ones (dir, or the one of --out)')
    .option('--shard <i/n>', 'run only shard i of n of the plan (prefix groups are never split); join shards with merge', parseShard)
    .option('--dry-run', 'print the job plan and its size, load nothing, run nothing', false)
    .option('--data-dir <dir>', 'root of the local data sets (env ADAMAS_BENCH_DATA)')
    .option('--measure-recall', 'also report, per job, the share of the full-attention softmax mass on the selected tokens (records per step, layer and head in <run>/records/)', false)
    .option('--record-selection', 'also keep the selected token positions of every step, layer and head in <run>/records/', false)
    .option('--record-logits', "also keep, per decode step, the top-20 logits and the chosen token's logit and margin (top-1 minus top-2) in <run>/records/", false)
    .option('--replay-selection <run-dir>', 'attend, at every decode step, over the selections an earlier --record-selection run of the same jobs recorded (e.g. on the other backend)')
    .option('--job-timeout <s>', "seconds a worker may stay silent during a job before it counts as hung and is killed (default: 10x the job's estimate, at least 60)", positiveSeconds);
}

/** Whether the user gave the option (on the command line or through its environment variable). */
export function given(cmd: Command, name: string): boolean {
  const source = cmd.getOptionValueSource(name);
  return source === 'cli' || source === 'env';
}

/** The suite overrides and run options the flags ask for. */
export function runSettings(cmd: Command, flags: RunFlags): { overrides: SuiteOverrides; options: RunOptions } {
  if (flags.budget !== undefined && flags.budgets !== undefined) throw new UsageError('give --budget or --budgets, not both');
  const budgets = flags.budgets ?? (flags.budget !== undefined ? [flags.budget] : undefined);
  if (flags.devices && flags.device === 'cpu') throw new UsageError('--devices is for --device cuda');
  if (flags.weights && flags.device === 'cpu')
    throw new UsageError('--weights is for the CUDA engine (--device cuda or auto); the CPU engine computes in float32 from the file\'s blocks');
  if (flags.kvCache === 'f32' && flags.device === 'cuda')
    throw new UsageError(`--kv-cache f32 is for the CPU engine (--device cpu or auto): ${cudaKvCacheNote}`);
  const overrides: SuiteOverrides = {
    ...(given(cmd, 'model') && { model: flags.model }),
    ...(flags.methods && { methods: flags.methods }),
    ...(budgets && { budgets }),
    ...(flags.seed !== undefined && { seed: flags.seed }),
    ...(given(cmd, 'device') && { device: flags.device }),
  };
  const options: RunOptions = {
    device: flags.device,
    ...(flags.devices && { devices: flags.devices }),
    ...(flags.weights && { weights: flags.weights }),
    ...(flags.kvCache && { kvCache: flags.kvCache }),
    ...(flags.out !== undefined && { out: flags.out }),
    ...(flags.resume !== undefined && { resume: flags.resume }),
    ...(flags.shard && { shard: flags.shard }),
    ...(flags.dryRun && { dryRun: true }),
    ...(flags.dataDir !== undefined && { dataDir: flags.dataDir }),
    ...(flags.cacheDir !== undefined && { cacheDir: flags.cacheDir }),
    ...(flags.threads !== undefined && { threads: flags.threads }),
    ...(flags.jobTimeout !== undefined && { jobTimeout: flags.jobTimeout }),
    ...(flags.measureRecall && { measureRecall: true }),
    ...(flags.recordSelection && { recordSelection: true }),
    ...(flags.recordLogits && { recordLogits: true }),
    ...(flags.replaySelection !== undefined && { replaySelection: flags.replaySelection }),
  };
  return { overrides, options };
}

export const runExamplesFooter = `
Runs write results/runs/<suite>-<UTC time>/ (results.csv, journal.jsonl, jobs.jsonl, meta.json, logs/);
Ctrl-C keeps every finished job: continue with 'adamas-bench run --resume <dir>'.`;
