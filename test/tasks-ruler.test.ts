// RULER-style tasks: the generators (needles present, answers derivable from the text alone), the
// templates, the tail split, length fitting, determinism, and the scorers.
import { describe, expect, it } from 'vitest';
import { schemaProblems } from '../src/config/validate.js';
import { makeSpec } from '../src/methods/spec.js';
import { CWE_VOCABULARY, cweShapes, RULER_SUBTASKS, rulerCase, vtChain, vtExample } from '../src/tasks/ruler/cases.js';
import { rulerTask } from '../src/tasks/ruler/index.js';
import { assemble, buildRulerPrompt, fitVtExampleNoise, MAX_TAIL_CHARS } from '../src/tasks/ruler/prompt.js';
import { postprocessPrediction, stringMatchAll, stringMatchPart } from '../src/tasks/ruler/score.js';
import { fill, NOISE, singular, TEMPLATES } from '../src/tasks/ruler/templates.js';

const wordTok = { encode: (text: string, _o?: { addBos?: boolean }) => (text.match(/ ?[A-Za-z]+| ?\d|[^\sA-Za-z\d]|\s+/g) ?? []).map((w) => w.length) };

/** Needles in a text: key -> values, in order of appearance. */
function needles(text: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const m of text.matchAll(/One of the special magic numbers for ([a-z]+-[a-z]+) is: (\d+)\./g)) {
    out.set(m[1]!, [...(out.get(m[1]!) ?? []), m[2]!]);
  }
  return out;
}

describe('niah generators', () => {
  it('niah_single: one needle in the noise, a 7-digit value, singular wording', () => {
    const t = rulerCase(42, 'niah_single', 1024, 0).build(30);
    const found = needles(t.user);
    expect(found.size).toBe(1);
    const [[key, values]] = [...found];
    expect(values).toEqual(t.outputs);
    expect(t.outputs[0]).toMatch(/^\d{7}$/);
    expect(t.user.startsWith('A special magic number is hidden within the following text.')).toBe(true);
    expect(t.user.endsWith(`What is the special magic number for ${key} mentioned in the provided text?`)).toBe(true);
    expect(t.answerPrefix).toBe(` The special magic number for ${key} mentioned in the provided text is`);
    expect(t.user.split(NOISE).length - 1).toBe(30);
    expect(t.maxNewTokens).toBe(128);
    // the haystack ends where the question starts
    expect(t.user.slice(t.contextEnd)).toBe(`\nWhat is the special magic number for ${key} mentioned in the provided text?`);
  });

  it('niah_multikey: four keys, one asked; the answer is the asked key\'s value', () => {
    const t = rulerCase(7, 'niah_multikey', 1024, 3).build(40);
    const found = needles(t.user);
    expect(found.size).toBe(4);
    const asked = /for ([a-z]+-[a-z]+) mentioned/.exec(t.user)![1]!;
    expect(found.get(asked)).toEqual(t.outputs);
  });

  it('niah_multivalue: one key, four values, all asked (plural wording)', () => {
    const t = rulerCase(7, 'niah_multivalue', 1024, 0).build(40);
    const found = needles(t.user);
    expect(found.size).toBe(1);
    expect([...found.values()][0]!.sort()).toEqual([...t.outputs].sort());
    expect(t.outputs).toHaveLength(4);
    expect(t.user.startsWith('Some special magic numbers are hidden')).toBe(true);
    expect(t.answerPrefix).toMatch(/mentioned in the provided text are$/);
  });

  it('niah_multiquery: four keys asked as "a, b, c, and d"', () => {
    const t = rulerCase(7, 'niah_multiquery', 1024, 0).build(40);
    const found = needles(t.user);
    const query = /What are all the special magic numbers for (.*) mentioned in the provided text\?/.exec(t.user)![1]!;
    const keys = query.replace(', and ', ', ').split(', ');
    expect(keys).toHaveLength(4);
    expect(keys.flatMap((k) => found.get(k)!)).toEqual(t.outputs);
  });

  it('is deterministic for a seed, differs across samples, and only moves needles when n changes', () => {
    const a = rulerCase(42, 'niah_multikey', 2048, 1);
    expect(a.build(50).user).toBe(rulerCase(42, 'niah_multikey', 2048, 1).build(50).user);
    expect(a.build(50).user).not.toBe(rulerCase(42, 'niah_multikey', 2048, 2).build(50).user);
    expect(a.build(60).outputs).toEqual(a.build(50).outputs);
    expect([...needles(a.build(60).user).keys()].sort()).toEqual([...needles(a.build(50).user).keys()].sort());
  });
});

