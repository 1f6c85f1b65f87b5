// Value parsers for commander options: each throws InvalidArgumentError with the rule broken,
// which commander reports together with the flag's name.
import { InvalidArgumentError } from 'commander';
import type { Shard } from '../core/job.js';
import { integerValue } from '../methods/knobs.js';

/** A commander parser from a rule that throws an Error naming what the value breaks. */
export function flagParser<T>(parse: (text: string) => T): (text: string) => T {
  return (text) => {
    try {
      return parse(text);
    } catch (err) {
      throw new InvalidArgumentError((err as Error).message);
    }
  };
}

// the integer rules of the knob table's --skip-layers and --page-size, for every integer flag
export const positiveInt = flagParser(integerValue(1).parse);
export const nonNegativeInt = flagParser(integerValue(0).parse);

/** A number above 0 ("1e-5"). */
export function positiveNumber(value: string): number {
  const n = Number(value);
  if (value.trim() === '' || !Number.isFinite(n) || n <= 0) throw new InvalidArgumentError(`'${value}' is not a positive number`);
  return n;
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
