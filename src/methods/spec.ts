// A method spec: which attention method, at which budget, with which knobs. It is what a job
// carries, what a result row records, and what becomes the native engine's options.
import type { NativeAttentionOptions } from '../native/addon.js';
import { isSwitch, knobName, knobs, type KnobColumn, type MethodKnobs } from './knobs.js';
import type { MethodName } from './names.js';

export { methodNames, type MethodName } from './names.js';
export type { MethodKnobs } from './knobs.js';

export type MethodSpec = MethodKnobs & {
  method: MethodName;
  /** KV tokens per query head at a decode step, the current one included; undefined for full. */
  budget?: number;
};

/** The knobs' defaults (optional knobs left out). */
export const defaultKnobs: MethodKnobs = Object.fromEntries(
  knobs.filter((k) => k.default !== undefined).map((k) => [k.key, k.default]),
) as MethodKnobs;

export function makeSpec(method: MethodName, budget: number | undefined, knobValues: Partial<MethodKnobs> = {}): MethodSpec {
  return { ...defaultKnobs, ...knobValues, method, budget: method === 'full' ? undefined : budget };
}

function valueOf(spec: Partial<MethodKnobs>, key: keyof MethodKnobs): unknown {
  return (spec as Record<string, unknown>)[key];
}

export function toNativeOptions(spec: MethodSpec, extra: { measureRecall?: boolean; recordSelection?: boolean } = {}):
  NativeAttentionOptions {
  const options: NativeAttentionOptions = { method: spec.method, budget: spec.budget };
  for (const k of knobs) {
    const v = valueOf(spec, k.key);
    if (v !== undefined) (options as unknown as Record<string, unknown>)[k.native] = v;
  }
  return { ...options, ...extra };
}

/** The knob columns of a result row. */
export function knobCells(spec: MethodSpec): Record<KnobColumn, string> {
  return Object.fromEntries(knobs.map((k) => {
    const v = valueOf(spec, k.key);
    return [k.column, v === undefined ? '' : k.value.text(v)];
  })) as Record<KnobColumn, string>;
}

/** The knobs that apply to the spec and differ from their defaults, e.g. ["no-hadamard", "bits=3"]. */
export function knobChanges(spec: MethodSpec): string[] {
  const out: string[] = [];
  for (const k of knobs) {
    const v = valueOf(spec, k.key);
    if (!k.appliesTo(spec) || v === undefined || (k.default !== undefined && k.value.text(v) === k.value.text(k.default))) continue;
    out.push(isSwitch(k) ? knobName(k) : `${knobName(k)}=${k.value.text(v)}`);
  }
  return out;
}

/** A method's label in its parts: the method, its knob changes, its budget. */
export interface MethodLabel {
  method: MethodName;
  changes: string[];
  budget?: number;
}

export function methodLabelOf(spec: MethodSpec): MethodLabel {
  return { method: spec.method, changes: knobChanges(spec), ...(spec.budget !== undefined && { budget: spec.budget }) };
}

/** The label without its budget, one line of a chart across budgets: "adamas[no-hadamard]". */
export function methodSeries(spec: MethodSpec): string {
  const { method, changes } = methodLabelOf(spec);
  return changes.length ? `${method}[${changes.join(',')}]` : method;
}

/** Short name for tables and logs: "full", "adamas@64", "adamas[no-hadamard]@64". */
export function methodLabel(spec: MethodSpec): string {
  const series = methodSeries(spec);
  return spec.budget === undefined ? series : `${series}@${spec.budget}`;
}
