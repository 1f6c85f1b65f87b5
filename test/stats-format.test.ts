// How statistics print: estimates rounded to what their interval tells apart (bounds read 0 and
// 1, never 5.551e-17), signed differences, p-values; Wilson's exact endpoints; and the jitter
// rows and their summary.
import { describe, expect, it } from 'vitest';
import type { ResultRow } from '../src/results/columns.js';
import { decimalsFor, estimateParts, formatDifference, formatEstimate, formatP, formatValue } from '../src/stats/format.js';
import { formatJitter, jitterMeasurements, summarizeJitter } from '../src/stats/jitter.js';
import { wilsonInterval } from '../src/stats/summary.js';

describe('formatting estimates', () => {
  it('prints an accuracy with its interval and n', () => {
    const ci = wilsonInterval(7, 11)!;
    expect(formatEstimate({ value: 7 / 11, lo: ci.lo, hi: ci.hi, n: 11 })).toBe('0.64 [0.35, 0.85] n=11');
    expect(formatEstimate({ value: 0.5, lo: null, hi: null, n: 1 })).toBe('0.5 n=1');
    expect(estimateParts({ value: 64.3, lo: 52.1, hi: 75.04, n: 40 })).toEqual({ value: '64', interval: '[52, 75]', n: 'n=40' });
  });

  it('prints bounds at 0 and 1 as 0 and 1', () => {
    const none = wilsonInterval(0, 11)!;
    const all = wilsonInterval(11, 11)!;
    expect(none.lo).toBe(0);
    expect(all.hi).toBe(1);
    expect(formatEstimate({ value: 0, lo: none.lo, hi: none.hi, n: 11 })).toBe('0 [0, 0.26] n=11');
    expect(formatEstimate({ value: 1, lo: all.lo, hi: all.hi, n: 11 })).toBe('1 [0.74, 1] n=11');
    // a residue of floating-point arithmetic rounds away as well
    expect(formatEstimate({ value: 0.2, lo: 5.551e-17, hi: 0.52, n: 10 })).toBe('0.2 [0, 0.52] n=10');
    expect(formatEstimate({ value: 0.2, lo: -5.551e-17, hi: 0.52, n: 10 })).toBe('0.2 [0, 0.52] n=10');
  });

  it('keeps two significant digits of the width', () => {
    expect(decimalsFor(0.5)).toBe(2);
    expect(decimalsFor(0.05)).toBe(3);
    expect(decimalsFor(23)).toBe(0);
    expect(decimalsFor(2.3)).toBe(1);
    expect(decimalsFor(0)).toBeNull();
    expect(formatEstimate({ value: 12.345678, lo: 12.3, hi: 12.39, n: 3 })).toBe('12.346 [12.3, 12.39] n=3');
    // no width: four significant digits
    expect(formatEstimate({ value: 100, lo: 100, hi: 100, n: 5 })).toBe('100 [100, 100] n=5');
    expect(formatValue(1.23456e-7)).toBe('1.235e-7');
    expect(formatValue(0.000123)).toBe('1.230e-4');
  });

  it('signs differences and prints p-values', () => {
    expect(formatDifference(-0.3, -0.45, -0.15)).toBe('−0.3 [−0.45, −0.15]');
    expect(formatDifference(0.07, -0.03, 0.2)).toBe('+0.07 [−0.03, +0.2]');
    expect(formatDifference(0, 0, 0)).toBe('±0');
    expect(formatDifference(-1 / 3, -1, 0)).toBe('−0.3 [−1, 0]');
    expect(formatDifference(-0.25, null, null)).toBe('−0.25');
    expect(formatP(0.00016876)).toBe('0.00017');
    expect(formatP(0.1)).toBe('0.1');
    expect(formatP(3e-9)).toBe('3.0e-9');
    expect(formatP(1)).toBe('1');
  });
});

