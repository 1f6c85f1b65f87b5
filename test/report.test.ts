// The report: figures planned from a run's rows, rendered to SVG without a browser, and an
// index.html that shows them beside the summary tables and the run's provenance.
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reportCommand } from '../src/cli/report.js';
import { planFigures } from '../src/report/figures.js';
import { collectSummary, escapeHtml } from '../src/report/html.js';
import { buildReport, type ReportResult } from '../src/report/index.js';
import { loadInput } from '../src/report/input.js';
import type { ResultRow } from '../src/results/columns.js';
import { readResultsFile } from '../src/results/read.js';
import { aggregateRows } from '../src/stats/aggregate.js';

const runDir = join(import.meta.dirname, 'fixtures', 'runs', 'small');
const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'adamas-report-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

/** The SVG's visible text (axis titles, labels, legend entries). */
function svgText(svg: string): string[] {
  return [...svg.matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((m) => m[1]);
}

describe('run input', () => {
  it('keeps only rows of jobs whose journal line is ok', () => {
    const input = loadInput(runDir);
    expect(input.kind).toBe('run');
    expect(input.failedJobs).toBe(1);
    expect(input.rows.some((r) => r.job_id === 'pk-failed')).toBe(false);
    const file = loadInput(join(runDir, 'results.csv'));
    expect(file.kind).toBe('file');
    expect(file.rows.length).toBe(input.rows.length + 1);
  });

  it('refuses a directory that is not a run', () => {
    expect(() => loadInput(join(import.meta.dirname, 'fixtures', 'runs'))).toThrow(/not a run directory/);
    expect(() => loadInput(join(runDir, 'nope'))).toThrow(/no such file/);
  });
});

describe('aggregation of the fixture', () => {
  const rows = loadInput(runDir).rows;

  it('pools trials into one measurement with a Wilson interval', () => {
    const aggs = aggregateRows(rows.filter((r) => r.task === 'passkey'));
    // 5 labels x 2 lengths x 3 depths, two trials each
    expect(aggs.length).toBe(30);
    const a = aggs.find((x) => x.label === 'adamas@16' && x.contextLen === 512 && x.depth === 50)!;
    expect(a.rows).toBe(2);
    expect(a.n).toBe(2);
    expect(a.value).toBe(0.5);
    expect(a.ciMethod).toBe('wilson');
    expect(a.ci!.lo).toBeLessThan(0.5);
    expect(a.ci!.hi).toBeGreaterThan(0.5);
    expect(a.case).toBe('');
    expect(a.series).toBe('adamas');
  });

  it('collapses depth for the summary, weighting by n', () => {
    const aggs = aggregateRows(rows.filter((r) => r.task === 'passkey'), { collapse: ['depth'] });
    const s = aggs.find((x) => x.label === 'streaming@64' && x.contextLen === 256)!;
    // depth 0 and 50: one of two trials right, depth 100: both right -> 4 of 6
    expect(s.n).toBe(6);
    expect(s.value).toBeCloseTo(4 / 6, 12);
  });

  it('pools raw timing samples', () => {
    const aggs = aggregateRows(rows.filter((r) => r.task === 'kernels'));
    const t = aggs.find((x) => x.metric === 'latency_us.topk' && x.label === 'adamas@64' && x.contextLen === 4096)!;
    expect(t.rawSamples).toBe(true);
    expect(t.samples.length).toBe(8);
    expect(t.kind).toBe('timing');
    expect(t.summary.median).toBeGreaterThan(4096 * 0.0005 * 0.97);
    expect(t.summary.median).toBeLessThan(4096 * 0.0005 * 1.03);
    expect(t.case).toBe('head_dim=128;heads=32');
  });
});

describe('figures', () => {
  it('plans every figure the fixture has data for and skips the rest with a reason', () => {
    const plan = planFigures(loadInput(runDir).rows);
    const ids = plan.figures.map((f) => f.id).sort();
    expect(ids).toEqual(['accuracy-passkey', 'kernel-latency', 'passkey-heatmap', 'perplexity-pg19', 'speedup-e2e', 'speedup-kernels']);
    // the fixture has no peers
    expect(plan.skipped.map((s) => s.id)).toEqual(['peers-kernels', 'peers-e2e']);
  });

  it('skips figures without data and says why', () => {
    const rows = loadInput(runDir).rows.filter((r) => r.task === 'ppl');
    const plan = planFigures(rows);
    expect(plan.figures.map((f) => f.id)).toEqual(['perplexity-pg19']);
    const skipped = Object.fromEntries(plan.skipped.map((s) => [s.id, s.reason]));
    expect(Object.keys(skipped).sort()).toEqual(['accuracy', 'kernel-latency', 'passkey-heatmap', 'peers-e2e', 'peers-kernels', 'speedup-e2e', 'speedup-kernels']);
    expect(skipped['peers-kernels']).toBe('no rows of a peer (--peers)');
    expect(skipped['passkey-heatmap']).toMatch(/passkey/);
  });

  it('computes speedups against full attention at the same length', () => {
    const rows = loadInput(runDir).rows.filter((r) => r.task === 'e2e');
    const fig = planFigures(rows).figures.find((f) => f.id === 'speedup-e2e')!;
    const data = (fig.spec as { data: { values: { label: string; context: number; value: number }[] } }).data.values;
    const medians = Object.fromEntries(
      aggregateRows(rows).map((a) => [`${a.label}@${a.contextLen}`, a.summary.median]),
    );
    expect(data.length).toBe(2);
    for (const p of data) expect(p.value).toBeCloseTo(medians[`full@${p.context}`] / medians[`${p.label}@${p.context}`], 12);
    // full attention costs more at 4096 than at 1024 in the fixture, adamas does not
    const at = (c: number) => data.find((p) => p.context === c)!.value;
    expect(at(4096)).toBeGreaterThan(at(1024));
  });
});

describe('report output', () => {
  let out: string;
  let result: ReportResult;
  beforeAll(async () => {
    out = tempDir();
    result = await buildReport(loadInput(runDir), out);
  }, 60_000);

  it('writes a valid SVG and its Vega-Lite spec per figure', () => {
    expect(result.figures.length).toBe(6);
    for (const f of result.figures) {
      const svg = readFileSync(f.svg, 'utf8');
      expect(svg.startsWith('<svg')).toBe(true);
      expect(svg.trimEnd().endsWith('</svg>')).toBe(true);
      const spec = JSON.parse(readFileSync(f.spec, 'utf8')) as { $schema: string };
      expect(spec.$schema).toMatch(/vega-lite/);
    }
  });

  it('draws the expected axes, legends and series', () => {
    const text = (id: string) => svgText(readFileSync(join(out, `${id}.svg`), 'utf8'));
    const acc = text('accuracy-passkey');
    expect(acc).toContain('Budget (tokens)');
    expect(acc).toContain('Accuracy');
    expect(acc).toEqual(expect.arrayContaining(['full', 'streaming', 'adamas', '16', '64']));
    const heat = text('passkey-heatmap');
    expect(heat).toEqual(expect.arrayContaining(['Depth (%)', 'Length', 'adamas@16', 'streaming@64']));
    expect(text('perplexity-pg19')).toContain('Perplexity');
    const lat = text('kernel-latency');
    expect(lat).toEqual(expect.arrayContaining(['estimate', 'topk', 'attention', 'full', 'quest@64', 'adamas@64']));
    expect(text('speedup-kernels')).toContain('Speedup over full attention (×)');
  });

  it('writes index.html with every figure, the summary tables and the meta', () => {
    const html = readFileSync(result.index, 'utf8');
    for (const f of result.figures) {
      expect(html).toContain(`src="${f.id}.svg"`);
      expect(html).toContain(`href="${f.id}.vl.json"`);
      expect(existsSync(join(out, `${f.id}.svg`))).toBe(true);
    }
    expect(html).toContain('0123456789abcdef0123456789abcdef01234567');
    expect(html).toContain('Fixture CPU');
    expect(html).toContain('fixture-small');
    expect(html).toContain('1 failed job(s) left out');
    expect(html).toMatch(/passkey: Accuracy, mean \[95% Wilson interval\]/);
    expect(html).toMatch(/kernels: Latency \(µs\) · total|kernels: Latency/);
  });

  it('lists skipped figures in the index', async () => {
    const dir = tempDir();
    const rows = loadInput(runDir).rows.filter((r) => r.task === 'ppl');
    const r = await buildReport({ path: 'ppl.csv', kind: 'file', rows, failedJobs: 0 }, dir);
    const html = readFileSync(r.index, 'utf8');
    expect(html).toContain('Figures not drawn');
    expect(html).toContain(escapeHtml("no passkey 'accuracy' rows with a depth"));
    expect(readdirSync(dir).sort()).toEqual(['index.html', 'perplexity-pg19.svg', 'perplexity-pg19.vl.json']);
  });
});

describe('several models in one run', () => {
  it('names lines and table rows after their model', async () => {
    const rows = loadInput(runDir).rows.filter((r) => r.task === 'ppl');
    const both = [...rows, ...rows.map((r) => ({ ...r, model: 'llama-3-8b', value: String(Number(r.value) / 2) }))];
    const dir = tempDir();
    await buildReport({ path: 'two.csv', kind: 'file', rows: both, failedJobs: 0 }, dir);
    const html = readFileSync(join(dir, 'index.html'), 'utf8');
    expect(html).toContain('default/adamas@64');
    expect(html).toContain('llama-3-8b/adamas@64');
    const text = svgText(readFileSync(join(dir, 'perplexity-pg19.svg'), 'utf8'));
    expect(text).toEqual(expect.arrayContaining(['default/adamas', 'llama-3-8b/adamas']));
  });
});

describe('summary tables', () => {
  it('has one row per method label and one column per length, with n and interval', () => {
    const tables = collectSummary(loadInput(runDir).rows);
    const pk = tables.find((t) => t.task === 'passkey')!;
    expect(pk.metric).toBe('accuracy');
    expect(pk.columns).toEqual([256, 512]);
    expect(pk.rows.map((r) => r.label)).toEqual(['full', 'streaming@16', 'streaming@64', 'adamas@16', 'adamas@64']);
    const full = pk.rows[0].cells[0]!;
    expect(full.value).toBe(1);
    expect(full.n).toBe(6);
    expect(full.hi).toBe(1);
    expect(full.lo).toBeLessThan(1);
    const k = tables.find((t) => t.task === 'kernels')!;
    expect(k.statistic).toBe('sum of the component medians');
    expect(k.metric).toBe('latency_us');
    const kr = Object.fromEntries(k.rows.map((r) => [r.label, r.cells[1]!.value]));
    // at 4096 tokens: estimate 3.3 + topk 2.0 + attention 0.64 us for quest, 40.96 for full's attention alone
    expect(kr['quest@64']).toBeCloseTo(4096 * 0.0008 + 4096 * 0.0005 + 0.64, 0);
    expect(kr.full).toBeGreaterThan(39);
    expect(kr.full).toBeLessThan(42);
    const e2e = tables.find((t) => t.task === 'e2e')!;
    expect(e2e.statistic).toBe('median [IQR]');
    const ppl = tables.find((t) => t.task === 'ppl')!;
    expect(ppl.metric).toBe('ppl');
    expect(ppl.rows.find((r) => r.label === 'streaming@16')!.cells[0]!.value).toBe(16.2);
  });

  it('treats rows whose value is not a number as absent', () => {
    const rows = loadInput(runDir).rows.filter((r) => r.task === 'ppl');
    const broken: ResultRow[] = rows.map((r) => (r.label === 'full' ? { ...r, value: '' } : r));
    const t = collectSummary(broken).find((x) => x.task === 'ppl')!;
    expect(t.rows.map((r) => r.label)).not.toContain('full');
  });
});

describe('report command', () => {
  it('writes to --out and prints the index path', async () => {
    const dir = tempDir();
    const writes: string[] = [];
    const orig = process.stdout.write.bind(process.stdout);
    const origErr = process.stderr.write.bind(process.stderr);
    process.stdout.write = ((s: string) => (writes.push(String(s)), true)) as typeof process.stdout.write;
    process.stderr.write = (() => true) as typeof process.stderr.write;
    try {
      await reportCommand().exitOverride().parseAsync([runDir, '--out', dir], { from: 'user' });
    } finally {
      process.stdout.write = orig;
      process.stderr.write = origErr;
    }
    expect(writes.join('')).toContain(join(dir, 'index.html'));
    expect(existsSync(join(dir, 'passkey-heatmap.svg'))).toBe(true);
  }, 60_000);
});

// ---- intervals in the report: one budget, the heat map's axes, error bars, stability --------------

const pairedCsv = join(import.meta.dirname, 'fixtures', 'runs', 'paired', 'seed-1.csv');

type Layered = { layer?: { mark: string | { type: string }; encoding?: { x?: { field: string; type: string } } }[]; spec?: Layered };
const markTypes = (spec: Layered): string[] => ((spec.spec ?? spec).layer ?? []).map((l) => (typeof l.mark === 'string' ? l.mark : l.mark.type));

describe('accuracy figures with intervals', () => {
  it('draws a run of one budget as methods side by side, each with its interval', async () => {
    const rows = loadInput(runDir).rows.filter((r) => r.task === 'passkey' && r.budget !== '16');
    const fig = planFigures(rows).figures.find((f) => f.id === 'accuracy-passkey')!;
    expect(fig.title).toBe('Accuracy at budget 64: passkey');
    const spec = fig.spec as Layered;
    expect(markTypes(spec)).toEqual(['errorbar', 'point']);
    const x = (spec.spec ?? spec).layer![1].encoding!.x!;
    expect(x).toMatchObject({ field: 'label', type: 'nominal' });
    const dir = tempDir();
    await buildReport({ path: 'one.csv', kind: 'file', rows, failedJobs: 0 }, dir);
    const text = svgText(readFileSync(join(dir, 'accuracy-passkey.svg'), 'utf8'));
    // one x position per method in each length's panel ('full' is in the legend as well)
    for (const label of ['streaming@64', 'adamas@64']) expect(text.filter((t) => t === label).length).toBe(2);
    expect(text.filter((t) => t === 'full').length).toBe(3);
  }, 60_000);

  it('moves methods apart at each budget and draws their intervals; full attention as a band', () => {
    const fig = planFigures(loadInput(runDir).rows).figures.find((f) => f.id === 'accuracy-passkey')!;
    expect(markTypes(fig.spec as Layered)).toEqual(['rect', 'errorbar', 'line', 'rule']);
    const data = (fig.spec as { data: { values: { series: string; budget: number | null; x: number | null; lo: number | null }[] } }).data.values;
    const at16 = data.filter((p) => p.budget === 16);
    expect(new Set(at16.map((p) => p.x)).size).toBe(2); // streaming and adamas, apart
    for (const p of at16) expect(Math.abs(Math.log2(p.x! / 16))).toBeLessThan(0.1);
    expect(data.every((p) => p.lo !== null)).toBe(true);
  });

  it('gives each heat-map panel its own axes, so empty cells of the grid have none', async () => {
    const fig = planFigures(loadInput(runDir).rows).figures.find((f) => f.id === 'passkey-heatmap')!;
    expect((fig.spec as { resolve: unknown }).resolve).toEqual({ axis: { x: 'independent', y: 'independent' } });
    const dir = tempDir();
    await buildReport(loadInput(runDir), dir);
    const text = svgText(readFileSync(join(dir, 'passkey-heatmap.svg'), 'utf8'));
    // 5 panels in a grid of 4 columns: 5 x-axes, not one under each of the 4 columns
    expect(text.filter((t) => t === 'Length').length).toBe(5);
    expect(text.filter((t) => t === 'Depth (%)').length).toBe(5);
  }, 60_000);

  it('draws decision stability beside accuracy when the run has it', () => {
    const rows = loadInput(runDir).rows.filter((r) => r.task === 'passkey');
    const stab = rows.filter((r) => r.label.startsWith('adamas')).map((r) => ({ ...r, metric: 'stability', value: r.depth === '50' ? '0' : '1' }));
    const ids = planFigures([...rows, ...stab]).figures.map((f) => f.id);
    expect(ids.indexOf('stability-passkey')).toBe(ids.indexOf('accuracy-passkey') + 1);
    const fig = planFigures([...rows, ...stab]).figures.find((f) => f.id === 'stability-passkey')!;
    expect(fig.title).toBe('Decision stability under threshold jitter against budget: passkey');
    expect(planFigures(rows).figures.some((f) => f.id.startsWith('stability'))).toBe(false);
  });
});

describe('summary intervals', () => {
  it('bootstraps means of scores and names the interval in the heading', async () => {
    const rows = readResultsFile(pairedCsv);
    const tables = collectSummary(rows);
    const ruler = tables.find((t) => t.task === 'ruler')!;
    expect(ruler.statistic).toBe('mean [95% bootstrap BCa interval]');
    const cell = ruler.rows.find((r) => r.label === 'adamas@64')!.cells[0]!;
    expect(cell.n).toBe(40);
    expect(cell.lo!).toBeLessThan(cell.value);
    expect(cell.hi!).toBeGreaterThan(cell.value);
    expect(tables.find((t) => t.task === 'passkey')!.statistic).toBe('mean [95% Wilson interval]');
    const dir = tempDir();
    const r = await buildReport({ path: 'paired.csv', kind: 'file', rows, failedJobs: 0 }, dir);
    const html = readFileSync(r.index, 'utf8');
    expect(html).toContain('<td>0.9 <span class="ci">[0.77, 0.96]</span> <span class="n">n=40</span></td>');
    expect(html).not.toMatch(/\de-\d/);
  }, 60_000);

  it('prints the bounds of a perfect score as 1, not 0.9999999999999999', () => {
    const pk = collectSummary(loadInput(runDir).rows).find((t) => t.task === 'passkey')!;
    expect(pk.rows[0].cells[0]).toMatchObject({ value: 1, hi: 1, n: 6 });
  });
});
