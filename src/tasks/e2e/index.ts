// e2e: end-to-end decode latency of the whole model with each method. A dense prefill of
// `contextLen` seeded random tokens (shared by every method and budget, as the seed's random
// inputs_embeds; the KV cache sized once for prompt and new tokens), then greedy decode steps
// (model/greedy.ts), each timed. On the CPU by the wall clock; on the GPU by the engine's CUDA
// events around each replayed step, with the step's bytes floor at the copy bandwidth measured in
// the same process. `--peers torch` times the PyTorch decoder of scripts/peers/ beside it.
import type { MethodSpec } from '../../methods/spec.js';
import { UsageError } from '../../core/errors.js';
import { greedyDecode } from '../../model/greedy.js';
import type { LoadedModel } from '../../model/model.js';
import { isSyntheticModel } from '../../model/synthetic.js';
import type { Job, Measurement } from '../../core/job.js';
import { cudaCopyBandwidthGBs } from '../common/copy-bandwidth.js';
import { timingMeasurements } from '../common/measure.js';
import { caseRng, type Rng } from '../common/rng.js';
import type { PlanContext, PlannedJob, RunContext, TaskModule } from '../types.js';
import { decodeFloor, meanTimedKvLength } from './floor.js';
import { decodeLatencyRows, floorRows, prefillRows } from './rows.js';
import { runTorchPeer } from './torch-peer.js';

export const e2ePeers = ['torch'] as const;

export interface E2eOptions {
  contextLens: number[];
  /** Timed decode steps a job. */
  decodeTokens: number;
  /** Untimed decode steps before them (caches, thread pools, page faults). */
  warmupTokens: number;
  /** Other implementations timed in the same run (scripts/peers/llama_decode.py). */
  peers?: (typeof e2ePeers)[number][];
}

const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    contextLens: { type: 'array', items: { type: 'integer', minimum: 2 }, minItems: 1 },
    decodeTokens: { type: 'integer', minimum: 1 },
    warmupTokens: { type: 'integer', minimum: 0 },
    peers: { type: 'array', items: { enum: [...e2ePeers] }, uniqueItems: true },
  },
};

/** `n` prompt tokens drawn from the vocabulary: a model file's, special tokens left out; a
 *  synthetic model's ids are all plain. */
export function randomPrompt(model: Pick<LoadedModel, 'synthetic' | 'tokenizer' | 'config'>, n: number, rand: Rng): number[] {
  const prompt: number[] = [];
  if (model.synthetic) {
    while (prompt.length < n) prompt.push(Math.floor(rand() * model.config.vocabSize));
    return prompt;
  }
  const { tokenizer } = model;
  while (prompt.length < n) {
    const id = Math.floor(rand() * tokenizer.vocabSize);
    if (!tokenizer.isSpecial(id)) prompt.push(id);
  }
  return prompt;
}

/** One job of ours: the prefill, then the timed steps; `copyBandwidth` gives the GPU's copy
 *  bandwidth (GB/s) for the floor. */
export async function runEngineJob(job: Job, ctx: RunContext, copyBandwidth: () => Promise<number> = cudaCopyBandwidthGBs): Promise<Measurement[]> {
  const { engine } = ctx.model;
  const prompt = randomPrompt(ctx.model, job.contextLen, caseRng(job.seed, 'e2e', job.contextLen));
  const warmup = Number(job.params.warmup);
  const decode = Number(job.params.decode);
  // each new token is decoded but the last: warmup + decode steps take one token more
  const steps = warmup + decode + 1;
  const prefix = await ctx.preparePrefix(job.prefixKey, prompt, job.method, { reserve: job.contextLen + steps });
  const { stepMs, deviceMs } = await greedyDecode(engine, prefix.logits, { maxNewTokens: steps });
  const timedDevice = deviceMs.slice(warmup);
  if (ctx.device !== 'cuda' || timedDevice.length === 0 || !timedDevice.every(Number.isFinite))
    return timingMeasurements({ tokens: job.contextLen, seconds: prefix.seconds, reused: prefix.reused }, stepMs.slice(warmup));

  const copyGBs = await copyBandwidth();
  ctx.recordFacts({ copyBandwidthGBs: copyGBs, engine: `${engine.backend}: ${engine.deviceName}` });
  const rows = [
    ...(prefix.reused ? [] : prefillRows(job.contextLen, prefix.seconds, 'wall clock of the prefill call')),
    ...decodeLatencyRows(timedDevice, 'CUDA events around each replayed decode step'),
  ];
  const measured = rows.find((r) => r.metric === 'decode_ms_per_token')!.value;
  const kvLen = meanTimedKvLength(job.contextLen, warmup, decode);
  const floor = decodeFloor(ctx.model.config, job.method, kvLen, copyGBs, ctx.model.weights);
  rows.push(...floorRows({ ...floor, copyGBs, kvLen }, measured));
  const wall = timingMeasurements({ tokens: 0, seconds: 0, reused: true }, stepMs.slice(warmup))[0];
  if (wall) rows.push({ ...wall, metric: 'decode_wall_ms_per_token', detail: 'the host\'s wall clock around each decode call (launch and copy-back included)' });
  return rows;
}

