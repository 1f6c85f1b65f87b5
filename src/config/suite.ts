// Suites: JSON files under suites/ (or an in-memory one built from a task command's flags) that
// say which tasks to run with which methods, budgets and options. Checked in two steps: the common
// part against suiteSchema here, then each task entry's own keys against its module's
// optionsSchema when the runner expands the suite (runner/expand.ts), so messages quote paths like
// /tasks/2/lengths/0.
import { existsSync, readdirSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import { UsageError } from '../core/errors.js';
import type { TaskName } from '../core/job.js';
import { knobs, type MethodKnobs } from '../methods/knobs.js';
import type { MethodName } from '../methods/names.js';
import { packageRoot } from './defaults.js';
import { suiteSchema } from './schemas.js';
import { invalid, readJsonFile, schemaProblems } from './validate.js';

/** A method variant: a method with its own knobs (and budgets), e.g. Adamas without Hadamard. */
export interface MethodVariant {
  method: MethodName;
  knobs?: Partial<MethodKnobs>;
  budgets?: number[];
}
export type MethodEntry = MethodName | MethodVariant;

export interface SuiteTask {
  task: TaskName;
  model?: string;
  methods?: MethodEntry[];
  budgets?: number[];
  knobs?: Partial<MethodKnobs>;
  seed?: number;
  /** The task's own options (checked against its module's optionsSchema). */
  [option: string]: unknown;
}

export interface Suite {
  name: string;
  description?: string;
  model?: string;
  device?: 'auto' | 'cpu' | 'cuda';
  seed?: number;
  methods?: MethodEntry[];
  budgets?: number[];
  knobs?: Partial<MethodKnobs>;
  tasks: SuiteTask[];
}

/** Checks the common part of a suite (the task entries' own keys are checked by runner/expand.ts). */
export function validateSuite(data: unknown, source: string): Suite {
  const problems = schemaProblems(suiteSchema, data, '');
  // rules JSON Schema cannot say, checked even when the schema failed so that all problems show at once
  const suite = data as Partial<Suite> | null;
  if (suite && typeof suite === 'object') {
    knobProblems(suite.knobs, '/knobs', problems);
    methodKnobProblems(suite.methods, '/methods', problems);
    if (Array.isArray(suite.tasks))
      suite.tasks.forEach((t, i) => {
        if (!t || typeof t !== 'object') return;
        knobProblems(t.knobs, `/tasks/${i}/knobs`, problems);
        methodKnobProblems(t.methods, `/tasks/${i}/methods`, problems);
      });
  }
  if (problems.length) throw invalid(source, problems);
  return data as Suite;
}

function methodKnobProblems(methods: unknown, path: string, problems: string[]): void {
  if (!Array.isArray(methods)) return;
  methods.forEach((m: unknown, j) => {
    if (m && typeof m === 'object') knobProblems((m as MethodVariant).knobs, `${path}/${j}/knobs`, problems);
  });
}

/** The knob table's rules beyond the schema, for the knobs given at `path`. */
function knobProblems(values: Partial<MethodKnobs> | undefined, path: string, problems: string[]): void {
  if (!values || typeof values !== 'object') return;
  for (const k of knobs) {
    const v = (values as Record<string, unknown>)[k.key];
    if (v !== undefined && k.value.problems) problems.push(...k.value.problems(v, `${path}/${k.key}`));
  }
}

/** Reads and checks a suite file. */
export function readSuiteFile(path: string): Suite {
  return validateSuite(readJsonFile<unknown>(path, { type: 'object' }), path);
}

export const suitesDir = join(packageRoot, 'suites');

export function knownSuites(): string[] {
  return existsSync(suitesDir) ? readdirSync(suitesDir).filter((f) => f.endsWith('.json')).map((f) => basename(f, '.json')).sort() : [];
}

/** A suite argument: a path to a JSON file, or the name of one of the package's suites. */
export function findSuite(arg: string): string {
  if (existsSync(arg) && statSync(arg).isFile()) return arg;
  const named = join(suitesDir, `${arg.replace(/\.json$/, '')}.json`);
  if (!arg.includes('/') && existsSync(named)) return named;
  throw new UsageError(`suite '${arg}' is neither a file nor one of the package's suites`, `known suites: ${knownSuites().join(', ') || '(none)'}`);
}

/** Flags that override a suite everywhere (suite level and every task entry). */
export interface SuiteOverrides {
  model?: string;
  methods?: MethodEntry[];
  budgets?: number[];
  knobs?: Partial<MethodKnobs>;
  seed?: number;
  device?: 'auto' | 'cpu' | 'cuda';
}

export function applyOverrides(suite: Suite, o: SuiteOverrides): Suite {
  const s: Suite = structuredClone(suite);
  if (o.model !== undefined) s.model = o.model;
  if (o.seed !== undefined) s.seed = o.seed;
  if (o.device !== undefined) s.device = o.device;
  if (o.methods !== undefined) s.methods = o.methods;
  if (o.budgets !== undefined) s.budgets = o.budgets;
  if (o.knobs !== undefined) s.knobs = { ...s.knobs, ...o.knobs };
  // budgets given on the command line replace the budgets of method variants too
  const dropBudgets = (ms: MethodEntry[]): MethodEntry[] =>
    ms.map((m) => (typeof m === 'string' ? m : { method: m.method, ...(m.knobs && { knobs: m.knobs }) }));
  if (o.budgets !== undefined && s.methods) s.methods = dropBudgets(s.methods);
  for (const t of s.tasks) {
    if (o.model !== undefined) delete t.model;
    if (o.seed !== undefined) delete t.seed;
    if (o.methods !== undefined) delete t.methods;
    if (o.budgets !== undefined) {
      delete t.budgets;
      if (t.methods) t.methods = dropBudgets(t.methods);
    }
    if (o.knobs !== undefined && t.knobs) t.knobs = { ...t.knobs, ...o.knobs };
  }
  return s;
}
