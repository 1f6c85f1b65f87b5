// Checks and small helpers the tasks share: lengths against the model's context, the data root.
import { UsageError } from '../../core/errors.js';

/** Environment variable naming the root of the local data sets when --data-dir is not given. */
export const dataDirEnv = 'ADAMAS_BENCH_DATA';

/** --data-dir (as the runner passes it), else $ADAMAS_BENCH_DATA, else undefined. */
export function dataRoot(dataDir: string | undefined): string | undefined {
  return dataDir ?? (process.env[dataDirEnv] || undefined);
}

/**
 * Throws a usage error when a length plus the tokens generated after it does not fit the model's
 * context (when the context is known: the planner gives it when it can read it without loading).
 */
export function checkContext(task: string, lengths: readonly number[], contextLength: number | undefined, generated = 0): void {
  if (contextLength === undefined) return;
  const bad = lengths.filter((l) => l + generated > contextLength);
  if (bad.length === 0) return;
  const worst = Math.max(...bad);
  const plus = generated > 0 ? ` plus the ${generated} generated tokens` : '';
  throw new UsageError(
    `${task}: length ${worst} tokens${plus} exceeds the model's context length of ${contextLength} tokens`,
    `use lengths up to ${contextLength - generated}`,
  );
}

/** Code points of a string (Python indexes strings by code point; the LongBench split does). */
export function codePoints(text: string): string[] {
  return Array.from(text);
}
