// The GPU's copy bandwidth (a device-to-device copy far larger than the caches, bytes read +
// written per second), as the step benchmark measures it once per process: asked of it with a
// case too small to cost anything, so that tasks other than kernels set their timings against
// the same reference.
import { loadAddon, type BenchAttentionOptions, type NativeAddon } from '../../native/addon.js';

const probe: BenchAttentionOptions = {
  backend: 'cuda', method: 'full', nHeads: 1, nKvHeads: 1, headDim: 64, kvLen: 64,
  minSamples: 5, minTime: 1e-4, maxNoise: 1, timeout: 0.1, batch: 0, measureFull: false,
};

let measured: Promise<number> | undefined;

/** GB/s of this process's GPU, measured on the first call. */
export function cudaCopyBandwidthGBs(addon: Pick<NativeAddon, 'benchAttention'> = loadAddon()): Promise<number> {
  measured ??= addon.benchAttention(probe).then((r) => r.copyBandwidthGBs);
  measured.catch(() => { measured = undefined; });
  return measured;
}
