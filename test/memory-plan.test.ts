// "Which models fit": the dry run's table on CUDA of weights + KV cache per model and context
// length against the smallest visible GPU (faked build info), from the presets and GGUF headers
// without loading anything.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { execa } from 'execa';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Suite } from '../src/config/suite.js';
import { kvBytesPerPosition } from '../src/model/footprint.js';
import { syntheticModel } from '../src/model/synthetic.js';
import type { BuildInfo, CudaDeviceInfo } from '../src/native/addon.js';
import { deviceReserveBytes, fits, formatMemoryPlan } from '../src/report/memory-table.js';
import { expandSuite } from '../src/runner/expand.js';
import { jobTokens, memoryPlan } from '../src/runner/memory-plan.js';
import { planJobs } from '../src/runner/plan.js';
import { taskModules } from '../src/tasks/builtin.js';
import type { TaskRegistry } from '../src/tasks/task-registry.js';
import { bin, ensureBuilt } from './helpers/build.js';

const registry = taskModules as TaskRegistry;
const GiB = 2 ** 30;

const gpu = (index: number, name: string, gib: number): CudaDeviceInfo => ({
  index, name, totalMemory: gib * GiB, computeCapability: '9.0', smCount: 132, peakBandwidthGBs: 4800, l2Bytes: 5e7,
});
const info = (devices: CudaDeviceInfo[]): BuildInfo => ({
  version: 't', compiler: 't', cxxStandard: 201703, threads: 2, simd: 'avx2+fma', backends: ['cpu', 'cuda'],
  cuda: { built: true, engine: true, driverVersion: 13000, runtimeVersion: 13000, devices },
});

function e2eJobs(model: string, lengths: number[], peers = ['torch']) {
  const suite: Suite = { name: 'e2e', model, methods: ['full'], tasks: [{ task: 'e2e', contextLens: lengths, peers }] };
  return planJobs('e2e', expandSuite(suite, registry, 'cuda', 'test'), { device: 'cuda' }).jobs;
}

describe('the memory plan', () => {
  const jobs = e2eJobs('synthetic:llama2-7b', [8192, 32768, 131072]);
  const l2 = syntheticModel('synthetic:llama2-7b');
  const perPosition = kvBytesPerPosition({ layers: 32, kvHeads: 32, headDim: 128 });

  it('sizes a job by its prompt and new tokens', () => {
    // 8 warm-up and 256 timed steps on the GPU
    expect(jobTokens(jobs.find((j) => j.contextLen === 8192 && !j.peer)!, registry)).toBe(8192 + 8 + 256);
  });

  it('has the fp16 weights and the KV cache of each length, against the smallest visible GPU', () => {
    const plan = memoryPlan(jobs, registry, info([gpu(0, 'NVIDIA H200', 140), gpu(1, 'small GPU', 40)]));
    expect(plan.device).toEqual({ name: 'small GPU', totalBytes: 40 * GiB });
    expect(plan.lengths).toEqual([8192, 32768, 131072]);
    const [m] = plan.models;
    expect(m.model).toBe('synthetic:llama2-7b');
    expect(m.weights).toBe(2 * l2.parameters);
    expect(m.kv.get(32768)).toBe(perPosition * (32768 + 264));
    const text = formatMemoryPlan(plan);
    expect(text).toContain('the smallest visible GPU, small GPU with 40.0 GiB, less 2.0 GiB for activations and workspaces');
    expect(text).toMatch(/synthetic:llama2-7b\s+12\.6 GiB\s+\+4\.1 GiB = 16\.7 GiB fits\s+\+16\.1 GiB = 28\.7 GiB fits\s+\+64\.1 GiB = 76\.7 GiB does not fit/);
    // --devices 0: the H200 alone
    expect(formatMemoryPlan(memoryPlan(jobs, registry, info([gpu(0, 'NVIDIA H200', 140), gpu(1, 'small GPU', 40)]), { devices: [0] })))
      .toContain('+64.1 GiB = 76.7 GiB fits');
  });

  it('--weights f32 doubles the weights, bf16 keeps fp16\'s size; the KV cache stays fp16', () => {
    const at = (weights: 'f16' | 'bf16' | 'f32') => memoryPlan(jobs, registry, info([gpu(0, 'NVIDIA H200', 140)]), { weights }).models[0];
    expect(at('f32').weights).toBe(4 * l2.parameters);
    expect(at('bf16').weights).toBe(2 * l2.parameters);
    expect(at('f32').kv.get(32768)).toBe(at('f16').kv.get(32768));
  });

  it('leaves the peers out (they run in a process of their own)', () => {
    expect(jobs.filter((j) => j.peer)).toHaveLength(3);
    expect(memoryPlan(jobs, registry, info([])).models).toHaveLength(1);
  });

  it('says what it cannot size', () => {
    const plan = memoryPlan(e2eJobs('smollm2-135m-instruct-q4_1', [1024], []), registry, info([]), { cache: mkdtempSync(join(tmpdir(), 'empty-cache-')) });
    expect(plan.device).toBeUndefined();
    expect(plan.models).toMatchObject([{ model: 'smollm2-135m-instruct-q4_1', unknown: "not cached yet ('adamas-bench models fetch' sizes it)" }]);
    expect(formatMemoryPlan(plan)).toContain('no CUDA device is visible here: compare with the memory of yours');
  });

  it('fits when weights + KV + the reserve fit the device', () => {
    const d = { name: 'g', totalBytes: 10 * GiB };
    expect(fits(10 * GiB - deviceReserveBytes, d)).toBe('fits');
    expect(fits(10 * GiB - deviceReserveBytes + 1, d)).toBe('does not fit');
    expect(fits(1, undefined)).toBe('');
  });
});

describe('--dry-run --device cuda', () => {
  beforeAll(async () => {
    await ensureBuilt();
  });

  it('prints the plan, the peers beside ours, and which models fit, on any machine', async () => {
    const r = await execa(process.execPath, [bin, 'e2e', '--device', 'cuda', '--dry-run', '--model', 'synthetic:llama3-8b', '--methods', 'full,adamas',
      '--budget', '256', '--context-lens', '8192,32768,131072', '--peers', 'torch'], { reject: false, env: { FORCE_COLOR: '0' } });
    expect(r.exitCode, String(r.stderr)).toBe(0);
    const out = String(r.stdout);
    expect(out).toContain("plan: suite 'e2e', 9 jobs, device cuda");
    expect(out).toMatch(/peer:torch\s+1\s+1\s+1\s+3/);
    expect(out).toContain('GPU memory per job (fp16 weights + KV cache of the prompt and new tokens');
    expect(out).toMatch(/synthetic:llama3-8b\s+15\.0 GiB/);
  });
});
