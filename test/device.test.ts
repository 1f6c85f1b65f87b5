// Which device a run uses, from the addon's build info (faked here: a build with the CUDA engine, one
// with the kernels only, one without CUDA, one from before the engine key), the worker slots and
// their environment, and what a failed job on a GPU means for its worker.
import { describe, expect, it } from 'vitest';
import { deviceMemoryCode, failureCodeOf, isPermanentFailure } from '../src/core/errors.js';
import type { BuildInfo, CudaDeviceInfo } from '../src/native/addon.js';
import { cudaStatus, engineBackends, noCudaEngine, resolveDevice, visibleDeviceId, workerSlots } from '../src/runner/device.js';
import { endsWorker } from '../src/worker/failure.js';

const h200 = (index: number): CudaDeviceInfo => ({
  index, name: 'NVIDIA H200', totalMemory: 150_000_000_000, computeCapability: '9.0', smCount: 132, peakBandwidthGBs: 4800, l2Bytes: 52_428_800,
});

function build(cuda: Partial<BuildInfo['cuda']>): BuildInfo {
  return {
    version: '0.1.0', compiler: 'test', cxxStandard: 201703, threads: 2, simd: 'avx2+fma',
    backends: cuda.built ? ['cpu', 'cuda'] : ['cpu'],
    cuda: { built: false, driverVersion: 0, runtimeVersion: 0, devices: [], ...cuda },
  };
}

const withEngine = build({ built: true, engine: true, driverVersion: 13000, runtimeVersion: 13000, devices: [h200(0), h200(1)] });
const kernelsOnly = build({ built: true, engine: false, driverVersion: 13000, runtimeVersion: 13000, devices: [h200(0)] });
const beforeEngineKey = build({ built: true, driverVersion: 13000, runtimeVersion: 13000, devices: [h200(0)] });
const noDevice = build({ built: true, engine: true, driverVersion: 13000, runtimeVersion: 13000, error: 'no CUDA-capable device is detected' });
const cpuOnly = build({ built: false, error: 'this build has no CUDA backend' });

describe('the engine backends come from the build info', () => {
  it('cuda when the CUDA engine is built (cuBLAS), else the CPU only', () => {
    expect(engineBackends(withEngine)).toEqual(['cpu', 'cuda']);
    expect(engineBackends(kernelsOnly)).toEqual(['cpu']);
    expect(engineBackends(beforeEngineKey)).toEqual(['cpu']);
    expect(engineBackends(cpuOnly)).toEqual(['cpu']);
    expect(engineBackends(undefined)).toEqual([]);
  });

  it('a run that loads a model needs the engine; the kernels need the kernels only', () => {
    expect(cudaStatus(withEngine)).toEqual({ available: true });
    expect(cudaStatus(kernelsOnly)).toEqual({ available: false, reason: noCudaEngine });
    expect(noCudaEngine).toMatch(/cuBLAS/);
    expect(cudaStatus(kernelsOnly, { needsEngine: false })).toEqual({ available: true });
    expect(cudaStatus(noDevice).reason).toBe('no CUDA-capable device is detected; use --device cpu');
    expect(cudaStatus(cpuOnly).reason).toMatch(/built without CUDA .*ADAMAS_CUDA=on/);
    expect(cudaStatus(undefined).reason).toBe('the native addon is not built');
  });
});

describe('--device auto|cpu|cuda', () => {
  it('auto takes the GPU when the build can run there and a device is visible', () => {
    expect(resolveDevice('auto', withEngine)).toBe('cuda');
    expect(resolveDevice('auto', kernelsOnly)).toBe('cpu');
    expect(resolveDevice('auto', kernelsOnly, { needsEngine: false })).toBe('cuda');
    expect(resolveDevice('auto', noDevice)).toBe('cpu');
    expect(resolveDevice('auto', cpuOnly)).toBe('cpu');
    expect(resolveDevice('auto', undefined)).toBe('cpu');
  });

  it('an explicit cuda that cannot run is bad input naming why, except for a dry run', () => {
    expect(resolveDevice('cuda', withEngine)).toBe('cuda');
    expect(() => resolveDevice('cuda', kernelsOnly)).toThrow(noCudaEngine);
    expect(() => resolveDevice('cuda', noDevice)).toThrow('no CUDA-capable device is detected; use --device cpu');
    expect(resolveDevice('cuda', cpuOnly, { planOnly: true })).toBe('cuda');
    expect(resolveDevice('cpu', withEngine)).toBe('cpu');
  });
});

describe('worker slots', () => {
  it('one worker per GPU, each seeing only its own', () => {
    const slots = workerSlots('cuda', withEngine, undefined, undefined);
    expect(slots.map((s) => [s.name, s.hardware, s.env.CUDA_VISIBLE_DEVICES])).toEqual([['cuda:0', 'NVIDIA H200', '0'], ['cuda:1', 'NVIDIA H200', '1']]);
    expect(workerSlots('cuda', withEngine, [1], undefined).map((s) => s.name)).toEqual(['cuda:1']);
    expect(workerSlots('cpu', withEngine)).toMatchObject([{ name: 'cpu', device: 'cpu', env: {} }]);
  });

  it('under a CUDA_VISIBLE_DEVICES of its own, a worker is given the device that index stands for', () => {
    expect(visibleDeviceId(0, '2,3')).toBe('2');
    expect(visibleDeviceId(1, ' 2, 3 ')).toBe('3');
    expect(visibleDeviceId(0, 'GPU-6b8c')).toBe('GPU-6b8c');
    expect(visibleDeviceId(1, '')).toBe('1');
    expect(visibleDeviceId(1, undefined)).toBe('1');
    expect(workerSlots('cuda', withEngine, [0, 1], '4,6').map((s) => s.env.CUDA_VISIBLE_DEVICES)).toEqual(['4', '6']);
  });

  it('refuses a device that is not there, or one named twice', () => {
    expect(() => workerSlots('cuda', withEngine, [2], undefined)).toThrow('--devices: there is no CUDA device 2 (visible: 0, 1)');
    expect(() => workerSlots('cuda', withEngine, [0, 0], undefined)).toThrow('names a device twice');
    expect(() => workerSlots('cuda', noDevice, undefined, undefined)).toThrow('no CUDA device to run on');
  });
});

describe('a failed job on a GPU', () => {
  const native = (message: string, code: string) => Object.assign(new Error(message), { code });

  it('out of device memory is the job\'s size, not bad input: a resume retries it', () => {
    const oom = native('out of device memory: the KV cache for 131072 positions needs 64.00 GiB, 12.10 GiB free of 139.80 GiB', 'ERR_INVALID_OPTION');
    expect(failureCodeOf(oom)).toBe(deviceMemoryCode);
    expect(isPermanentFailure(failureCodeOf(oom))).toBe(false);
    expect(failureCodeOf(native('budget must be >= 1', 'ERR_INVALID_OPTION'))).toBe('ERR_INVALID_OPTION');
  });

  it('a CUDA runtime error ends the worker (a fresh one takes the next job); refusals and task errors do not', () => {
    expect(endsWorker('cuda', 'ERR_NATIVE')).toBe(true);
    expect(endsWorker('cpu', 'ERR_NATIVE')).toBe(false);
    expect(endsWorker('cuda', deviceMemoryCode)).toBe(false);
    expect(endsWorker('cuda', 'ERR_INVALID_OPTION')).toBe(false);
    expect(endsWorker('cuda', undefined)).toBe(false);
  });
});
