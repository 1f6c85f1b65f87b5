import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { checkResumeKvCache } from '../src/runner/run-directory.js';

describe('resuming a run keeps its KV cache type', () => {
  it('the same type goes on; naming none is the device\'s own (f32 on the CPU, f16 on CUDA)', () => {
    expect(() => checkResumeKvCache('r', undefined, undefined, 'cpu')).not.toThrow();
    expect(() => checkResumeKvCache('r', undefined, 'f32', 'cpu')).not.toThrow();
    expect(() => checkResumeKvCache('r', 'f16', 'f16', 'cpu')).not.toThrow();
    expect(() => checkResumeKvCache('r', 'f16', undefined, 'cuda')).not.toThrow();
    expect(() => checkResumeKvCache('r', undefined, 'f16', 'cuda')).not.toThrow();
  });
  it('another type is bad input naming both', () => {
    expect(() => checkResumeKvCache('runs/a', 'f16', undefined, 'cpu')).toThrow(UsageError);
    expect(() => checkResumeKvCache('runs/a', 'f16', undefined, 'cpu')).toThrow('runs/a was run with --kv-cache f16, not f32');
    expect(() => checkResumeKvCache('runs/a', undefined, 'f16', 'cpu')).toThrow('was run with --kv-cache f32, not f16');
    expect(() => checkResumeKvCache('runs/a', 'f32', 'f16', 'cpu')).toThrow('was run with --kv-cache f32, not f16');
  });
});
