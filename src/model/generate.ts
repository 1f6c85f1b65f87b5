// Greedy generation through the engine: dense prefill, an optional prompt tail fed token by token
// through the decode (sparse) path, then new tokens until a stop token or the limit.
import type { NativeEngine } from '../native/addon.js';

export interface GenerateOptions {
  maxTokens: number;
  /** Prompt tokens at the end fed through the decode path instead of the prefill (passkey protocol). */
  decodeTail?: number;
  /** Ids that end generation (not included in the output). Empty: run to maxTokens. */
  stopIds?: readonly number[];
  /** Called with each generated token id as it is produced. */
  onToken?: (id: number) => void;
}

export interface GenerateResult {
  tokens: number[];
  prefillTokens: number;
  prefillSeconds: number;
  /** Tokens through the decode path: the prompt tail plus generated tokens after the first. */
  decodeSteps: number;
  decodeSeconds: number;
}

export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

export async function generateGreedy(engine: NativeEngine, prompt: readonly number[], opts: GenerateOptions): Promise<GenerateResult> {
  const tail = Math.min(opts.decodeTail ?? 0, prompt.length - 1);
  const head = prompt.slice(0, prompt.length - tail);
  const stop = new Set(opts.stopIds ?? []);

  let t0 = performance.now();
  let next = (await engine.prefill(Int32Array.from(head))).token;
  const prefillSeconds = (performance.now() - t0) / 1000;

  t0 = performance.now();
  let steps = 0;
  for (const id of prompt.slice(head.length)) {
    next = (await engine.decode(id)).token;
    steps++;
  }
  const tokens: number[] = [];
  while (tokens.length < opts.maxTokens) {
    if (stop.has(next)) break;
    tokens.push(next);
    opts.onToken?.(next);
    if (tokens.length === opts.maxTokens) break;
    next = (await engine.decode(next)).token;
    steps++;
  }
  return {
    tokens,
    prefillTokens: head.length,
    prefillSeconds,
    decodeSteps: steps,
    decodeSeconds: (performance.now() - t0) / 1000,
  };
}