describe('threshold jitter', () => {
  it('marks a case stable only when the answers at -E, 0 and +E agree', () => {
    const ok = { answer: '12345', value: 1 };
    const wrong = { answer: '99', value: 0 };
    expect(jitterMeasurements(ok, ok, ok).map((m) => [m.metric, m.value])).toEqual([
      ['stability', 1], ['accuracy.threshold_plus', 1], ['accuracy.threshold_minus', 1],
    ]);
    expect(jitterMeasurements(ok, wrong, ok).map((m) => m.value)).toEqual([0, 0, 1]);
    // a different wrong answer is a change too
    expect(jitterMeasurements(wrong, { answer: '98', value: 0 }, wrong)[0].value).toBe(0);
    // a scored task: its own metric, the scores as they are
    expect(jitterMeasurements({ answer: 'a b', value: 50 }, { answer: 'a b', value: 50 }, { answer: 'a', value: 40 }, 'score')
      .map((m) => [m.metric, m.value])).toEqual([['stability', 0], ['score.threshold_plus', 50], ['score.threshold_minus', 40]]);
  });

  const row = (task: string, depth: number, metric: string, value: number): ResultRow => ({
    run_id: 'r', suite: 's', task, dataset: '', model: 'm', device: 'cpu', method: 'adamas', label: 'adamas@64', budget: '64',
    context_len: '2048', depth: String(depth), case: 'key=5;trial=0', metric, value: String(value), unit: '', n: '1', skip_layers: '2',
    gqa: 'query', sink: '', page_size: '', hadamard: 'true', distance: 'l1', bits: '2', granularity: 'token', thresholds: '-10,0,10',
    seed: '42', job_id: `j${depth}`, samples: '', detail: '',
  });

  it('summarises per method and length: changed answers, stability, accuracy at -E / 0 / +E', () => {
    const rows: ResultRow[] = [];
    // 11 depths: right at 0 on 7, at +E and -E on 5; 4 answers change
    for (let d = 0; d <= 10; d++) {
      const base = d < 7 ? 1 : 0;
      const jittered = d < 5 ? 1 : 0;
      rows.push(row('passkey', d * 10, 'accuracy', base), row('passkey', d * 10, 'accuracy.threshold_plus', jittered),
        row('passkey', d * 10, 'accuracy.threshold_minus', jittered));
      rows.push(row('passkey', d * 10, 'stability', d === 5 || d === 6 || d === 8 || d === 9 ? 0 : 1));
      // timings do not enter the summary
      rows.push({ ...row('passkey', d * 10, 'decode_ms_per_token', 40), unit: 'ms' });
    }
    const [s, ...more] = summarizeJitter(rows);
    expect(more).toEqual([]);
    expect(s).toMatchObject({ label: 'adamas@64', budget: 64, contextLen: 2048, metric: 'accuracy', changed: 4, cases: 11 });
    expect(s.stability.value).toBeCloseTo(7 / 11, 14);
    expect(s.atZero!.value).toBeCloseTo(7 / 11, 14);
    expect(s.atPlus!.value).toBeCloseTo(5 / 11, 14);
    expect(s.atMinus!.value).toBeCloseTo(5 / 11, 14);
    expect(formatJitter(s)).toBe('adamas@64 len=2048: 4 of 11 answers change under ±E; stability 0.64 [0.35, 0.85] n=11; accuracy at -E / 0 / +E: 5/11, 7/11, 5/11');
    expect(summarizeJitter(rows.filter((r) => r.metric !== 'stability'))).toEqual([]);
  });

  it('reports a scored task (RULER, LongBench) by its mean score at -E / 0 / +E', () => {
    const rows = [0, 1, 2, 3].flatMap((d) => [
      row('ruler', d, 'score', 100 * (d % 2)), row('ruler', d, 'score.threshold_plus', d === 1 ? 0 : 100 * (d % 2)),
      row('ruler', d, 'score.threshold_minus', 100 * (d % 2)), row('ruler', d, 'stability', d === 1 ? 0 : 1),
    ]);
    const [s] = summarizeJitter(rows);
    expect(s).toMatchObject({ metric: 'score', changed: 1, cases: 4 });
    expect(formatJitter(s)).toMatch(/^adamas@64 len=2048: 1 of 4 answers change under ±E; stability 0\.75 \[.*\] n=4; score at -E \/ 0 \/ \+E: 50, 50, 25$/);
  });
});
