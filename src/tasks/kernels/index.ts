// kernels: NVBench-style microbenchmark of one attention layer's decode step on random inputs, in
// the phases a sparse method runs (estimate -> top-k -> attention over the selection) against
// full attention timed in the same run, with the bytes each phase must move (for GB/s and the
// fraction of the copy bandwidth measured in the same run). No model is loaded.
import { median } from 'simple-statistics';
import { methodLabel, toNativeOptions, type MethodSpec } from '../../methods/spec.js';
import { loadAddon, type BenchAttentionOptions, type BenchAttentionResult } from '../../native/addon.js';
import type { Job, Measurement } from '../../core/job.js';
import { UsageError } from '../../core/errors.js';
import { thin } from '../common/measure.js';
import type { PlanContext, PlannedJob, RunContext, TaskModule } from '../types.js';

/** Attention shapes of the seed's benchmarks and of current models. */
export const kernelShapes = {
  'llama2-7b': { nHeads: 32, nKvHeads: 32, headDim: 128 },
  'llama3-8b': { nHeads: 32, nKvHeads: 8, headDim: 128 },
  smollm2: { nHeads: 9, nKvHeads: 3, headDim: 64 },
} as const;
type ShapeName = keyof typeof kernelShapes;
const shapeNames = Object.keys(kernelShapes) as ShapeName[];

export interface KernelsOptions {
  shapes: ShapeName[];
  kvLens: number[];
  /** NVBench's stopping rule: at least minSamples and minTime seconds, stop below maxNoise, or at timeout. */
  minSamples: number;
  minTime: number;
  maxNoise: number;
  timeout: number;
}

const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    shapes: { type: 'array', items: { enum: shapeNames }, minItems: 1 },
    kvLens: { type: 'array', items: { type: 'integer', minimum: 1 }, minItems: 1 },
    minSamples: { type: 'integer', minimum: 5 },
    minTime: { type: 'number', exclusiveMinimum: 0 },
    maxNoise: { type: 'number', exclusiveMinimum: 0 },
    timeout: { type: 'number', exclusiveMinimum: 0 },
  },
};

const round = (x: number) => Number(x.toPrecision(5));

function phaseRows(r: BenchAttentionResult, label: string): Measurement[] {
  const out: Measurement[] = [];
  const phases = r.sparse ? (['estimate', 'topk', 'attention', 'total'] as const) : (['total'] as const);
  for (const phase of phases) {
    // a dense step (full attention, or kv_len <= budget) is all attention: total = attention
    const samples = r[phase];
    if (samples.length === 0) continue;
    const us = median(samples);
    const bytes = r.bytes[phase];
    out.push({ metric: `latency_us.${phase}`, value: round(us), unit: 'us', n: samples.length, samples: thin(samples).map(round) });
    if (bytes > 0) {
      const gbs = bytes / (us * 1e3);
      out.push({ metric: `bandwidth_gbs.${phase}`, value: round(gbs), unit: 'GB/s', n: samples.length,
        detail: `${bytes} bytes; ${(100 * gbs / r.copyBandwidthGBs).toFixed(1)}% of the copy bandwidth (${r.copyBandwidthGBs.toFixed(0)} GB/s)` });
    }
  }
  if (r.sparse && r.full.length > 0) {
    out.push({ metric: 'latency_us.full', value: round(median(r.full)), unit: 'us', n: r.full.length, samples: thin(r.full).map(round),
      detail: 'full attention at the same shape, timed in the same run' });
    out.push({ metric: 'speedup_vs_full', value: round(median(r.full) / median(r.total)), unit: 'x', n: r.total.length,
      detail: `${label}: median full / median total` });
  }
  out.push({ metric: 'copy_bandwidth_gbs', value: round(r.copyBandwidthGBs), unit: 'GB/s', n: 1, detail: `${r.backend}: ${r.device}` });
  return out;
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
      ? { shapes: ['llama2-7b', 'llama3-8b'], kvLens: [8192, 16384, 32768], minSamples: 10, minTime: 0.5, maxNoise: 0.02, timeout: 5 }
      : { shapes: ['smollm2'], kvLens: [2048, 4096, 8192], minSamples: 10, minTime: 0.2, maxNoise: 0.02, timeout: 2 },
  flags: [
    { flags: '--shapes <list>', description: `attention shapes (${shapeNames.join(', ')})`, parse: 'stringList', key: 'shapes', choices: shapeNames },
    { flags: '--kv-lens <list>', description: 'KV lengths in tokens', parse: 'intList', key: 'kvLens' },
    { flags: '--min-samples <n>', description: 'samples at least (NVBench: 10)', parse: 'int', key: 'minSamples' },
    { flags: '--min-time <s>', description: 'measured seconds at least (NVBench: 0.5)', parse: 'number', key: 'minTime' },
    { flags: '--max-noise <f>', description: 'stop once the relative stdev is below this (NVBench: 0.005)', parse: 'number', key: 'maxNoise' },
    { flags: '--timeout <s>', description: 'wall seconds a case at most', parse: 'number', key: 'timeout' },
  ],
  examples: [
    'adamas-bench kernels --device cuda --methods full,quest,adamas --budgets 256,1024,4096',
    'adamas-bench kernels --shapes llama3-8b --kv-lens 32768 --budget 256 --gqa kv',
  ],
  estimateWork: (job, device) => ({ seconds: device === 'cuda' ? 4 : 2 + job.contextLen / 4000 }),

  plan(options: KernelsOptions, _method: MethodSpec, ctx: PlanContext): PlannedJob[] {
    return options.shapes.flatMap((shape) =>
      options.kvLens.map((kvLen) => ({
        task: 'kernels' as const,
        dataset: shape,
        contextLen: kvLen,
        params: { ...kernelShapes[shape], minSamples: options.minSamples, minTime: options.minTime,
          maxNoise: options.maxNoise, timeout: options.timeout },
        prefixKey: '',
        seed: ctx.seed,
      })),
    );
  },

  async run(job: Job, ctx: RunContext): Promise<Measurement[]> {
    const m = job.method;
    if (m.method === 'adamas' && (m.granularity !== 'token' || m.thresholds === 'auto'))
      throw new UsageError(`kernels: ${methodLabel(m)} is not benchmarked (the step benchmark times token granularity with fixed thresholds)`);
    const result = await loadAddon().benchAttention(benchOptions(job, ctx.device));
    return phaseRows(result, methodLabel(m));
  },
};

/** What the step benchmark times for a job: the method as the engine takes it (every knob), the
 *  shape, the stopping rule. */
export function benchOptions(job: Job, device: 'cpu' | 'cuda'): BenchAttentionOptions {
  const p = job.params;
  return {
    backend: device,
    ...toNativeOptions(job.method),
    nHeads: Number(p.nHeads),
    nKvHeads: Number(p.nKvHeads),
    headDim: Number(p.headDim),
    kvLen: job.contextLen,
    minSamples: Number(p.minSamples),
    minTime: Number(p.minTime),
    maxNoise: Number(p.maxNoise),
    timeout: Number(p.timeout),
    measureFull: job.method.method !== 'full',
    seed: job.seed,
  };
}
