// Timings from different kinds of device do not compare: between two runs, or within one run whose
// workers had different GPUs.
import { describe, expect, it } from 'vitest';
import { mixedHardware } from '../src/cli/compare.js';

describe('mixedHardware', () => {
  it('one kind on both sides (any number of workers) compares', () => {
    expect(mixedHardware(['NVIDIA H200'], ['NVIDIA H200', 'NVIDIA H200'])).toBeUndefined();
    expect(mixedHardware(undefined, ['NVIDIA H200'])).toBeUndefined();
  });
  it('different kinds between the runs, or within one, are named', () => {
    expect(mixedHardware(['NVIDIA H100 80GB HBM3'], ['NVIDIA H200'])).toBe(
      'different devices (baseline: NVIDIA H100 80GB HBM3; current: NVIDIA H200)');
    expect(mixedHardware(['NVIDIA H200'], ['NVIDIA H200', 'NVIDIA A100-SXM4-80GB'])).toBe(
      'several kinds of device in the current run (NVIDIA A100-SXM4-80GB, NVIDIA H200)');
    expect(mixedHardware(['NVIDIA H200', 'NVIDIA L40S'], ['NVIDIA H200'])).toMatch(/^several kinds of device in the baseline/);
  });
});
