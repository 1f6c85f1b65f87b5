// src/stats is a floor of pure functions: it reads result rows (their type) and nothing above it,
// so config, report, runner and the commands may all build on it without a cycle.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

const dir = join(import.meta.dirname, '..', 'src', 'stats');

describe('src/stats imports', () => {
  it('imports nothing from the project but the result row type', () => {
    const files = readdirSync(dir).filter((f) => f.endsWith('.ts'));
    expect(files.length).toBeGreaterThan(10);
    for (const f of files) {
      const imports = [...readFileSync(join(dir, f), 'utf8').matchAll(/^import .* from '([^']+)';$/gm)].map((m) => m[1]);
      const outside = imports.filter((p) => p.startsWith('../') && p !== '../results/columns.js');
      expect(outside, f).toEqual([]);
    }
  });
});
