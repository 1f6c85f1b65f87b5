// The journal: one JSON line per finished job, appended and fsynced right after the job's rows.
import { existsSync, readFileSync } from 'node:fs';
import { HarnessError } from '../core/errors.js';

export interface JournalEntry {
  jobId: string;
  status: 'ok' | 'failed';
  /** Why the job failed (for a worker that died: exit code or signal and its last stderr lines). */
  error?: string;
  /** Native error code (ERR_INVALID_OPTION, ...) when there was one. */
  code?: string;
  /** Wall time of the job in the worker. */
  seconds: number;
  /** Rows this job appended to results.csv. */
  rows: number;
  finishedAt: string;
  /** Size of results.csv once this job's rows were written (see the journal rule in rundir.ts). */
  csvBytes: number;
  task: string;
  label: string;
  /** The worker's device ('cpu', 'cuda:0'). */
  device: string;
}

/** The journal's lines; a torn last line (a crash mid-write) is ignored, any other bad line is an error. */
export function readJournal(path: string): JournalEntry[] {
  if (!existsSync(path)) return [];
  const lines = readFileSync(path, 'utf8').split('\n');
  const out: JournalEntry[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    try {
      out.push(JSON.parse(line) as JournalEntry);
    } catch {
      const isLast = lines.slice(i + 1).every((l) => l.trim() === '');
      if (!isLast) throw new HarnessError(`${path}:${i + 1}: not a JSON line; the journal is damaged`);
    }
  });
  return out;
}

/** The latest entry of each job. */
export function latestEntries(journal: readonly JournalEntry[]): Map<string, JournalEntry> {
  const m = new Map<string, JournalEntry>();
  for (const e of journal) m.set(e.jobId, e);
  return m;
}

/** Ids of the jobs whose latest entry is ok. */
export function okJobIds(journal: readonly JournalEntry[]): Set<string> {
  const ok = new Set<string>();
  for (const [id, e] of latestEntries(journal)) if (e.status === 'ok') ok.add(id);
  return ok;
}
