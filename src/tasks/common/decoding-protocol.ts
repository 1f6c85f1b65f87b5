// The decoding protocol the accuracy tasks share (the seed's passkey and LongBench scripts): the
// prompt head is prefilled densely (shared across methods through the prefix key), the prompt tail
// is fed token by token through the decode path, where the method's sparse attention applies,
// then greedy tokens follow until a stop id or the limit (model/greedy.ts). Every decode step is
// timed.
import type { MethodSpec } from '../../methods/spec.js';
import { greedyDecode } from '../../model/greedy.js';
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
  const out = await greedyDecode(engine, prefix.logits, { tail: req.tail, maxNewTokens: req.maxNewTokens, stopIds: req.stopIds });
  return { ...out, prefill: { tokens: req.head.length, seconds: prefix.seconds, reused: prefix.reused } };
}
