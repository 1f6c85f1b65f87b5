// The method knobs, each declared once: its flag, default, suite schema, results column, native
// option, the methods it applies to and its rules. The command-line flags, the suite schema, the
// CSV columns, the native options and the method labels are all made from this table, in its
// order; a new knob is one entry here (and its handling in the native engine).
import type { NativeAttentionOptions } from '../native/addon.js';
import type { MethodName } from './names.js';

/** How a knob's value is written, checked and read from a flag. */
export interface KnobValue<V> {
  /** JSON Schema of the value in a suite. */
  schema: object;
  /** The value as results.csv and labels write it. */
  text(value: V): string;
  /** Flag text -> value; throws an Error that names the rule broken. Absent: the flag's text is
   *  the value (one of `choices`). */
  parse?(text: string): V;
  /** The values the flag accepts, as typed (listed in --help). */
  choices?: readonly string[];
  /** Rules the schema cannot say, for a suite's value at `path` (e.g. '/knobs/thresholds'). */
  problems?(value: unknown, path: string): string[];
}

/** What a knob sees of its spec: the method, its budget and the other knobs' values. */
export type KnobContext = { method: MethodName; budget?: number } & Record<string, unknown>;

/** What a knob may be checked against of the model, as its GGUF header says (absent: unknown). */
export interface ModelShape {
  layers?: number;
  headDim?: number;
}

export interface Knob<V, Column extends string> {
  /** The command-line flag in commander syntax: '--name <value>', or '--no-name' for a switch
   *  whose default is true. */
  flag: string;
  description: string;
  value: KnobValue<V>;
  /** The value when neither flags nor suite give one; absent: the knob is optional. (The value
   *  kind alone says what V is: a default of 'query' must not widen it to string.) */
  default?: NoInfer<V>;
  /** Its column in results.csv. */
  column: Column;
  /** Its key in the native engine's attention options. */
  native: keyof NativeAttentionOptions;
  /** Whether the knob means anything for the spec (a label names only knobs that do). */
  appliesTo(spec: KnobContext): boolean;
  /** A rule the spec breaks through this knob, said as the end of a sentence about the spec's
   *  label ("has 2 thresholds but ..."), naming the flag; checked when the suite is expanded. */
  check?(spec: KnobContext): string | undefined;
  /** A rule the spec breaks with this model, said the same way; checked before a run starts. */
  checkModel?(spec: KnobContext, model: ModelShape): string | undefined;
}

function knob<V, Column extends string>(k: Knob<V, Column> & { default: NoInfer<V> }): Knob<V, Column> & { default: V } {
  return k;
}

function optionalKnob<V, Column extends string>(k: Knob<V, Column> & { default?: undefined }): Knob<V, Column> & { default?: undefined } {
  return k;
}

// ---- value kinds ---------------------------------------------------------------------------

/** An integer of at least `min`. */
export function integerValue(min: 0 | 1): KnobValue<number> & Required<Pick<KnobValue<number>, 'parse'>> {
  const rule = min === 0 ? 'must be a non-negative integer' : 'must be a positive integer';
  return {
    schema: { type: 'integer', minimum: min },
    text: String,
    parse(text) {
      if (!/^\s*\d+\s*$/.test(text) || Number(text) < min) throw new Error(rule);
      return Number(text);
    },
  };
}

/** One of a few words, the flag's text as it is. */
function wordValue<W extends string>(words: readonly W[]): KnobValue<W> {
  return { schema: { enum: [...words] }, text: String, choices: words };
}

/** One of a few numbers, typed as their digits. */
function numberChoiceValue<N extends number>(numbers: readonly N[]): KnobValue<N> {
  const choices = numbers.map(String);
  return {
    schema: { enum: [...numbers] },
    text: String,
    choices,
    parse(text) {
      if (!choices.includes(text)) throw new Error(`expected one of ${choices.join(', ')}`);
      return Number(text) as N;
    },
  };
}

function switchValue(): KnobValue<boolean> {
  return { schema: { type: 'boolean' }, text: String };
}

