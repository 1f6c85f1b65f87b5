// Planning: stable job ids, prefix groups, shards that partition the plan, the dry-run table,
// and the rules on budgets (a requested budget above a length is an error, a default one is skipped).
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import type { Suite } from '../src/config/suite.js';
import { canonicalJson, jobId } from '../src/core/job.js';
import { makeSpec, type MethodSpec } from '../src/methods/spec.js';
import { formatPlan } from '../src/report/plan-table.js';
import { expandSuite } from '../src/runner/expand.js';
import { planJobs } from '../src/runner/plan.js';
import type { TaskRegistry } from '../src/tasks/task-registry.js';
import { parseShard } from '../src/cli/parse.js';
import { groupJobs, shardJobs } from '../src/runner/shard.js';
import type { Job } from '../src/core/job.js';
import type { PlanContext, PlannedJob, TaskModule } from '../src/tasks/types.js';

interface FakeOptions {
  lengths: number[];
  depths: number[];
  trials: number;
}

const fakePasskey: TaskModule<FakeOptions> = {
  name: 'passkey',
  description: 'fake',
  needsModel: false,
  optionsSchema: {
    type: 'object',
    additionalProperties: false,
    required: ['lengths', 'depths', 'trials'],
    properties: {
      lengths: { type: 'array', items: { type: 'integer', minimum: 64 }, minItems: 1 },
      depths: { type: 'array', items: { type: 'number', minimum: 0, maximum: 100 }, minItems: 1 },
      trials: { type: 'integer', minimum: 1 },
    },
  },
  defaults: (device) => (device === 'cuda' ? { lengths: [1024, 4096], depths: [0, 50, 100], trials: 2 } : { lengths: [256, 512], depths: [0, 50], trials: 1 }),
  plan(o: FakeOptions, _m: MethodSpec, ctx: PlanContext): PlannedJob[] {
    return o.lengths.flatMap((len) => o.depths.flatMap((depth) => Array.from({ length: o.trials }, (_, trial) => ({
      task: 'passkey' as const, dataset: '', contextLen: len, depth, params: { trial }, prefixKey: `${len}/${depth}/${trial}`, seed: ctx.seed,
    }))));
  },
  run: async () => [],
};

const registry: TaskRegistry = { passkey: fakePasskey };

function plan(suite: Suite, device: 'cpu' | 'cuda' = 'cpu') {
  return planJobs(suite.name, expandSuite(suite, registry, device, 'test suite'), { device });
}

const suite: Suite = { name: 's', budgets: [64, 128], tasks: [{ task: 'passkey', lengths: [256, 512, 1024], depths: [0, 50], trials: 2 }] };

describe('job ids', () => {
  it('are stable: the same suite plans the same ids in the same order', () => {
    const a = plan(suite).jobs.map((j) => j.id);
    const b = plan(structuredClone(suite)).jobs.map((j) => j.id);
    expect(a).toEqual(b);
    expect(new Set(a).size).toBe(a.length);
    expect(a.every((id) => /^[0-9a-f]{16}$/.test(id))).toBe(true);
  });

  it('do not depend on key order, and change with any defining field', () => {
    const job = plan(suite).jobs[0];
    const { id, prefixKey: _p, ...rest } = job;
    expect(jobId(rest)).toBe(id);
    expect(canonicalJson({ b: 1, a: { d: [1, { y: 2, x: 1 }], c: undefined } })).toBe('{"a":{"d":[1,{"x":1,"y":2}]},"b":1}');
    expect(jobId({ ...rest, seed: rest.seed + 1 })).not.toBe(id);
    expect(jobId({ ...rest, method: makeSpec('adamas', 64, { hadamard: false }) })).not.toBe(jobId({ ...rest, method: makeSpec('adamas', 64) }));
    expect(jobId({ ...rest, params: { trial: 1 } })).not.toBe(jobId({ ...rest, params: { trial: 0 } }));
    // 'default' and the registry name of the default model are one model
    const viaName = plan({ ...suite, model: 'smollm2-135m-instruct-q4_1' }).jobs.map((j) => j.id);
    expect(viaName).toEqual(plan(suite).jobs.map((j) => j.id));
  });

  it('expands methods x budgets, full attention once without a budget', () => {
    const jobs = plan(suite).jobs;
    const labels = [...new Set(jobs.map((j) => `${j.method.method}@${j.method.budget ?? ''}`))];
    expect(labels).toEqual(['full@', 'streaming@64', 'streaming@128', 'quest@64', 'quest@128', 'adamas@64', 'adamas@128']);
    expect(jobs.length).toBe(7 * 3 * 2 * 2);
  });
});