describe('variable tracking', () => {
  it('writes chains as RULER: a value, then hops with a trailing space', () => {
    expect(vtChain(['AAAAA', 'BBBBB', 'CCCCC'], '12345')).toEqual(['VAR AAAAA = 12345', 'VAR BBBBB = VAR AAAAA ', 'VAR CCCCC = VAR BBBBB ']);
  });

  it('the answer is every variable that follows the chain from the asked value', () => {
    const t = rulerCase(42, 'vt', 1024, 0, 10).build(25);
    expect(t.outputs).toHaveLength(5);
    const value = /assigned the value (\d+) in the text above\.$/.exec(t.user)![1]!;
    // resolve all assignments in the text (the one-shot example has its own variables and value)
    const assign = new Map<string, string>();
    for (const m of t.user.matchAll(/VAR ([A-Z]+) = (VAR ([A-Z]+)|\d+)/g)) assign.set(m[1]!, m[3] ?? m[2]!);
    const resolve = (v: string): string => (assign.has(v) ? resolve(assign.get(v)!) : v);
    const derived = [...assign.keys()].filter((v) => resolve(v) === value);
    expect(derived.sort()).toEqual([...t.outputs].sort());
    expect(t.outputs.every((v) => /^[A-Z]{5}$/.test(v))).toBe(true);
    expect(t.answerPrefix).toBe(` Answer: According to the chain(s) of variable assignment in the text above, 5 variables are assigned the value ${value}, they are: `);
    expect(t.maxNewTokens).toBe(30);
  });

  it('puts the one-shot example first, with its answer', () => {
    const ex = vtExample(5, 8);
    expect(ex.startsWith('Memorize and track the chain(s) of variable assignment')).toBe(true);
    // RULER joins the example (ending in "they are: ") and its answer with another space
    expect(ex).toMatch(/they are: {2}[A-Z]{3} [A-Z]{3} [A-Z]{3} [A-Z]{3} [A-Z]{3}$/);
    const n = fitVtExampleNoise(wordTok, 5, 1024);
    expect(wordTok.encode(vtExample(5, n)).length).toBeLessThanOrEqual(256);
    expect(wordTok.encode(vtExample(5, n + 1)).length).toBeGreaterThan(256);
  });
});

describe('common words extraction', () => {
  it('the ten most frequent words of the list are the answer (6x vs 1x below 4096 tokens)', () => {
    const t = rulerCase(42, 'cwe', 1024, 0).build(80);
    const intro = 'Memorize the ones that appear most often.\n';
    const listText = t.user.slice(t.user.lastIndexOf(intro) + intro.length, t.contextEnd);
    const counts = new Map<string, number>();
    for (const m of listText.matchAll(/\d+\. (\S+)/g)) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
    const top = [...counts].filter(([, c]) => c === 6).map(([w]) => w);
    expect(top.sort()).toEqual([...t.outputs].sort());
    expect(counts.size).toBe(80);
    expect([...counts.values()].filter((c) => c === 1)).toHaveLength(70);
    expect(t.user.startsWith('Below is a numbered list of words.')).toBe(true);
    expect(t.maxNewTokens).toBe(120);
    expect(cweShapes(4096).main).toEqual({ common: 10, commonRepeats: 30, uncommonRepeats: 3 });
  });

  it('grows past its vocabulary with adjective-noun words', () => {
    const t = rulerCase(1, 'cwe', 1024, 0).build(CWE_VOCABULARY.length + 50);
    expect(t.user).toMatch(/\d+\. [a-z]+-[a-z]+/);
  });
});

