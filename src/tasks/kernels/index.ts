// kernels: NVBench-style microbenchmark of one attention layer's decode step on random inputs, in
// the phases a sparse method runs (estimate -> top-k -> attention over the selection) against
// full attention timed in the same run, with the bytes each phase must move (for GB/s and the
// fraction of the copy bandwidth measured in the same run), cold and hot samples, and the GPU's
// clocks while each case ran. No model is loaded: the rows name the shape they time
// ('shape:llama2-7b'). `--batch` steps several sequences at once (CUDA), `--peers` times torch
// SDPA and FlashInfer at the same cases.
import { methodLabel, toNativeOptions, type MethodSpec } from '../../methods/spec.js';
import { loadAddon, type BenchAttentionOptions } from '../../native/addon.js';
import type { CaseParams, Job, Measurement } from '../../core/job.js';
import { UsageError } from '../../core/errors.js';
import type { PlanContext, PlannedJob, RunContext, TaskModule } from '../types.js';
import { kernelPeers, runAttentionPeer, type KernelPeer } from './peers.js';
import { kernelFacts, kernelRows } from './rows.js';

/** Attention shapes of the seed's benchmarks and of current models. */
export const kernelShapes = {
  'llama2-7b': { nHeads: 32, nKvHeads: 32, headDim: 128 },
  'llama3-8b': { nHeads: 32, nKvHeads: 8, headDim: 128 },
  smollm2: { nHeads: 9, nKvHeads: 3, headDim: 64 },
} as const;
type ShapeName = keyof typeof kernelShapes;
const shapeNames = Object.keys(kernelShapes) as ShapeName[];

/** The model column of a kernels row: the shape it times (no model is involved). */
export function shapeModel(shape: string): string {
  return `shape:${shape}`;
}

/** Most sequences the CUDA step takes at once (native bench: up to 64). */
const maxSequences = 64;

export interface KernelsOptions {
  shapes: ShapeName[];
  kvLens: number[];
  /** Sequences stepped together (CUDA; the CPU times one). */
  batch: number[];
  /** With a batch: sequence i of B has kvLen x (1 - lengthSpread x i / (B - 1)) positions. */
  lengthSpread: number;
  /** Runs per hot sample (back to back, divided by their count). */
  hotRuns: number;
  /** NVBench's stopping rule: at least minSamples and minTime seconds, stop below maxNoise, or at timeout. */
  minSamples: number;
  minTime: number;
  maxNoise: number;
  timeout: number;
  /** Other libraries timed at the same cases (scripts/peers/decode_attention.py). */
  peers: KernelPeer[];
}

const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    shapes: { type: 'array', items: { enum: shapeNames }, minItems: 1 },
    kvLens: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1 },
    batch: { type: 'array', items: { type: 'integer', minimum: 1, maximum: maxSequences }, minItems: 1, uniqueItems: true },
    lengthSpread: { type: 'number', minimum: 0, exclusiveMaximum: 1 },
    hotRuns: { type: 'integer', minimum: 1 },
    minSamples: { type: 'integer', minimum: 5 },
    minTime: { type: 'number', exclusiveMinimum: 0 },
    maxNoise: { type: 'number', exclusiveMinimum: 0 },
    timeout: { type: 'number', exclusiveMinimum: 0 },
    peers: { type: 'array', items: { enum: [...kernelPeers] }, uniqueItems: true },
  },
};

/** The lengths of a batch's sequences: the first kvLen, the last kvLen x (1 - spread), evenly between. */
export function sequenceLengths(kvLen: number, batch: number, spread: number): number[] {
  if (batch === 1) return [kvLen];
  return Array.from({ length: batch }, (_, i) => Math.max(1, Math.round(kvLen * (1 - (spread * i) / (batch - 1)))));
}

/** The parameters of a case (ours and the peers' alike, so that their rows share the case column). */
function caseParams(options: KernelsOptions, shape: ShapeName, kvLen: number, batch: number): CaseParams {
  const lens = sequenceLengths(kvLen, batch, options.lengthSpread);
  return {
    ...kernelShapes[shape], batch, ...(batch > 1 && { seqLens: lens.join('/') }), hotRuns: options.hotRuns,
    minSamples: options.minSamples, minTime: options.minTime, maxNoise: options.maxNoise, timeout: options.timeout,
  };
}

