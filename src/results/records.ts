// <run>/records/<job id>.json: what the engine recorded at each decode step of a job
// (--measure-recall, --record-selection, --record-logits) and, for a --replay-selection run,
// what was replayed. Written by the worker (src/worker/records.ts), read by agree and by replays.
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../core/errors.js';

/** One decode step's logits (--record-logits). */
export interface LogitsStep {
  /** Position of the token fed at this step (as the engine's records number them). */
  position: number;
  /** The token fed, and the greedy next token the step chose. */
  token: number;
  chosen: number;
  chosenLogit: number;
  /** top-1 minus top-2 logit. */
  margin: number;
  /** The 20 largest logits, largest first: their token ids and values. */
  ids: number[];
  values: number[];
  /** Replay runs of a recorded run that had --record-logits: this run's logits at the recorded
   *  step's `ids` (in their order). */
  atRecorded?: number[];
}

/** What a replay run replayed of its recorded job. */
export interface ReplayNote {
  /** The recorded run directory and job. */
  from: string;
  jobId: string;
  /** Decode steps that attended over the recorded lists, and steps the recorded job never took. */
  replayed: number;
  notRecorded: number;
}

export interface JobRecords {
  jobId: string;
  label: string;
  layers: number;
  heads: number;
  /** Per recorded step, the position of its token. */
  positions: number[];
  /** [step][layer][head] flattened; null where the layer attended densely. */
  recall?: (number | null)[];
  /** [step][layer * heads + head]: the selected positions (empty for dense layers). */
  selected?: number[][][];
  logits?: LogitsStep[];
  replay?: ReplayNote;
}

export function recordsDir(runDir: string): string {
  return join(runDir, 'records');
}

export function recordsPath(runDir: string, jobId: string): string {
  return join(recordsDir(runDir), `${jobId}.json`);
}

/** The records of a job, or undefined when the run has none for it. */
export function readJobRecords(runDir: string, jobId: string): JobRecords | undefined {
  const path = recordsPath(runDir, jobId);
  if (!existsSync(path)) return undefined;
  try {
    return JSON.parse(readFileSync(path, 'utf8')) as JobRecords;
  } catch (err) {
    throw new UsageError(`${path} is not valid JSON: ${(err as Error).message}`);
  }
}
