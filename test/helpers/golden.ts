// The default model (fetched into the cache on first use) and its golden fixture, made once with
// Hugging Face transformers on the CPU by scripts/make_golden.py.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { resolveModel } from '../../src/model/catalog.js';

export interface Golden {
  model: { file: string; sha256: string; n_vocab: number; add_bos: boolean; control_token_ids: number[] };
  tokenization: { name: string; text: string; ids: number[]; decoded: string }[];
  chat: { messages: { role: 'system' | 'user' | 'assistant'; content: string }[]; add_generation_prompt?: boolean; text: string; ids: number[] };
  logits: { name: string; text: string; ids: number[]; top20: [number, number][]; logsumexp: number }[];
  greedy: GoldenGreedy;
  greedy_robust: GoldenGreedy;
  nll: { name: string; count: number; mean: number; ppl: number };
}

export interface GoldenGreedy {
  text: string;
  ids: number[];
  continuation: number[];
  continuation_text: string;
  min_margin: number;
}

export const golden: Golden = JSON.parse(
  readFileSync(fileURLToPath(new URL('../fixtures/golden/smollm2-135m-instruct-q4_1.json', import.meta.url)), 'utf8'),
);

let pathPromise: Promise<string> | undefined;

/** Path of the default model in the cache (ADAMAS_BENCH_CACHE honoured); fetched if missing. */
export function defaultModelPath(): Promise<string> {
  pathPromise ??= resolveModel('default').then((r) => r.path);
  return pathPromise;
}
