// Suite and config validation: every message quotes the JSON path and the rule broken; the
// package's own suites and configs are valid.
import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { defaultsPath, loadDefaults } from '../src/config/defaults.js';
import { applyOverrides, findSuite, readSuiteFile, suitesDir, validateSuite, type Suite } from '../src/config/suite.js';
import { expandSuite } from '../src/runner/expand.js';
import { loadTaskRegistry, type TaskRegistry } from '../src/tasks/task-registry.js';
import { taskNames } from '../src/core/job.js';
import { fakeRegistry } from './helpers/build.js';

async function fake(): Promise<TaskRegistry> {
  return (await import(pathToFileURL(fakeRegistry).href) as { taskModules: TaskRegistry }).taskModules;
}

function problemsOf(f: () => unknown): string {
  try {
    f();
  } catch (err) {
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).exitCode).toBe(2);
    return (err as Error).message;
  }
  throw new Error('expected a usage error');
}

describe('the common part of a suite', () => {
  it('quotes path and rule for each problem, all at once', () => {
    const msg = problemsOf(() => validateSuite({
      name: 'bad name!',
      budgets: [64, 0],
      methods: ['adamas', 'magic'],
      knobs: { bits: 4, hadamard: 'no' },
      tasks: [{ task: 'passkey', budgets: [] }, { task: 'sudoku' }],
    }, 'x.json'));
    expect(msg).toMatch(/^x\.json is invalid:/);
    expect(msg).toContain("/name: must match pattern");
    expect(msg).toContain("/budgets/1: must be >= 1 (rule 'minimum')");
    expect(msg).toContain('/methods/1: must be equal to one of the allowed values ("full", "streaming", "quest", "adamas", "oracle")');
    expect(msg).toContain('/knobs/bits: must be equal to one of the allowed values (1, 2, 3)');
    expect(msg).toContain("/knobs/hadamard: must be boolean (rule 'type')");
    expect(msg).toContain("/tasks/0/budgets: must NOT have fewer than 1 items (rule 'minItems')");
    expect(msg).toContain('/tasks/1/task: must be equal to one of the allowed values');
  });

  it('names unknown and missing properties', () => {
    const msg = problemsOf(() => validateSuite({ name: 's', taks: [] }, 's.json'));
    expect(msg).toContain("(root): unknown property 'taks'");
    expect(msg).toContain("(root): missing required property 'tasks'");
  });

  it('checks method variants and thresholds', () => {
    const msg = problemsOf(() => validateSuite({
      name: 's',
      tasks: [{ task: 'passkey', methods: [{ method: 'adamas', knobs: { thresholds: [0, -1, 2] } }, { method: 'quest', budgets: [1.5] }, { knobs: {} }] }],
    }, 's.json'));
    expect(msg).toContain("/tasks/0/methods/0/knobs/thresholds/1: must be greater than the previous threshold (0) (rule 'increasing')");
    expect(msg).toContain("/tasks/0/methods/1/budgets/0: must be integer (rule 'type')");
    expect(msg).toContain("/tasks/0/methods/2: missing required property 'method'");
    const auto = validateSuite({ name: 's', knobs: { thresholds: 'auto' }, tasks: [{ task: 'passkey' }] }, 's.json');
    expect(auto.knobs?.thresholds).toBe('auto');
    expect(problemsOf(() => validateSuite({ name: 's', knobs: { thresholds: 'sometimes' }, tasks: [{ task: 'passkey' }] }, 's.json')))
      .toContain("/knobs/thresholds: must be equal to constant (rule 'const')");
  });
});

describe('the task part of a suite', () => {
  it("checks each entry against its module's schema, quoting /tasks/<i>/...", async () => {
    const registry = await fake();
    const suite = validateSuite({
      name: 's',
      tasks: [{ task: 'ppl' }, { task: 'passkey', lengths: [1024, 32], depths: [50], trials: 0, lenghts: [1] }],
    }, 's.json');
    const msg = problemsOf(() => expandSuite(suite, registry, 'cpu', 's.json'));
    expect(msg).toContain("/tasks/1/lengths/1: must be >= 64 (rule 'minimum')");
    expect(msg).toContain("/tasks/1/trials: must be >= 1 (rule 'minimum')");
    expect(msg).toContain("/tasks/1: unknown property 'lenghts'");
    expect(msg).not.toContain('/tasks/0');
  });

  it('merges entry options over the device defaults', async () => {
    const registry = await fake();
    const [t] = expandSuite(validateSuite({ name: 's', tasks: [{ task: 'passkey', trials: 3 }] }, 's'), registry, 'cuda', 's');
    expect(t.options).toEqual({ lengths: [1024, 2048, 4096], depths: [0, 50, 100], trials: 3 });
  });

  it('says when a task has no module in this build (exit 2)', async () => {
    const registry = await fake();
    const msg = problemsOf(() => expandSuite(validateSuite({ name: 's', tasks: [{ task: 'kernels' }] }, 's'), registry, 'cpu', 's.json'));
    expect(msg).toContain("the 'kernels' task is not implemented in this build yet (s.json: /tasks/0)");
  });

  it('lets flags override the suite everywhere', () => {
    const s: Suite = { name: 's', budgets: [64], tasks: [{ task: 'passkey', budgets: [128], methods: [{ method: 'adamas', budgets: [32] }], seed: 3 }] };
    const o = applyOverrides(s, { budgets: [256], seed: 7 });
    expect(o.budgets).toEqual([256]);
    expect(o.tasks[0].budgets).toBeUndefined();
    expect(o.tasks[0].seed).toBeUndefined();
    expect(o.tasks[0].methods).toEqual([{ method: 'adamas' }]);
    expect(s.tasks[0].budgets).toEqual([128]); // the input is left alone
  });
});

describe("the package's suites and configs", () => {
  it('configs/defaults.json is valid', () => {
    const d = loadDefaults();
    expect(d.budgets).toEqual([16, 32, 64, 128, 256, 512, 1024, 2048]);
    expect(JSON.parse(readFileSync(defaultsPath, 'utf8')).methods).toEqual(['full', 'streaming', 'quest', 'adamas']);
  });

  const files = readdirSync(suitesDir).filter((f) => f.endsWith('.json'));
  it('has ci-smoke and paper suites', () => {
    expect(files).toContain('ci-smoke.json');
    expect(files).toContain('paper.json');
  });
  for (const f of files) {
    it(`suites/${f} is valid for every task module this build has`, async () => {
      const suite = readSuiteFile(join(suitesDir, f));
      const real = await loadTaskRegistry();
      const have = taskNames.filter((t) => real[t] && suite.tasks.some((e) => e.task === t));
      if (have.length) {
        for (const device of ['cpu', 'cuda'] as const) expect(expandSuite(suite, real, device, f, { only: have }).length).toBeGreaterThan(0);
      }
    });
  }

  it('finds a suite by name or path, and says which exist otherwise', () => {
    expect(findSuite('ci-smoke')).toBe(join(suitesDir, 'ci-smoke.json'));
    const dir = mkdtempSync(join(tmpdir(), 'suite-'));
    const p = join(dir, 'x.json');
    writeFileSync(p, '{"name": "x", "tasks": [{"task": "passkey"}]}');
    expect(findSuite(p)).toBe(p);
    expect(problemsOf(() => findSuite('no-such-suite'))).toContain("suite 'no-such-suite' is neither a file nor one of the package's suites");
    writeFileSync(p, '{"name": "x", "tasks": [');
    expect(problemsOf(() => readSuiteFile(p))).toContain('is not valid JSON');
  });
});
