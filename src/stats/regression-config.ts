// configs/regression.json: the thresholds `adamas-bench compare` judges a run by (their shape and
// meaning: src/stats/thresholds.ts). The schema (draft-07, ajv) fills every default, so a config
// may give only what it changes.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { defaultTrialKeys } from './aggregate.js';
import { defaultSeedKeys } from './paired.js';
import type { MetricThreshold, RegressionConfig } from './thresholds.js';
import { packageRoot } from '../config/defaults.js';
import { readJsonFile, validateJson } from '../config/validate.js';

/** The package's configs/regression.json. */
export const regressionConfigPath = join(packageRoot, 'configs', 'regression.json');

const fraction = { type: 'number', exclusiveMinimum: 0, exclusiveMaximum: 1 } as const;
const nonNegative = { type: 'number', minimum: 0 } as const;

export const metricThresholdSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    direction: { enum: ['higher', 'lower'] },
    kind: { enum: ['accuracy', 'timing'] },
    abs: nonNegative,
    rel: nonNegative,
    min_effect: nonNegative,
    alpha: fraction,
    ignore: { type: 'boolean' },
  },
} as const;

export const regressionConfigSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    $schema: { type: 'string' },
    description: { type: 'string' },
    alpha: { ...fraction, default: 0.01 },
    min_effect: { ...nonNegative, default: 0.05 },
    test: { enum: ['mann-whitney', 'welch'], default: 'mann-whitney' },
    accuracy_alpha: { ...fraction, default: 0.05 },
    default_abs: { ...nonNegative, default: 0 },
    missing: { enum: ['regression', 'info'], default: 'regression' },
    trial_keys: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      uniqueItems: true,
      default: [...defaultTrialKeys],
    },
    seed_keys: {
      type: 'array',
      items: { type: 'string', minLength: 1 },
      uniqueItems: true,
      default: [...defaultSeedKeys],
    },
    metrics: {
      type: 'object',
      additionalProperties: metricThresholdSchema,
      propertyNames: { pattern: '^([a-z0-9_]+:)?[A-Za-z0-9_.]+$' },
      default: {},
    },
  },
} as const;

/**
 * Per-metric thresholds every config starts from; a config's `metrics` entries replace these key
 * by key, so a small config keeps sane tolerances for the metrics it does not mention. The
 * tolerances of accuracy metrics fail a comparison only for the same inputs on the CPU (where a
 * run is deterministic); elsewhere the paired test decides.
 * - accuracy (passkey, 0/1 per trial; also accuracy.threshold_plus/minus) and stability: 0.05
 *   absolute. CPU runs are bit-deterministic for a fixed build, but a different thread count or
 *   SIMD path reorders float sums and may flip a trial that sits on a knife edge; 0.05 tolerates
 *   one flip in 20+ trials of a measurement, not two.
 * - recall (top-k recall against full attention): 0.02 absolute.
 * - score (LongBench / RULER, 0..100): 1.0 point absolute.
 * - ppl, prefix_ppl: 1 % relative (reordering noise is ~1e-4; a broken selection moves
 *   perplexity by percents).
 * - mean_nll: 0.01 nats absolute (= 1 % of perplexity).
 * - eval_tokens: ignored (bookkeeping; a change of protocol already changes the case).
 * - timings: 5 % (decode latency, kernels), 10 % for prefill (one long measurement a job,
 *   sensitive to the machine's state).
 */
export const defaultMetricThresholds: Readonly<Record<string, MetricThreshold>> = {
  accuracy: { abs: 0.05 },
  stability: { abs: 0.05 },
  recall: { abs: 0.02 },
  score: { abs: 1.0 },
  ppl: { rel: 0.01 },
  prefix_ppl: { rel: 0.01 },
  mean_nll: { abs: 0.01 },
  eval_tokens: { ignore: true },
  latency_us: { min_effect: 0.05 },
  decode_ms_per_token: { min_effect: 0.05 },
  decode_tokens_per_s: { min_effect: 0.05 },
  prefill_s: { min_effect: 0.1 },
  prefill_tokens_per_s: { min_effect: 0.1 },
};

function withDefaultMetrics(config: RegressionConfig): RegressionConfig {
  return { ...config, metrics: { ...structuredClone(defaultMetricThresholds), ...config.metrics } };
}

/** The built-in thresholds (configs/regression.json holds the same, spelled out). */
export function defaultRegressionConfig(): RegressionConfig {
  return withDefaultMetrics(validateJson<RegressionConfig>(regressionConfigSchema, {}, 'built-in regression defaults'));
}

export function readRegressionConfig(path: string): RegressionConfig {
  return withDefaultMetrics(readJsonFile<RegressionConfig>(path, regressionConfigSchema));
}

/** `path`, else the package's configs/regression.json, else the built-in defaults; and where it came from. */
export function loadRegressionConfig(path?: string): { config: RegressionConfig; source: string } {
  if (path !== undefined) return { config: readRegressionConfig(path), source: path };
  if (existsSync(regressionConfigPath)) return { config: readRegressionConfig(regressionConfigPath), source: regressionConfigPath };
  return { config: defaultRegressionConfig(), source: 'built-in defaults' };
}
