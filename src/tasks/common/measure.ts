// Timing measurements every model task reports beside its score, with the units the report and
// the statistics expect (the same names as the e2e task's).
import { median } from 'simple-statistics';
import type { Measurement } from '../../core/job.js';

/** At most `max` samples, evenly spaced (raw samples of long runs would swamp the CSV). */
export function thin(samples: readonly number[], max = 1024): number[] {
  if (samples.length <= max) return samples.slice();
  const out: number[] = [];
  for (let i = 0; i < max; i++) out.push(samples[Math.floor((i * samples.length) / max)]!);
  return out;
}

const round = (x: number, digits = 4) => Number(x.toPrecision(digits + 2));

/**
 * prefill_s and prefill_tokens_per_s (only when the prefill ran for this job, not when it was
 * reused from the previous job of the same prefix), decode_ms_per_token (median of the steps, with
 * the steps as samples) and decode_tokens_per_s (1000 / that median).
 */
export function timingMeasurements(prefill: { tokens: number; seconds: number; reused: boolean }, stepMs: readonly number[]): Measurement[] {
  const out: Measurement[] = [];
  if (!prefill.reused && prefill.tokens > 0) {
    out.push({ metric: 'prefill_s', value: round(prefill.seconds), unit: 's', n: 1, detail: `${prefill.tokens} tokens` });
    if (prefill.seconds > 0)
      out.push({ metric: 'prefill_tokens_per_s', value: round(prefill.tokens / prefill.seconds), unit: 'tokens/s', n: 1 });
  }
  if (stepMs.length > 0) {
    const ms = median(stepMs as number[]);
    out.push({ metric: 'decode_ms_per_token', value: round(ms), unit: 'ms', n: stepMs.length, samples: thin(stepMs).map((x) => round(x)) });
    if (ms > 0) out.push({ metric: 'decode_tokens_per_s', value: round(1000 / ms), unit: 'tokens/s', n: stepMs.length });
  }
  return out;
}

/** A small JSON object for a measurement's detail column; long strings are cut. */
export function detailJson(fields: Record<string, unknown>, maxString = 600): string {
  return JSON.stringify(fields, (_k, v: unknown) =>
    typeof v === 'string' && v.length > maxString ? `${v.slice(0, maxString)}…[${v.length - maxString} more chars]` : v);
}
