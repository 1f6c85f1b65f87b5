// The knob table (src/methods/knobs.ts) and what is made from it: the suite schema, the results
// columns, the native options (engine and kernels task), the command-line flags and the labels.
import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { Command } from 'commander';
import { describe, expect, it } from 'vitest';
import { addKnobOptions, givenKnobs, knobsFrom } from '../src/cli/knob-options.js';
import { knobsSchema } from '../src/config/schemas.js';
import { UsageError } from '../src/core/errors.js';
import type { Job } from '../src/core/job.js';
import { defaultThresholds, knobs, knobTable } from '../src/methods/knobs.js';
import { defaultKnobs, knobChanges, makeSpec, methodLabel, methodLabelOf, methodSeries, toNativeOptions } from '../src/methods/spec.js';
import { resultColumns } from '../src/results/columns.js';
import { toRows } from '../src/results/write.js';
import { expandSuite } from '../src/runner/expand.js';
import { benchOptions } from '../src/tasks/kernels/index.js';
import type { TaskModule } from '../src/tasks/types.js';

/** A spec whose every knob differs from its default. */
const allChanged = makeSpec('adamas', 64, {
  skipLayers: 0, gqa: 'kv', sink: 1, pageSize: 8, hadamard: false, distance: 'l2', bits: 3, granularity: 'page',
  thresholds: [-3, -2, -1, 0, 1, 2, 3],
});

function job(method = allChanged): Job {
  return { id: 'j', suite: 's', task: 'kernels', dataset: 'smollm2', model: 'default', method, contextLen: 2048,
    params: { nHeads: 9, nKvHeads: 3, headDim: 64, minSamples: 10, minTime: 0.2, maxNoise: 0.02, timeout: 2 }, prefixKey: '', seed: 7 };
}

describe('the knob table', () => {
  it('gives every knob a default its own schema accepts, except the optional thresholds', () => {
    const ajv = new Ajv({ strict: true, allowUnionTypes: true });
    expect(knobs.filter((k) => k.default === undefined).map((k) => k.key)).toEqual(['thresholds']);
    for (const k of knobs.filter((x) => x.default !== undefined)) {
      expect(ajv.validate(k.value.schema, k.default), k.key).toBe(true);
      const text = k.value.text(k.default);
      if (k.value.parse) expect(k.value.parse(text), k.key).toEqual(k.default);
      if (k.value.choices) expect(k.value.choices, k.key).toContain(text);
    }
    expect(defaultKnobs).toEqual({ skipLayers: 2, gqa: 'query', sink: 4, pageSize: 16, hadamard: true, distance: 'l1', bits: 2, granularity: 'token' });
  });

  it('is the suite schema: one property a knob, with its schema', () => {
    expect(Object.keys(knobsSchema.properties)).toEqual(knobs.map((k) => k.key));
    for (const k of knobs) expect((knobsSchema.properties as Record<string, unknown>)[k.key]).toBe(k.value.schema);
  });

  it('is the results columns: one a knob, in table order, between n and seed', () => {
    const at = resultColumns.indexOf('n');
    expect(resultColumns.slice(at + 1, at + 1 + knobs.length)).toEqual(knobs.map((k) => k.column));
    expect(resultColumns[at + 1 + knobs.length]).toBe('seed');
    expect(new Set(resultColumns).size).toBe(resultColumns.length);
    const [row] = toRows({ ...job(), task: 'passkey' }, [{ metric: 'accuracy', value: 1, unit: '', n: 1 }], { runId: 'r', device: 'cpu' });
    expect(knobs.map((k) => row[k.column])).toEqual(['0', 'kv', '1', '8', 'false', 'l2', '3', 'page', '-3,-2,-1,0,1,2,3']);
    const [plain] = toRows({ ...job(makeSpec('full', undefined)), task: 'passkey' }, [{ metric: 'accuracy', value: 1, unit: '', n: 1 }], { runId: 'r', device: 'cpu' });
    expect(plain.thresholds).toBe('');
  });

  it('is the native options of the engine and of the kernels task: every knob under its native key', () => {
    const native = toNativeOptions(allChanged) as unknown as Record<string, unknown>;
    const bench = benchOptions(job(), 'cpu') as unknown as Record<string, unknown>;
    for (const k of knobs) {
      expect(native[k.native], k.key).toEqual(allChanged[k.key]);
      expect(bench[k.native], `kernels: ${k.key}`).toEqual(allChanged[k.key]);
    }
    expect(bench).toMatchObject({ method: 'adamas', budget: 64, backend: 'cpu', nHeads: 9, nKvHeads: 3, headDim: 64, kvLen: 2048, seed: 7, measureFull: true });
    expect('thresholds' in toNativeOptions(makeSpec('adamas', 64))).toBe(false);
  });
});

