// The last lines of a run on stderr: how many jobs are ok, where the results are, and the failed
// jobs (the first 20) with what to do: a resume runs again the jobs that may succeed then (a crash,
// a hung worker), while a job that failed on its input (a bad option, a model the engine refuses,
// data too short) would fail the same way, so for those the input must change first.
import { isPermanentFailure } from '../core/errors.js';
import type { JournalEntry } from '../results/journal.js';

export function formatRunEnding(r: { ok: number; total: number; failures: readonly JournalEntry[]; results: string; dir: string }): string {
  const lines = [`\n${r.ok} of ${r.total} jobs ok${r.failures.length ? `, ${r.failures.length} failed` : ''}; results: ${r.results}`];
  if (r.failures.length === 0) return lines.join('\n');
  lines.push('failed jobs:');
  for (const f of r.failures.slice(0, 20))
    lines.push(`  ${f.label} [${f.jobId}]: ${f.error?.split('\n', 1)[0] ?? 'failed'}${isPermanentFailure(f.code) ? ' (bad input)' : ''}`);
  if (r.failures.length > 20) lines.push(`  ... and ${r.failures.length - 20} more (see journal.jsonl)`);
  const permanent = r.failures.filter((f) => isPermanentFailure(f.code)).length;
  const retryable = r.failures.length - permanent;
  if (permanent)
    lines.push(`${permanent === r.failures.length ? 'they' : `${permanent} of them`} failed on their input: running them again ` +
      `cannot help; change the options, model or data named above${retryable ? '' : ' and start a new run'}`);
  if (retryable) lines.push(`retry ${permanent ? `the other ${retryable}` : 'them'} with: adamas-bench run --resume ${r.dir}`);
  return lines.join('\n');
}
