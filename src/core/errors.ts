// Errors meant for the user as they are: each carries the exit code the process ends with and,
// where it helps, a hint. Every layer throws them; the CLI's one handler prints them.

/** An error whose message is meant for the user as it is. Exit code 1 unless said otherwise. */
export class HarnessError extends Error {
  constructor(
    message: string,
    readonly exitCode: 1 | 2 = 1,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'HarnessError';
  }
}

/** Bad input: an unknown flag value, an invalid config, a missing file. Exit code 2. */
export class UsageError extends HarnessError {
  constructor(message: string, hint?: string) {
    super(message, 2, hint);
    this.name = 'UsageError';
  }
}

const nativeUsageCodes = new Set(['ERR_INVALID_OPTION', 'ERR_GGUF', 'ERR_UNSUPPORTED_MODEL']);

/** The code a worker gives a job that failed on bad input (a UsageError inside the job). */
export const usageErrorCode = 'ERR_USAGE';

/** Whether a job that failed with `code` would fail the same way when run again (bad input, a
 *  model the engine refuses): resuming cannot fix it, the input must change. */
export function isPermanentFailure(code: string | undefined): boolean {
  return code !== undefined && (code === usageErrorCode || nativeUsageCodes.has(code));
}

/** The code of a job that ran out of device memory: the job's size, not bad input (another GPU, or
 *  the same one with less else on it, may run it; a resume retries it). */
export const deviceMemoryCode = 'ERR_DEVICE_MEMORY';

/** The code to report for an error thrown inside a job: its own (ERR_DEVICE_MEMORY for the
 *  engine's "out of device memory" refusal), or ERR_USAGE for bad input. */
export function failureCodeOf(err: unknown): string | undefined {
  const code = (err as { code?: unknown })?.code;
  if (code === 'ERR_INVALID_OPTION' && /^out of device memory\b/.test((err as Error).message ?? '')) return deviceMemoryCode;
  if (typeof code === 'string') return code;
  return err instanceof HarnessError && err.exitCode === 2 ? usageErrorCode : undefined;
}

/** Exit code for any thrown value: native option/model errors count as bad input. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof HarnessError) return err.exitCode;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && nativeUsageCodes.has(code)) return 2;
  return 1;
}