/** Strictly increasing numbers ("a,b,c"), or 'auto'. */
function thresholdsValue(): KnobValue<number[] | 'auto'> {
  return {
    schema: {
      type: ['string', 'array'],
      if: { type: 'string' },
      then: { const: 'auto' },
      else: { items: { type: 'number' }, minItems: 1 },
    },
    text: (t) => (t === 'auto' ? 'auto' : t.join(',')),
    parse(text) {
      if (text.trim() === 'auto') return 'auto';
      const parts = text.split(',').map((s) => s.trim());
      const nums = parts.map(Number);
      if (parts.some((p) => p === '') || nums.some((n) => !Number.isFinite(n)))
        throw new Error("must be 'auto' or comma-separated numbers, e.g. -10,0,10");
      for (let i = 1; i < nums.length; i++)
        if (!(nums[i] > nums[i - 1])) throw new Error(`must be strictly increasing (${nums[i - 1]} then ${nums[i]})`);
      return nums;
    },
    problems(value, path) {
      if (!Array.isArray(value) || !value.every((x) => typeof x === 'number')) return [];
      const out: string[] = [];
      for (let i = 1; i < value.length; i++)
        if (!(value[i] > value[i - 1])) out.push(`${path}/${i}: must be greater than the previous threshold (${value[i - 1]}) (rule 'increasing')`);
      return out;
    },
  };
}

/** Adamas' thresholds for `bits`-bit codes when none are given (the native engine's
 *  default_thresholds in attention/options.cpp; test/methods-engine.test.ts checks they agree). */
export function defaultThresholds(bits: number): number[] {
  switch (bits) {
    case 1: return [0];
    case 2: return [-10, 0, 10];
    case 3: return [-15, -10, -5, 0, 5, 10, 15];
  }
  throw new RangeError(`bits must be 1, 2 or 3 (got ${bits})`);
}

// ---- where a knob applies ------------------------------------------------------------------

const everyMethod = (): boolean => true;
const only = (...methods: MethodName[]) => (spec: KnobContext): boolean => methods.includes(spec.method);

// ---- the table -----------------------------------------------------------------------------

