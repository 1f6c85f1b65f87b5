// e2e: end-to-end decode latency of the whole model with each method. A dense prefill of
// `contextLen` seeded random tokens (shared by every method and budget, as the seed's random
// inputs_embeds), then greedy decode steps (model/greedy.ts), each timed; the median and every
// sample are kept.
import type { MethodSpec } from '../../methods/spec.js';
import { greedyDecode } from '../../model/greedy.js';
import type { Job, Measurement } from '../../core/job.js';
import { timingMeasurements } from '../common/measure.js';
import { caseRng } from '../common/rng.js';
import type { PlanContext, PlannedJob, RunContext, TaskModule } from '../types.js';

export interface E2eOptions {
  contextLens: number[];
  /** Timed decode steps a job. */
  decodeTokens: number;
  /** Untimed decode steps before them (caches, thread pools, page faults). */
  warmupTokens: number;
}

const optionsSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    contextLens: { type: 'array', items: { type: 'integer', minimum: 2 }, minItems: 1 },
    decodeTokens: { type: 'integer', minimum: 1 },
    warmupTokens: { type: 'integer', minimum: 0 },
  },
};

export const e2eTask: TaskModule<E2eOptions> = {
  name: 'e2e',
  description: 'end-to-end decode latency (ms per token) of the whole model at each context length',
  optionsSchema,
  defaults: (device) =>
    device === 'cuda'
      ? { contextLens: [8192, 16384, 32768], decodeTokens: 256, warmupTokens: 8 }
      : { contextLens: [1024, 2048, 4096], decodeTokens: 16, warmupTokens: 2 },
  flags: [
    { flags: '--context-lens <list>', description: 'context lengths in tokens', parse: 'intList', key: 'contextLens' },
    { flags: '--decode-tokens <n>', description: 'timed decode steps a job', parse: 'int', key: 'decodeTokens' },
    { flags: '--warmup-tokens <n>', description: 'untimed decode steps first', parse: 'int', key: 'warmupTokens' },
  ],
  examples: ['adamas-bench e2e --methods full,adamas --budgets 64,256', 'adamas-bench e2e --context-lens 4096 --decode-tokens 32'],
  estimateWork: (job) => ({
    prefillTokens: job.contextLen,
    decodeSteps: Number(job.params.warmup ?? 0) + Number(job.params.decode),
    decodeFrom: job.contextLen,
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

  async run(job: Job, ctx: RunContext): Promise<Measurement[]> {
    const { engine, tokenizer } = ctx.model;
    const rand = caseRng(job.seed, 'e2e', job.contextLen);
    const prompt: number[] = [];
    while (prompt.length < job.contextLen) {
      const id = Math.floor(rand() * tokenizer.vocabSize);
      if (!tokenizer.isSpecial(id)) prompt.push(id);
    }
    const prefix = await ctx.preparePrefix(job.prefixKey, prompt, job.method);
    const warmup = Number(job.params.warmup);
    // each new token is decoded but the last: warmup + decode steps take one token more
    const { stepMs } = await greedyDecode(engine, prefix.logits, { maxNewTokens: warmup + Number(job.params.decode) + 1 });
    return timingMeasurements({ tokens: job.contextLen, seconds: prefix.seconds, reused: prefix.reused }, stepMs.slice(warmup));
  },
};
