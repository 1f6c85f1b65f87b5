// ruler: RULER-style synthetic tasks (needle retrieval, variable tracking, common words), made
// offline from the seed, sized in tokens of the model's tokenizer. One job = one sample x length x
// method; the haystack is prefilled densely (shared by all methods and budgets), the question and
// answer prefix decoded token by token, then greedy generation; score = string_match_all x 100.
import { UsageError } from '../../core/errors.js';
import type { MethodSpec } from '../../methods/spec.js';
import { chatPrompt } from '../../model/model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import type { Job, Measurement } from '../../core/job.js';
import { OwnerCache } from '../common/cache.js';
import { gpuCasesPerCell } from '../common/case-counts.js';
import { checkContext } from '../common/limits.js';
import { detailJson, timingMeasurements } from '../common/measure.js';
import { decodeRuns, generateWithJitter, jitteredThresholds, jitterOf, thresholdJitterFlag, thresholdJitterSchema } from '../common/threshold-jitter.js';
import type { PlanContext, PlannedJob, RunContext, TaskModule } from '../types.js';
import { RULER_SUBTASKS, rulerCase, rulerCaseSeed, type RulerSubtask } from './cases.js';
import { buildRulerPrompt, fitVtExampleNoise, type RulerPrompt } from './prompt.js';
import { postprocessPrediction, stringMatchAll } from './score.js';

export interface RulerOptions {
  subtasks: RulerSubtask[];
  /** Lengths in tokens: prompt plus the tokens to generate (RULER's max_seq_length). */
  lengths: number[];
  /** Samples per (subtask, length). */
  samples: number;
  /** Wrap the task in the model's chat template (RULER uses the model's template). */
  chatTemplate: boolean;
  /** Cap on the task's tokens to generate (niah 128, vt 30, cwe 120), e.g. for quick runs. */
  maxNewTokens?: number;
  /** Also decode each case with every threshold moved by +E and -E (src/tasks/common/threshold-jitter.ts). */
  thresholdJitter?: number;
}

export const rulerOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['subtasks', 'lengths', 'samples'],
  properties: {
    subtasks: { type: 'array', items: { enum: [...RULER_SUBTASKS] }, minItems: 1, uniqueItems: true },
    lengths: { type: 'array', items: { type: 'integer', minimum: 256 }, minItems: 1, uniqueItems: true },
    samples: { type: 'integer', minimum: 1 },
    chatTemplate: { type: 'boolean', default: true },
    maxNewTokens: { type: 'integer', minimum: 1 },
    thresholdJitter: thresholdJitterSchema,
  },
};

const prompts = new OwnerCache<Tokenizer, RulerPrompt>(4);

function isSubtask(s: string): s is RulerSubtask {
  return (RULER_SUBTASKS as readonly string[]).includes(s);
}

