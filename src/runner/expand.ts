// Expanding a suite for a device: every selected task entry made concrete (its module, its options
// checked against the module's schema over the module's defaults, methods x budgets as method
// specs). The step between a checked suite and the plan.
import { loadDefaults } from '../config/defaults.js';
import { commonTaskKeys } from '../config/schemas.js';
import type { MethodVariant, Suite } from '../config/suite.js';
import { invalid, schemaProblems } from '../config/validate.js';
import { UsageError } from '../core/errors.js';
import type { TaskName } from '../core/job.js';
import { specProblems } from '../methods/knobs.js';
import { makeSpec, methodLabel, type MethodSpec } from '../methods/spec.js';
import { findRegistryModel } from '../model/catalog.js';
import { isSyntheticModel, syntheticRefusal } from '../model/synthetic.js';
import { requireTask, type TaskRegistry } from '../tasks/task-registry.js';
import type { TaskModule } from '../tasks/types.js';

/** One task entry made concrete for a device: its module, method specs and full options. */
export interface ExpandedTask {
  /** Position in suite.tasks. */
  index: number;
  /** The entry's JSON path for messages ('/tasks/2'; '' for a task command's one entry). */
  where: string;
  task: TaskName;
  module: TaskModule<any>;
  /** Canonical model name: the registry name for registry models ('default' resolved), else as given. */
  model: string;
  seed: number;
  specs: MethodSpec[];
  /** true when the budgets were asked for (flags or suite), false when they are the defaults. */
  budgetsRequested: boolean;
  /** The module's defaults for the device with the entry's options on top, validated. */
  options: Record<string, unknown>;
}

/** The canonical model name of a model argument (so 'default' and its registry name plan the same jobs). */
export function canonicalModel(spec: string): string {
  return findRegistryModel(spec)?.name ?? spec;
}

/**
 * Makes every selected task entry concrete for `device`: checks its options against the module's
 * schema, expands methods x budgets into method specs (full once, without a budget) and checks
 * that labels are unique. Throws one usage error listing every problem.
 */
export function expandSuite(
  suite: Suite,
  registry: TaskRegistry,
  device: 'cpu' | 'cuda',
  source: string,
  opts: { only?: readonly TaskName[]; pathOf?: (index: number) => string } = {},
): ExpandedTask[] {
  const { only, pathOf = (i: number) => `/tasks/${i}` } = opts;
  const defaults = loadDefaults();
  const selected = suite.tasks.filter((t) => !only || only.includes(t.task));
  const missing = [...new Set(selected.filter((t) => !registry[t.task]).map((t) => t.task))];
  if (missing.length && suite.tasks.length > 1) {
    const runnable = [...new Set(selected.filter((t) => registry[t.task]).map((t) => t.task))];
    throw new UsageError(`${source}: the ${missing.map((t) => `'${t}'`).join(', ')} task${missing.length > 1 ? 's are' : ' is'} not implemented in this build yet`,
      runnable.length ? `run the others with --tasks ${runnable.join(',')}` : 'no task of this suite is implemented in this build');
  }
  const problems: string[] = [];
  const out: ExpandedTask[] = [];
  suite.tasks.forEach((entry, index) => {
    if (only && !only.includes(entry.task)) return;
    const where = pathOf(index);
    const module = requireTask(registry, entry.task, where ? `${source}: ${where}` : undefined);
    const own: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(entry)) if (!(commonTaskKeys as readonly string[]).includes(k)) own[k] = v;
    const options = { ...structuredClone(module.defaults(device) as Record<string, unknown>), ...structuredClone(own) };
    problems.push(...schemaProblems(module.optionsSchema, options, where));

    const methods = entry.methods ?? suite.methods ?? defaults.methods;
    const budgets = entry.budgets ?? suite.budgets;
    const taskKnobs = { ...suite.knobs, ...entry.knobs };
    const specs: MethodSpec[] = [];
    let budgetsRequested = budgets !== undefined;
    for (const m of methods) {
      const variant: MethodVariant = typeof m === 'string' ? { method: m } : m;
      if (variant.budgets) budgetsRequested = true;
      const specKnobs = { ...taskKnobs, ...variant.knobs };
      if (variant.method === 'full') specs.push(makeSpec('full', undefined, specKnobs));
      else for (const b of variant.budgets ?? budgets ?? defaults.budgets) specs.push(makeSpec(variant.method, b, specKnobs));
    }
    const seen = new Set<string>();
    for (const spec of specs) {
      const label = methodLabel(spec);
      if (seen.has(label)) problems.push(`${where || '(root)'}: method '${label}' appears twice (method labels must be unique per task)`);
      seen.add(label);
      for (const broken of specProblems(spec)) problems.push(`${where ? `${where}: ` : ''}'${label}' ${broken}`);
    }
    const model = canonicalModel(entry.model ?? suite.model ?? 'default');
    if (isSyntheticModel(model) && module.needsModel !== false && module.syntheticModels !== true)
      problems.push(`${where ? `${where}: ` : ''}the ${entry.task} task ${syntheticRefusal(model)}`);
    out.push({
      index,
      where,
      task: entry.task,
      module,
      model,
      seed: entry.seed ?? suite.seed ?? defaults.seed,
      specs,
      budgetsRequested,
      options,
    });
  });
  if (problems.length) throw invalid(source, [...new Set(problems)]);
  if (out.length === 0) throw new UsageError(`${source}: no task selected${only ? ` (--tasks ${only.join(',')})` : ''}`);
  return out;
}
