// The peers' rows in a run: written with method and label 'peer:<name>' and none of the engine's
// knobs; the summary lists them beside ours and says which were not measured and why, and which
// cases ran while the GPU throttled; the report draws them beside our full attention.
import { describe, expect, it } from 'vitest';
import { jobId, jobLabel, type Job } from '../src/core/job.js';
import { makeSpec } from '../src/methods/spec.js';
import { planFigures } from '../src/report/figures.js';
import { formatPlan } from '../src/report/plan-table.js';
import { formatSummary, summarize, summaryNotes } from '../src/report/run-summary.js';
import type { ResultRow } from '../src/results/columns.js';
import { toRows } from '../src/results/write.js';

function job(method: 'full' | 'adamas', extra: Partial<Job> = {}): Job {
  const spec = method === 'full' ? makeSpec('full', undefined) : makeSpec('adamas', 256);
  const base = { suite: 'k', task: 'kernels' as const, dataset: 'llama2-7b', model: 'shape:llama2-7b', method: spec, contextLen: 32768,
    params: { nHeads: 32, nKvHeads: 32, headDim: 128, batch: 1 }, seed: 42, ...extra };
  return { id: jobId(base), ...base, prefixKey: '' };
}

const ms = (label: string, value: number) => ({ metric: 'latency_us.total', value, unit: 'us', n: 3, samples: [value, value, value], ...(label && {}) });

function rowsOf(j: Job, measurements: Parameters<typeof toRows>[1]): ResultRow[] {
  return toRows(j, measurements, { runId: 'r', device: 'cuda:0' });
}

describe('a peer\'s job', () => {
  const peer = job('full', { peer: 'sdpa' });

  it('has an id of its own, and its label names the peer', () => {
    expect(peer.id).not.toBe(job('full').id);
    expect(jobLabel(peer)).toBe('kernels/llama2-7b peer:sdpa len=32768');
  });

  it('is written as peer:<name>, without the engine\'s knobs or a budget', () => {
    const [r] = rowsOf(peer, [ms('', 135)]);
    expect(r).toMatchObject({ method: 'peer:sdpa', label: 'peer:sdpa', budget: '', model: 'shape:llama2-7b', skip_layers: '', gqa: '', hadamard: '' });
    const [ours] = rowsOf(job('full'), [ms('', 143)]);
    expect(ours).toMatchObject({ method: 'full', label: 'full', skip_layers: '2', gqa: 'query' });
    expect(r.case).toBe(ours.case);
  });

  it('is listed after our methods in the dry run\'s plan', () => {
    const text = formatPlan({ suite: 'k', device: 'cuda', totalJobs: 3, jobs: [peer, job('adamas'), job('full')], skippedAboveLength: 0 });
    const labels = text.split('\n').filter((l) => /^(full|adamas@256|peer:sdpa)\s/.test(l)).map((l) => l.split(/\s+/)[0]);
    expect(labels).toEqual(['full', 'adamas@256', 'peer:sdpa']);
  });
});

describe('the summary', () => {
  const throttled = (j: Job, value: number) => ({ metric: 'throttled', value, unit: '', n: 100 });
  const rows = [
    ...rowsOf(job('full'), [ms('', 143), throttled(job('full'), 0)]),
    ...rowsOf(job('adamas'), [ms('', 38), throttled(job('adamas'), 1)]),
    ...rowsOf(job('full', { peer: 'sdpa' }), [ms('', 135)]),
    ...rowsOf(job('full', { peer: 'flashinfer' }), [{ metric: 'skipped', value: 1, unit: '', n: 1, detail: 'flashinfer is not importable: no module' }]),
    ...rowsOf(job('full', { peer: 'flashinfer', contextLen: 8192 }), [{ metric: 'skipped', value: 1, unit: '', n: 1, detail: 'flashinfer is not importable: no module' }]),
  ];

  it('has the peers beside ours, and says which cases throttled and which peers were not measured', () => {
    const [t] = summarize(rows);
    expect(t.rows.map((r) => r.label)).toEqual(['full', 'adamas@256', 'peer:sdpa']);
    expect(t.notes).toEqual([
      "THROTTLED (an SM clock sample below 90% of the case's highest; the rows' detail has the clocks): adamas@256 llama2-7b len=32768",
      'peer:flashinfer not measured (2 cases): flashinfer is not importable: no module',
    ]);
    const text = formatSummary([t]);
    expect(text).toContain('\nTHROTTLED (an SM clock sample');
    expect(text.split('\n').at(-1)).toBe('peer:flashinfer not measured (2 cases): flashinfer is not importable: no module');
  });

  it('names the batch of a throttled case when it has several sequences', () => {
    const b4 = job('full', { params: { nHeads: 32, nKvHeads: 32, headDim: 128, batch: 4 } });
    expect(summaryNotes(rowsOf(b4, [throttled(b4, 1)]))[0]).toMatch(/: full llama2-7b len=32768 batch=4$/);
    expect(summaryNotes(rowsOf(b4, [throttled(b4, 0)]))).toEqual([]);
  });
});

describe('the report', () => {
  it('draws the peers beside our full attention, per shape and batch', () => {
    const rows = [8192, 32768].flatMap((n) => [
      ...rowsOf(job('full', { contextLen: n }), [ms('', n / 200)]),
      ...rowsOf(job('adamas', { contextLen: n }), [ms('', 30)]),
      ...rowsOf(job('full', { contextLen: n, peer: 'sdpa' }), [ms('', n / 210)]),
    ]);
    const plan = planFigures(rows);
    const fig = plan.figures.find((f) => f.id === 'peers-kernels')!;
    expect(fig).toBeDefined();
    const data = (fig.spec as { data: { values: { series: string; context: number; value: number; variant: string }[] } }).data.values;
    expect(data.map((p) => [p.series, p.context, p.value]).sort()).toEqual([['full', 32768, 163.84], ['full', 8192, 40.96], ['peer:sdpa', 32768, 32768 / 210], ['peer:sdpa', 8192, 8192 / 210]]);
    expect(new Set(data.map((p) => p.variant))).toEqual(new Set(['llama2-7b']));
    // the kernel bars have the peer beside ours
    const bars = plan.figures.find((f) => f.id === 'kernel-latency')!;
    expect(JSON.stringify(bars.spec)).toContain('peer:sdpa');
    expect(plan.skipped.map((s) => s.id)).toContain('peers-e2e');
  });
});
