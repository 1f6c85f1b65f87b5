// passkey: retrieval of a 5-digit key hidden at a depth of a filler text (the seed's protocol,
// with lengths in tokens). One job = one (length, depth, trial) case x one method; all methods and
// budgets of a case share the dense prefill of everything but the last 400 characters.
import type { MethodSpec } from '../../methods/spec.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import type { Job, Measurement } from '../../core/job.js';
import { OwnerCache } from '../common/cache.js';
import { gpuTrialsPerSetting } from '../common/case-counts.js';
import { checkContext } from '../common/limits.js';
import { detailJson, timingMeasurements } from '../common/measure.js';
import { caseRng, randInt } from '../common/rng.js';
import { decodeRuns, generateWithJitter, jitteredThresholds, jitterOf, thresholdJitterFlag, thresholdJitterSchema } from '../common/threshold-jitter.js';
import type { PlanContext, PlannedJob, RunContext, TaskModule } from '../types.js';
import { buildPasskeyCase, DEFAULT_NEW_TOKENS, DEFAULT_TAIL_CHARS, type PasskeyCase } from './prompt.js';
import { firstInteger } from './score.js';

export interface PasskeyOptions {
  /** Prompt lengths in tokens of the model's tokenizer. */
  lengths: number[];
  /** Needle depths in percent of the filler (0 = right after the task description). */
  depths: number[];
  /** Cases (each with its own key) per (length, depth). */
  trials: number;
  /** Characters at the end fed through the decode path (seed: 400). */
  tailChars: number;
  /** Greedy tokens generated (seed: 10). */
  maxNewTokens: number;
  /** Also decode each case with every threshold moved by +E and -E (src/tasks/common/threshold-jitter.ts). */
  thresholdJitter?: number;
}

export const passkeyOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['lengths', 'depths', 'trials'],
  properties: {
    lengths: { type: 'array', items: { type: 'integer', minimum: 64 }, minItems: 1, uniqueItems: true },
    depths: { type: 'array', items: { type: 'number', minimum: 0, maximum: 100 }, minItems: 1, uniqueItems: true },
    trials: { type: 'integer', minimum: 1 },
    tailChars: { type: 'integer', minimum: 1, default: DEFAULT_TAIL_CHARS },
    maxNewTokens: { type: 'integer', minimum: 1, default: DEFAULT_NEW_TOKENS },
    thresholdJitter: thresholdJitterSchema,
  },
} as const;

/** The key of a case: uniform in [1, 50000] (the seed's range), a function of (seed, case). */
export function passkeyKey(seed: number, length: number, depth: number, trial: number): number {
  return randInt(caseRng(seed, 'passkey', length, depth, trial), 1, 50000);
}

export function passkeyPrefixKey(seed: number, length: number, depth: number, trial: number, tailChars: number): string {
  return `passkey:len=${length}:depth=${depth}:trial=${trial}:seed=${seed}${tailChars === DEFAULT_TAIL_CHARS ? '' : `:tail=${tailChars}`}`;
}

const cases = new OwnerCache<Tokenizer, PasskeyCase>(4);