describe('labels, built from the spec', () => {
  it('name the knobs that apply and differ from their defaults, in table order', () => {
    expect(methodLabel(makeSpec('full', 64))).toBe('full');
    expect(methodLabel(makeSpec('full', undefined, { skipLayers: 0, sink: 1, hadamard: false }))).toBe('full[skip-layers=0]');
    expect(methodLabel(makeSpec('streaming', 64, { sink: 0, pageSize: 8 }))).toBe('streaming[sink=0]@64');
    expect(methodLabel(makeSpec('quest', 64, { pageSize: 8, gqa: 'kv' }))).toBe('quest[gqa=kv,page-size=8]@64');
    expect(methodLabel(makeSpec('adamas', 64, { pageSize: 8 }))).toBe('adamas@64');
    expect(methodLabel(allChanged)).toBe('adamas[skip-layers=0,gqa=kv,page-size=8,no-hadamard,distance=l2,bits=3,granularity=page,thresholds=-3,-2,-1,0,1,2,3]@64');
    expect(methodLabel(makeSpec('adamas', 64, { thresholds: 'auto', bits: 2 }))).toBe('adamas[thresholds=auto]@64');
    expect(knobChanges(makeSpec('adamas', 64, { hadamard: true, distance: 'l1' }))).toEqual([]);
  });

  it('keep their parts: method, changes, budget, and the series without the budget', () => {
    const spec = makeSpec('adamas', 128, { bits: 1, thresholds: [0] });
    expect(methodLabelOf(spec)).toEqual({ method: 'adamas', changes: ['bits=1', 'thresholds=0'], budget: 128 });
    expect(methodSeries(spec)).toBe('adamas[bits=1,thresholds=0]');
    expect(methodLabelOf(makeSpec('full', 64))).toEqual({ method: 'full', changes: [] });
  });
});

describe('the knob flags', () => {
  const parse = (args: string[]) => {
    const cmd = addKnobOptions(new Command('t').exitOverride().configureOutput({ writeErr: () => {} }));
    cmd.parse(args, { from: 'user' });
    return { cmd, flags: cmd.opts() as never };
  };

  it('parse to knob values, and say which the user gave', () => {
    const { cmd, flags } = parse(['--bits', '3', '--no-hadamard', '--thresholds', 'auto', '--page-size', '32']);
    expect(knobsFrom(flags)).toEqual({ ...defaultKnobs, bits: 3, hadamard: false, thresholds: 'auto', pageSize: 32 });
    expect(givenKnobs(cmd, flags)).toEqual({ pageSize: 32, hadamard: false, bits: 3, thresholds: 'auto' });
    const none = parse([]);
    expect(knobsFrom(none.flags)).toEqual(defaultKnobs);
    expect(givenKnobs(none.cmd, none.flags)).toBeUndefined();
  });

  it('refuse bad values with the rule', () => {
    expect(() => parse(['--bits', '4'])).toThrow("argument '4' is invalid. expected one of 1, 2, 3");
    expect(() => parse(['--gqa', 'all'])).toThrow('Allowed choices are query, kv.');
    expect(() => parse(['--skip-layers', '-1'])).toThrow('must be a non-negative integer');
    expect(() => parse(['--page-size', '0'])).toThrow('must be a positive integer');
    expect(() => parse(['--thresholds', '1,0'])).toThrow('must be strictly increasing (1 then 0)');
    expect(() => parse(['--thresholds', '1,,2'])).toThrow("must be 'auto' or comma-separated numbers");
  });

  it('cover every knob, each once', () => {
    const cmd = addKnobOptions(new Command('t'));
    expect(cmd.options.map((o) => o.attributeName())).toEqual(Object.keys(knobTable));
  });
});

describe("the knobs' rules beyond the schema", () => {
  const fake: TaskModule = {
    name: 'passkey', description: 'fake', optionsSchema: { type: 'object' }, defaults: () => ({}), plan: () => [], run: async () => [],
  };

  it('are checked for each spec when the suite is expanded', () => {
    const suite = { name: 's', budgets: [64], tasks: [{ task: 'passkey' as const, methods: [
      { method: 'adamas' as const, knobs: { bits: 3 as const, thresholds: [0, 1] } },
      { method: 'quest' as const, knobs: { thresholds: [0, 1] } },
    ] }] };
    let message = '';
    try {
      expandSuite(suite, { passkey: fake }, 'cpu', 's.json');
    } catch (err) {
      expect(err).toBeInstanceOf(UsageError);
      message = (err as Error).message;
    }
    expect(message).toBe(`s.json is invalid:\n  /tasks/0: 'adamas[bits=3,thresholds=0,1]@64' has 2 thresholds but 3-bit codes need 7 (rule 'thresholds = 2^bits - 1')`);
  });
});

describe('the default thresholds of each code width', () => {
  it("are the native engine's (default_thresholds in native/src/attention/options.cpp)", () => {
    const cpp = readFileSync(new URL('../native/src/attention/options.cpp', import.meta.url), 'utf8');
    const body = cpp.slice(cpp.indexOf('std::vector<float> default_thresholds(int bits)'));
    for (const bits of [1, 2, 3]) {
      const m = new RegExp(`case ${bits}: return \\{([^}]*)\\};`).exec(body);
      expect(m, `case ${bits} in default_thresholds`).not.toBeNull();
      expect(m![1].split(',').map((t) => Number(t.trim().replace(/f$/, '')))).toEqual(defaultThresholds(bits));
    }
    expect(() => defaultThresholds(0)).toThrow('bits must be 1, 2 or 3 (got 0)');
  });
});
