// LongBench v1 data from a local directory in its released layout: the data.zip of the Hugging
// Face dataset THUDM/LongBench unpacks to data/<task>.jsonl, one sample a line with the fields
// input, context, answers, length, dataset, language, all_classes, _id.
// Looked for, in this order, under the data root (--data-dir or $ADAMAS_BENCH_DATA):
//   <root>/longbench/data/<task>.jsonl, <root>/longbench/<task>.jsonl, <root>/data/<task>.jsonl,
//   <root>/<task>.jsonl
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { UsageError } from '../../core/errors.js';
import { SmallCache } from '../common/cache.js';
import { dataDirEnv } from '../common/limits.js';
import { caseRng, sample } from '../common/rng.js';

export interface LongBenchSample {
  input: string;
  context: string;
  answers: string[];
  length: number;
  dataset: string;
  language: string;
  all_classes: string[] | null;
  _id: string;
}

export const DATA_HINT =
  'download data.zip of the Hugging Face dataset THUDM/LongBench (https://huggingface.co/datasets/THUDM/LongBench, file data.zip), ' +
  `unzip it into <dir>/longbench/ (so that <dir>/longbench/data/qasper.jsonl exists) and pass --data-dir <dir> or set ${dataDirEnv}=<dir>`;

export function candidatePaths(root: string, dataset: string): string[] {
  return [
    join(root, 'longbench', 'data', `${dataset}.jsonl`),
    join(root, 'longbench', `${dataset}.jsonl`),
    join(root, 'data', `${dataset}.jsonl`),
    join(root, `${dataset}.jsonl`),
  ];
}

/** The data file of `dataset`, or a usage error that says where to get the data. */
export function hasDataFile(root: string | undefined, dataset: string): boolean {
  return root !== undefined && candidatePaths(root, dataset).some((p) => existsSync(p));
}

export function findDataFile(root: string | undefined, dataset: string): string {
  if (!root) throw new UsageError(`longbench: no data directory given for '${dataset}' (LongBench data is not bundled)`, DATA_HINT);
  const candidates = candidatePaths(root, dataset);
  const found = candidates.find((p) => existsSync(p));
  if (!found) throw new UsageError(`longbench: ${dataset}.jsonl not found under ${root} (looked at ${candidates.join(', ')})`, DATA_HINT);
  return found;
}

const files = new SmallCache<string[]>(4);

/** The non-empty lines of a data file (kept for the next jobs). */
export function dataLines(path: string): string[] {
  return files.get(path, () => readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== ''));
}

export function parseSample(line: string, where: string): LongBenchSample {
  let raw: unknown;
  try {
    raw = JSON.parse(line);
  } catch (err) {
    throw new UsageError(`longbench: ${where} is not valid JSON: ${(err as Error).message}`);
  }
  const s = raw as Partial<LongBenchSample>;
  const problems: string[] = [];
  if (typeof s.input !== 'string') problems.push('input is not a string');
  if (typeof s.context !== 'string') problems.push('context is not a string');
  if (!Array.isArray(s.answers) || s.answers.some((a) => typeof a !== 'string')) problems.push('answers is not a list of strings');
  if (s.all_classes !== null && s.all_classes !== undefined && !Array.isArray(s.all_classes)) problems.push('all_classes is neither null nor a list');
  if (problems.length) throw new UsageError(`longbench: ${where}: ${problems.join('; ')}`);
  return {
    input: s.input!,
    context: s.context!,
    answers: s.answers!,
    length: Number(s.length ?? 0),
    dataset: String(s.dataset ?? ''),
    language: String(s.language ?? ''),
    all_classes: s.all_classes ?? null,
    _id: String(s._id ?? ''),
  };
}

/** Sample `index` (0-based line) of a data file. */
export function loadSample(path: string, index: number): LongBenchSample {
  const lines = dataLines(path);
  if (index < 0 || index >= lines.length) throw new UsageError(`longbench: sample ${index} asked for, but ${path} has ${lines.length} samples`);
  return parseSample(lines[index]!, `${path} line ${index + 1}`);
}

/** `k` sample indices of `n`, chosen by the seed (all of them when k >= n), ascending. */
export function chooseSamples(n: number, k: number, seed: number, dataset: string): number[] {
  const all = Array.from({ length: n }, (_, i) => i);
  if (k >= n) return all;
  return sample(caseRng(seed, 'longbench', dataset), all, k).sort((a, b) => a - b);
}
