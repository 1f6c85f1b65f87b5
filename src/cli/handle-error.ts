// The single error sink of the CLI: the message (and its hint) on stderr, then the error's exit
// code (2 for bad input, 1 otherwise).
import { exitCodeOf, HarnessError } from '../core/errors.js';

export function formatError(err: unknown): string {
  if (err instanceof HarnessError) return err.hint ? `${err.message}\n  hint: ${err.hint}` : err.message;
  if (err instanceof Error) return err.message;
  return String(err);
}

export function handleError(err: unknown): never {
  process.stderr.write(`adamas-bench: error: ${formatError(err)}\n`);
  if (process.env.ADAMAS_DEBUG && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  process.exit(exitCodeOf(err));
}
