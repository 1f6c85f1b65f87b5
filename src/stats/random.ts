// Seeded randomness for the resampling methods (bootstrap intervals): an interval is a function of
// its data and the seed alone, so a report or a comparison prints the same numbers on every run
// and every machine. No Math.random.

export type RandomSource = () => number;

/** A seeded generator: floats in [0, 1) one call at a time, or a buffer of indices at once. */
export interface SeededRandom extends RandomSource {
  /** Fills `out` with uniform integers in [0, n), the same stream as n · next() rounded down. */
  indices(out: Int32Array, n: number): void;
}

/** The seed every resampling uses unless told otherwise. */
export const defaultSeed = 0x5eed;

/** mulberry32: a small, fast generator with a 2^32 period. */
export function seededRandom(seed: number = defaultSeed): SeededRandom {
  let a = seed >>> 0;
  const next = (): number => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // the bootstrap's inner loop: the generator inlined, no call per index
  const indices = (out: Int32Array, n: number): void => {
    let s = a; // a local, not the closure's slot, in the hot loop
    for (let k = 0; k < out.length; k++) {
      s = (s + 0x6d2b79f5) | 0;
      let t = s;
      t = Math.imul(t ^ (t >>> 15), t | 1);
      t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
      out[k] = Math.floor((((t ^ (t >>> 14)) >>> 0) / 4294967296) * n);
    }
    a = s >>> 0;
  };
  return Object.assign(next, { indices });
}
