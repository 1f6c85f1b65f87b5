// longbench: LongBench v1 tasks with the seed's decoding protocol. One job = one sample x one
// maximum length x one method: the prompt is truncated in the middle to the length, the chat
// template applied where pred.py applies it, everything but the question part (at most the last
// 100 characters) prefilled densely and shared by all methods and budgets (prefix key per dataset,
// sample and length), the question decoded token by token, then greedy generation up to the
// task's maximum of new tokens. The score is the sample's LongBench metric x 100.
import { UsageError } from '../../core/errors.js';
import type { MethodSpec } from '../../methods/spec.js';
import { chatPrompt } from '../../model/model.js';
import type { Tokenizer } from '../../model/tokenizer.js';
import type { Job, Measurement } from '../../core/job.js';
import { OwnerCache } from '../common/cache.js';
import { gpuCasesPerCell } from '../common/case-counts.js';
import { checkContext, dataRoot } from '../common/limits.js';
import { detailJson, timingMeasurements } from '../common/measure.js';
import { decodeRuns, generateWithJitter, jitteredThresholds, jitterOf, thresholdJitterFlag, thresholdJitterSchema } from '../common/threshold-jitter.js';
import type { PlanContext, PlannedJob, RunContext, TaskModule } from '../types.js';
import { isLongBenchDataset, loadLongBenchConfig, LONGBENCH_DATASETS, type LongBenchDataset } from './config.js';
import { chooseSamples, dataLines, findDataFile, hasDataFile, loadSample, parseSample } from './data.js';
import { metrics, sampleScore } from './metrics.js';
import { buildPrompt, splitQuestion, type BuiltPrompt } from './prompt.js';

export interface LongBenchOptions {
  datasets: LongBenchDataset[];
  /** Maximum prompt lengths in tokens (truncation in the middle), one job set each. */
  lengths: number[];
  /** Samples per dataset, chosen by the seed (all when larger than the dataset). */
  samples: number;
  /** Apply the model's chat template where pred.py applies one (default true). */
  chatTemplate: boolean;
  /** Cap on the task's maximum of new tokens (e.g. to keep gov_report short on a CPU). */
  maxNewTokens?: number;
  /** Also decode each case with every threshold moved by +E and -E (src/tasks/common/threshold-jitter.ts). */
  thresholdJitter?: number;
}

export const longBenchOptionsSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['datasets', 'lengths', 'samples'],
  properties: {
    datasets: { type: 'array', items: { enum: [...LONGBENCH_DATASETS] }, minItems: 1, uniqueItems: true },
    lengths: { type: 'array', items: { type: 'integer', minimum: 128 }, minItems: 1, uniqueItems: true },
    samples: { type: 'integer', minimum: 1 },
    chatTemplate: { type: 'boolean', default: true },
    maxNewTokens: { type: 'integer', minimum: 1 },
    thresholdJitter: thresholdJitterSchema,
  },
};

const planned = new Map<string, { index: number; id: string }[]>();

function plannedSamples(path: string, dataset: string, k: number, seed: number): { index: number; id: string }[] {
  const key = `${path}|${k}|${seed}`;
  let got = planned.get(key);
  if (!got) {
    const lines = dataLines(path);
    got = chooseSamples(lines.length, k, seed, dataset).map((index) => ({
      index,
      id: parseSample(lines[index]!, `${path} line ${index + 1}`)._id,
    }));
    planned.set(key, got);
  }
  return got;
}

const prompts = new OwnerCache<Tokenizer, BuiltPrompt>(4);