export const knobTable = {
  skipLayers: knob({
    flag: '--skip-layers <n>', description: 'first layers that always attend densely',
    value: integerValue(0), default: 2, column: 'skip_layers', native: 'skipLayers', appliesTo: everyMethod,
    checkModel(spec, model) {
      const skip = Number(spec.skipLayers);
      if (model.layers === undefined) return undefined;
      if (skip > model.layers) return `has --skip-layers ${skip} but the model has ${model.layers} layers (rule 'skip-layers <= layers')`;
      if (skip === model.layers && spec.method !== 'full')
        return `has --skip-layers ${skip}, every layer of the model: no layer would use ${spec.method} (rule 'skip-layers < layers')`;
      return undefined;
    },
  }),
  gqa: knob({
    flag: '--gqa <mode>', description: 'GQA selection per query head or per KV head',
    value: wordValue(['query', 'kv'] as const), default: 'query', column: 'gqa', native: 'gqa', appliesTo: everyMethod,
  }),
  sink: knob({
    flag: '--sink <n>', description: 'streaming: attention-sink tokens kept',
    value: integerValue(0), default: 4, column: 'sink', native: 'sink', appliesTo: only('streaming'),
    check(spec) {
      const sink = Number(spec.sink);
      if (spec.budget === undefined || sink < spec.budget) return undefined;
      return `has --sink ${sink} but the budget is ${spec.budget}: the sink must leave room for the current token (rule 'sink < budget')`;
    },
  }),
  pageSize: knob({
    flag: '--page-size <n>', description: 'quest (and adamas --granularity page): tokens a page',
    value: integerValue(1), default: 16, column: 'page_size', native: 'pageSize',
    appliesTo: (spec) => spec.method === 'quest' || (spec.method === 'adamas' && spec.granularity === 'page'),
    check(spec) {
      const page = Number(spec.pageSize);
      if (spec.budget === undefined || spec.budget >= page) return undefined;
      return `has budget ${spec.budget} below one page (--page-size ${page}): page selection needs a budget of at least one page (rule 'budget >= page-size')`;
    },
  }),
  hadamard: knob({
    flag: '--no-hadamard', description: 'adamas ablation: bucketize q and k without the Hadamard transform',
    value: switchValue(), default: true, column: 'hadamard', native: 'hadamard', appliesTo: only('adamas'),
    checkModel(spec, model) {
      const d = model.headDim;
      if (spec.hadamard === false || d === undefined || (d & (d - 1)) === 0) return undefined;
      return `needs a head_dim that is a power of two for the Hadamard transform, and the model's is ${d} (use --no-hadamard) (rule 'head_dim = 2^k')`;
    },
  }),
  distance: knob({
    flag: '--distance <d>', description: 'adamas: distance between codes',
    value: wordValue(['l1', 'l2'] as const), default: 'l1', column: 'distance', native: 'distance', appliesTo: only('adamas'),
  }),
  bits: knob({
    flag: '--bits <n>', description: 'adamas: bits per code element',
    value: numberChoiceValue([1, 2, 3] as const), default: 2, column: 'bits', native: 'bits', appliesTo: only('adamas'),
  }),
  granularity: knob({
    flag: '--granularity <g>', description: 'adamas: select tokens or pages',
    value: wordValue(['token', 'page'] as const), default: 'token', column: 'granularity', native: 'granularity', appliesTo: only('adamas'),
  }),
  /** Explicit thresholds, 'auto', or none for the defaults of `bits`. */
  thresholds: optionalKnob({
    flag: '--thresholds <list|auto>', description: "adamas: bucket thresholds, e.g. -10,0,10, or 'auto' (per layer and head, from prefill-key quantiles)",
    value: thresholdsValue(), column: 'thresholds', native: 'thresholds', appliesTo: only('adamas'),
    check(spec) {
      const t = spec.thresholds;
      const bits = Number(spec.bits);
      if (!Array.isArray(t) || t.length === 2 ** bits - 1) return undefined;
      return `has ${t.length} thresholds but ${bits}-bit codes need ${2 ** bits - 1} (rule 'thresholds = 2^bits - 1')`;
    },
  }),
};

type KnobTable = typeof knobTable;
export type KnobKey = keyof KnobTable;
type ValueOf<K extends KnobKey> = KnobTable[K] extends Knob<infer V, string> ? V : never;
type OptionalKey = { [K in KnobKey]: KnobTable[K] extends { default: unknown } ? never : K }[KnobKey];

/** Every knob's value: the table's keys, typed by their values (optional where the table gives no default). */
export type MethodKnobs = { [K in Exclude<KnobKey, OptionalKey>]: ValueOf<K> } & { [K in OptionalKey]?: ValueOf<K> };

/** A results.csv column that holds a knob. */
export type KnobColumn = KnobTable[KnobKey]['column'];

/** A knob of the table with its key, for code that goes through all of them (each knob has its
 *  own value type, hence `any`). */
export type AnyKnob = Knob<any, KnobColumn> & { key: KnobKey };

/** The knobs in table order. */
export const knobs: readonly AnyKnob[] = (Object.keys(knobTable) as KnobKey[]).map((key) => ({ ...knobTable[key], key }));

/** The rules a spec breaks (the knobs' checks, and with a model its model checks), each the end of
 *  a sentence about the spec's label. */
export function specProblems(spec: KnobContext, model?: ModelShape): string[] {
  const out: string[] = [];
  for (const k of knobs) {
    if (!k.appliesTo(spec)) continue;
    const broken = [k.check?.(spec), model ? k.checkModel?.(spec, model) : undefined];
    for (const b of broken) if (b) out.push(b);
  }
  return out;
}

/** The knob's name in labels: its flag without the dashes ('skip-layers', 'no-hadamard'). */
export function knobName(k: AnyKnob): string {
  return k.flag.split(/[ ,]/)[0].replace(/^--/, '');
}

/** A switch (no value on the command line): '--no-hadamard'. */
export function isSwitch(k: AnyKnob): boolean {
  return !k.flag.includes('<');
}
