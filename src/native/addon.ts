// Typed access to the native addon (build/adamas_native.node), loaded once on first use.
import { createRequire } from 'node:module';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export type GgufValue = number | string | boolean | GgufValue[];

export interface GgufTensorInfo {
  name: string;
  type: string;
  shape: number[];
  offset: number;
  bytes: number;
}

export interface GgufInfo {
  path: string;
  version: number;
  fileSize: number;
  metadata: Record<string, GgufValue>;
  tensors: GgufTensorInfo[];
}

export interface ModelConfig {
  arch: string;
  name: string;
  nLayers: number;
  dModel: number;
  nHeads: number;
  nKvHeads: number;
  headDim: number;
  dFf: number;
  vocabSize: number;
  contextLength: number;
  ropeBase: number;
  ropeScaling: 'none' | 'linear' | 'yarn';
  tiedEmbeddings: boolean;
}

/** Attention method and knobs as the native engine takes them (see DESIGN.md "Methods"); made from
 *  a method spec by src/methods/spec.ts, one key per knob of the knob table (its native key). */
export interface NativeAttentionOptions {
  /** A name of src/methods/names.ts; the addon refuses any other (ERR_INVALID_OPTION). */
  method: string;
  budget?: number;
  skipLayers?: number;
  gqa?: 'query' | 'kv';
  sink?: number;
  pageSize?: number;
  hadamard?: boolean;
  distance?: 'l1' | 'l2';
  bits?: number;
  granularity?: 'token' | 'page';
  thresholds?: number[] | 'auto';
  measureRecall?: boolean;
  recordSelection?: boolean;
}

export interface EngineRecords {
  positions: Int32Array;
  /** [steps][layers][heads]; NaN where the layer attended densely at that step. */
  recall?: Float32Array;
  /** [steps][layers * heads] selected positions (empty for dense layers). */
  selected?: Int32Array[][];
}

export interface NativeEngine {
  readonly config: ModelConfig;
  readonly length: number;
  /** 'cpu' or 'cuda', and the device's name (CPU model, GPU name). */
  readonly backend: 'cpu' | 'cuda';
  readonly deviceName: string;
  /** Device time of the last decode step in milliseconds (CUDA events); NaN on the CPU. */
  readonly lastDecodeMs: number;
  /** Chooses the method; cached tokens stay and the method's state is rebuilt from them. */
  setAttention(options: NativeAttentionOptions): void;
  /** Forgets the sequence (and the records). */
  reset(): void;
  /** Keeps the first n cached tokens; the method state is rebuilt from them. */
  truncate(n: number): void;
  /** Makes room for n tokens in all (prefill and decode grow the cache themselves). */
  reserve(n: number): void;
  /** Dense prefill of the tokens at positions length..; resolves to the greedy next token and, when
   *  asked, the last logits and the NLL of each next token. Runs off the event loop; one call at a
   *  time (await it). */
  prefill(tokens: Int32Array, options: { nll?: boolean; logits: true }): Promise<{ token: number; logits: Float32Array; nll?: Float32Array }>;
  prefill(tokens: Int32Array, options?: { nll?: boolean; logits?: boolean }): Promise<{ token: number; logits?: Float32Array; nll?: Float32Array }>;
  /** One decode step through the chosen method; resolves to the greedy next token and, when asked,
   *  the next-token logits. */
  decode(token: number, options: { logits: true }): Promise<{ token: number; logits: Float32Array }>;
  decode(token: number, options?: { logits?: boolean }): Promise<{ token: number; logits?: Float32Array }>;
  /** The next decode step only: every sparse layer attends over these lists instead of selecting
   *  ([layers * heads], as EngineRecords.selected holds one step's). */
  replayNext(selected: Int32Array[]): void;
  records(options?: { clear?: boolean }): EngineRecords;
}

/** How the engine is built (native EngineOptions); defaults in brackets. */
export interface NativeEngineOptions {
  /** CPU threads [0: every core] */
  threads?: number;
  /** ['cpu'] */
  device?: 'cpu' | 'cuda';
  /** cuda: weights on the device ['f16'] */
  weightType?: 'f16' | 'bf16' | 'f32';
  /** the KV cache's element type [the backend's own: cpu f32, cuda f16]; 'f16' on the CPU rounds
   *  every stored key and value to fp16, as the CUDA cache holds them; cuda takes 'f16' only */
  kvCache?: 'f32' | 'f16';
  /** synthetic models: the seed of their random weights [1] */
  seed?: number;
}

export interface CudaDeviceInfo {
  index: number;
  name: string;
  totalMemory: number;
  computeCapability: string;
  smCount: number;
  peakBandwidthGBs: number;
  l2Bytes: number;
}

export interface BuildInfo {
  version: string;
  compiler: string;
  cxxStandard: number;
  threads: number;
  simd: string;
  /** Backends of the kernels: 'cpu', and 'cuda' when the CUDA kernels are built. */
  backends: string[];
  cuda: {
    /** The CUDA kernels are built. */
    built: boolean;
    /** The CUDA model engine is built too (it needs cuBLAS; builds before it lack the key). */
    engine?: boolean;
    driverVersion: number;
    runtimeVersion: number;
    error?: string;
    devices: CudaDeviceInfo[];
  };
}

/** A preset of native/src/model/synthetic.h: a real model's shape with seeded random weights. */
export interface SyntheticModelInfo {
  /** 'synthetic:<preset>' */
  name: string;
  config: ModelConfig;
  /** Parameters of the weights (every tensor, the embedding table included). */
  parameters: number;
}