export const e2eTask: TaskModule<E2eOptions> = {
  name: 'e2e',
  description: 'end-to-end decode latency (ms per token) of the whole model at each context length',
  optionsSchema,
  syntheticModels: true,
  defaults: (device) =>
    device === 'cuda'
      ? { contextLens: [8192, 16384, 32768], decodeTokens: 256, warmupTokens: 8, peers: [] }
      : { contextLens: [1024, 2048, 4096], decodeTokens: 16, warmupTokens: 2, peers: [] },
  flags: [
    { flags: '--context-lens <list>', description: 'context lengths in tokens', parse: 'intList', key: 'contextLens' },
    { flags: '--decode-tokens <n>', description: 'timed decode steps a job', parse: 'int', key: 'decodeTokens' },
    { flags: '--warmup-tokens <n>', description: 'untimed decode steps first', parse: 'int', key: 'warmupTokens' },
    { flags: '--peers <list>', description: `also time these in the same run (${e2ePeers.join(', ')}: scripts/peers/llama_decode.py; needs --model synthetic:<preset> and torch with CUDA, else a skip row)`,
      parse: 'stringList', key: 'peers', choices: [...e2ePeers] },
  ],
  examples: [
    'adamas-bench e2e --methods full,adamas --budgets 64,256',
    'adamas-bench e2e --context-lens 4096 --decode-tokens 32',
    'adamas-bench e2e --device cuda --model synthetic:llama2-7b --context-lens 8192,32768,131072 --budget 256 --peers torch',
  ],
  estimateWork: (job) => ({
    prefillTokens: job.contextLen,
    decodeSteps: Number(job.params.warmup ?? 0) + Number(job.params.decode),
    decodeFrom: job.contextLen,
    ...(job.peer !== undefined && { seconds: 30 }),
  }),

  plan(options: E2eOptions, _method: MethodSpec, ctx: PlanContext): PlannedJob[] {
    return options.contextLens.map((contextLen) => ({
      task: 'e2e',
      dataset: '',
      contextLen,
      params: { decode: options.decodeTokens, warmup: options.warmupTokens },
      prefixKey: `e2e:${contextLen}:${ctx.seed}`,
      seed: ctx.seed,
    }));
  },

  planPeers(options: E2eOptions, ctx: PlanContext): PlannedJob[] {
    const peers = options.peers ?? [];
    if (peers.length === 0) return [];
    if (ctx.model !== undefined && !isSyntheticModel(ctx.model))
      throw new UsageError(`--peers ${peers.join(',')}: the PyTorch peer times random weights of a synthetic model's shape, not '${ctx.model}'`,
        'run e2e with --model synthetic:llama2-7b (or synthetic:llama3-8b, synthetic:smollm2-135m)');
    return peers.flatMap((peer) => options.contextLens.map((contextLen) => ({
      task: 'e2e' as const,
      dataset: '',
      contextLen,
      params: { decode: options.decodeTokens, warmup: options.warmupTokens },
      prefixKey: '',
      seed: ctx.seed,
      peer,
    })));
  },

  async run(job: Job, ctx: RunContext): Promise<Measurement[]> {
    if (job.peer === 'torch') return runTorchPeer(job, ctx);
    if (job.peer !== undefined) throw new Error(`e2e has no peer '${job.peer}'`);
    return runEngineJob(job, ctx);
  },
};
