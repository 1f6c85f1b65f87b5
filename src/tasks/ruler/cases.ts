// RULER-style synthetic cases, generated offline from a seed (after NVIDIA/RULER
// scripts/data/synthetic/{niah,variable_tracking,common_words_extraction}.py). A case is made of
// content drawn once per (seed, subtask, length, sample) - keys, values, chains, word lists - and a
// haystack whose size `n` is fitted to the target length afterwards; only the needle positions
// depend on n.
import { caseRng, caseSeed, mulberry32, randInt, sampleRange, shuffle, type Rng } from '../common/rng.js';
import { fill, NEEDLE, NOISE, singular, TEMPLATES } from './templates.js';
import { ADJECTIVES, NOUNS, VERBS } from './words.js';

export const RULER_SUBTASKS = ['niah_single', 'niah_multikey', 'niah_multivalue', 'niah_multiquery', 'vt', 'cwe'] as const;
export type RulerSubtask = (typeof RULER_SUBTASKS)[number];

/** The user turn of a case, where its haystack ends, the answer prefix, and the references. */
export interface RulerText {
  user: string;
  /** Character offset in `user` where the haystack (context) ends: the rest is the question. */
  contextEnd: number;
  /** Appended after the assistant's turn opens (RULER appends it to the model template). */
  answerPrefix: string;
  outputs: string[];
  maxNewTokens: number;
}

/** Content of a case, drawn once; build(n) lays it into a haystack of size n. */
export interface RulerCase {
  subtask: RulerSubtask;
  /** Smallest haystack size the case can be built with. */
  minN: number;
  /** A first guess of the haystack size for `tokens` tokens (about 22 tokens a noise sentence). */
  guess(tokens: number): number;
  build(n: number): RulerText;
}

// ---- niah ---------------------------------------------------------------------------------------

interface NiahConfig {
  numK: number;
  numV: number;
  numQ: number;
}

const NIAH: Record<'niah_single' | 'niah_multikey' | 'niah_multivalue' | 'niah_multiquery', NiahConfig> = {
  niah_single: { numK: 1, numV: 1, numQ: 1 },
  niah_multikey: { numK: 4, numV: 1, numQ: 1 },
  niah_multivalue: { numK: 1, numV: 4, numQ: 1 },
  niah_multiquery: { numK: 4, numV: 1, numQ: 4 },
};

/** A needle key: an adjective-noun pair, as RULER's wonderwords keys. */
export function randomWordKey(rng: Rng): string {
  return `${ADJECTIVES[Math.floor(rng() * ADJECTIVES.length)]}-${NOUNS[Math.floor(rng() * NOUNS.length)]}`;
}

/** A 7-digit number, as RULER's values. */
export function randomNumber7(rng: Rng): string {
  return String(randInt(rng, 1_000_000, 9_999_999));
}

/** Inserts `items` into `base` at distinct random indexes of [0, base.length), as RULER does. */
function insertAtRandom(rng: Rng, base: string[], items: readonly string[]): string[] {
  const out = base.slice();
  const indexes = sampleRange(rng, base.length, items.length).sort((a, b) => b - a);
  indexes.forEach((index, k) => out.splice(index, 0, items[k]!));
  return out;
}

function niahCase(subtask: keyof typeof NIAH, seed: number): RulerCase {
  const cfg = NIAH[subtask];
  const numK = Math.max(cfg.numK, cfg.numQ);
  const rng = caseRng(seed, 'content');
  const keys: string[] = [];
  while (keys.length < numK) {
    const k = randomWordKey(rng);
    if (!keys.includes(k)) keys.push(k);
  }
  const values: string[][] = [];
  const needles: string[] = [];
  for (const key of keys) {
    const vs: string[] = [];
    for (let v = 0; v < cfg.numV; v++) {
      const value = randomNumber7(rng);
      vs.push(value);
      needles.push(fill(NEEDLE, { type_needle_v: 'numbers', key, value }));
    }
    values.push(vs);
  }
  shuffle(rng, needles);
  const asked = sampleRange(rng, numK, cfg.numQ);
  const queries = asked.map((i) => keys[i]!);
  const outputs = asked.flatMap((i) => values[i]!);
  const query = queries.length > 1 ? `${queries.slice(0, -1).join(', ')}, and ${queries.at(-1)}` : queries[0]!;
  const one = cfg.numQ * cfg.numV === 1;
  const t = TEMPLATES.niah;
  const template = one ? singular(t.template) : t.template;
  const prefix = one ? singular(t.answerPrefix) : t.answerPrefix;
  const vars = { type_needle_v: one ? 'number' : 'numbers', query };
  const [before, after] = template.split('{context}') as [string, string];
  return {
    subtask,
    minN: needles.length,
    guess: (tokens) => Math.max(needles.length, Math.round(tokens / 22)),
    build(n) {
      const sentences = insertAtRandom(mulberry32(caseSeed(seed, 'positions', n)), Array(n).fill(NOISE) as string[], needles);
      const head = fill(before, vars);
      const context = sentences.join('\n');
      return {
        user: head + context + fill(after, vars),
        contextEnd: head.length + context.length,
        answerPrefix: fill(prefix, vars),
        outputs,
        maxNewTokens: t.tokensToGenerate,
      };
    },
  };
}