export const longBenchTask: TaskModule<LongBenchOptions> = {
  name: 'longbench',
  description: 'LongBench v1 (local data): prompts truncated in the middle, question decoded through the sparse path, official metrics',
  optionsSchema: longBenchOptionsSchema,
  defaults: (device) => {
    const paper = [...loadLongBenchConfig().paperDatasets];
    // samples per data set: GPU 92, an interval of about ±10 points; CPU 2 (a smoke run)
    return device === 'cuda'
      ? { datasets: paper, lengths: [4096], samples: gpuCasesPerCell(), chatTemplate: true }
      : { datasets: paper, lengths: [1024], samples: 2, chatTemplate: true };
  },
  flags: [
    { flags: '--datasets <list>', description: 'LongBench tasks (default: the six of the paper)', parse: 'stringList', key: 'datasets', choices: [...LONGBENCH_DATASETS] },
    { flags: '--lengths <list>', description: 'maximum prompt lengths in tokens (truncation in the middle)', parse: 'intList', key: 'lengths' },
    { flags: '--samples <n>', description: 'samples per dataset, chosen by the seed', parse: 'int', key: 'samples' },
    { flags: '--max-new-tokens <n>', description: "cap on each task's maximum of new tokens", parse: 'int', key: 'maxNewTokens' },
    thresholdJitterFlag,
  ],
  examples: ['adamas-bench longbench --data-dir ~/data --budget 64', 'adamas-bench longbench --data-dir ~/data --datasets qasper,hotpotqa --lengths 2048 --samples 20'],
  estimateWork: (job) => {
    const gen = Math.min(loadLongBenchConfig().dataset2maxlen[job.dataset as LongBenchDataset] ?? 64, Number(job.params.maxNewTokens ?? Infinity));
    // the question is decoded (about 25 tokens), and answers stop at about half the limit
    return { prefillTokens: job.contextLen, decodeSteps: decodeRuns(job.params) * (25 + gen / 2), decodeFrom: job.contextLen };
  },

  plan(options: LongBenchOptions, method: MethodSpec, ctx: PlanContext): PlannedJob[] {
    const cfg = loadLongBenchConfig();
    if (options.thresholdJitter !== undefined) jitteredThresholds('longbench', method, options.thresholdJitter);
    const root = dataRoot(ctx.dataDir);
    const jobs: PlannedJob[] = [];
    for (const dataset of options.datasets) {
      if (!isLongBenchDataset(dataset)) throw new UsageError(`longbench: unknown dataset '${dataset}'`, `datasets: ${LONGBENCH_DATASETS.join(', ')}`);
      const gen = Math.min(cfg.dataset2maxlen[dataset], options.maxNewTokens ?? Infinity);
      checkContext(`longbench (${dataset})`, options.lengths, ctx.modelContextLength, gen);
      const samples = ctx.dryRun && !hasDataFile(root, dataset)
        ? Array.from({ length: options.samples }, (_, i) => ({ index: i, id: 'not-downloaded' }))  // counts only
        : plannedSamples(findDataFile(root, dataset), dataset, options.samples, ctx.seed);
      for (const length of options.lengths)
        for (const s of samples) {
          const params: PlannedJob['params'] = { sample: s.index, id: s.id };
          if (options.chatTemplate === false) params.chat = false;
          if (options.maxNewTokens !== undefined) params.maxNewTokens = options.maxNewTokens;
          if (options.thresholdJitter !== undefined) params.thresholdJitter = options.thresholdJitter;
          jobs.push({
            task: 'longbench',
            dataset,
            contextLen: length,
            params,
            prefixKey: `longbench:${dataset}:sample=${s.index}:len=${length}${options.chatTemplate === false ? ':nochat' : ''}`,
            seed: ctx.seed,
          });
        }
    }
    return jobs;
  },

  async run(job: Job, ctx: RunContext): Promise<Measurement[]> {
    const cfg = loadLongBenchConfig();
    const model = ctx.model;
    const { tokenizer } = model;
    const dataset = job.dataset;
    if (!isLongBenchDataset(dataset)) throw new UsageError(`longbench: unknown dataset '${dataset}'`);
    const maxNew = Math.min(cfg.dataset2maxlen[dataset], Number(job.params.maxNewTokens ?? Infinity));
    checkContext(`longbench (${dataset})`, [job.contextLen], model.config.contextLength, maxNew);
    const path = findDataFile(dataRoot(ctx.dataDir), dataset);
    const index = Number(job.params.sample);
    const sample = loadSample(path, index);
    if (job.params.id !== undefined && sample._id !== String(job.params.id)) {
      throw new UsageError(`longbench: ${path} line ${index + 1} has _id ${sample._id}, but the job was planned for ${String(job.params.id)} (the data changed since planning)`);
    }
    const useChat = job.params.chat !== false && model.chatTemplate !== undefined;
    const built = prompts.get(tokenizer, `${dataset}|${index}|${job.contextLen}|${useChat}`, () =>
      buildPrompt(cfg, dataset, sample, tokenizer, job.contextLen, useChat ? (user) => chatPrompt(model, user) : undefined));
    const { head, question } = splitQuestion(cfg, dataset, built.text);
    const headIds = head.length > 0 ? tokenizer.encode(head) : [];
    const questionIds = tokenizer.encode(question, { addBos: false });
    const stopIds = [...tokenizer.eogIds];
    if (cfg.stopOnNewline.includes(dataset)) {
      const nl = tokenizer.encode('\n', { addBos: false }).at(-1);
      if (nl !== undefined) stopIds.push(nl);
    }
    const metricName = cfg.dataset2metric[dataset];
    const judge = (g: { tokens: number[] }) => {
      const text = tokenizer.decode(g.tokens, { skipSpecial: true });
      return { text, answer: text, value: 100 * sampleScore(metrics[metricName], text, sample.answers, sample.all_classes ?? [], cfg.firstLineOnly.includes(dataset)) };
    };
    const { gen, jitter } = await generateWithJitter(ctx,
      { prefixKey: job.prefixKey, head: headIds, tail: questionIds, method: job.method, maxNewTokens: maxNew, stopIds },
      { task: 'longbench', e: jitterOf(job.params), metric: 'score', judge });
    const { answer: prediction, value: score } = judge(gen);
    return [
      {
        metric: 'score',
        value: score,
        unit: '',
        n: 1,
        detail: detailJson({
          prediction,
          answers: sample.answers.slice(0, 5),
          id: sample._id,
          metric: metricName,
          promptTokens: headIds.length + questionIds.length,
          truncated: built.truncated,
          chat: built.chat,
        }, 4000),
      },
      ...jitter,
      ...timingMeasurements(gen.prefill, gen.stepMs),
    ];
  },
};
