// The decoding protocol the accuracy tasks share (the seed's passkey and LongBench scripts): the
// prompt head is prefilled densely (shared across methods through the prefix key), the prompt tail
// is fed token by token through the decode path, where the method's sparse attention applies,
// then greedy tokens follow until a stop id or the limit. Every decode step is timed.
import type { MethodSpec } from '../../methods/spec.js';
import { argmax } from '../../model/generate.js';
import type { RunContext } from '../types.js';

export interface GenerationRequest {
  prefixKey: string;
  /** Prompt tokens prefilled densely (BOS included where the tokenizer adds one). */
  head: readonly number[];
  /** Prompt tokens fed one by one through the decode path (no BOS). */
  tail: readonly number[];
  method: MethodSpec;
  maxNewTokens: number;
  /** Token ids that end the generation (not part of the output). */
  stopIds: readonly number[];
}

export interface GenerationResult {
  /** Generated ids, stop id excluded. */
  tokens: number[];
  /** Whether a stop id ended the generation (else the limit did). */
  stopped: boolean;
  prefill: { tokens: number; seconds: number; reused: boolean };
  /** Milliseconds of every decode step: the tail's, then the generated tokens' (all but the last). */
  stepMs: number[];
}

export async function generateWithTail(ctx: RunContext, req: GenerationRequest): Promise<GenerationResult> {
  if (req.head.length === 0 && req.tail.length === 0) throw new Error('empty prompt');
  const engine = ctx.model.engine;
  const prefix = await ctx.preparePrefix(req.prefixKey, req.head, req.method);
  let next = argmax(prefix.logits); // the engine's greedy token after each decode step
  const stepMs: number[] = [];
  const step = async (id: number) => {
    const t0 = performance.now();
    next = (await engine.decode(id)).token;
    stepMs.push(performance.now() - t0);
  };
  for (const id of req.tail) await step(id);
  const stop = new Set(req.stopIds);
  const tokens: number[] = [];
  let stopped = false;
  while (tokens.length < req.maxNewTokens) {
    if (stop.has(next)) {
      stopped = true;
      break;
    }
    tokens.push(next);
    if (tokens.length === req.maxNewTokens) break;
    await step(next);
  }
  return { tokens, stopped, prefill: { tokens: req.head.length, seconds: prefix.seconds, reused: prefix.reused }, stepMs };
}
