// The tidy results table: one measurement a row. `results.csv` of every run has exactly these
// columns in this order; report and compare read them by name.
import { knobs, type KnobColumn } from '../methods/knobs.js';

const measurementColumns = [
  'run_id',
  'suite',
  'task',
  'dataset',
  'model',
  'device',
  'method',
  'label', // method with its non-default knobs and budget, e.g. "adamas[no-hadamard]@64"
  'budget', // '' for full attention
  'context_len',
  'depth', // '' when the task has none
  'case', // the job's other parameters, "k=v;k=v" sorted by key
  'metric',
  'value',
  'unit',
  'n',
] as const;

// then one column per method knob, in the knob table's order (src/methods/knobs.ts)

const trailingColumns = [
  'seed',
  'job_id',
  'samples', // raw timing samples separated by spaces; '' for deterministic metrics
  'detail',
] as const;

export type ResultColumn = (typeof measurementColumns)[number] | KnobColumn | (typeof trailingColumns)[number];
export type ResultRow = Record<ResultColumn, string>;

export const resultColumns: readonly ResultColumn[] = [...measurementColumns, ...knobs.map((k) => k.column), ...trailingColumns];
