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

/** Exit code for any thrown value: native option/model errors count as bad input. */
export function exitCodeOf(err: unknown): number {
  if (err instanceof HarnessError) return err.exitCode;
  const code = (err as { code?: unknown })?.code;
  if (typeof code === 'string' && nativeUsageCodes.has(code)) return 2;
  return 1;
}