/** One layer's decode step to time (native bench/attention_bench.h): the method as the engine
 *  takes it, and the shape and stopping rule; defaults in brackets. */
export interface BenchAttentionOptions extends NativeAttentionOptions {
  /** 'cpu', 'cuda' or 'auto' (cuda when built and a device is present) ['auto'] */
  backend?: 'cpu' | 'cuda' | 'auto';
  /** [32, 32, 128, 8192] */
  nHeads?: number;
  nKvHeads?: number;
  headDim?: number;
  kvLen?: number;
  /** NVBench's stopping rule: samples [10], measured seconds [0.5], relative stdev [0.005], wall seconds [5] */
  minSamples?: number;
  minTime?: number;
  maxNoise?: number;
  timeout?: number;
  /** runs per hot sample (0: no hot samples) [10] */
  batch?: number;
  /** also time full attention at the same shape [true] */
  measureFull?: boolean;
  seed?: number;
  /** sequences stepped together (CUDA; the CPU times one) [1, or seqLens' count] */
  sequences?: number;
  /** their lengths [kvLen each] */
  seqLens?: number[];
}

type BenchPhase = 'estimate' | 'topk' | 'attention' | 'total' | 'full' | 'launch';

/** SM and memory clocks sampled through NVML while a case ran (CUDA). */
export interface BenchClocks {
  /** NVML was loaded and answered for the device. */
  available: boolean;
  samples: number;
  smMinMHz: number;
  smMaxMHz: number;
  memMinMHz: number;
  memMaxMHz: number;
  /** A sample of the SM clock below 90% of the highest one of the case. */
  throttled: boolean;
  /** Why the clocks are unavailable, when they are. */
  note: string;
}

/** Cold samples in microseconds per phase (empty when the phase did not run); bytes each phase must move. */
export type BenchAttentionResult = Record<BenchPhase, number[]> & {
  /** hot samples: microseconds per run of `batch` runs back to back (empty when batch is 0) */
  hot: Record<BenchPhase, number[]>;
  batch: number;
  bytes: Record<BenchPhase, number>;
  /** device-to-device copy (cpu: memcpy) bandwidth, bytes read + written per second, in GB/s */
  copyBandwidthGBs: number;
  device: string;
  backend: 'cpu' | 'cuda';
  /** false when kv_len <= budget or the method is full: only dense attention was timed */
  sparse: boolean;
  /** The lengths of the sequences stepped together. */
  seqLens: number[];
  /** The driver's version string (NVML), else the CUDA driver API version; '' on the CPU. */
  driver: string;
  driverVersion: number;
  runtimeVersion: number;
  l2Bytes: number;
  clocks: BenchClocks;
};

/** One comparison of the layer selftest (native/src/selftest/selftest.h). */
export interface SelftestRow {
  /** The layer checked: 'cpu' or 'cuda'. */
  backend: string;
  /** 'plain reference' (the definitions computed plainly, in double) or 'cpu layer'. */
  against: string;
  check: string;
  shape: string;
  method: string;
  /** Lists that differ (selection), else the largest |difference|; Infinity for a non-finite output. */
  value: number;
  tolerance: string;
  pass: boolean;
  /** The first difference beyond the tolerance, or an error. */
  note?: string;
}

export interface SelftestResult {
  seed: number;
  seconds: number;
  /** Whether the CUDA layer was checked, and why not (or why it stopped). */
  cuda: { run: boolean; reason?: string; device?: string };
  rows: SelftestRow[];
}

export interface SelftestOptions {
  /** [a seed from the clock] a non-negative integer below 2^53 */
  seed?: number;
  /** 'cpu': the CPU layer against the plain reference only; 'cuda' / 'auto' ['auto']: the CUDA
   *  layer against the CPU's too, where the build and machine have CUDA (else cuda.reason). */
  device?: 'cpu' | 'cuda' | 'auto';
}

export interface NativeAddon {
  readGguf(path: string): GgufInfo;
  buildInfo(): BuildInfo;
  benchAttention(options: BenchAttentionOptions): Promise<BenchAttentionResult>;
  /** The layer attention selftest, off the event loop. */
  selftest(options?: SelftestOptions): Promise<SelftestResult>;
  /** model: a GGUF file's path, or 'synthetic:<preset>' */
  Engine: new (model: string, options?: NativeEngineOptions) => NativeEngine;
  /** The synthetic presets, for planning without an engine. */
  syntheticModels(): SyntheticModelInfo[];
}

/** Error thrown by the addon; `code` says which kind (ERR_INVALID_OPTION, ERR_GGUF, ...). */
export interface NativeError extends Error {
  code: 'ERR_INVALID_OPTION' | 'ERR_GGUF' | 'ERR_UNSUPPORTED_MODEL' | 'ERR_OUT_OF_MEMORY' | 'ERR_NATIVE';
}

const addonPath = fileURLToPath(new URL('../../build/adamas_native.node', import.meta.url));
let cached: NativeAddon | undefined;

export function loadAddon(): NativeAddon {
  if (cached) return cached;
  if (!existsSync(addonPath)) {
    throw new Error(`native addon not found at ${addonPath}: run 'npm run build:native' (or 'npm install')`);
  }
  const require = createRequire(import.meta.url);
  cached = require(addonPath) as NativeAddon;
  return cached;
}

/** Header, metadata and tensor table of a GGUF file (tensor data stays on disk). */
export function readGgufMetadata(path: string): GgufInfo {
  return loadAddon().readGguf(path);
}
