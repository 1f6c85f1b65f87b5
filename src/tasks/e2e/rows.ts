// The e2e task's rows on the GPU, for our engine and its PyTorch peer alike: the per-token decode
// latency (median, p10 and p90 over the timed steps, every step a sample), tokens/s, and the bytes
// floor of the step with the ratio floor / measured (1 would be a step at the copy bandwidth).
import { median, quantile } from 'simple-statistics';
import type { Measurement } from '../../core/job.js';
import { formatBytes } from '../../model/footprint.js';
import { thin } from '../common/measure.js';

const round = (x: number, digits = 4) => Number(x.toPrecision(digits + 2));

/** decode_ms_per_token (median, the steps as samples), its p10 and p90, decode_tokens_per_s. */
export function decodeLatencyRows(ms: readonly number[], how: string): Measurement[] {
  if (ms.length === 0) return [];
  const xs = [...ms];
  const m = median(xs);
  const p10 = quantile(xs, 0.1);
  const p90 = quantile(xs, 0.9);
  const n = xs.length;
  return [
    { metric: 'decode_ms_per_token', value: round(m), unit: 'ms', n, samples: thin(xs).map((x) => round(x)),
      detail: `${how}; median of ${n} steps, p10 ${round(p10)} ms, p90 ${round(p90)} ms` },
    { metric: 'decode_ms_per_token.p10', value: round(p10), unit: 'ms', n },
    { metric: 'decode_ms_per_token.p90', value: round(p90), unit: 'ms', n },
    ...(m > 0 ? [{ metric: 'decode_tokens_per_s', value: round(1000 / m), unit: 'tokens/s', n }] : []),
  ];
}

export interface FloorFacts {
  /** Bytes a step must read (weights + the K and V it attends to). */
  bytes: number;
  weightBytes?: number;
  kvBytes?: number;
  /** The floor in ms at the copy bandwidth. */
  floorMs: number;
  copyGBs: number;
  /** At which KV length. */
  kvLen: number;
}

/** bytes_per_token, floor_ms_per_token and floor_ratio (floor / measured median). */
export function floorRows(f: FloorFacts, measuredMs: number): Measurement[] {
  const parts = f.weightBytes !== undefined && f.kvBytes !== undefined
    ? ` (weights ${formatBytes(f.weightBytes)} + K and V ${formatBytes(f.kvBytes)})` : '';
  return [
    { metric: 'bytes_per_token', value: Math.round(f.bytes), unit: 'bytes', n: 1,
      detail: `read at least once a step at kv_len ${round(f.kvLen)}${parts}` },
    { metric: 'floor_ms_per_token', value: round(f.floorMs), unit: 'ms', n: 1,
      detail: `bytes_per_token at the copy bandwidth ${round(f.copyGBs)} GB/s (device-to-device copy, bytes read + written per second)` },
    ...(measuredMs > 0 ? [{ metric: 'floor_ratio', value: round(f.floorMs / measuredMs), unit: '', n: 1,
      detail: 'floor_ms_per_token / median decode_ms_per_token: 1 is a step at the copy bandwidth' }] : []),
  ];
}

/** prefill_s and prefill_tokens_per_s of a prefill that ran for this job. */
export function prefillRows(tokens: number, seconds: number, how: string): Measurement[] {
  return [
    { metric: 'prefill_s', value: round(seconds), unit: 's', n: 1, detail: `${tokens} tokens; ${how}` },
    ...(seconds > 0 ? [{ metric: 'prefill_tokens_per_s', value: round(tokens / seconds), unit: 'tokens/s', n: 1 }] : []),
  ];
}
