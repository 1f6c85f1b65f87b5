// Many tests at once. compare judges every accuracy measurement of a run (method x budget x length
// x data set, often dozens): at alpha = 0.05 each, a rerun that changed nothing would fail on some
// of them by chance alone. Holm's step-down adjustment (Holm 1979) keeps the chance of any false
// alarm across the family at alpha, and is uniformly more powerful than Bonferroni.

/**
 * Holm-adjusted p-values, in the input's order; null entries (no test) stay null and do not
 * count towards the family. p_(i) sorted ascending becomes max_{j <= i} min(1, (k - j + 1) p_(j)).
 */
export function holmAdjust(pValues: readonly (number | null)[]): (number | null)[] {
  const tested = pValues.flatMap((p, i) => (p === null ? [] : [{ p, i }]));
  for (const { p } of tested) if (!(p >= 0 && p <= 1)) throw new RangeError(`holmAdjust: p-values must lie in [0, 1] (got ${p})`);
  tested.sort((a, b) => a.p - b.p || a.i - b.i);
  const out: (number | null)[] = pValues.map(() => null);
  const k = tested.length;
  let running = 0;
  tested.forEach(({ p, i }, j) => {
    running = Math.max(running, Math.min(1, (k - j) * p));
    out[i] = running;
  });
  return out;
}
