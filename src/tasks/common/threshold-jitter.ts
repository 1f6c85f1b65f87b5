// --threshold-jitter E, for the accuracy tasks: each case of a method with thresholds (Adamas'
// bucket edges) is decoded three times, with every threshold moved by +E, by -E and as given, and
// the case reports whether its answer (what the task scores: passkey's first integer, RULER's
// post-processed prediction, LongBench's prediction) stayed the same (src/stats/jitter.ts).
// The three runs share the dense prefill: the worker keeps the prefix's KV cache, so each rerun
// costs only the decode.
import { UsageError } from '../../core/errors.js';
import type { Measurement } from '../../core/job.js';
import { defaultThresholds } from '../../methods/knobs.js';
import { methodLabel, type MethodSpec } from '../../methods/spec.js';
import { formatValue } from '../../stats/format.js';
import { jitterMeasurements, type JitterRun } from '../../stats/jitter.js';
import type { RunContext, TaskFlag } from '../types.js';
import { generateWithTail, type GenerationRequest, type GenerationResult } from './decoding-protocol.js';
import { detailJson } from './measure.js';

export const thresholdJitterFlag: TaskFlag = {
  flags: '--threshold-jitter <E>',
  description: 'also decode each case of adamas with every threshold moved by +E and by -E, and report how many answers change (stability)',
  parse: 'number',
  key: 'thresholdJitter',
};

/** Its entry in a task's options schema. */
export const thresholdJitterSchema = { type: 'number', exclusiveMinimum: 0 } as const;

/** Spacing of float32 numbers at x (the engine holds thresholds as float32). */
function float32Spacing(x: number): number {
  return x === 0 ? 2 ** -149 : 2 ** (Math.floor(Math.log2(Math.abs(x))) - 23);
}

/**
 * The method's thresholds (explicit, else the defaults of its bits) moved by +E and by -E. Throws a
 * usage error naming the flag when the method has no thresholds, learns them ('auto'), or when E
 * is too small to move one of them in float32.
 */
export function jitteredThresholds(task: string, method: MethodSpec, e: number): { plus: number[]; minus: number[] } {
  const flag = `${task} --threshold-jitter`;
  if (!(e > 0 && Number.isFinite(e))) throw new UsageError(`${flag}: E must be a positive number (got ${e})`);
  if (method.method !== 'adamas')
    throw new UsageError(`${flag} moves selection thresholds, and ${methodLabel(method)} has none (only adamas has)`,
      'run it with --methods adamas');
  if (method.thresholds === 'auto')
    throw new UsageError(`${flag} cannot move --thresholds auto: those thresholds are chosen inside the engine, per layer and head`,
      'jitter fixed thresholds: leave --thresholds out (the defaults of --bits) or give them, e.g. --thresholds -10,0,10');
  const base = method.thresholds ?? defaultThresholds(method.bits);
  for (const t of base) {
    if (Math.fround(t + e) === Math.fround(t) || Math.fround(t - e) === Math.fround(t))
      throw new UsageError(`${flag} ${e} does not move the threshold ${t}: the engine holds thresholds as float32, whose spacing at ${t} is ${formatValue(float32Spacing(t))}`,
        `use an E of at least ${formatValue(float32Spacing(t))}`);
  }
  return { plus: base.map((t) => t + e), minus: base.map((t) => t - e) };
}

export interface JitteredGeneration {
  /** The unperturbed run, its prefill being the one the three runs shared. */
  gen: GenerationResult;
  /** stability and the score at +E and -E, for the task's measurements. */
  jitter: Measurement[];
}

/** A run as the task judges it: the answer its score reads, the score, and the generated text. */
export interface JudgedRun extends JitterRun {
  text: string;
}

export interface JitterRequest {
  task: string;
  /** E: how far every threshold moves; undefined: no jitter, one plain run. */
  e: number | undefined;
  /** The task's score metric ('accuracy', 'score'): the jitter rows are named after it. */
  metric: string;
  /** A run's answer, score and text. */
  judge(gen: GenerationResult): JudgedRun;
}

/**
 * Decodes the request with the thresholds moved by +E, by -E, then as given (only as given, and no
 * jitter rows, without an E). The unperturbed run goes last, so that what the worker records about
 * the job's decode steps (--measure-recall, --record-selection: cleared when the method is set)
 * and the job's decode timings are its own.
 */
export async function generateWithJitter(ctx: RunContext, req: GenerationRequest, jitter: JitterRequest): Promise<JitteredGeneration> {
  const e = jitter.e;
  if (e === undefined) return { gen: await generateWithTail(ctx, req), jitter: [] };
  const moved = jitteredThresholds(jitter.task, req.method, e);
  const plus = await generateWithTail(ctx, { ...req, method: { ...req.method, thresholds: moved.plus } });
  const minus = await generateWithTail(ctx, { ...req, method: { ...req.method, thresholds: moved.minus } });
  const base = await generateWithTail(ctx, req);
  const [b, p, m] = [base, plus, minus].map(jitter.judge);
  const rows: Measurement[] = jitterMeasurements(b, p, m, jitter.metric);
  rows[0] = { ...rows[0], detail: detailJson({ e, answer: b.answer, plus: p.answer, minus: m.answer, plusText: p.text, minusText: m.text }) };
  return { gen: { ...base, prefill: plus.prefill }, jitter: rows };
}

/** The jitter of a job's params, when it has one. */
export function jitterOf(params: Readonly<Record<string, unknown>>): number | undefined {
  return params.thresholdJitter === undefined ? undefined : Number(params.thresholdJitter);
}

/** How many decodes a job runs: 3 with a jitter (+E, -E, as given), else 1 (for --dry-run's estimate). */
export function decodeRuns(params: Readonly<Record<string, unknown>>): number {
  return jitterOf(params) === undefined ? 1 : 3;
}
