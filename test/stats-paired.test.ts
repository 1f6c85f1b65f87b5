// Paired tests and their plumbing: the exact sign test / McNemar against SciPy, Holm's adjustment
// against statsmodels, the pairing of trial rows (same inputs, seeds apart, ambiguous, not
// trials) and the comparison of two series of one run (what ablate prints).
import { describe, expect, it } from 'vitest';
import type { ResultRow } from '../src/results/columns.js';
import { holmAdjust } from '../src/stats/multiple.js';
import { compareSeries, formatPaired, pairedComparison, pairRows } from '../src/stats/paired.js';
import { binomialTestHalf, mcnemarExact, signTest, signTestMinP } from '../src/stats/paired-tests.js';

/** |a - b| <= rel·|b|. */
function expectRel(a: number, b: number, rel = 1e-9): void {
  expect(Math.abs(a - b)).toBeLessThanOrEqual(rel * Math.abs(b) + 1e-300);
}

describe('exact binomial test at 1/2 (sign test, exact McNemar)', () => {
  it('matches scipy.stats.binomtest(k, m, 0.5).pvalue, far into the tail', () => {
    // SciPy 1.17.1: [binomtest(k, m, 0.5).pvalue for k, m in cases]
    const cases: [number, number, number][] = [
      [0, 1, 1.0],
      [0, 5, 0.0625],
      [2, 10, 0.109375],
      [5, 10, 1.0],
      [3, 18, 0.007537841796875],
      [4, 20, 0.01181793212890625],
      [0, 12, 0.00048828125],
      [7, 11, 0.548828125],
      [1, 40, 7.457856554538012e-11],
      [40, 100, 0.05688793364098089],
      [300, 1000, 1.7665678007949568e-37],
      [10, 1000, 4.9666775829792705e-278],
    ];
    for (const [k, m, p] of cases) {
      expectRel(binomialTestHalf(k, m), p, 1e-11);
      expectRel(binomialTestHalf(m - k, m), p, 1e-11); // symmetric
    }
    expect(binomialTestHalf(0, 0)).toBe(1);
    expect(() => binomialTestHalf(3, 2)).toThrow(/0 <= k <= m/);
    expect(() => binomialTestHalf(1.5, 4)).toThrow(/integers/);
  });

  it('McNemar takes the discordant counts; the sign test the pairs, ties set aside', () => {
    expect(mcnemarExact(3, 15)).toBe(binomialTestHalf(3, 18));
    // 18 cases: 15 higher, 3 lower, 22 ties
    const first = [...Array(15).fill(0), ...Array(3).fill(1), ...Array(22).fill(1)];
    const second = [...Array(15).fill(1), ...Array(3).fill(0), ...Array(22).fill(1)];
    const t = signTest(first, second);
    expect(t).toMatchObject({ higher: 15, lower: 3, ties: 22 });
    expectRel(t.p, 0.007537841796875, 1e-11);
    expect(t.minP).toBe(signTestMinP(40));
    // scores: only the signs count
    const s = signTest([10, 20, 30, 40], [11, 25, 29, 90]);
    expect(s).toMatchObject({ higher: 3, lower: 1, ties: 0 });
    expect(s.p).toBeCloseTo(0.625, 14); // binomtest(1, 4).pvalue
    expect(() => signTest([1], [1, 2])).toThrow(/pairs|values/);
    expect(() => signTest([NaN], [1])).toThrow(/non-finite/);
  });

  it('knows the smallest p-value of n pairs (11 pairs: 2^-10)', () => {
    expect(signTestMinP(11)).toBeCloseTo(2 ** -10, 15);
    expect(signTestMinP(5)).toBeCloseTo(0.0625, 15); // five pairs can never reach 0.05
    expect(signTestMinP(0)).toBe(1);
  });
});

describe('Holm adjustment', () => {
  it('matches statsmodels multipletests(ps, method="holm")[1]', () => {
    // statsmodels 0.15.0
    const adj = holmAdjust([0.01, 0.04, 0.03, 0.005, 0.2]);
    const want = [0.04, 0.09, 0.09, 0.025, 0.2];
    adj.forEach((p, i) => expect(p!).toBeCloseTo(want[i], 14));
    const adj2 = holmAdjust([0.0015, 0.38, 0.36, 0.61, 0.83]);
    [0.0075, 1, 1, 1, 1].forEach((w, i) => expect(adj2[i]!).toBeCloseTo(w, 14));
  });

  it('leaves untested entries out of the family', () => {
    expect(holmAdjust([0.02, null, 0.01])).toEqual([0.02, null, 0.02]);
    expect(holmAdjust([])).toEqual([]);
    expect(() => holmAdjust([1.2])).toThrow(/\[0, 1\]/);
  });
});

// ---- rows ----------------------------------------------------------------------------------------