export const rulerTask: TaskModule<RulerOptions> = {
  name: 'ruler',
  description: 'RULER-style synthetic tasks (needles, variable tracking, common words) made offline from the seed',
  optionsSchema: rulerOptionsSchema,
  // samples per subtask and length: GPU 92, an interval of about ±10 points; CPU 1 (a smoke run)
  defaults: (device) =>
    device === 'cuda'
      ? { subtasks: [...RULER_SUBTASKS], lengths: [4096, 8192], samples: gpuCasesPerCell(), chatTemplate: true }
      : { subtasks: [...RULER_SUBTASKS], lengths: [1024], samples: 1, chatTemplate: true },
  flags: [
    { flags: '--subtasks <list>', description: 'RULER tasks', parse: 'stringList', key: 'subtasks', choices: [...RULER_SUBTASKS] },
    { flags: '--lengths <list>', description: 'lengths in tokens (prompt + tokens to generate)', parse: 'intList', key: 'lengths' },
    { flags: '--samples <n>', description: 'samples per subtask and length', parse: 'int', key: 'samples' },
    { flags: '--max-new-tokens <n>', description: "cap on the task's tokens to generate", parse: 'int', key: 'maxNewTokens' },
    thresholdJitterFlag,
  ],
  examples: ['adamas-bench ruler --budget 64', 'adamas-bench ruler --subtasks niah_single,vt --lengths 2048 --samples 5'],
  estimateWork: (job) => ({ prefillTokens: job.contextLen, decodeSteps: decodeRuns(job.params) * (40 + Math.min(64, Number(job.params.maxNewTokens ?? 64))), decodeFrom: job.contextLen }),

  plan(options: RulerOptions, method: MethodSpec, ctx: PlanContext): PlannedJob[] {
    checkContext('ruler', options.lengths, ctx.modelContextLength);
    if (options.thresholdJitter !== undefined) jitteredThresholds('ruler', method, options.thresholdJitter);
    const jobs: PlannedJob[] = [];
    for (const subtask of options.subtasks) {
      if (!isSubtask(subtask)) throw new UsageError(`ruler: unknown subtask '${subtask}'`, `subtasks: ${RULER_SUBTASKS.join(', ')}`);
      for (const length of options.lengths)
        for (let sample = 0; sample < options.samples; sample++) {
          const params: PlannedJob['params'] = { sample };
          if (options.chatTemplate === false) params.chat = false;
          if (options.maxNewTokens !== undefined) params.maxNewTokens = options.maxNewTokens;
          if (options.thresholdJitter !== undefined) params.thresholdJitter = options.thresholdJitter;
          jobs.push({
            task: 'ruler',
            dataset: subtask,
            contextLen: length,
            params,
            prefixKey: `ruler:${subtask}:len=${length}:sample=${sample}:seed=${ctx.seed}${options.chatTemplate === false ? ':nochat' : ''}`,
            seed: ctx.seed,
          });
        }
    }
    return jobs;
  },

  async run(job: Job, ctx: RunContext): Promise<Measurement[]> {
    const model = ctx.model;
    const { tokenizer } = model;
    const subtask = job.dataset;
    if (!isSubtask(subtask)) throw new UsageError(`ruler: unknown subtask '${subtask}'`);
    checkContext('ruler', [job.contextLen], model.config.contextLength);
    const sampleIndex = Number(job.params.sample ?? 0);
    const useChat = job.params.chat !== false && model.chatTemplate !== undefined;
    const chat = useChat ? (user: string) => chatPrompt(model, user) : undefined;
    const cap = job.params.maxNewTokens === undefined ? undefined : Number(job.params.maxNewTokens);
    const p = prompts.get(tokenizer, `${subtask}|${job.contextLen}|${sampleIndex}|${job.seed}|${useChat}|${cap}`, () => {
      const exampleNoise = subtask === 'vt' ? fitVtExampleNoise(tokenizer, rulerCaseSeed(job.seed, subtask, job.contextLen, sampleIndex), job.contextLen) : 0;
      return buildRulerPrompt(tokenizer, rulerCase(job.seed, subtask, job.contextLen, sampleIndex, exampleNoise), job.contextLen, chat, cap);
    });
    const judge = (g: { tokens: number[] }) => {
      const text = tokenizer.decode(g.tokens, { skipSpecial: true });
      const answer = postprocessPrediction(text);
      return { text, answer, value: 100 * stringMatchAll(answer, p.outputs) };
    };
    const { gen, jitter } = await generateWithJitter(ctx, {
      prefixKey: job.prefixKey,
      head: p.headIds,
      tail: p.tailIds,
      method: job.method,
      maxNewTokens: p.maxNewTokens,
      stopIds: tokenizer.eogIds,
    }, { task: 'ruler', e: jitterOf(job.params), metric: 'score', judge });
    const { answer: prediction, value: score } = judge(gen);
    return [
      {
        metric: 'score',
        value: score,
        unit: '',
        n: 1,
        detail: detailJson({ prediction, outputs: p.outputs, promptTokens: p.tokens, haystack: p.n, chat: useChat }, 2000),
      },
      ...jitter,
      ...timingMeasurements(gen.prefill, gen.stepMs),
    ];
  },
};
