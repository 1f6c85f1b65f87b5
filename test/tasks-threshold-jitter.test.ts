// --threshold-jitter: the moved thresholds (explicit, or the defaults of the code width), the
// refusals that name the flag (a method without thresholds, --thresholds auto, an E float32 cannot
// hold), the option in each accuracy task's plan, and the GPU defaults sized for ±0.1.
import { describe, expect, it } from 'vitest';
import { schemaProblems } from '../src/config/validate.js';
import { UsageError } from '../src/core/errors.js';
import { makeSpec } from '../src/methods/spec.js';
import { expectedWilsonHalfWidth } from '../src/stats/planning.js';
import { gpuCasesPerCell, gpuTrialsPerSetting } from '../src/tasks/common/case-counts.js';
import { decodeRuns, jitteredThresholds } from '../src/tasks/common/threshold-jitter.js';
import { longBenchTask } from '../src/tasks/longbench/index.js';
import { passkeyTask } from '../src/tasks/passkey/index.js';
import { rulerTask } from '../src/tasks/ruler/index.js';

function usage(f: () => unknown): UsageError {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    return err as UsageError;
  }
  throw new Error('no error thrown');
}

describe('the thresholds moved by ±E', () => {
  it('moves every threshold of the default codes of each width, and explicit ones', () => {
    const e = 1e-5;
    expect(jitteredThresholds('passkey', makeSpec('adamas', 64), e)).toEqual({ plus: [-10 + e, e, 10 + e], minus: [-10 - e, -e, 10 - e] });
    expect(jitteredThresholds('passkey', makeSpec('adamas', 64, { bits: 1 }), 0.5)).toEqual({ plus: [0.5], minus: [-0.5] });
    const three = jitteredThresholds('passkey', makeSpec('adamas', 64, { bits: 3 }), 0.25);
    expect(three.plus).toEqual([-14.75, -9.75, -4.75, 0.25, 5.25, 10.25, 15.25]);
    expect(three.minus).toHaveLength(7);
    expect(jitteredThresholds('ruler', makeSpec('adamas', 64, { thresholds: [-1, 0, 2] }), 0.5)).toEqual({ plus: [-0.5, 0.5, 2.5], minus: [-1.5, -0.5, 1.5] });
    // the ablations keep their thresholds
    expect(jitteredThresholds('passkey', makeSpec('adamas', 64, { hadamard: false, granularity: 'page' }), 1).plus).toEqual([-9, 1, 11]);
  });

  it('refuses a method without thresholds, naming the flag and the method', () => {
    for (const m of [makeSpec('full', undefined), makeSpec('streaming', 64), makeSpec('quest', 64)]) {
      const err = usage(() => jitteredThresholds('passkey', m, 1e-5));
      expect(err.message).toMatch(/^passkey --threshold-jitter moves selection thresholds, and (full|streaming@64|quest@64) has none \(only adamas has\)$/);
      expect(err.hint).toBe('run it with --methods adamas');
    }
  });

  it('refuses --thresholds auto: those are chosen inside the engine', () => {
    const err = usage(() => jitteredThresholds('ruler', makeSpec('adamas', 64, { thresholds: 'auto' }), 1e-5));
    expect(err.message).toBe('ruler --threshold-jitter cannot move --thresholds auto: those thresholds are chosen inside the engine, per layer and head');
  });

  it('refuses an E that does not move a threshold held as float32', () => {
    // float32 numbers near 10 are 9.5e-7 apart: 10 + 1e-7 is 10
    const err = usage(() => jitteredThresholds('passkey', makeSpec('adamas', 64), 1e-7));
    expect(err.message).toBe('passkey --threshold-jitter 1e-7 does not move the threshold -10: the engine holds thresholds as float32, whose spacing at -10 is 9.537e-7');
    expect(() => jitteredThresholds('passkey', makeSpec('adamas', 64), 1e-6)).not.toThrow();
    expect(() => jitteredThresholds('passkey', makeSpec('adamas', 64, { bits: 1 }), 1e-30)).not.toThrow();
    expect(usage(() => jitteredThresholds('passkey', makeSpec('adamas', 64), 0)).message).toBe('passkey --threshold-jitter: E must be a positive number (got 0)');
  });
});

