import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { checkResumeWeights } from '../src/runner/run-directory.js';

describe('resuming a run keeps its weight type', () => {
  it('the same type (f16 when neither names one) goes on', () => {
    expect(() => checkResumeWeights('r', undefined, undefined)).not.toThrow();
    expect(() => checkResumeWeights('r', undefined, 'f16')).not.toThrow();
    expect(() => checkResumeWeights('r', 'f32', 'f32')).not.toThrow();
  });
  it('another type is bad input naming both', () => {
    expect(() => checkResumeWeights('runs/a', 'f32', undefined)).toThrow(UsageError);
    expect(() => checkResumeWeights('runs/a', 'f32', undefined)).toThrow('runs/a was run with --weights f32, not f16');
    expect(() => checkResumeWeights('runs/a', undefined, 'bf16')).toThrow('was run with --weights f16, not bf16');
  });
});
