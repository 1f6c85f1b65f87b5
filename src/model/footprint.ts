// What a model occupies and what a decode step must read, in bytes: the weights (on the GPU in the
// type --weights asks for, fp16 by default; float32 on the CPU, as the engines hold them) and the
// KV cache (fp16 K and V of every layer and KV head: native/src/model/cuda/kv_cache.h). The dry run's "which models fit" and e2e's bytes
// floor are made of these.
import type { ModelConfig } from '../native/addon.js';

/** Element types of the CUDA engine's weight matrices (--weights). */
export const weightTypes = ['f16', 'bf16', 'f32'] as const;
export type WeightType = (typeof weightTypes)[number];
/** The CUDA engine's weight type when --weights names none. */
export const defaultWeightType: WeightType = 'f16';

/** Bytes of one weight element as the CUDA engine holds it. */
export function weightElementBytes(weights: WeightType = defaultWeightType): number {
  return weights === 'f32' ? 4 : 2;
}
/** Bytes of one K or V element in the CUDA cache. */
export const kvElementBytes = 2;

/** Element types of the KV cache (--kv-cache). The CUDA engine's cache is fp16; the CPU's is
 *  float32, or with f16 each key and value rounded to the nearest fp16 as it is stored (still in
 *  float32 storage, so the CPU's memory does not change): the values the CUDA cache holds. */
export const kvCacheTypes = ['f32', 'f16'] as const;
export type KvCacheType = (typeof kvCacheTypes)[number];
/** Why the CUDA engine takes no --kv-cache f32. */
export const cudaKvCacheNote = "the CUDA engine's attention kernels read an fp16 KV cache (f16, its default, is the only type it takes)";
/** The KV cache's element type on a device when --kv-cache names none. */
export function defaultKvCache(device: 'cpu' | 'cuda'): KvCacheType {
  return device === 'cuda' ? 'f16' : 'f32';
}

/** The shape the KV cache depends on. */
export interface KvShape {
  layers: number;
  kvHeads: number;
  headDim: number;
}

/** Bytes of the KV cache for one position (K and V, every layer and KV head). */
export function kvBytesPerPosition(s: KvShape, elementBytes = kvElementBytes): number {
  return 2 * s.layers * s.kvHeads * s.headDim * elementBytes;
}

/** Weight elements a decode step reads: every layer's matrices and norms, the final norm and the
 *  LM head (the embedding table's one row of the token is left out, as the PyTorch peer does). */
export function decodeWeightElements(c: ModelConfig): number {
  const d = c.dModel, qd = c.nHeads * c.headDim, kvd = c.nKvHeads * c.headDim, ff = c.dFf;
  const perLayer = 2 * d + 2 * d * qd + 2 * d * kvd + 3 * d * ff;
  return c.nLayers * perLayer + d + c.vocabSize * d;
}

/** Device memory a job of `tokens` positions needs: its weights and its KV cache. */
export function deviceBytes(parameters: number, kv: KvShape, tokens: number, type: WeightType = defaultWeightType): { weights: number; kv: number; total: number } {
  const weights = parameters * weightElementBytes(type);
  const cache = kvBytesPerPosition(kv) * tokens;
  return { weights, kv: cache, total: weights + cache };
}

export function formatBytes(b: number): string {
  if (b >= 2 ** 30) return `${(b / 2 ** 30).toFixed(1)} GiB`;
  if (b >= 2 ** 20) return `${(b / 2 ** 20).toFixed(0)} MiB`;
  return `${Math.round(b / 1024)} KiB`;
}
