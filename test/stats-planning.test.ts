// How many cases: the expected Wilson half-width and the cases needed to separate two methods,
// against Python references (SciPy 1.17.1, statsmodels 0.15.0):
//   expected half-width: sum(binom.pmf(k, n, p) * (hi - lo) / 2) with
//     lo, hi = statsmodels.stats.proportion.proportion_confint(k, n, 0.05, method='wilson')
//   unpaired: ceil((za*sqrt(2*pb*(1-pb)) + zb*sqrt(p1*q1 + p2*q2))**2 / (p1-p2)**2)
//   paired:   ceil((za*sqrt(psi) + zb*sqrt(psi - d*d))**2 / d**2), za = norm.ppf(0.975), zb = norm.ppf(0.8)
//   exact McNemar power: sum over m of binom.pmf(m, n, psi) * sum over b with
//     binomtest(b, m, 0.5).pvalue <= 0.05 of binom.pmf(b, m, p01/psi)
import { describe, expect, it } from 'vitest';
import {
  binomialPmf, expectedWilsonHalfWidth, mcnemarExactPower, pairedCasesNeeded, plannedHalfWidthText, trialsForHalfWidth, unpairedCasesNeeded,
} from '../src/stats/planning.js';

describe('planned intervals', () => {
  it('expected Wilson half-width matches the statsmodels reference', () => {
    const cases: [number, number, number][] = [
      [11, 0.5, 0.24531791959099064],
      [11, 0.64, 0.23771293655855785],
      [40, 0.8, 0.1192542282781602],
      [100, 0.5, 0.09570201080695703],
      [1, 0.3, 0.3967253428113814],
    ];
    for (const [n, p, hw] of cases) expect(expectedWilsonHalfWidth(n, p)).toBeCloseTo(hw, 12);
    expect(() => expectedWilsonHalfWidth(0)).toThrow(/positive integer/);
    expect(() => expectedWilsonHalfWidth(10, 1.5)).toThrow(/\[0, 1\]/);
  });

  it('prints the planned half-width for --dry-run', () => {
    expect(plannedHalfWidthText(11)).toBe('±0.25');
    expect(plannedHalfWidthText(40, 0.8)).toBe('±0.12');
    expect(plannedHalfWidthText(400)).toBe('±0.05');
  });

  it('finds the trials for a wanted half-width', () => {
    expect(trialsForHalfWidth(0.1)).toBe(92);
    expect(trialsForHalfWidth(0.05)).toBe(380);
    expect(trialsForHalfWidth(0.1, 0.8)).toBe(59);
    expect(expectedWilsonHalfWidth(91)).toBeGreaterThan(0.1);
    expect(() => trialsForHalfWidth(0)).toThrow(/halfWidth/);
  });

  it('binomial probabilities sum to one, also at the ends', () => {
    const pmf = binomialPmf(30, 0.3);
    expect(pmf.reduce((s, v) => s + v, 0)).toBeCloseTo(1, 13);
    expect(pmf[9]).toBeCloseTo(0.1572907789577791, 13); // scipy.stats.binom.pmf(9, 30, 0.3)
    expect([...binomialPmf(3, 0)]).toEqual([1, 0, 0, 0]);
    expect([...binomialPmf(3, 1)]).toEqual([0, 0, 0, 1]);
  });
});

describe('cases to separate two methods (alpha 0.05 two-sided, power 0.8)', () => {
  it('unpaired: matches the reference formula', () => {
    const cases: [number, number, number][] = [[0.5, 0.6, 388], [0.5, 0.7, 93], [0.7, 0.8, 294], [0.7, 0.9, 62], [0.8, 0.9, 199], [0.6, 0.8, 82]];
    for (const [p1, p2, n] of cases) {
      expect(unpairedCasesNeeded(p1, p2)).toBe(n);
      expect(unpairedCasesNeeded(p2, p1)).toBe(n);
    }
    expect(() => unpairedCasesNeeded(0.5, 0.5)).toThrow(/differ/);
  });

  it('paired: matches the reference formula; fewer cases the more the methods agree', () => {
    const cases: [number, number, number][] = [[0.1, 0.1, 77], [0.1, 0.2, 155], [0.1, 0.3, 234], [0.2, 0.2, 37], [0.2, 0.3, 57], [0.2, 0.4, 77]];
    for (const [d, psi, n] of cases) expect(pairedCasesNeeded(d, psi)).toBe(n);
    expect(() => pairedCasesNeeded(0.2, 0.1)).toThrow(/discordance/);
    expect(() => pairedCasesNeeded(0.1, 0.2, { power: 1 })).toThrow(/power/);
  });

  it('exact power of the exact McNemar test matches the SciPy enumeration', () => {
    const cases: [number, number, number, number][] = [
      [11, 0.0, 0.18, 0.006847027691477576],
      [40, 0.05, 0.15, 0.1724271886437241],
      [78, 0.05, 0.15, 0.424575437130367],
      [195, 0.1, 0.2, 0.6912647185840126],
    ];
    for (const [n, p10, p01, power] of cases) expect(mcnemarExactPower(n, p10, p01)).toBeCloseTo(power, 11);
  });

  it('the approximation is a little optimistic for the exact test (the README table)', () => {
    // delta 0.2, the methods disagreeing on 30% of the cases: 57 by the formula, 61 exactly
    const p10 = 0.05;
    const p01 = 0.25;
    expect(pairedCasesNeeded(0.2, 0.3)).toBe(57);
    expect(mcnemarExactPower(57, p10, p01)).toBeLessThan(0.8);
    expect(mcnemarExactPower(60, p10, p01)).toBeLessThan(0.8);
    expect(mcnemarExactPower(61, p10, p01)).toBeGreaterThanOrEqual(0.8);
  });
});
