// The bytes floor of a decode step on the GPU: what the step must read at least (the weights it
// multiplies by, once, and the K and V of every position each layer attends to), at the copy
// bandwidth of the same GPU. A sparse layer reads the budget's positions for each query head (per
// KV head with --gqa kv; StreamingLLM's window per KV head); its own metadata (Adamas codes, Quest
// page bounds) is not counted, so the floor stays a lower bound for every method.
import type { MethodSpec } from '../../methods/spec.js';
import { decodeWeightElements, defaultWeightType, kvElementBytes, weightElementBytes, type WeightType } from '../../model/footprint.js';
import type { ModelConfig } from '../../native/addon.js';

export interface DecodeFloor {
  /** Bytes of the weights a step reads (in the engine's weight type). */
  weightBytes: number;
  /** Bytes of K and V the step's attention reads, over every layer. */
  kvBytes: number;
  bytes: number;
  /** bytes at the copy bandwidth, in milliseconds. */
  floorMs: number;
}

/** K and V bytes the attention of one step reads at KV length `kvLen` (the current token included). */
export function attendedKvBytes(c: ModelConfig, method: MethodSpec, kvLen: number): number {
  const perPosition = (heads: number) => 2 * heads * c.headDim * kvElementBytes;
  const sparse = method.method !== 'full' && method.budget !== undefined && kvLen > method.budget;
  let bytes = 0;
  for (let l = 0; l < c.nLayers; l++) {
    if (!sparse || l < method.skipLayers) bytes += perPosition(c.nKvHeads) * kvLen;
    else {
      const heads = method.method === 'streaming' || method.gqa === 'kv' ? c.nKvHeads : c.nHeads;
      bytes += perPosition(heads) * method.budget!;
    }
  }
  return bytes;
}

/** The floor of one decode step at `kvLen`, against the copy bandwidth (bytes read + written per
 *  second, as the bench and the PyTorch peer measure it) in GB/s. */
export function decodeFloor(c: ModelConfig, method: MethodSpec, kvLen: number, copyGBs: number, weights: WeightType = defaultWeightType): DecodeFloor {
  const weightBytes = decodeWeightElements(c) * weightElementBytes(weights);
  const kvBytes = attendedKvBytes(c, method, kvLen);
  const bytes = weightBytes + kvBytes;
  return { weightBytes, kvBytes, bytes, floorMs: (bytes / (copyGBs * 1e9)) * 1e3 };
}

/** The mean KV length the timed steps attend over: after a prefill of `contextLen` tokens, step i
 *  (0-based) appends its token and attends over contextLen + i + 1; the first `warmup` are untimed. */
export function meanTimedKvLength(contextLen: number, warmup: number, decode: number): number {
  return contextLen + warmup + (decode + 1) / 2;
}