describe('groups and shards', () => {
  const jobs = plan(suite).jobs;

  it('groups jobs by prefix key, across methods', () => {
    const groups = groupJobs(jobs);
    expect(groups.length).toBe(3 * 2 * 2);
    for (const g of groups) {
      expect(new Set(g.jobs.map((j) => j.prefixKey)).size).toBe(1);
      expect(g.jobs.length).toBe(7);
    }
  });

  it('jobs without a prefix key are groups of one', () => {
    const loose: Job[] = jobs.slice(0, 5).map((j) => ({ ...j, prefixKey: '' }));
    expect(groupJobs(loose).length).toBe(5);
  });

  for (const n of [1, 2, 3, 5, 13]) {
    it(`shards 1..${n} partition the plan exactly and never split a group`, () => {
      const parts = Array.from({ length: n }, (_, i) => shardJobs(jobs, { index: i + 1, count: n }));
      const ids = parts.flat().map((j) => j.id);
      expect(ids.length).toBe(jobs.length);
      expect(new Set(ids)).toEqual(new Set(jobs.map((j) => j.id)));
      const shardOfGroup = new Map<string, number>();
      parts.forEach((p, i) => p.forEach((j) => {
        const before = shardOfGroup.get(j.prefixKey);
        if (before !== undefined) expect(before).toBe(i);
        shardOfGroup.set(j.prefixKey, i);
      }));
      if (n <= 12) for (const p of parts) expect(p.length).toBeGreaterThan(0);
    });
  }

  it('parses i/n and rejects nonsense', () => {
    expect(parseShard('2/4')).toEqual({ index: 2, count: 4 });
    expect(() => parseShard('0/4')).toThrow(/between 1 and 4/);
    expect(() => parseShard('5/4')).toThrow(/between 1 and 4/);
    expect(() => parseShard('1-4')).toThrow(/i\/n/);
  });
});

describe('budgets and lengths', () => {
  it('rejects a requested budget above a length, naming both', () => {
    const bad: Suite = { name: 's', budgets: [2048], tasks: [{ task: 'passkey', lengths: [1024], depths: [50], trials: 1 }] };
    expect(() => plan(bad)).toThrow(UsageError);
    expect(() => plan(bad)).toThrow(/length 1024 is below budget 2048/);
  });

  it('skips default budgets above a length, keeping full attention', () => {
    const p = plan({ name: 's', methods: ['full', 'adamas'], tasks: [{ task: 'passkey', lengths: [100], depths: [0], trials: 1 }] });
    // defaults 16..2048: 16, 32, 64 fit under 100
    expect(p.jobs.map((j) => j.method.budget ?? 0).sort((a, b) => a - b)).toEqual([0, 16, 32, 64]);
    expect(p.skippedAboveLength).toBe(5);
  });

  it('sizes the defaults to the device', () => {
    const s: Suite = { name: 's', methods: ['full'], tasks: [{ task: 'passkey' }] };
    expect(plan(s, 'cpu').jobs.length).toBe(2 * 2 * 1);
    expect(plan(s, 'cuda').jobs.length).toBe(2 * 3 * 2);
  });

  it('rejects two method variants with the same label', () => {
    const s: Suite = { name: 's', budgets: [64], tasks: [{ task: 'passkey', methods: ['adamas', { method: 'adamas', knobs: { hadamard: true } }] }] };
    expect(() => plan(s)).toThrow(/'adamas@64' appears twice/);
  });

  it('plans a job two entries share once (an ablation entry beside the baseline)', () => {
    const one = plan({ name: 's', budgets: [64], tasks: [{ task: 'passkey' }] });
    const s: Suite = { name: 's', budgets: [64], tasks: [{ task: 'passkey' }, { task: 'passkey', methods: ['adamas', { method: 'adamas', knobs: { bits: 1 } }] }] };
    const two = plan(s);
    const perCase = 2 * 2;
    expect(two.duplicates).toBe(perCase);
    expect(two.jobs.length).toBe(one.jobs.length + perCase);
    expect(new Set(two.jobs.map((j) => j.id)).size).toBe(two.jobs.length);
  });
});

describe('dry-run output', () => {
  it('counts jobs per method and length, the shard part and an estimate', () => {
    const p = plan(suite);
    const mine = shardJobs(p.jobs, { index: 1, count: 2 });
    const text = formatPlan({ suite: 's', device: 'cpu', totalJobs: p.jobs.length, shard: { index: 1, count: 2 }, jobs: mine,
      skippedAboveLength: 0, estimateSeconds: 125 });
    expect(text).toContain(`plan: suite 's', ${mine.length} jobs (of ${p.jobs.length}, shard 1/2), device cpu`);
    const header = text.split('\n').find((l) => l.startsWith('method'))!;
    expect(header.split(/\s+/)).toEqual(['method', 'len=256', 'len=512', 'len=1024', 'jobs']);
    const full = text.split('\n').find((l) => l.startsWith('full'))!;
    const counts = full.split(/\s+/).slice(1).map((c) => (c === '-' ? 0 : Number(c)));
    expect(counts.slice(0, 3).reduce((a, b) => a + b, 0)).toBe(counts[3]);
    expect(counts[3]).toBe(mine.filter((j) => j.method.method === 'full').length);
    expect(text).toContain('estimated time: about 2 min on cpu');
  });
});