function checkBatch(options: KernelsOptions, method: MethodSpec | undefined, ctx: PlanContext): void {
  const batched = options.batch.filter((b) => b > 1);
  if (batched.length && ctx.device === 'cpu')
    throw new UsageError(`--batch ${options.batch.join(',')}: the CPU times one sequence a step (batched steps are timed on CUDA)`,
      'use --batch 1 on the CPU, or --device cuda');
  const budget = method?.budget;
  if (budget === undefined || method?.method === 'full') return;
  for (const kvLen of options.kvLens)
    for (const b of batched) {
      const lens = sequenceLengths(kvLen, b, options.lengthSpread);
      if (lens.some((n) => n > budget) && lens.some((n) => n <= budget))
        throw new UsageError(`--length-spread ${options.lengthSpread}: at kv_len ${kvLen} and batch ${b} the lengths ${lens[lens.length - 1]}..${lens[0]} ` +
          `straddle the budget ${budget} (a batched step is sparse or dense for all its sequences)`, 'use a smaller --length-spread or budget');
    }
}

function cases(options: KernelsOptions): [ShapeName, number, number][] {
  return options.shapes.flatMap((shape) => options.kvLens.flatMap((kvLen) => options.batch.map((b): [ShapeName, number, number] => [shape, kvLen, b])));
}

/** One job per case (shape x kv_len x batch) of the options. */
function caseJobs(options: KernelsOptions, ctx: PlanContext): PlannedJob[] {
  return cases(options).map(([shape, kvLen, batch]) => ({
    task: 'kernels' as const,
    dataset: shape,
    model: shapeModel(shape),
    contextLen: kvLen,
    params: caseParams(options, shape, kvLen, batch),
    prefixKey: '',
    seed: ctx.seed,
  }));
}

export const kernelsTask: TaskModule<KernelsOptions> = {
  name: 'kernels',
  description: 'one attention layer\'s decode step, phase by phase (estimate / top-k / attention), against full attention',
  optionsSchema,
  needsModel: false,
  defaults: (device) =>
    device === 'cuda'
      // cold (L2-flushed) samples of microsecond kernels vary by 1-2% on an H100: NVBench's 0.5%
      // noise target would run every case to its timeout
      ? { shapes: ['llama2-7b', 'llama3-8b'], kvLens: [8192, 16384, 32768], batch: [1], lengthSpread: 0, hotRuns: 10,
          minSamples: 10, minTime: 0.5, maxNoise: 0.02, timeout: 5, peers: [] }
      : { shapes: ['smollm2'], kvLens: [2048, 4096, 8192], batch: [1], lengthSpread: 0, hotRuns: 10,
          minSamples: 10, minTime: 0.2, maxNoise: 0.02, timeout: 2, peers: [] },
  flags: [
    { flags: '--shapes <list>', description: `attention shapes (${shapeNames.join(', ')})`, parse: 'stringList', key: 'shapes', choices: shapeNames },
    { flags: '--kv-lens <list>', description: 'KV lengths in tokens', parse: 'intList', key: 'kvLens' },
    { flags: '--batch <list>', description: `sequences stepped together, e.g. 1,4,16 (CUDA, at most ${maxSequences})`, parse: 'intList', key: 'batch' },
    { flags: '--length-spread <f>', description: 'with a batch, the last sequence is (1 - f) x kv_len long, the others evenly between (default 0: all kv_len)', parse: 'number', key: 'lengthSpread' },
    { flags: '--hot-runs <n>', description: 'runs per hot sample (back to back; default 10)', parse: 'int', key: 'hotRuns' },
    { flags: '--min-samples <n>', description: 'samples at least (NVBench: 10)', parse: 'int', key: 'minSamples' },
    { flags: '--min-time <s>', description: 'measured seconds at least (NVBench: 0.5)', parse: 'number', key: 'minTime' },
    { flags: '--max-noise <f>', description: 'stop once the relative stdev is below this (NVBench: 0.005)', parse: 'number', key: 'maxNoise' },
    { flags: '--timeout <s>', description: 'wall seconds a case at most (NVBench: 15)', parse: 'number', key: 'timeout' },
    { flags: '--peers <list>', description: `also time these at the same cases (${kernelPeers.join(', ')}: scripts/peers/decode_attention.py; a skip row where one cannot run)`,
      parse: 'stringList', key: 'peers', choices: [...kernelPeers] },
  ],
  examples: [
    'adamas-bench kernels --device cuda --methods full,quest,adamas --budgets 256,1024,4096',
    'adamas-bench kernels --shapes llama3-8b --kv-lens 32768 --budget 256 --gqa kv',
    'adamas-bench kernels --device cuda --batch 1,4,16 --kv-lens 8192,32768,131072 --budget 256 --peers sdpa,flashinfer',
  ],
  estimateWork: (job, device) => ({ seconds: caseSeconds(job, device) }),

  plan(options: KernelsOptions, method: MethodSpec, ctx: PlanContext): PlannedJob[] {
    checkBatch(options, method, ctx);
    return caseJobs(options, ctx);
  },

  planPeers(options: KernelsOptions, ctx: PlanContext): PlannedJob[] {
    checkBatch(options, undefined, ctx);
    return options.peers.flatMap((peer) => caseJobs(options, ctx).map((job) => ({ ...job, peer })));
  },

  async run(job: Job, ctx: RunContext): Promise<Measurement[]> {
    if (job.peer !== undefined) return runAttentionPeer(job, ctx);
    const m = job.method;
    if (m.method === 'adamas' && (m.granularity !== 'token' || m.thresholds === 'auto'))
      throw new UsageError(`kernels: ${methodLabel(m)} is not benchmarked (the step benchmark times token granularity with fixed thresholds)`);
    const options = benchOptions(job, ctx.device);
    const result = await loadAddon().benchAttention(options);
    ctx.recordFacts({ ...kernelFacts(result),
      stoppingRule: { minSamples: options.minSamples, minTime: options.minTime, maxNoise: options.maxNoise, timeout: options.timeout, hotRuns: options.batch,
        rule: "NVBench's stdrel: at least minSamples samples and minTime measured seconds, then until the relative stdev is at most maxNoise, or timeout wall seconds" } });
    return kernelRows(result, methodLabel(m));
  },
};

