// compare: verdicts on hand-made baseline/current files (one measurement per verdict), p-values
// through the whole path against SciPy, thresholds from the config, and the command's output
// and exit codes (1 on a regression, 0 otherwise, 2 on bad input).
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parse } from 'csv-parse/sync';
import { CommanderError } from 'commander';
import { afterAll, describe, expect, it } from 'vitest';
import { compareCommand } from '../src/cli/compare.js';
import { exitCodeOf } from '../src/core/errors.js';
import { defaultRegressionConfig, readRegressionConfig, regressionConfigPath } from '../src/stats/regression-config.js';
import { thresholdFor, type RegressionConfig } from '../src/stats/thresholds.js';
import { validateJson } from '../src/config/validate.js';
import { regressionConfigSchema } from '../src/stats/regression-config.js';
import { readResultsFile } from '../src/results/read.js';
import { resultColumns, type ResultRow } from '../src/results/columns.js';
import { compareRows, type Comparison } from '../src/stats/compare.js';

const fixtures = join(import.meta.dirname, 'fixtures', 'runs');
const baselineCsv = join(fixtures, 'compare', 'baseline.csv');
const currentCsv = join(fixtures, 'compare', 'current.csv');
const runDir = join(fixtures, 'small');

const dirs: string[] = [];
function tempDir(): string {
  const d = mkdtempSync(join(tmpdir(), 'adamas-compare-'));
  dirs.push(d);
  return d;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function writeRows(path: string, rows: ResultRow[]): string {
  const esc = (v: string) => (/[",\n]/.test(v) ? `"${v.replace(/"/g, '""')}"` : v);
  writeFileSync(path, [resultColumns.join(','), ...rows.map((r) => resultColumns.map((c) => esc(r[c] ?? '')).join(','))].join('\n') + '\n');
  return path;
}

function find(cs: Comparison[], task: string, label: string, metric: string): Comparison {
  const c = cs.find((x) => x.task === task && x.label === label && x.metric === metric);
  if (!c) throw new Error(`no comparison for ${task} ${label} ${metric}`);
  return c;
}

const config = (): RegressionConfig => readRegressionConfig(regressionConfigPath);

describe('verdicts', () => {
  const result = compareRows(readResultsFile(baselineCsv), readResultsFile(currentCsv), config());
  const cs = result.comparisons;

  it('judges accuracy metrics by their tolerance', () => {
    const down = find(cs, 'passkey', 'adamas@64', 'accuracy');
    expect(down.verdict).toBe('regression');
    expect(down.delta).toBeCloseTo(-0.2, 12);
    expect(down.threshold).toBe(0.05);
    expect(down.test).toBe('tolerance');
    expect(find(cs, 'passkey', 'streaming@64', 'accuracy').verdict).toBe('improvement');
    expect(find(cs, 'passkey', 'full', 'accuracy').verdict).toBe('same');
    // perplexity: lower is better, 1 % of 12.00 tolerated
    const ppl = find(cs, 'ppl', 'adamas@64', 'ppl');
    expect(ppl.verdict).toBe('same');
    expect(ppl.threshold).toBeCloseTo(0.12, 12);
  });

  it('judges timings by test and effect size, with SciPy p-values', () => {
    // scipy.stats.mannwhitneyu(baseline samples, current samples)
    const topk = find(cs, 'kernels', 'adamas@64', 'latency_us.topk');
    expect(topk.verdict).toBe('regression');
    expect(topk.p!).toBeCloseTo(0.0001687630193295421, 12);
    expect(topk.change!).toBeCloseTo(0.1, 12);
    const est = find(cs, 'kernels', 'adamas@64', 'latency_us.estimate');
    expect(est.verdict).toBe('noise');
    expect(est.change!).toBeGreaterThan(0.05);
    expect(est.p!).toBeCloseTo(0.16165674027040877, 12);
    const att = find(cs, 'kernels', 'adamas@64', 'latency_us.attention');
    expect(att.verdict).toBe('improvement');
    expect(att.p!).toBeCloseTo(0.0001416193351462663, 12);
    // significant (p = 0.000184) but only +1 %: below min_effect
    const full = find(cs, 'kernels', 'full', 'latency_us.attention');
    expect(full.verdict).toBe('same');
    expect(full.p!).toBeCloseTo(0.00018448719847064752, 12);
  });

  it('does not judge a timing change of a job that ran throttled on either side', () => {
    const current = readResultsFile(currentCsv);
    const topkRow = current.find((r) => r.metric === 'latency_us.topk' && r.label === 'adamas@64')!;
    const throttled = { ...topkRow, metric: 'throttled', value: '1', unit: '', samples: '' };
    const r = compareRows(readResultsFile(baselineCsv), [...current, throttled], config());
    const topk = find(r.comparisons, 'kernels', 'adamas@64', 'latency_us.topk');
    expect(topk.verdict).toBe('noise');
    expect(topk.failing).toBe(false);
    expect(topk.note).toMatch(/the current ran throttled/);
    expect(r.regressions).toBe(result.regressions - 1);
    // a throttled baseline: the improvement is not judged either
    const base = readResultsFile(baselineCsv);
    const attRow = base.find((r) => r.metric === 'latency_us.attention' && r.label === 'adamas@64')!;
    const r2 = compareRows([...base, { ...attRow, metric: 'throttled', value: '1', unit: '', samples: '' }], current, config());
    expect(find(r2.comparisons, 'kernels', 'adamas@64', 'latency_us.attention')).toMatchObject({ verdict: 'noise' });
    expect(find(r2.comparisons, 'kernels', 'adamas@64', 'latency_us.attention').note).toMatch(/the baseline ran throttled/);
    // a throttled row of another job changes nothing
    const other = { ...throttled, job_id: 'another-job' };
    expect(find(compareRows(readResultsFile(baselineCsv), [...current, other], config()).comparisons, 'kernels', 'adamas@64', 'latency_us.topk').verdict).toBe('regression');
  });

  it("shows a change of the machine's own metrics (the timer's launch floor) without judging it", () => {
    const base = readResultsFile(baselineCsv);
    const current = readResultsFile(currentCsv);
    const topk = (rows: ResultRow[]) => rows.find((r) => r.metric === 'latency_us.topk' && r.label === 'adamas@64')!;
    // the top-k's samples as the launch floor: +10% on the same machine would be a regression
    const launch = (r: ResultRow): ResultRow => ({ ...r, metric: 'latency_us.launch' });
    const r = compareRows([...base, launch(topk(base))], [...current, launch(topk(current))], config());
    const floor = find(r.comparisons, 'kernels', 'adamas@64', 'latency_us.launch');
    expect(floor.change!).toBeCloseTo(0.1, 12);
    expect(floor).toMatchObject({ verdict: 'noise', failing: false });
    expect(floor.note).toMatch(/a property of the machine, not of the code: a regression is not judged/);
    expect(r.regressions).toBe(result.regressions);
    // the component of a phase is still judged
    expect(find(r.comparisons, 'kernels', 'adamas@64', 'latency_us.topk').verdict).toBe('regression');
  });

  it('falls back to the effect size when 3 + 3 samples cannot reach alpha, only for quiet samples', () => {
    const quiet = find(cs, 'e2e', 'adamas@64', 'decode_ms_per_token');
    expect(quiet.p!).toBeCloseTo(0.1, 12); // the smallest p 3 + 3 samples allow
    expect(quiet.verdict).toBe('regression');
    expect(quiet.note).toMatch(/effect size/);
    const noisy = find(cs, 'e2e', 'full', 'decode_ms_per_token');
    expect(noisy.change!).toBeCloseTo(0.15, 12);
    expect(noisy.noiseBaseline!).toBeGreaterThan(0.15);
    expect(noisy.verdict).toBe('noise');
  });

  it('reports measurements of one side only', () => {
    const missing = find(cs, 'ppl', 'streaming@64', 'ppl');
    expect(missing.verdict).toBe('missing');
    expect(missing.failing).toBe(true);
    const added = find(cs, 'ruler', 'adamas@64', 'score');
    expect(added.verdict).toBe('new');
    expect(added.failing).toBe(false);
    expect(result.counts).toEqual({ regression: 3, improvement: 2, same: 3, noise: 2, missing: 1, new: 1 });
    expect(result.regressions).toBe(4);
  });

  it('does not fail on a missing measurement when the config says info', () => {
    const c = config();
    c.missing = 'info';
    const r = compareRows(readResultsFile(baselineCsv), readResultsFile(currentCsv), c);
    expect(find(r.comparisons, 'ppl', 'streaming@64', 'ppl').failing).toBe(false);
    expect(r.regressions).toBe(3);
  });

  it("uses Welch's t on means when asked", () => {
    const c = config();
    c.test = 'welch';
    const r = compareRows(readResultsFile(baselineCsv), readResultsFile(currentCsv), c);
    const est = find(r.comparisons, 'kernels', 'adamas@64', 'latency_us.estimate');
    // scipy.stats.ttest_ind(baseline, current, equal_var=False)
    expect(est.p!).toBeCloseTo(0.13725108337569333, 10);
    expect(est.test).toBe('welch');
    expect(find(r.comparisons, 'kernels', 'adamas@64', 'latency_us.topk').p!).toBeLessThan(1e-15);
  });

  it('compares a run with itself as all same', () => {
    const rows = readResultsFile(currentCsv);
    const r = compareRows(rows, rows, config());
    expect(r.regressions).toBe(0);
    expect(r.comparisons.every((c) => c.verdict === 'same')).toBe(true);
  });

  it('aggregates trials before judging (one flipped trial out of 20 is within 0.05)', () => {
    const base = readResultsFile(baselineCsv).filter((r) => r.label === 'full' && r.task === 'passkey');
    const trials = (ok: number): ResultRow[] =>
      Array.from({ length: 20 }, (_, i) => ({ ...base[0], case: `trial=${i}`, value: i < ok ? '1' : '0', n: '1' }));
    expect(compareRows(trials(20), trials(19), config()).comparisons[0].verdict).toBe('same');
    const two = compareRows(trials(20), trials(18), config()).comparisons;
    expect(two).toHaveLength(1);
    expect(two[0].verdict).toBe('regression');
    expect(two[0].nBaseline).toBe(20);
  });

  it('lets a per-metric entry override the defaults and ignore metrics', () => {
    const c = config();
    c.metrics['passkey:accuracy'] = { abs: 0.25 };
    c.metrics['latency_us'] = { ignore: true };
    const r = compareRows(readResultsFile(baselineCsv), readResultsFile(currentCsv), c);
    expect(find(r.comparisons, 'passkey', 'adamas@64', 'accuracy').verdict).toBe('same');
    expect(r.comparisons.some((x) => x.metric.startsWith('latency_us'))).toBe(false);
    expect(r.comparisons.some((x) => x.metric === 'decode_ms_per_token')).toBe(true);
  });

  it('compares only one kind when asked', () => {
    const r = compareRows(readResultsFile(baselineCsv), readResultsFile(currentCsv), config(), { only: 'accuracy' });
    expect(new Set(r.comparisons.map((c) => c.kind))).toEqual(new Set(['accuracy']));
  });

  it('warns about metrics it does not know, and assumes a direction', () => {
    const rows = readResultsFile(baselineCsv).slice(0, 1).map((r) => ({ ...r, metric: 'f1_weird' }));
    const worse = rows.map((r) => ({ ...r, value: '0.5' }));
    const r = compareRows(rows, worse, config());
    expect(r.warnings.join('\n')).toMatch(/f1_weird/);
    expect(r.comparisons[0].direction).toBe('higher');
    expect(r.comparisons[0].verdict).toBe('regression'); // default_abs 0: any worsening
  });
});

describe('regression config', () => {
  it('ships valid thresholds in configs/regression.json', () => {
    const c = config();
    expect(c.alpha).toBe(0.01);
    expect(c.min_effect).toBe(0.05);
    expect(c.test).toBe('mann-whitney');
    expect(c.missing).toBe('regression');
    expect(thresholdFor(c, 'passkey', 'accuracy')).toEqual({ abs: 0.05 });
    expect(thresholdFor(c, 'kernels', 'latency_us.estimate')).toEqual({ min_effect: 0.05 });
  });

  it('fills defaults and rejects unknown keys with the path', () => {
    const d = defaultRegressionConfig();
    expect(d).toMatchObject({ alpha: 0.01, min_effect: 0.05, test: 'mann-whitney', default_abs: 0, missing: 'regression' });
    // the shipped file spells out exactly the built-in thresholds
    const { description: _, ...shipped } = JSON.parse(readFileSync(regressionConfigPath, 'utf8')) as Record<string, unknown>;
    expect(shipped).toEqual(d);
    expect(() => validateJson(regressionConfigSchema, { alpha: 2 }, 'x.json')).toThrow(/\/alpha/);
    expect(() => validateJson(regressionConfigSchema, { metrics: { ppl: { tolerance: 1 } } }, 'x.json')).toThrow(/unknown property 'tolerance'/);
    expect(() => validateJson(regressionConfigSchema, { test: 'ks' }, 'x.json')).toThrow(/mann-whitney/);
  });

  it('prefers task:metric over metric over the base before the dot', () => {
    const c = defaultRegressionConfig();
    c.metrics = { latency_us: { min_effect: 0.1 }, 'latency_us.topk': { min_effect: 0.2 }, 'kernels:latency_us.topk': { min_effect: 0.3 } };
    expect(thresholdFor(c, 'kernels', 'latency_us.topk').min_effect).toBe(0.3);
    expect(thresholdFor(c, 'other', 'latency_us.topk').min_effect).toBe(0.2);
    expect(thresholdFor(c, 'kernels', 'latency_us.estimate').min_effect).toBe(0.1);
    expect(thresholdFor(c, 'kernels', 'ppl')).toEqual({});
  });
});

// ---- the command ---------------------------------------------------------------------------------

async function runCompare(args: string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  const out: string[] = [];
  const err: string[] = [];
  const stdout = process.stdout.write.bind(process.stdout);
  const stderr = process.stderr.write.bind(process.stderr);
  process.stdout.write = ((s: string) => (out.push(String(s)), true)) as typeof process.stdout.write;
  process.stderr.write = ((s: string) => (err.push(String(s)), true)) as typeof process.stderr.write;
  const before = process.exitCode;
  let code: number;
  try {
    process.exitCode = undefined;
    await compareCommand().exitOverride().configureOutput({ writeErr: (s) => err.push(s) }).parseAsync(args, { from: 'user' });
    code = Number(process.exitCode ?? 0);
  } catch (e) {
    code = e instanceof CommanderError ? 2 : exitCodeOf(e);
    err.push(String((e as Error).message));
  } finally {
    process.exitCode = before;
    process.stdout.write = stdout;
    process.stderr.write = stderr;
  }
  return { code, stdout: out.join(''), stderr: err.join('') };
}

describe('compare command', () => {
  it('prints a Markdown table and exits 1 on a regression', async () => {
    const r = await runCompare([baselineCsv, currentCsv]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('| measurement | metric | baseline | current | change | p-value | verdict |');
    expect(r.stdout).toContain('**REGRESSION**');
    expect(r.stdout).toContain('**MISSING**');
    expect(r.stdout).toContain('4 failing');
    expect(r.stdout).toMatch(/kernels adamas@64 len=4096 heads=32 \| latency_us\.topk \| 2 us \| 2\.2 us \| \+10\.0% \| 0\.00017 \| \*\*REGRESSION\*\*/);
  });

  it('exits 0 when nothing regressed', async () => {
    const r = await runCompare([currentCsv, currentCsv, '--changed']);
    expect(r.code).toBe(0);
    expect(r.stdout).toContain('Nothing changed.');
    expect(r.stdout).toContain('no regression');
  });

  it('compares run directories (journal rule applied)', async () => {
    const r = await runCompare([runDir, runDir, '--json']);
    expect(r.code).toBe(0);
    const json = JSON.parse(r.stdout) as { comparisons: Comparison[]; regressions: number; warnings: string[] };
    expect(json.regressions).toBe(0);
    expect(json.comparisons.some((c) => c.label === 'quest@16')).toBe(false); // the failed job's row
    // passkey: 5 labels x 2 lengths (depths pooled); ppl: 5 labels x 2 metrics; kernels: 2 lengths x
    // (full + 2 methods x 3 components); e2e: 2 labels x 2 lengths
    expect(json.comparisons.length).toBe(10 + 10 + 14 + 4);
    expect(json.comparisons.filter((c) => c.metric === 'accuracy').every((c) => c.depth === null && c.pairs === 6 && c.sameInputs)).toBe(true);
  });

  it('writes CSV and Markdown files', async () => {
    const dir = tempDir();
    const r = await runCompare([baselineCsv, currentCsv, '--csv', join(dir, 'c.csv'), '--markdown', join(dir, 'c.md'), '--changed']);
    expect(r.code).toBe(1);
    const rows = parse(readFileSync(join(dir, 'c.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    expect(rows).toHaveLength(12);
    const topk = rows.find((x) => x.metric === 'latency_us.topk')!;
    expect(topk.verdict).toBe('regression');
    expect(Number(topk.p_value)).toBeCloseTo(0.0001687630193295421, 12);
    expect(topk.failing).toBe('true');
    // the file holds every row, stdout only the changed ones
    const md = readFileSync(join(dir, 'c.md'), 'utf8');
    expect(md.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| measurement')).length).toBe(12);
    expect(r.stdout.split('\n').filter((l) => l.startsWith('| ') && !l.startsWith('| measurement')).length).toBe(9);
  });

  it('takes thresholds from --config and the flags', async () => {
    const dir = tempDir();
    const cfg = join(dir, 'regression.json');
    writeFileSync(cfg, JSON.stringify({ missing: 'info', metrics: { accuracy: { abs: 0.5 } } }));
    // accuracy may drop by 0.5, timings must move by 20 %, missing is information: nothing fails
    const r = await runCompare([baselineCsv, currentCsv, '--config', cfg, '--min-effect', '0.2']);
    expect(r.stdout).toContain(cfg);
    expect(r.code).toBe(0);
    // per-metric entries the file does not mention keep their built-in values (ppl: 1 %)
    expect(readRegressionConfig(cfg).metrics.ppl).toEqual({ rel: 0.01 });
  });

  it('exits 2 on bad input', async () => {
    const dir = tempDir();
    expect((await runCompare([join(dir, 'nope.csv'), currentCsv])).code).toBe(2);
    const notRun = await runCompare([fixtures, currentCsv]);
    expect(notRun.code).toBe(2);
    expect(notRun.stderr).toMatch(/not a run directory/);
    // another model: no measurement in common
    const other = writeRows(join(dir, 'other.csv'), readResultsFile(currentCsv).map((r) => ({ ...r, model: 'other-model' })));
    const incompatible = await runCompare([baselineCsv, other]);
    expect(incompatible.code).toBe(2);
    expect(incompatible.stderr).toMatch(/share no measurement/);
    const badCsv = join(dir, 'bad.csv');
    writeFileSync(badCsv, 'a,b\n1,2\n');
    expect((await runCompare([badCsv, currentCsv])).code).toBe(2);
    const badCfg = join(dir, 'bad.json');
    writeFileSync(badCfg, '{"alpha": 0}');
    expect((await runCompare([baselineCsv, currentCsv, '--config', badCfg])).code).toBe(2);
    expect((await runCompare([baselineCsv, currentCsv, '--alpha', '1.5'])).code).toBe(2);
    const empty = writeRows(join(dir, 'empty.csv'), []);
    expect((await runCompare([empty, currentCsv])).code).toBe(2);
  });

  it('counts an empty current run (every job failed) as a regression, not bad input', async () => {
    const dir = tempDir();
    const empty = writeRows(join(dir, 'empty.csv'), []);
    const r = await runCompare([baselineCsv, empty]);
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('11 missing');
  });
});

// ---- paired accuracy tests: two CPU runs apart only by seed, and an injected drop ------------------
// Fixtures: test/fixtures/runs/paired/ (make.mjs): 40 passkey cases per label (10 depths x 4
// trials) and 40 RULER samples per label. p-values: scipy.stats.binomtest(k, n, 0.5).pvalue on
// the discordant pairs (SciPy 1.17.1), Holm over the 5 tested measurements.

const paired = (name: string) => join(fixtures, 'paired', `${name}.csv`);

describe('paired accuracy verdicts', () => {
  const rowsOf = (name: string) => readResultsFile(paired(name));
  const judge = (a: string, b: string, c = config()) => compareRows(rowsOf(a), rowsOf(b), c);

  it('finds no significant change between runs that differ only by seed', () => {
    const r = judge('seed-1', 'seed-2');
    expect(r.regressions).toBe(0);
    expect(r.pairedTests).toBe(5);
    for (const c of r.comparisons) {
      expect(c.pairs).toBe(40);
      expect(c.sameInputs).toBe(false); // other passkeys: paired on depth and trial
      expect(c.pAdjusted!).toBeGreaterThan(0.05);
      expect(['same', 'noise']).toContain(c.verdict);
    }
    expect(find(r.comparisons, 'passkey', 'adamas@64', 'accuracy').test).toBe('mcnemar-exact');
    expect(find(r.comparisons, 'ruler', 'adamas@64', 'score').test).toBe('sign');
  });

  it('finds the 30-point drop on 40 cases of another seed by the test alone', () => {
    const r = judge('seed-1', 'seed-2-drop');
    const c = find(r.comparisons, 'passkey', 'adamas@64', 'accuracy');
    expect(c.verdict).toBe('regression');
    expect(c.failing).toBe(true);
    expect(c.sameInputs).toBe(false);
    expect(c).toMatchObject({ pairs: 40, nBaseline: 40, nCurrent: 40 });
    expect(c.p!).toBeCloseTo(0.0014896392822265625, 14); // binomtest(3, 21): 18 pairs worse, 3 better
    expect(c.pAdjusted!).toBeCloseTo(0.0074481964111328125, 14); // the smallest of 5: x 5
    expect(c.deltaCi!.hi).toBeLessThan(0);
    expect(c.ciBaseline!.lo).toBeLessThan(c.baseline!);
    expect(r.regressions).toBe(1);
  });

  it('finds the same drop on the same inputs, where the tolerance agrees', () => {
    const r = judge('seed-1', 'seed-1-drop');
    const c = find(r.comparisons, 'passkey', 'adamas@64', 'accuracy');
    expect(c.verdict).toBe('regression');
    expect(c.sameInputs).toBe(true);
    expect(c.delta!).toBeCloseTo(-0.3, 14);
    expect(c.p!).toBeCloseTo(0.00048828125, 15); // binomtest(0, 12)
    expect(r.counts).toMatchObject({ regression: 1, same: 4 });
  });

  it('lets the tolerance fail the same inputs on the CPU only', () => {
    // three of full attention's right answers turned wrong: p = 0.25, but 0.075 > 0.05 on the same inputs
    let left = 3;
    const base = rowsOf('seed-1');
    const flipped = base.map((x) => (x.label === 'full' && x.task === 'passkey' && x.value === '1' && left-- > 0 ? { ...x, value: '0' } : x));
    const cpu = find(compareRows(base, flipped, config()).comparisons, 'passkey', 'full', 'accuracy');
    expect(cpu.p!).toBeCloseTo(0.25, 14);
    expect(cpu.verdict).toBe('regression');
    expect(cpu.note).toMatch(/same inputs on the CPU/);
    const gpu = (rows: ResultRow[]) => rows.map((x) => ({ ...x, device: 'cuda:0' }));
    const onGpu = find(compareRows(gpu(base), gpu(flipped), config()).comparisons, 'passkey', 'full', 'accuracy');
    expect(onGpu.verdict).toBe('noise');
    expect(onGpu.failing).toBe(false);
  });

  it('says when too few pairs can reach alpha', () => {
    const base = rowsOf('seed-1').filter((x) => x.task === 'passkey' && x.label === 'full' && x.depth === '0');
    const worse = base.map((x) => ({ ...x, value: '0', seed: '2' }));
    const c = compareRows(base, worse, config()).comparisons[0];
    expect(c.pairs).toBe(4);
    expect(c.verdict).toBe('noise');
    expect(c.note).toMatch(/4 pairs cannot reach p <= 0.05/);
  });
});

describe('compare command on paired runs', () => {
  it('exits 0 for runs apart only by seed and 1 for the injected drop', async () => {
    const same = await runCompare([paired('seed-1'), paired('seed-2')]);
    expect(same.code).toBe(0);
    expect(same.stdout).toContain('no regression');
    expect(same.stdout).toContain('| passkey adamas@64 len=2048 | accuracy | 0.9 [0.77, 0.96] n=40 | 0.82 [0.68, 0.91] n=40 |');
    const drop = await runCompare([paired('seed-1'), paired('seed-2-drop')]);
    expect(drop.code).toBe(1);
    expect(drop.stdout).toMatch(/\| passkey adamas@64 len=2048 \| accuracy \| 0\.9 \[0\.77, 0\.96\] n=40 \| 0\.53 \[0\.37, 0\.67\] n=40 \| −0\.38 \[−0\.\d+, −0\.\d+\] \| 0\.0015 \(Holm 0\.0074\) \| \*\*REGRESSION\*\*/);
    expect(drop.stdout).toContain('18 of 40 pairs lower, 3 higher');
  });

  it('takes the accuracy alpha from the flag', async () => {
    const strict = await runCompare([paired('seed-1'), paired('seed-2-drop'), '--accuracy-alpha', '0.001']);
    expect(strict.code).toBe(0);
    expect(strict.stdout).toContain('at alpha 0.001');
    expect((await runCompare([paired('seed-1'), paired('seed-2'), '--accuracy-alpha', '0'])).code).toBe(2);
  });

  it('writes the intervals and the adjusted p-values to the CSV', async () => {
    const dir = tempDir();
    await runCompare([paired('seed-1'), paired('seed-2-drop'), '--csv', join(dir, 'c.csv')]);
    const rows = parse(readFileSync(join(dir, 'c.csv'), 'utf8'), { columns: true }) as Record<string, string>[];
    const a = rows.find((x) => x.label === 'adamas@64' && x.task === 'passkey')!;
    expect(Number(a.p_adjusted)).toBeCloseTo(0.0074481964111328125, 14);
    expect(Number(a.delta_hi)).toBeLessThan(0);
    expect(Number(a.baseline_lo)).toBeLessThan(Number(a.baseline));
    expect(a.pairs).toBe('40');
    expect(a.same_inputs).toBe('false');
    expect(a.test).toBe('mcnemar-exact');
  });
});