// ---- variable tracking --------------------------------------------------------------------------

const UPPER = 'ABCDEFGHIJKLMNOPQRSTUVWXYZ';

function varNames(rng: Rng, count: number, letters: number): string[] {
  const out: string[] = [];
  while (out.length < count) {
    let v = '';
    for (let i = 0; i < letters; i++) v += UPPER[Math.floor(rng() * 26)];
    if (!out.includes(v)) out.push(v);
  }
  return out;
}

/** One chain: "VAR X = 12345", then "VAR Y = VAR X " (trailing space, as RULER writes it). */
export function vtChain(vars: readonly string[], value: string): string[] {
  const chain = [`VAR ${vars[0]} = ${value}`];
  for (let j = 0; j + 1 < vars.length; j++) chain.push(`VAR ${vars[j + 1]} = VAR ${vars[j]} `);
  return chain;
}

/** The chain's lines inserted in order at random positions among n noise sentences. */
function vtContext(rng: Rng, n: number, chain: readonly string[]): string {
  const sentences: string[] = Array(n).fill(NOISE) as string[];
  const positions = sampleRange(rng, sentences.length, chain.length).sort((a, b) => a - b);
  positions.forEach((p, j) => sentences.splice(p + j, 0, chain[j]!));
  return sentences.join('\n').replaceAll('. \n', '.\n');
}

export const VT_HOPS = 4;

/**
 * The one-shot example RULER puts before a variable-tracking question: 3-letter variables, its own
 * value and `noise` noise sentences, followed by its answer.
 */
export function vtExample(seed: number, noise: number): string {
  const rng = caseRng(seed, 'example');
  const t = TEMPLATES.variable_tracking;
  const vars = varNames(rng, VT_HOPS + 1, 3);
  const value = String(randInt(rng, 10000, 99998));
  const context = vtContext(mulberry32(caseSeed(seed, 'example-positions', noise)), noise, vtChain(vars, value));
  const fields = { query: value, num_v: VT_HOPS + 1 };
  return fill(t.template, { ...fields, context }) + fill(t.answerPrefix, fields) + ' ' + vars.join(' ');
}

function vtCase(seed: number, exampleNoise: number): RulerCase {
  const rng = caseRng(seed, 'content');
  const t = TEMPLATES.variable_tracking;
  const example = vtExample(seed, exampleNoise);
  const vars = varNames(rng, VT_HOPS + 1, 5);
  const value = String(randInt(rng, 10000, 99998));
  const chain = vtChain(vars, value);
  const fields = { query: value, num_v: VT_HOPS + 1 };
  const [before, after] = t.template.split('{context}') as [string, string];
  return {
    subtask: 'vt',
    minN: chain.length,
    guess: (tokens) => Math.max(chain.length, Math.round(tokens / 22)),
    build(n) {
      const head = `${example}\n${fill(before, fields)}`;
      const context = vtContext(mulberry32(caseSeed(seed, 'positions', n)), n, chain);
      return {
        user: head + context + fill(after, fields),
        contextEnd: head.length + context.length,
        answerPrefix: fill(t.answerPrefix, fields),
        outputs: vars,
        maxNewTokens: t.tokensToGenerate,
      };
    },
  };
}

// ---- common words extraction --------------------------------------------------------------------

/** The vocabulary: nouns, adjectives and verbs, distinct, sorted (RULER then shuffles it). */
export const CWE_VOCABULARY: readonly string[] = [...new Set([...NOUNS, ...ADJECTIVES, ...VERBS])].sort();