describe('the option in the accuracy tasks', () => {
  const ctx = { device: 'cpu' as const, seed: 42, dryRun: true };
  const passkey = { lengths: [512], depths: [0, 50], trials: 1, tailChars: 400, maxNewTokens: 10 };
  const ruler = { subtasks: ['niah_single' as const], lengths: [512], samples: 2, chatTemplate: true };
  const longbench = { datasets: ['qasper' as const], lengths: [512], samples: 2, chatTemplate: true };

  it('is a job parameter only when given, so that runs without it plan the same jobs', () => {
    const adamas = makeSpec('adamas', 64);
    for (const [plan, opts] of [
      [(o: object) => passkeyTask.plan(o as typeof passkey, adamas, ctx), passkey],
      [(o: object) => rulerTask.plan(o as typeof ruler, adamas, ctx), ruler],
      [(o: object) => longBenchTask.plan(o as typeof longbench, adamas, ctx), longbench],
    ] as const) {
      const plain = plan(opts);
      const jittered = plan({ ...opts, thresholdJitter: 1e-5 });
      expect(plain.every((j) => !('thresholdJitter' in j.params))).toBe(true);
      expect(jittered.map((j) => j.params.thresholdJitter)).toEqual(plain.map(() => 1e-5));
      expect(jittered.map((j) => j.prefixKey)).toEqual(plain.map((j) => j.prefixKey)); // the prefill is shared with the plain runs
      expect(decodeRuns(jittered[0].params)).toBe(3);
      expect(decodeRuns(plain[0].params)).toBe(1);
    }
  });

  it('is refused at planning for a method without thresholds', () => {
    expect(() => passkeyTask.plan({ ...passkey, thresholdJitter: 1e-5 }, makeSpec('quest', 64), ctx)).toThrow(UsageError);
    expect(() => rulerTask.plan({ ...ruler, thresholdJitter: 1e-5 }, makeSpec('full', undefined), ctx)).toThrow('ruler --threshold-jitter moves selection thresholds, and full has none');
    expect(() => longBenchTask.plan({ ...longbench, thresholdJitter: 1e-5 }, makeSpec('adamas', 64, { thresholds: 'auto' }), ctx)).toThrow('cannot move --thresholds auto');
  });

  it('is a positive number in a suite entry', () => {
    for (const task of [passkeyTask, rulerTask, longBenchTask]) {
      const options = { ...task.defaults('cpu') as object, thresholdJitter: 0 };
      expect(schemaProblems(task.optionsSchema, options, '/tasks/0')).toEqual(["/tasks/0/thresholdJitter: must be > 0 (rule 'exclusiveMinimum')"]);
      expect(schemaProblems(task.optionsSchema, { ...options, thresholdJitter: 1e-5 }, '/tasks/0')).toEqual([]);
      expect(task.flags!.some((f) => f.flags === '--threshold-jitter <E>' && f.key === 'thresholdJitter')).toBe(true);
    }
  });

  it('costs three decodes in the dry-run estimate', () => {
    const [plain] = passkeyTask.plan(passkey, makeSpec('adamas', 64), ctx);
    const [jittered] = passkeyTask.plan({ ...passkey, thresholdJitter: 1e-5 }, makeSpec('adamas', 64), ctx);
    const job = (p: typeof plain) => ({ ...p, id: 'x', suite: 's', model: 'm', method: makeSpec('adamas', 64) });
    const a = passkeyTask.estimateWork!(job(plain), 'cpu');
    const b = passkeyTask.estimateWork!(job(jittered), 'cpu');
    // the same prefill, three times the decode steps
    expect(a.decodeSteps).toBeGreaterThan(0);
    expect(b.prefillTokens).toBe(a.prefillTokens);
    expect(b.decodeSteps).toBe(3 * a.decodeSteps!);
  });
});

describe('default case counts', () => {
  it('size a GPU cell for an interval of about ±0.1', () => {
    const n = gpuCasesPerCell();
    expect(expectedWilsonHalfWidth(n)).toBeLessThanOrEqual(0.1);
    expect(expectedWilsonHalfWidth(n - 1)).toBeGreaterThan(0.1);
    const pk = passkeyTask.defaults('cuda');
    expect(pk.trials).toBe(gpuTrialsPerSetting(pk.depths.length));
    expect(pk.trials * pk.depths.length).toBeGreaterThanOrEqual(n);
    expect(rulerTask.defaults('cuda').samples).toBe(n);
    expect(longBenchTask.defaults('cuda').samples).toBe(n);
  });

  it('keep the CPU main job small: 5 cases a cell, an interval of about ±0.31', () => {
    const pk = passkeyTask.defaults('cpu');
    expect(pk.trials * pk.depths.length).toBe(5);
    expect(Number(expectedWilsonHalfWidth(5).toFixed(2))).toBe(0.31);
  });
});
