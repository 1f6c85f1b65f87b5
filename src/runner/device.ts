// Which device a run uses and which worker processes it gets. The one place that decides whether
// CUDA can run: the addon must be built with CUDA and see a device, and runs that load a model
// also need the model engine on CUDA (engineBackends); the kernel microbenchmarks need only the
// kernels.
import { cpus } from 'node:os';
import { UsageError } from '../core/errors.js';
import type { BuildInfo } from '../native/addon.js';

export type Device = 'cpu' | 'cuda';
export type DeviceRequest = 'auto' | Device;

export const cudaEngineMissing = 'the CUDA engine is not built yet; use --device cpu';

export interface CudaStatus {
  available: boolean;
  /** Why not, when not available. */
  reason?: string;
}

/** Backends the model engine itself runs on in this build: the CPU (the CUDA kernels are timed by
 *  the kernels task only). */
export const engineBackends: readonly string[] = ['cpu'];

export function cudaStatus(info: BuildInfo | undefined, opts: { needsEngine?: boolean } = {}): CudaStatus {
  if (!info) return { available: false, reason: 'the native addon is not built' };
  if (opts.needsEngine !== false && !engineBackends.includes('cuda')) return { available: false, reason: cudaEngineMissing };
  if (!info.cuda.built) return { available: false, reason: 'the addon was built without CUDA (rebuild with nvcc on PATH or ADAMAS_CUDA=on); use --device cpu' };
  if (info.cuda.devices.length === 0) return { available: false, reason: `${info.cuda.error ?? 'no CUDA device is visible'}; use --device cpu` };
  return { available: true };
}

/**
 * 'auto' -> cuda when the CUDA engine can run, else cpu. An explicit 'cuda' that cannot run is an
 * error, except for planning (--dry-run shows the GPU sweep anywhere).
 */
export function resolveDevice(requested: DeviceRequest, info: BuildInfo | undefined,
  opts: { planOnly?: boolean; needsEngine?: boolean } = {}): Device {
  const status = cudaStatus(info, opts);
  if (requested === 'auto') return status.available ? 'cuda' : 'cpu';
  if (requested === 'cuda' && !status.available && !opts.planOnly) throw new UsageError(status.reason ?? cudaEngineMissing);
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

/** CPU: one worker using every core. CUDA: one worker per GPU, each seeing only its GPU. */
export function workerSlots(device: Device, info: BuildInfo | undefined, gpus?: number[]): WorkerSlot[] {
  if (device === 'cpu') return [{ slot: 0, device, name: 'cpu', hardware: cpuName(), env: {} }];
  const devices = info?.cuda.devices ?? [];
  const wanted = gpus ?? devices.map((d) => d.index);
  if (wanted.length === 0) throw new UsageError('no CUDA device to run on');
  return wanted.map((index, slot) => {
    const d = devices.find((x) => x.index === index);
    if (!d) throw new UsageError(`--devices: there is no CUDA device ${index} (visible: ${devices.map((x) => x.index).join(', ') || 'none'})`);
    return { slot, device, name: `cuda:${index}`, hardware: d.name, env: { CUDA_VISIBLE_DEVICES: String(index) } };
  });
}

export function cpuName(): string {
  const list = cpus();
  return list.length ? `${list[0].model.trim()} (${list.length} threads)` : 'cpu';
}
