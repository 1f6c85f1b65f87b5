// Which device a run uses and which worker processes it gets. The one place that decides whether
// CUDA can run: the addon must be built with the CUDA kernels and see a device, and runs that load
// a model also need the CUDA model engine (built when cuBLAS was found: buildInfo's cuda.engine);
// the kernel microbenchmarks need only the kernels.
import { cpus } from 'node:os';
import { UsageError } from '../core/errors.js';
import type { BuildInfo } from '../native/addon.js';

export type Device = 'cpu' | 'cuda';
export type DeviceRequest = 'auto' | Device;

export interface CudaStatus {
  available: boolean;
  /** Why not, when not available. */
  reason?: string;
}

/** Backends the model engine runs on in this build: the CPU always, CUDA when the engine is built. */
export function engineBackends(info: BuildInfo | undefined): Device[] {
  if (!info) return [];
  return info.cuda.built && info.cuda.engine === true ? ['cpu', 'cuda'] : ['cpu'];
}

export const noCudaEngine = 'the addon was built with the CUDA kernels but without the CUDA engine, which needs cuBLAS ' +
  "(the CUDA toolkit's, or the nvidia-cublas wheel PyTorch installs; ADAMAS_CUBLAS_ROOT for another one): " +
  'rebuild with ADAMAS_CUDA=on once it is there, or use --device cpu';

export function cudaStatus(info: BuildInfo | undefined, opts: { needsEngine?: boolean } = {}): CudaStatus {
  if (!info) return { available: false, reason: 'the native addon is not built' };
  if (!info.cuda.built) return { available: false, reason: 'the addon was built without CUDA (rebuild with nvcc on PATH or ADAMAS_CUDA=on); use --device cpu' };
  if (opts.needsEngine !== false && !engineBackends(info).includes('cuda')) return { available: false, reason: noCudaEngine };
  if (info.cuda.devices.length === 0) return { available: false, reason: `${info.cuda.error ?? 'no CUDA device is visible'}; use --device cpu` };
  return { available: true };
}

/**
 * 'auto' -> cuda when CUDA can run what is asked (the engine when a model is loaded), else cpu. An
 * explicit 'cuda' that cannot run is an error, except for planning (--dry-run shows the GPU sweep
 * anywhere).
 */
export function resolveDevice(requested: DeviceRequest, info: BuildInfo | undefined,
  opts: { planOnly?: boolean; needsEngine?: boolean } = {}): Device {
  const status = cudaStatus(info, opts);
  if (requested === 'auto') return status.available ? 'cuda' : 'cpu';
  if (requested === 'cuda' && !status.available && !opts.planOnly) throw new UsageError(status.reason ?? 'CUDA is not available; use --device cpu');
  return requested;
}

/** One worker process: its device and its environment. */
export interface WorkerSlot {
  /** 0-based slot number. */
  slot: number;
  device: Device;
  /** 'cpu' or 'cuda:<index>' (the row's device column). */
  name: string;
  /** Human name of the hardware. */
  hardware: string;
  env: Record<string, string>;
}

/** What CUDA_VISIBLE_DEVICES must say for a child to see the device this process knows as `index`:
 *  the index itself, or the entry of this process's own CUDA_VISIBLE_DEVICES that it stands for. */
export function visibleDeviceId(index: number, parentVisible: string | undefined): string {
  const own = (parentVisible ?? '').split(',').map((s) => s.trim()).filter((s) => s !== '');
  return own.length > index ? own[index]! : String(index);
}

/** CPU: one worker using every core. CUDA: one worker per GPU, each seeing only its GPU (which it
 *  then knows as device 0). */
export function workerSlots(device: Device, info: BuildInfo | undefined, gpus?: number[],
  parentVisible: string | undefined = process.env.CUDA_VISIBLE_DEVICES): WorkerSlot[] {
  if (device === 'cpu') return [{ slot: 0, device, name: 'cpu', hardware: cpuName(), env: {} }];
  const devices = info?.cuda.devices ?? [];
  const wanted = gpus ?? devices.map((d) => d.index);
  if (wanted.length === 0) throw new UsageError('no CUDA device to run on');
  if (new Set(wanted).size !== wanted.length) throw new UsageError(`--devices ${wanted.join(',')} names a device twice`);
  return wanted.map((index, slot) => {
    const d = devices.find((x) => x.index === index);
    if (!d) throw new UsageError(`--devices: there is no CUDA device ${index} (visible: ${devices.map((x) => x.index).join(', ') || 'none'})`);
    return { slot, device, name: `cuda:${index}`, hardware: d.name, env: { CUDA_VISIBLE_DEVICES: visibleDeviceId(index, parentVisible) } };
  });
}

export function cpuName(): string {
  const list = cpus();
  return list.length ? `${list[0].model.trim()} (${list.length} threads)` : 'cpu';
}
