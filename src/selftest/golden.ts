// The golden fixture of the default model (test/fixtures/golden/, made by scripts/make_golden.py
// with Hugging Face transformers, float32 on the CPU): the prompts whose last-position logits and
// greedy continuations the engines are held to.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { packageRoot } from '../config/defaults.js';

export interface GoldenLogits {
  name: string;
  ids: number[];
  /** [token id, logit] of the 20 largest logits at the last position. */
  top20: [number, number][];
}

export interface GoldenGreedy {
  ids: number[];
  /** The greedy tokens after the prompt. */
  continuation: number[];
  /** top-1 minus top-2 logit of the step that chose each continuation token. */
  margins: number[];
}

export interface GoldenFixture {
  path: string;
  /** The model file the fixture was made from, and its sha256. */
  model: { file: string; sha256: string };
  logits: GoldenLogits[];
  greedy: { name: string; run: GoldenGreedy }[];
}

export const goldenPath = join(packageRoot, 'test', 'fixtures', 'golden', 'smollm2-135m-instruct-q4_1.json');

/** The fixture, or undefined when this installation lacks it. */
export function readGolden(path = goldenPath): GoldenFixture | undefined {
  if (!existsSync(path)) return undefined;
  const g = JSON.parse(readFileSync(path, 'utf8')) as {
    model: { file: string; sha256: string };
    logits: GoldenLogits[];
    greedy: GoldenGreedy;
    greedy_robust: GoldenGreedy;
  };
  return {
    path,
    model: { file: g.model.file, sha256: g.model.sha256 },
    logits: g.logits.map(({ name, ids, top20 }) => ({ name, ids, top20 })),
    greedy: [
      { name: 'greedy', run: g.greedy },
      { name: 'greedy_robust', run: g.greedy_robust },
    ],
  };
}