describe('templates and prompt assembly', () => {
  it('singularises as RULER does for one value asked', () => {
    expect(singular(TEMPLATES.niah.answerPrefix)).toBe(' The special magic {type_needle_v} for {query} mentioned in the provided text is');
    expect(fill('{a} {b} {c}', { a: 1, b: 'x' })).toBe('1 x {c}');
  });

  it('decodes the question, the template closing and the answer prefix; bounded', () => {
    const t = rulerCase(42, 'niah_single', 1024, 0).build(10);
    const chat = (u: string) => `<|user|>\n${u}<|end|>\n<|assistant|>\n`;
    const a = assemble(t, chat);
    expect(a.full).toBe(chat(t.user) + t.answerPrefix);
    expect(a.head + a.tail).toBe(a.full);
    expect(a.tail).toBe(`${t.user.slice(t.contextEnd)}<|end|>\n<|assistant|>\n${t.answerPrefix}`);
    const plain = assemble(t, undefined);
    expect(plain.tail).toBe(t.user.slice(t.contextEnd) + t.answerPrefix);
    expect(assemble(t, undefined, 20).tail).toHaveLength(20);
    expect(MAX_TAIL_CHARS).toBe(600);
  });

  it('fits the haystack so that prompt + tokens to generate <= length', () => {
    for (const subtask of RULER_SUBTASKS) {
      const p = buildRulerPrompt(wordTok, rulerCase(3, subtask, 2048, 0, 20), 2048, undefined);
      expect(p.tokens + p.maxNewTokens).toBeLessThanOrEqual(2048);
      expect(p.tokens + p.maxNewTokens).toBeGreaterThan(2048 - 60);
      expect(p.headIds.length + p.tailIds.length).toBe(p.tokens);
    }
    const capped = buildRulerPrompt(wordTok, rulerCase(3, 'niah_single', 1024, 0), 1024, undefined, 16);
    expect(capped.maxNewTokens).toBe(16);
    expect(capped.tokens + 16).toBeLessThanOrEqual(1024);
  });
});

describe('scoring', () => {
  it('string_match_all: fraction of references in the prediction, case-insensitive', () => {
    expect(stringMatchAll('The numbers are 1234567 and 7654321.', ['1234567', '7654321', '1111111'])).toBeCloseTo(2 / 3, 12);
    expect(stringMatchAll('ABCDE and fghij', ['abcde', 'FGHIJ'])).toBe(1);
    expect(stringMatchAll('nothing', ['x'])).toBe(0);
  });

  it('string_match_part: any reference', () => {
    expect(stringMatchPart('Paris, France', ['paris', 'lyon'])).toBe(1);
    expect(stringMatchPart('Rome', ['paris', 'lyon'])).toBe(0);
  });

  it('post-processes: strip, control characters to newlines', () => {
    expect(postprocessPrediction('  a\tb\u0000c \n')).toBe('a\nb\nc');
  });
});

describe('ruler plan', () => {
  it('has valid defaults and plans method-independent prefix keys', () => {
    for (const device of ['cpu', 'cuda'] as const) expect(schemaProblems(rulerTask.optionsSchema, rulerTask.defaults(device))).toEqual([]);
    const ctx = { device: 'cpu' as const, seed: 42, modelContextLength: 8192 };
    const opts = { ...rulerTask.defaults('cpu'), samples: 2 };
    const full = rulerTask.plan(opts, makeSpec('full', undefined), ctx);
    const sparse = rulerTask.plan(opts, makeSpec('adamas', 128), ctx);
    expect(full).toHaveLength(RULER_SUBTASKS.length * 2);
    expect(sparse.map((j) => j.prefixKey)).toEqual(full.map((j) => j.prefixKey));
    expect(new Set(full.map((j) => j.prefixKey)).size).toBe(full.length);
    expect(() => rulerTask.plan({ ...opts, lengths: [16384] }, makeSpec('full', undefined), ctx)).toThrow(/16384 tokens exceeds the model's context length of 8192/);
  });
});
