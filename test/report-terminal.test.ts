// What a run prints on the terminal: the summary (each accuracy with its interval and n, timings
// as median [IQR], the stability lines of a threshold jitter), ablate's paired table (exact
// McNemar per cell, Holm over the cells, rows that cannot be paired said so), and the interval a
// --dry-run cell can expect from its planned cases.
import { describe, expect, it } from 'vitest';
import type { Job } from '../src/core/job.js';
import { makeSpec } from '../src/methods/spec.js';
import { collectAblation, formatAblation } from '../src/report/ablation.js';
import { formatPlan, plannedIntervalLine } from '../src/report/plan-table.js';
import { formatSummary, summarize } from '../src/report/run-summary.js';
import type { ResultRow } from '../src/results/columns.js';
import { wilsonInterval } from '../src/stats/summary.js';

function row(fields: Partial<ResultRow> & Pick<ResultRow, 'label' | 'metric' | 'value'>): ResultRow {
  const budget = /@(\d+)$/.exec(fields.label)?.[1] ?? '';
  return {
    run_id: 'r', suite: 's', task: 'passkey', dataset: '', model: 'm', device: 'cpu', method: fields.label.replace(/[[@].*$/, ''), budget,
    context_len: '1024', depth: '0', case: 'trial=0', unit: '', n: '1', skip_layers: '2', gqa: 'query', sink: '', page_size: '',
    hadamard: 'true', distance: 'l1', bits: '2', granularity: 'token', thresholds: '', seed: '42', job_id: 'j', samples: '', detail: '',
    ...fields,
  } as ResultRow;
}

/** Pass/fail rows of one label at one length: `passed` of `cases` depths right. */
function cases(label: string, len: number, passed: number, total: number, extra: Partial<ResultRow> = {}): ResultRow[] {
  return Array.from({ length: total }, (_, d) => row({ label, metric: 'accuracy', value: d < passed ? '1' : '0', context_len: String(len), depth: String(d), ...extra }));
}

describe('the run summary', () => {
  it('shows each accuracy as its mean, 95% Wilson interval and n, per method and length', () => {
    const rows = [...cases('full', 1024, 5, 5), ...cases('full', 2048, 4, 5), ...cases('adamas@64', 1024, 1, 5), ...cases('quest@64', 2048, 0, 5),
      row({ label: 'full', metric: 'decode_ms_per_token', value: '40', unit: 'ms', n: '3', samples: '39 40 41' })];
    const [t] = summarize(rows);
    expect(t.statistic).toBe('mean [95% Wilson interval]');
    const w = wilsonInterval(4, 5)!;
    expect(t.rows[0].cells[1]).toEqual({ value: 0.8, lo: w.lo, hi: w.hi, n: 5 });
    expect(formatSummary([t])).toBe([
      'passkey: accuracy, mean [95% Wilson interval] and n',
      'method                 len=1024              len=2048',
      '---------  --------------------  --------------------',
      'full            1 [0.57, 1] n=5  0.8 [0.38, 0.96] n=5',
      'quest@64                      -       0 [0, 0.43] n=5',
      'adamas@64  0.2 [0.04, 0.62] n=5                     -',
    ].join('\n'));
  });

  it('pools trials and depths of a cell; columns by data set where those vary; bootstrap intervals for scores', () => {
    const rows = ['niah', 'vt'].flatMap((dataset) => [0, 1, 2, 3].map((i) =>
      row({ task: 'ruler', dataset, label: 'adamas@64', metric: 'score', value: String(dataset === 'vt' ? 100 : 25 * i), case: `sample=${i}`, depth: '' })));
    const [t] = summarize(rows);
    expect(t.columns).toEqual(['niah', 'vt']);
    expect(t.statistic).toBe('mean [95% bootstrap BCa interval]');
    expect(t.rows[0].cells.map((c) => [c!.value, c!.n])).toEqual([[37.5, 4], [100, 4]]);
    expect(t.rows[0].cells[0]!.lo).toBeLessThan(37.5);
    expect(formatSummary([t]).split('\n')[0]).toBe('ruler: score, mean [95% bootstrap BCa interval] and n');
  });

  it('shows a timing task as the median and IQR of its samples', () => {
    const rows = [row({ task: 'e2e', label: 'full', metric: 'decode_ms_per_token', value: '2', unit: 'ms', n: '5', samples: '1 2 3 4 5' })];
    const [t] = summarize(rows);
    expect(t.statistic).toBe('median [IQR]');
    expect(t.rows[0].cells[0]).toEqual({ value: 3, lo: 2, hi: 4, n: 5 });
  });

  it('keeps a kernel step of several sequences apart from batch 1: a row per batch', () => {
    const step = (label: string, batch: number, samples: string) =>
      row({ task: 'kernels', label, metric: 'latency_us.total', value: '0', unit: 'us', n: '3', samples, context_len: '32768', depth: '', case: `batch=${batch};nHeads=32` });
    const rows = [step('adamas@256', 1, '10 11 12'), step('adamas@256', 8, '20 21 22'), step('full', 1, '100 101 102'), step('full', 8, '800 801 802')];
    const [t] = summarize(rows);
    expect(t.rows.map((r) => [r.label, r.cells[0]!.value])).toEqual([['full', 101], ['full batch=8', 801], ['adamas@256', 11], ['adamas@256 batch=8', 21]]);
    // budgets stay in order within each batch
    const budgets = summarize([...rows, step('adamas@64', 1, '5 6 7'), step('adamas@64', 8, '9 9 9')])[0].rows.map((r) => r.label);
    expect(budgets).toEqual(['full', 'full batch=8', 'adamas@64', 'adamas@256', 'adamas@64 batch=8', 'adamas@256 batch=8']);
  });

  it('adds each timing row against full attention of its batch, and nothing for accuracies', () => {
    const step = (label: string, batch: number, samples: string, len = '32768') =>
      row({ task: 'kernels', label, metric: 'latency_us.total', value: '0', unit: 'us', n: '3', samples, context_len: len, depth: '', case: `batch=${batch};nHeads=32` });
    const rows = [step('full', 1, '99 100 101'), step('full', 8, '799 800 801'), step('adamas@256', 1, '24 25 26'),
      step('adamas@256', 8, '99 100 101'), step('peer:sdpa', 1, '100 102 104'), step('adamas@256', 1, '9 10 11', '8192')];
    const text = formatSummary(summarize(rows));
    const lines = text.split('\n');
    const at = lines.findIndex((l) => l.startsWith("kernels: full attention's latency_us.total over each method's"));
    expect(at).toBeGreaterThan(0);
    const cells = (label: string) => lines.slice(at).find((l) => l.startsWith(`${label} `))!.trim().split(/\s{2,}/);
    expect(cells('adamas@256')).toEqual(['adamas@256', '-', '4.00x']); // no full attention at 8K
    expect(cells('adamas@256 batch=8')).toEqual(['adamas@256 batch=8', '-', '8.00x']);
    expect(cells('peer:sdpa')).toEqual(['peer:sdpa', '-', '0.980x']);
    expect(lines.slice(at).some((l) => l.startsWith('full'))).toBe(false);
    // accuracies: no such table
    expect(formatSummary(summarize([...cases('full', 1024, 3, 4), ...cases('adamas@64', 1024, 2, 4)]))).not.toMatch(/over each method/);
  });

  it('adds the decision stability of a threshold jitter under the table', () => {
    const jit = { case: 'thresholdJitter=0.00001;trial=0' };
    const rows = [...cases('adamas@64', 2048, 7, 11, jit),
      ...Array.from({ length: 11 }, (_, d) => row({ label: 'adamas@64', metric: 'stability', value: d < 7 ? '1' : '0', context_len: '2048', depth: String(d), ...jit })),
      ...Array.from({ length: 11 }, (_, d) => row({ label: 'adamas@64', metric: 'accuracy.threshold_plus', value: d < 5 ? '1' : '0', context_len: '2048', depth: String(d), ...jit })),
      ...Array.from({ length: 11 }, (_, d) => row({ label: 'adamas@64', metric: 'accuracy.threshold_minus', value: d < 6 ? '1' : '0', context_len: '2048', depth: String(d), ...jit }))];
    const text = formatSummary(summarize(rows));
    expect(text.split('\n').slice(3)).toEqual([
      'adamas@64  0.64 [0.35, 0.85] n=11',
      '',
      'passkey: decision stability, every threshold moved by +E and by -E (E = 0.00001); an answer is what the task scores',
      '  adamas@64 len=2048: 4 of 11 answers change under ±E; stability 0.64 [0.35, 0.85] n=11; accuracy at -E / 0 / +E: 6/11, 7/11, 5/11',
    ]);
    expect(formatSummary(summarize(cases('adamas@64', 2048, 7, 11)))).not.toContain('stability');
  });
});

describe("ablate's paired table", () => {
  const base = 'adamas';
  const ablated = 'adamas[no-hadamard]';

  it('tests each cell on its pairs and decides on Holm-adjusted p-values', () => {
    // len 1024: the ablation loses 8 of 20 cases and wins none; len 2048: 2 lost, 2 won
    const rows = [
      ...cases('adamas@64', 1024, 20, 20), ...cases('adamas[no-hadamard]@64', 1024, 12, 20),
      ...cases('adamas@64', 2048, 10, 20), ...cases('adamas[no-hadamard]@64', 2048, 12, 20).map((r) => ({ ...r, value: ['0', '1'].includes(r.depth) ? '0' : Number(r.depth) < 12 ? '1' : '0' })),
    ];
    const a = collectAblation(rows, base, ablated);
    expect(a.metric).toBe('accuracy');
    expect(a.rows.map((r) => [r.budget, r.column, r.paired!.lower, r.paired!.higher])).toEqual([[64, '1024', 8, 0], [64, '2048', 2, 2]]);
    // exact McNemar: 8 discordant pairs all one way, p = 2 / 2^8; Holm over 2 cells doubles it
    expect(a.rows[0].paired!.p).toBeCloseTo(2 / 256, 12);
    expect(a.rows[0].pHolm).toBeCloseTo(4 / 256, 12);
    expect(a.rows[1].pHolm).toBe(1);
    const lines = formatAblation(a).split('\n');
    expect(lines[0]).toBe('passkey: accuracy of adamas[no-hadamard] against adamas on the same cases (mean [95% interval] n; difference = ablated - baseline with its paired-bootstrap interval)');
    expect(lines[1].split(/\s{2,}/)).toEqual(['budget', 'len', 'adamas', 'adamas[no-hadamard]', 'changed?', 'p (Holm)', 'paired test']);
    expect(lines[3]).toMatch(/^64 {6}1024 +1 \[0\.84, 1\] n=20 +0\.6 \[0\.39, 0\.78\] n=20 +yes, lower +0\.016 +−0\.4 \[−0\.6\d*, −0\.2\d*\], p = 0\.0078 \(exact McNemar; 20 pairs: 0 higher, 8 lower\)$/);
    expect(lines[4]).toMatch(/^64 {6}2048 .* no +1 +±0 \[.*\], p = 1 \(exact McNemar; 20 pairs: 2 higher, 2 lower\)$/);
    expect(lines[5]).toBe('changed: Holm-adjusted p < 0.05 over the 2 tested cells');
  });

  it('says so where rows cannot be paired (a perplexity over tokens)', () => {
    const rows = [base, ablated].map((s, i) => row({ task: 'ppl', dataset: 'pg19', label: `${s}@64`, metric: 'ppl', value: String(10 + i), n: '512', depth: '', case: '' }));
    const a = collectAblation(rows, base, ablated);
    expect(a.rows).toHaveLength(1);
    expect(a.rows[0].paired).toBeNull();
    const text = formatAblation(a);
    expect(text).toContain('rows not pairable (several trials or tokens a row)');
    expect(text).toContain('not tested');
    expect(text).toContain('over the 0 tested cells');
  });
});

describe('--dry-run: the interval a cell can expect', () => {
  function jobs(task: Job['task'], perCell: number, datasets = ['']): Job[] {
    return datasets.flatMap((dataset) => [makeSpec('full', undefined), makeSpec('adamas', 64)].flatMap((method) =>
      Array.from({ length: perCell }, (_, i): Job => ({ id: `${dataset}${method.method}${i}`, suite: 's', task, dataset, model: 'm', method, contextLen: 1024, params: { trial: i }, prefixKey: '', seed: 1 }))));
  }

  it('gives the expected Wilson half-width for the planned cases of a cell', () => {
    expect(plannedIntervalLine('passkey', jobs('passkey', 5))).toBe('expected 95% interval of a cell (method x length): ±0.31 at n=5 cases (Wilson, at accuracy 0.5)');
    expect(plannedIntervalLine('passkey', jobs('passkey', 99))).toBe('expected 95% interval of a cell (method x length): ±0.1 at n=99 cases (Wilson, at accuracy 0.5)');
    expect(plannedIntervalLine('ruler', jobs('ruler', 92, ['niah', 'vt'])))
      .toBe('expected 95% interval of a cell (method x length x data set): ±10 at n=92 cases (score points; a 0..100 score varies at most like pass/fail at 50)');
    const uneven = [...jobs('longbench', 5, ['a']), ...jobs('longbench', 20, ['b'])];
    expect(plannedIntervalLine('longbench', uneven)).toMatch(/: ±31 at n=5 to ±\d+ at n=20 cases/);
    expect(plannedIntervalLine('ppl', jobs('ppl', 5))).toBeUndefined();
    expect(plannedIntervalLine('e2e', jobs('e2e', 5))).toBeUndefined();
  });

  it('prints it under the task table of the plan', () => {
    const text = formatPlan({ suite: 's', device: 'cpu', totalJobs: 10, jobs: jobs('passkey', 5), skippedAboveLength: 0 });
    const lines = text.split('\n');
    const i = lines.findIndex((l) => l.startsWith('adamas@64'));
    expect(lines[i + 1]).toBe('expected 95% interval of a cell (method x length): ±0.31 at n=5 cases (Wilson, at accuracy 0.5)');
  });
});