function trial(label: string, depth: number, t: number, value: number, o: Partial<ResultRow> = {}): ResultRow {
  const budget = label.includes('@') ? label.split('@')[1] : '';
  return {
    run_id: 'r', suite: 's', task: 'passkey', dataset: '', model: 'm', device: 'cpu', method: label.split(/[@[]/)[0], label, budget,
    context_len: '2048', depth: String(depth), case: `key=${1000 + 10 * depth + t};trial=${t}`, metric: 'accuracy', value: String(value),
    unit: '', n: '1', skip_layers: '2', gqa: 'query', sink: '', page_size: '', hadamard: '', distance: '', bits: '', granularity: '',
    thresholds: '', seed: '42', job_id: `${label}-${depth}-${t}`, samples: '', detail: '', ...o,
  };
}

describe('pairing rows', () => {
  const base = [0, 50, 100].flatMap((d) => [0, 1].map((t) => trial('adamas@64', d, t, 1)));

  it('pairs on the whole case when the inputs are the same', () => {
    const cur = base.map((r, i) => ({ ...r, value: i < 2 ? '0' : '1' })).reverse();
    const p = pairRows(base, cur)!;
    expect(p.sameInputs).toBe(true);
    expect(p.first.length).toBe(6);
    expect(p.first.filter((v, i) => v !== p.second[i]).length).toBe(2);
    expect(p.unpairedFirst + p.unpairedSecond).toBe(0);
  });

  it('pairs trials of another seed on depth and trial, leaving the passkey out', () => {
    const other = base.map((r) => ({ ...r, seed: '7', case: r.case.replace(/key=\d+/, 'key=9') }));
    const p = pairRows(base, other)!;
    expect(p.first.length).toBe(6);
    expect(p.sameInputs).toBe(false);
    // without the seed keys, nothing matches
    const none = pairRows(base, other, [])!;
    expect(none.first.length).toBe(0);
    expect(none.unpairedFirst).toBe(6);
  });

  it('counts rows without a partner, and a same case but another seed is not the same input', () => {
    const cur = base.slice(1).map((r) => ({ ...r, seed: '43' }));
    const p = pairRows(base, cur)!;
    expect(p.first.length).toBe(5);
    expect(p.unpairedFirst).toBe(1);
    expect(p.sameInputs).toBe(false);
  });

  it('leaves ambiguous rows (two rows, one case) unpaired', () => {
    const doubled = [...base, { ...base[0], value: '0' }];
    const p = pairRows(doubled, base)!;
    expect(p.first.length).toBe(5);
    expect(p.unpairedFirst).toBe(2);
  });

  it('refuses rows of several trials', () => {
    expect(pairRows([{ ...base[0], n: '10', value: '0.9' }], [base[0]])).toBeNull();
  });
});

describe('paired comparison', () => {
  it('tests pass/fail pairs by exact McNemar and bounds the mean difference by the bootstrap', () => {
    // 40 pairs: 14 right only in the first, 2 only in the second, 24 agree
    const first = [...Array(14).fill(1), ...Array(2).fill(0), ...Array(12).fill(1), ...Array(12).fill(0)];
    const second = [...Array(14).fill(0), ...Array(2).fill(1), ...Array(12).fill(1), ...Array(12).fill(0)];
    const c = pairedComparison(first, second);
    expect(c.test).toBe('mcnemar-exact');
    expect(c.pairs).toBe(40);
    expect(c.difference).toBeCloseTo(-0.3, 14);
    expect(c.lower).toBe(14);
    expect(c.higher).toBe(2);
    expectRel(c.p, 0.004180908203125, 1e-11); // binomtest(2, 16).pvalue
    expect(c.ci!.lo).toBeLessThan(-0.3);
    expect(c.ci!.hi).toBeLessThan(0);
    expect(c.ci!.hi).toBeGreaterThan(-0.3);
    expect(pairedComparison(first, second)).toEqual(c); // seeded: the same interval every time
    expect(formatPaired(c)).toMatch(/^−0\.3 \[−0\.\d+, −0\.\d+\], p = 0\.0042 \(exact McNemar; 40 pairs: 2 higher, 14 lower\)$/);
  });

  it('uses the sign test for scores', () => {
    const c = pairedComparison([50, 100, 0, 75], [100, 100, 50, 70]);
    expect(c.test).toBe('sign');
    expect(c).toMatchObject({ higher: 2, lower: 1, ties: 1 });
    expect(c.p).toBe(1); // binomtest(1, 3).pvalue
    expect(() => pairedComparison([], [])).toThrow(/no pairs/);
  });
});

describe('two series of one run', () => {
  it('pairs a method and its variant per budget and length, depths pooled', () => {
    const depths = [0, 25, 50, 75, 100];
    const rows: ResultRow[] = [];
    for (const d of depths) for (const t of [0, 1]) {
      rows.push(trial('adamas@64', d, t, 1));
      rows.push(trial('adamas[no-hadamard]@64', d, t, d >= 50 ? 0 : 1));
      rows.push(trial('adamas@16', d, t, d === 0 ? 1 : 0));
      rows.push(trial('adamas[no-hadamard]@16', d, t, d === 0 ? 1 : 0));
    }
    rows.push(trial('full', 0, 0, 1));
    const out = compareSeries(rows, 'adamas', 'adamas[no-hadamard]', { metric: 'accuracy' });
    expect(out.map((c) => c.budget)).toEqual([16, 64]);
    const at64 = out[1];
    expect(at64.first).toMatchObject({ value: 1, n: 10 });
    expect(at64.second).toMatchObject({ value: 0.4, n: 10 });
    expect(at64.first.lo).toBeGreaterThan(0.6);
    expect(at64.paired).toMatchObject({ pairs: 10, lower: 6, higher: 0, test: 'mcnemar-exact' });
    expectRel(at64.paired!.p, 0.03125, 1e-12); // binomtest(0, 6).pvalue
    expect(out[0].paired).toMatchObject({ pairs: 10, lower: 0, higher: 0, p: 1, difference: 0 });
  });
});
