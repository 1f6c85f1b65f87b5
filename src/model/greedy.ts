// Greedy decoding through the engine: the one loop every caller shares (the generate command, the
// accuracy tasks, the e2e latency task). From the logits of the last prefilled position it feeds
// a prompt tail token by token through the decode (sparse) path, then takes the engine's greedy
// token and decodes it, until a stop token or the limit. Every decode step is timed; logits stay
// in the engine (on the GPU, they never leave the device).
import type { NativeEngine } from '../native/addon.js';

export function argmax(logits: Float32Array): number {
  let best = 0;
  for (let i = 1; i < logits.length; i++) if (logits[i] > logits[best]) best = i;
  return best;
}

export interface GreedyOptions {
  /** Prompt tokens fed through the decode path before the first new token. */
  tail?: readonly number[];
  /** New tokens at most. */
  maxNewTokens: number;
  /** Ids that end the generation (not part of the output). Empty: run to maxNewTokens. */
  stopIds?: readonly number[];
  /** Called with each new token id as it is produced. */
  onToken?: (id: number) => void;
}

export interface GreedyResult {
  /** The new tokens, a stop id excluded. */
  tokens: number[];
  /** Whether a stop id ended the generation (else the limit did). */
  stopped: boolean;
  /** Milliseconds of every decode step: the tail's, then the new tokens' but the last (whose
   *  successor is not asked for). */
  stepMs: number[];
  /** The device's own time of each of those steps (the engine's lastDecodeMs: CUDA events around
   *  the replayed step); NaN where the engine has none (the CPU). */
  deviceMs: number[];
}

/** Greedy decoding from `logits`, the engine's output at the last token it holds. */
export async function greedyDecode(engine: NativeEngine, logits: Float32Array, opts: GreedyOptions): Promise<GreedyResult> {
  const stepMs: number[] = [];
  const deviceMs: number[] = [];
  let next = argmax(logits);
  const step = async (id: number) => {
    const t0 = performance.now();
    next = (await engine.decode(id)).token;
    stepMs.push(performance.now() - t0);
    const device = engine.lastDecodeMs;
    deviceMs.push(typeof device === 'number' ? device : Number.NaN);
  };
  for (const id of opts.tail ?? []) await step(id);
  const stop = new Set(opts.stopIds ?? []);
  const tokens: number[] = [];
  let stopped = false;
  while (tokens.length < opts.maxNewTokens) {
    if (stop.has(next)) {
      stopped = true;
      break;
    }
    tokens.push(next);
    opts.onToken?.(next);
    if (tokens.length === opts.maxNewTokens) break;
    await step(next);
  }
  return { tokens, stopped, stepMs, deviceMs };
}

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

/** A prompt's greedy continuation: a dense prefill of the prompt (but its tail), then greedyDecode. */
export async function generateGreedy(engine: NativeEngine, prompt: readonly number[], opts: GenerateOptions): Promise<GenerateResult> {
  const tail = Math.min(opts.decodeTail ?? 0, prompt.length - 1);
  const head = prompt.slice(0, prompt.length - tail);
  let t0 = performance.now();
  const { logits } = await engine.prefill(Int32Array.from(head), { logits: true });
  const prefillSeconds = (performance.now() - t0) / 1000;
  t0 = performance.now();
  const out = await greedyDecode(engine, logits, { tail: prompt.slice(head.length), maxNewTokens: opts.maxTokens, stopIds: opts.stopIds, onToken: opts.onToken });
  return {
    tokens: out.tokens,
    prefillTokens: head.length,
    prefillSeconds,
    decodeSteps: out.stepMs.length,
    decodeSeconds: (performance.now() - t0) / 1000,
  };
}