export const passkeyTask: TaskModule<PasskeyOptions> = {
  name: 'passkey',
  description: 'passkey retrieval: a key hidden at a depth of filler text, the question decoded through the sparse path',
  optionsSchema: passkeyOptionsSchema,
  // per method and length, GPU: 11 depths x 9 trials = 99 cases, an interval of about ±0.1; CPU:
  // 5 cases, about ±0.31 (the main job: 40 jobs at --budget 64, five minutes on two cores)
  defaults: (device) => {
    const protocol = { tailChars: DEFAULT_TAIL_CHARS, maxNewTokens: DEFAULT_NEW_TOKENS };
    if (device === 'cpu') return { lengths: [1024, 2048], depths: [0, 25, 50, 75, 100], trials: 1, ...protocol };
    const depths = [0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100];
    return { lengths: [2048, 4096, 8000], depths, trials: gpuTrialsPerSetting(depths.length), ...protocol };
  },
  flags: [
    { flags: '--lengths <list>', description: 'prompt lengths in tokens', parse: 'intList', key: 'lengths' },
    { flags: '--depths <list>', description: 'needle depths in percent', parse: 'numberList', key: 'depths' },
    { flags: '--trials <n>', description: 'cases (keys) per length and depth', parse: 'int', key: 'trials' },
    { flags: '--tail-chars <n>', description: 'prompt characters fed through the decode path (seed: 400)', parse: 'int', key: 'tailChars' },
    { flags: '--max-new-tokens <n>', description: 'greedy tokens generated (seed: 10)', parse: 'int', key: 'maxNewTokens' },
    thresholdJitterFlag,
  ],
  examples: [
    'adamas-bench passkey --budget 64',
    'adamas-bench passkey --lengths 2048 --depths 10,50,90 --trials 3 --methods full,adamas',
    'adamas-bench passkey --methods adamas --budget 64 --lengths 2048 --threshold-jitter 1e-5',
  ],
  estimateWork: (job) => {
    // the tail of the prompt (about 4 characters a token) goes through the decode path
    const tail = Math.round(Number(job.params.tailChars ?? DEFAULT_TAIL_CHARS) / 4);
    const head = Math.max(1, job.contextLen - tail);
    return { prefillTokens: head, decodeSteps: decodeRuns(job.params) * (tail + Number(job.params.maxNewTokens ?? DEFAULT_NEW_TOKENS)), decodeFrom: head };
  },

  plan(options: PasskeyOptions, method: MethodSpec, ctx: PlanContext): PlannedJob[] {
    const tailChars = options.tailChars ?? DEFAULT_TAIL_CHARS;
    const maxNewTokens = options.maxNewTokens ?? DEFAULT_NEW_TOKENS;
    checkContext('passkey', options.lengths, ctx.modelContextLength, maxNewTokens);
    if (options.thresholdJitter !== undefined) jitteredThresholds('passkey', method, options.thresholdJitter);
    const jobs: PlannedJob[] = [];
    for (const length of options.lengths)
      for (const depth of options.depths)
        for (let trial = 0; trial < options.trials; trial++) {
          const params: PlannedJob['params'] = { trial, key: passkeyKey(ctx.seed, length, depth, trial) };
          if (tailChars !== DEFAULT_TAIL_CHARS) params.tailChars = tailChars;
          if (maxNewTokens !== DEFAULT_NEW_TOKENS) params.maxNewTokens = maxNewTokens;
          if (options.thresholdJitter !== undefined) params.thresholdJitter = options.thresholdJitter;
          jobs.push({
            task: 'passkey',
            dataset: '',
            contextLen: length,
            depth,
            params,
            prefixKey: passkeyPrefixKey(ctx.seed, length, depth, trial, tailChars),
            seed: ctx.seed,
          });
        }
    return jobs;
  },

  async run(job: Job, ctx: RunContext): Promise<Measurement[]> {
    const { tokenizer, config } = ctx.model;
    const key = Number(job.params.key);
    const depth = job.depth ?? 0;
    const tailChars = Number(job.params.tailChars ?? DEFAULT_TAIL_CHARS);
    const maxNewTokens = Number(job.params.maxNewTokens ?? DEFAULT_NEW_TOKENS);
    checkContext('passkey', [job.contextLen], config.contextLength, maxNewTokens);
    const c = cases.get(tokenizer, `${job.contextLen}|${depth}|${key}|${tailChars}`, () =>
      buildPasskeyCase(tokenizer, job.contextLen, depth, key, tailChars));
    const judge = (g: { tokens: number[] }) => {
      const text = tokenizer.decode(g.tokens, { skipSpecial: true });
      const found = firstInteger(text);
      return { text, answer: String(found ?? ''), value: found === key ? 1 : 0 };
    };
    const { gen, jitter } = await generateWithJitter(ctx, {
      prefixKey: job.prefixKey,
      head: c.headIds,
      tail: c.tailIds,
      method: job.method,
      maxNewTokens,
      stopIds: tokenizer.eogIds,
    }, { task: 'passkey', e: jitterOf(job.params), metric: 'accuracy', judge });
    const answer = tokenizer.decode(gen.tokens, { skipSpecial: true });
    const found = firstInteger(answer);
    return [
      {
        metric: 'accuracy',
        value: found === key ? 1 : 0,
        unit: '',
        n: 1,
        detail: detailJson({ answer, key, found: found ?? null, promptTokens: c.tokens, decodedTail: c.tailIds.length }),
      },
      ...jitter,
      ...timingMeasurements(gen.prefill, gen.stepMs),
    ];
  },
};