/**
 * `count` distinct words from the vocabulary in random order; past its size, adjective-noun pairs
 * (RULER switches to a larger English word list there).
 */
function drawWords(rng: Rng, count: number): string[] {
  const words = shuffle(rng, CWE_VOCABULARY.slice());
  if (count <= words.length) return words.slice(0, count);
  const seen = new Set(words);
  while (words.length < count) {
    const w = randomWordKey(rng);
    if (!seen.has(w)) {
      seen.add(w);
      words.push(w);
    }
  }
  return words;
}

export interface CweShape {
  common: number;
  commonRepeats: number;
  uncommonRepeats: number;
}

/** RULER's shapes: below 4096 tokens 6x/1x (example 20 words 3x/1x), else 30x/3x (example 40 words 10x/3x). */
export function cweShapes(length: number): { main: CweShape; example: CweShape & { words: number } } {
  return length < 4096
    ? { main: { common: 10, commonRepeats: 6, uncommonRepeats: 1 }, example: { words: 20, common: 10, commonRepeats: 3, uncommonRepeats: 1 } }
    : { main: { common: 10, commonRepeats: 30, uncommonRepeats: 3 }, example: { words: 40, common: 10, commonRepeats: 10, uncommonRepeats: 3 } };
}

/** "1. w1 2. w2 ..." of the shuffled list of common (x commonRepeats) and other words. */
function cweList(rng: Rng, words: readonly string[], shape: CweShape): string {
  const common = words.slice(0, shape.common);
  const uncommon = words.slice(shape.common);
  const list: string[] = [];
  for (let r = 0; r < shape.commonRepeats; r++) list.push(...common);
  for (let r = 0; r < shape.uncommonRepeats; r++) list.push(...uncommon);
  shuffle(rng, list);
  return list.map((w, i) => `${i + 1}. ${w}`).join(' ');
}

function cweCase(seed: number, length: number): RulerCase {
  const rng = caseRng(seed, 'content');
  const t = TEMPLATES.common_words_extraction;
  const shapes = cweShapes(length);
  const exWords = drawWords(rng, shapes.example.words);
  const exAnswer = exWords.slice(0, shapes.example.common).map((w, i) => `${i + 1}. ${w}`).join(' ');
  const example = fill(t.template, { context: cweList(rng, exWords, shapes.example) }) + fill(t.answerPrefix, {}) + ' ' + exAnswer;
  const wordSeed = caseSeed(seed, 'words');
  const [before, after] = t.template.split('{context}') as [string, string];
  const perWord = shapes.main.uncommonRepeats * 4;
  return {
    subtask: 'cwe',
    minN: shapes.main.common + 1,
    guess: (tokens) => Math.max(shapes.main.common + 1, Math.round((tokens - shapes.main.common * shapes.main.commonRepeats * 4) / perWord)),
    build(n) {
      // the words are a prefix-stable draw (more words = the same words and some more)
      const words = drawWords(mulberry32(wordSeed), n);
      const head = `${example}\n${fill(before, {})}`;
      const context = cweList(mulberry32(caseSeed(seed, 'order', n)), words, shapes.main);
      return {
        user: head + context + fill(after, {}),
        contextEnd: head.length + context.length,
        answerPrefix: fill(t.answerPrefix, {}),
        outputs: words.slice(0, shapes.main.common),
        maxNewTokens: t.tokensToGenerate,
      };
    },
  };
}

export function rulerCaseSeed(seed: number, subtask: RulerSubtask, length: number, sampleIndex: number): number {
  return caseSeed(seed, 'ruler', subtask, length, sampleIndex);
}

/**
 * The case of (seed, subtask, length, sample). `vtExampleNoise` sizes the variable-tracking one-shot
 * example (noise sentences), fitted by the caller to its token budget.
 */
export function rulerCase(seed: number, subtask: RulerSubtask, length: number, sampleIndex: number, vtExampleNoise = 16): RulerCase {
  const s = rulerCaseSeed(seed, subtask, length, sampleIndex);
  switch (subtask) {
    case 'niah_single':
    case 'niah_multikey':
    case 'niah_multivalue':
    case 'niah_multiquery':
      return niahCase(subtask, s);
    case 'vt':
      return vtCase(s, vtExampleNoise);
    case 'cwe':
      return cweCase(s, length);
  }
}

/** Scoring function of every subtask here (RULER: string_match_all for niah, vt, cwe). */
export const RULER_METRIC = 'string_match_all' as const;
