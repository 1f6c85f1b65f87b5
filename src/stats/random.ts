// Seeded randomness for the resampling methods (bootstrap intervals): an interval is a function of
// its data and the seed alone, so a report or a comparison prints the same numbers on every run
// and every machine. No Math.random.

export type RandomSource = () => number;

/** The seed every resampling uses unless told otherwise. */
export const defaultSeed = 0x5eed;

/** mulberry32: a small, fast generator with a 2^32 period; floats in [0, 1). */
export function seededRandom(seed: number = defaultSeed): RandomSource {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