/**
 * About how long a case takes: each phase it times (one for full attention; estimate, top-k,
 * attention, the step and full attention beside a sparse method; on CUDA also the empty kernel
 * of the timer's floor) sampled cold and then hot under the stopping rule, each for about its
 * minimum time, or an eighth of the timeout where that is more, so that the job's time limit (10x
 * this) covers every phase running to its timeout. A peer
 * adds Python's start (and FlashInfer's first compilation).
 */
export function caseSeconds(job: Job, device: 'cpu' | 'cuda'): number {
  const p = job.params;
  const perSampling = Math.max(Number(p.minTime) + 0.1, Number(p.timeout) / 8);
  if (job.peer !== undefined) return (job.peer === 'flashinfer' ? 60 : 15) + 2 * perSampling;
  const phases = (job.method.method === 'full' ? 1 : 5) + (device === 'cuda' ? 1 : 0);
  return 1 + 2 * phases * perSampling + (device === 'cpu' ? job.contextLen / 4000 : 0);
}

/** What the step benchmark times for a job: the method as the engine takes it (every knob), the
 *  shape, the sequences and their lengths, the stopping rule, the runs of a hot sample. */
export function benchOptions(job: Job, device: 'cpu' | 'cuda'): BenchAttentionOptions {
  const p = job.params;
  const lens = p.seqLens !== undefined ? String(p.seqLens).split('/').map(Number) : undefined;
  return {
    backend: device,
    ...toNativeOptions(job.method),
    nHeads: Number(p.nHeads),
    nKvHeads: Number(p.nKvHeads),
    headDim: Number(p.headDim),
    kvLen: job.contextLen,
    ...(lens && lens.length > 1 && { sequences: lens.length, seqLens: lens }),
    minSamples: Number(p.minSamples),
    minTime: Number(p.minTime),
    maxNoise: Number(p.maxNoise),
    timeout: Number(p.timeout),
    ...(p.hotRuns !== undefined && { batch: Number(p.hotRuns) }),
    measureFull: job.method.method !== 'full',
    seed: job.seed,
  };
}
