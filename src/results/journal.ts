// The journal: one JSON line per finished job, appended and fsynced right after the job's rows.
import { existsSync, readFileSync } from 'node:fs';

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

export interface JournalRead {
  entries: JournalEntry[];
  /** 1-based numbers of the lines that could not be read (torn, garbled, or out of order). */
  unreadable: number[];
}

function isEntry(v: unknown): v is JournalEntry {
  const e = v as Partial<JournalEntry> | null;
  return typeof e === 'object' && e !== null && typeof e.jobId === 'string' && e.jobId !== '' &&
    (e.status === 'ok' || e.status === 'failed') && typeof e.rows === 'number' &&
    typeof e.csvBytes === 'number' && Number.isFinite(e.csvBytes) && e.csvBytes >= 0;
}

/**
 * The journal's readable lines and the numbers of the others. A line that is not a journal entry
 * (a crash mid-write, two writers interleaved), or whose csvBytes goes back before the line above,
 * counts as no line: its job is not done and is run again by a resume.
 */
export function readJournalFile(path: string): JournalRead {
  if (!existsSync(path)) return { entries: [], unreadable: [] };
  const entries: JournalEntry[] = [];
  const unreadable: number[] = [];
  readFileSync(path, 'utf8').split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch {
      value = undefined;
    }
    const last = entries.at(-1);
    if (isEntry(value) && (!last || value.csvBytes >= last.csvBytes)) entries.push(value);
    else unreadable.push(i + 1);
  });
  return { entries, unreadable };
}

/** The journal's readable lines (see readJournalFile). */
export function readJournal(path: string): JournalEntry[] {
  return readJournalFile(path).entries;
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
