// Value parsers for commander options: each throws InvalidArgumentError with the rule broken,
// which commander reports together with the flag's name.
import { InvalidArgumentError } from 'commander';
import type { Shard } from '../core/job.js';

export function positiveInt(value: string): number {
  if (!/^\s*\d+\s*$/.test(value) || Number(value) < 1) throw new InvalidArgumentError('must be a positive integer');
  return Number(value);
}

export function nonNegativeInt(value: string): number {
  if (!/^\s*\d+\s*$/.test(value)) throw new InvalidArgumentError('must be a non-negative integer');
  return Number(value);
}

/** "16,32,64" -> [16, 32, 64]; each a positive integer, the list not empty. */
export function positiveIntList(value: string): number[] {
  const parts = value.split(',').map((s) => s.trim());
  if (parts.length === 0 || parts.every((p) => p === '')) throw new InvalidArgumentError('must not be empty');
  return parts.map((p) => {
    if (!/^\d+$/.test(p) || Number(p) < 1) throw new InvalidArgumentError(`'${p}' is not a positive integer`);
    return Number(p);
  });
}

/** A comma-separated list whose items must all be among `allowed`. */
export function listOf<T extends string>(allowed: readonly T[]) {
  return (value: string): T[] => {
    const items = value.split(',').map((s) => s.trim()).filter((s) => s !== '');
    if (items.length === 0) throw new InvalidArgumentError('must not be empty');
    for (const item of items)
      if (!(allowed as readonly string[]).includes(item))
        throw new InvalidArgumentError(`unknown value '${item}' (expected ${allowed.join(', ')})`);
    return items as T[];
  };
}

export function oneOf<T extends string>(allowed: readonly T[]) {
  return (value: string): T => {
    if (!(allowed as readonly string[]).includes(value))
      throw new InvalidArgumentError(`expected one of ${allowed.join(', ')}`);
    return value as T;
  };
}

/** "a,b,c" (numbers, strictly increasing) or "auto". */
export function thresholds(value: string): number[] | 'auto' {
  if (value.trim() === 'auto') return 'auto';
  const parts = value.split(',').map((s) => s.trim());
  const nums = parts.map(Number);
  if (parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n)))
    throw new InvalidArgumentError("must be 'auto' or comma-separated numbers, e.g. -10,0,10");
  for (let i = 1; i < nums.length; i++)
    if (!(nums[i] > nums[i - 1])) throw new InvalidArgumentError(`must be strictly increasing (${nums[i - 1]} then ${nums[i]})`);
  return nums;
}

/** "2/4" -> {index: 2, count: 4}: shard i of n, 1-based. */
export function parseShard(value: string): Shard {
  const m = /^\s*(\d+)\s*\/\s*(\d+)\s*$/.exec(value);
  if (!m) throw new InvalidArgumentError("must be i/n, e.g. 1/4 (shard i of n, 1-based)");
  const index = Number(m[1]);
  const count = Number(m[2]);
  if (count < 1) throw new InvalidArgumentError('n must be at least 1');
  if (index < 1 || index > count) throw new InvalidArgumentError(`i must be between 1 and ${count}`);
  return { index, count };
}
