// LongBench v1: every metric on hand-checked examples (values also checked against the Python
// originals: metrics.py with rouge 1.0.1, fuzzywuzzy 0.18 on difflib, jieba 0.42.1), the scorer's
// rules, the configuration, truncation in the middle, the chat-template rule, the seed's question
// split, and the data lookup.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { UsageError } from '../src/core/errors.js';
import { schemaProblems } from '../src/config/validate.js';
import { makeSpec } from '../src/methods/spec.js';
import { LONGBENCH_DATASETS, loadLongBenchConfig } from '../src/tasks/longbench/config.js';
import { chooseSamples, findDataFile, loadSample } from '../src/tasks/longbench/data.js';
import { fuzzRatio, roundHalfEven, SequenceMatcher } from '../src/tasks/longbench/difflib.js';
import { longBenchTask } from '../src/tasks/longbench/index.js';
import { fixAsciiRuns, jiebaCut } from '../src/tasks/longbench/jieba.js';
import {
  classificationScore, codeSimScore, countScore, firstLine, normalizeAnswer, normalizeZhAnswer, qaF1Score, qaF1ZhScore,
  retrievalScore, retrievalZhScore, rougeScore, rougeZhScore, sampleScore, taskScore, metrics,
} from '../src/tasks/longbench/metrics.js';
import { buildPrompt, formatPrompt, splitQuestion, truncateMiddle, usesChatTemplate } from '../src/tasks/longbench/prompt.js';
import { reconLcs, rougeSentences } from '../src/tasks/longbench/rouge.js';

const fixtures = fileURLToPath(new URL('./fixtures/tasks/', import.meta.url));
const cfg = loadLongBenchConfig();

/** One token per character (decode joins them back). */
const charTok = {
  encode: (text: string) => Array.from(text).map((c) => c.codePointAt(0)!),
  decode: (ids: readonly number[]) => String.fromCodePoint(...ids),
};

describe('qa_f1_score', () => {
  it('normalises like SQuAD: case, punctuation, articles, whitespace', () => {
    // "The Eiffel Tower!" -> "the eiffel tower" -> " eiffel tower" -> "eiffel tower"
    expect(normalizeAnswer('The Eiffel Tower!')).toBe('eiffel tower');
    // Python's \b is Unicode-aware: "aé" and "ñthe" are single words, so nothing is removed there
    expect(normalizeAnswer('aé an ñthe The')).toBe('aé ñthe');
    expect(normalizeAnswer('theory  of\tthe\u00a0cat')).toBe('theory of cat');
  });

  it('is token F1 with multiset overlap', () => {
    expect(qaF1Score('The Eiffel Tower!', 'eiffel tower')).toBe(1);
    // [in, paris, france] vs [paris]: 1 common, P = 1/3, R = 1, F1 = 2(1/3)(1)/(4/3) = 0.5
    expect(qaF1Score('in Paris, France', 'Paris')).toBeCloseTo(0.5, 12);
    // [cat, and, cat] vs [cat]: Counter & keeps one cat: P = 1/3, R = 1 -> 0.5
    expect(qaF1Score('a cat and a cat', 'the cat')).toBeCloseTo(0.5, 12);
    expect(qaF1Score('', 'paris')).toBe(0);
    expect(qaF1Score('the', 'a')).toBe(0); // both normalise to nothing
  });
});

describe('Chinese metrics (jieba)', () => {
  it('segments as Python jieba, including its letter/digit runs', () => {
    expect(jiebaCut('我来到北京清华大学')).toEqual(['我', '来到', '北京', '清华大学']);
    // jieba-rs alone gives "12%2019"; Python's finalseg pattern splits "12%" and "2019"
    expect(jiebaCut('增长12%2019年')).toEqual(['增长', '12%', '2019', '年']);
    expect(jiebaCut('C++11和3.5%')).toEqual(['C++', '11', '和', '3.5%']);
    expect(fixAsciiRuns(['12%3', '.', '5', '亿'])).toEqual(['12%', '3.5', '亿']);
  });

  it('qa_f1_zh_score: jieba words, normalised, then token F1', () => {
    expect(normalizeZhAnswer('北京，清华 大学！')).toBe('北京清华大学');
    // [我, 来到, 北京, 清华大学] vs [北京, 清华大学]: P = 2/4, R = 1, F1 = 2/3
    expect(qaF1ZhScore('我来到北京清华大学', '北京清华大学')).toBeCloseTo(2 / 3, 12);
  });

  it('rouge_zh_score: ROUGE-L over jieba words', () => {
    // m = 2, n = 4, LCS {北京, 清华大学} = 2: R = 1, P = 0.5, F = 2(0.5)/(1.5 + 1e-8)
    expect(rougeZhScore('我来到北京清华大学', '北京清华大学')).toBeCloseTo(1 / (1.5 + 1e-8), 12);
  });
});

describe('rouge_score (the rouge package, ROUGE-L F)', () => {
  it('splits sentences on "." and collapses whitespace', () => {
    expect(rougeSentences('a b. c  d\n.')).toEqual(['a b', 'c d']);
    expect(rougeSentences('...')).toEqual([]);
    expect(rougeSentences('x. . y')).toEqual(['x', '', 'y']);
  });

  it('reconstructs the LCS with the package traceback', () => {
    expect(reconLcs(['the', 'cat', 'is', 'on', 'the', 'mat'], ['the', 'cat', 'sat', 'on', 'the', 'mat'])).toEqual(['the', 'cat', 'on', 'the', 'mat']);
  });

  it('counts distinct words (summary-level, set-based)', () => {
    // m = |{the,cat,is,on,mat}| = 5, n = 5, LCS words {the,cat,on,mat} = 4: R = P = 0.8,
    // F = 2(0.64)/(1.6 + 1e-8)
    expect(rougeScore('the cat sat on the mat', 'the cat is on the mat')).toBeCloseTo(1.28 / (1.6 + 1e-8), 12);
    // two hypothesis sentences: LCS(a c, a b) = {a}, LCS(a c, c d) = {c}: union 2; m = 2, n = 4
    expect(rougeScore('a b. c d', 'a c')).toBeCloseTo((2 * 0.5) / (1.5 + 1e-8), 12);
    // repeated words count once: m = n = 1, LCS = 1 -> F = 2/(2 + 1e-8), not plain LCS's 0.5
    expect(rougeScore('the the the', 'the')).toBeCloseTo(2 / (2 + 1e-8), 12);
  });

  it('scores 0 where the package raises (no sentence)', () => {
    expect(rougeScore('', 'the cat')).toBe(0);
    expect(rougeScore('...', 'the cat')).toBe(0);
  });
});

describe('classification, retrieval, count scores', () => {
  const trecClasses = ['City', 'Number of something', 'Individual', 'Description of something'];

  it('classification_score: 1 / (classes found) when the gold is among them', () => {
    expect(classificationScore('Individual', 'Individual', trecClasses)).toBe(1);
    expect(classificationScore('City or Individual', 'Individual', trecClasses)).toBe(0.5);
    expect(classificationScore('Number of something', 'Individual', trecClasses)).toBe(0);
    expect(classificationScore('nothing', 'Individual', trecClasses)).toBe(0); // the fallback never runs
  });

  it('classification_score keeps the original quirk: removing while iterating skips the next class', () => {
    // found [De, Desc, Description]; "De" is removed, which skips "Desc" -> [Desc, Description] -> 1/2
    expect(classificationScore('Description', 'Description', ['De', 'Desc', 'Description'])).toBe(0.5);
  });

  it('retrieval and count scores: fraction of the numbers that are right', () => {
    expect(retrievalScore('Paragraph 12', 'Paragraph 12')).toBe(1);
    expect(retrievalScore('Paragraph 1 or Paragraph 12', 'Paragraph 12')).toBe(0.5);
    expect(retrievalScore('no idea', 'Paragraph 12')).toBe(0);
    expect(retrievalZhScore('答案是段落5', '段落5')).toBe(1);
    // [3, 4, 3]: two of three are 3
    expect(countScore('There are 3 unique paragraphs, not 4 or 3', '3')).toBeCloseTo(2 / 3, 12);
    expect(countScore('one', '3')).toBe(0);
  });
});

describe('code_sim_score (fuzzywuzzy ratio on difflib)', () => {
  it('compares the first line without ` # //', () => {
    expect(codeSimScore('\n// comment\nreturn a + b;\nfoo()', 'return a + b;')).toBe(1);
    expect(codeSimScore('# only comments', 'x')).toBe(0); // no such line: "" vs "x"
  });

  it('rounds 100 x the SequenceMatcher ratio half to even', () => {
    // "abc" matches: 2*3 / 8 = 0.75
    expect(fuzzRatio('abcd', 'abce')).toBe(75);
    // only "a" matches: 2/16 = 12.5 -> 12; "abc": 6/16 = 37.5 -> 38
    expect(fuzzRatio('abcdefgh', 'aijklmno')).toBe(12);
    expect(fuzzRatio('abcdefgh', 'abcijklm')).toBe(38);
    expect(roundHalfEven(2.5)).toBe(2);
    expect(roundHalfEven(3.5)).toBe(4);
    expect(fuzzRatio('', '')).toBe(100);
    expect(fuzzRatio('x', '')).toBe(0);
  });

  it('applies difflib autojunk to references of 200+ characters', () => {
    // b = 199 'a' + 'b': 'a' occurs more than 200 // 100 + 1 = 3 times, so it is left out of the
    // index; the only match is "b" -> 2 / 204 = 0.98% -> 1 (without autojunk "aaa" would match: 3)
    const b = `${'a'.repeat(199)}b`;
    expect(fuzzRatio('baaa', b)).toBe(1);
    expect(new SequenceMatcher('baaa', b, false).ratio() * 100).toBeCloseTo(600 / 204, 10);
  });
});

describe('scorer rules', () => {
  it('cuts trec/triviaqa/samsum/lsht predictions to their first line and takes the best answer', () => {
    expect(firstLine('\n\nParis\nLondon')).toBe('Paris');
    expect(cfg.firstLineOnly.sort()).toEqual(['lsht', 'samsum', 'trec', 'triviaqa']);
    expect(sampleScore(metrics.qa_f1_score, '\nParis\nLondon', ['Paris'], [], true)).toBe(1);
    // without the rule: [paris, london] vs [paris] -> 2/3
    expect(sampleScore(metrics.qa_f1_score, '\nParis\nLondon', ['Paris'], [], false)).toBeCloseTo(2 / 3, 12);
    expect(sampleScore(metrics.qa_f1_score, 'in 1872', ['1900', '1872'], [], false)).toBeCloseTo(2 / 3, 12);
    expect(taskScore([1, 0.5, 0])).toBe(50);
    expect(taskScore([1 / 3])).toBe(33.33);
  });
});

describe('configs/longbench.json', () => {
  it('covers the 21 tasks with the published maximum of new tokens and metrics', () => {
    expect(Object.keys(cfg.dataset2prompt).sort()).toEqual([...LONGBENCH_DATASETS].sort());
    expect(cfg.dataset2maxlen).toMatchObject({
      narrativeqa: 128, qasper: 128, multifieldqa_en: 64, multifieldqa_zh: 64, hotpotqa: 32, '2wikimqa': 32, musique: 32,
      dureader: 128, gov_report: 512, qmsum: 512, multi_news: 512, vcsum: 512, trec: 64, triviaqa: 32, samsum: 128,
      lsht: 64, passage_count: 32, passage_retrieval_en: 32, passage_retrieval_zh: 32, lcc: 64, 'repobench-p': 64,
    });
    expect(cfg.dataset2metric.gov_report).toBe('rouge_score');
    expect(cfg.dataset2metric.multifieldqa_zh).toBe('qa_f1_zh_score');
    expect(cfg.dataset2metric['repobench-p']).toBe('code_sim_score');
    for (const d of LONGBENCH_DATASETS) expect(cfg.dataset2prompt[d]).toContain('{context}');
    expect(cfg.dataset2prompt.qasper.endsWith('Question: {input}\n\nAnswer:')).toBe(true);
    expect(cfg.paperDatasets).toEqual(['qasper', 'narrativeqa', 'hotpotqa', 'multifieldqa_en', 'gov_report', 'triviaqa']);
  });

  it('applies the chat template to all but trec, triviaqa, samsum, lsht, lcc, repobench-p', () => {
    const plain = LONGBENCH_DATASETS.filter((d) => !usesChatTemplate(cfg, d));
    expect(plain.sort()).toEqual(['lcc', 'lsht', 'repobench-p', 'samsum', 'trec', 'triviaqa']);
  });
});

describe('prompts', () => {
  it('fills {context} and {input} once, literally', () => {
    expect(formatPrompt('A {context} B {input} C', { context: '$& {input}', input: 'q' })).toBe('A $& {input} B q C');
  });

  it('truncates in the middle to the first and last half of the tokens', () => {
    expect(truncateMiddle(charTok, 'abcdefghij', 4)).toEqual({ text: 'abij', truncated: true, tokens: 10 });
    expect(truncateMiddle(charTok, 'abcdefghij', 5)).toEqual({ text: 'abij', truncated: true, tokens: 10 }); // int(5/2) = 2
    expect(truncateMiddle(charTok, 'abc', 4)).toEqual({ text: 'abc', truncated: false, tokens: 3 });
  });

  it('builds the prompt: truncate first, then the chat template where it applies', () => {
    const sample = loadSample(join(fixtures, 'longbench/data/qasper.jsonl'), 0);
    const chat = (u: string) => `<user>${u}</user><assistant>`;
    const p = buildPrompt(cfg, 'qasper', sample, charTok, 100_000, chat);
    expect(p.chat).toBe(true);
    expect(p.text.startsWith('<user>You are given a scientific article')).toBe(true);
    expect(p.text).toContain('Question: What colour is the lighthouse?\n\nAnswer:</user><assistant>');
    const short = buildPrompt(cfg, 'qasper', sample, charTok, 200, undefined);
    expect(short.truncated).toBe(true);
    expect(Array.from(short.text)).toHaveLength(200);
    const trec = buildPrompt(cfg, 'trec', loadSample(join(fixtures, 'longbench/data/trec.jsonl'), 0), charTok, 100_000, chat);
    expect(trec.chat).toBe(false);
  });

  it('splits the question part as the seed: from the marker, at most the last 100 characters', () => {
    const prompt = `${'x'.repeat(500)}\n\nQuestion: Who?\n\nAnswer:`;
    const q = splitQuestion(cfg, 'qasper', prompt);
    expect(q.question).toBe('Question: Who?\n\nAnswer:');
    expect(q.head + q.question).toBe(prompt);
    const long = `${'x'.repeat(500)}Now, ${'y'.repeat(300)}`;
    expect(splitQuestion(cfg, 'gov_report', long).question).toBe('y'.repeat(100));
    // no marker for this task: the last 100 characters
    expect(splitQuestion(cfg, 'lcc', 'z'.repeat(300)).question).toHaveLength(100);
    // counted in code points, as Python slices str
    const zh = `${'字'.repeat(300)}\n问题：谁？`;
    expect(Array.from(splitQuestion(cfg, 'multifieldqa_zh', zh).question)).toHaveLength(100);
  });
});

describe('data', () => {
  it('finds <dir>/longbench/data/<task>.jsonl and says where to get the data when it is missing', () => {
    expect(findDataFile(fixtures, 'qasper')).toBe(join(fixtures, 'longbench/data/qasper.jsonl'));
    const empty = mkdtempSync(join(tmpdir(), 'lb-'));
    let err: unknown;
    try {
      findDataFile(empty, 'hotpotqa');
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(UsageError);
    expect((err as UsageError).message).toMatch(/hotpotqa.jsonl not found/);
    expect((err as UsageError).hint).toMatch(/THUDM\/LongBench.*data\.zip.*--data-dir.*ADAMAS_BENCH_DATA/);
    expect(() => findDataFile(undefined, 'qasper')).toThrow(/no data directory given/);
  });

  it('reads samples and chooses them by the seed', () => {
    const s = loadSample(join(fixtures, 'longbench/data/qasper.jsonl'), 1);
    expect(s).toMatchObject({ _id: 'fixture-qasper-1', answers: ['1872', 'in 1872'], all_classes: null });
    expect(chooseSamples(3, 5, 42, 'qasper')).toEqual([0, 1, 2]);
    const pick = chooseSamples(100, 5, 42, 'qasper');
    expect(pick).toHaveLength(5);
    expect(pick).toEqual(chooseSamples(100, 5, 42, 'qasper'));
    expect(pick).not.toEqual(chooseSamples(100, 5, 43, 'qasper'));
  });
});

describe('longbench plan', () => {
  const ctx = { device: 'cpu' as const, seed: 42, dataDir: fixtures, modelContextLength: 8192 };

  it('has valid defaults; unknown datasets are schema errors', () => {
    for (const device of ['cpu', 'cuda'] as const) expect(schemaProblems(longBenchTask.optionsSchema, longBenchTask.defaults(device))).toEqual([]);
    expect(schemaProblems(longBenchTask.optionsSchema, { datasets: ['nope'], lengths: [1024], samples: 1 })[0]).toMatch(/datasets\/0: must be equal to one of the allowed values/);
  });

  it('plans one job per sample and length with a method-independent prefix key', () => {
    const opts = { datasets: ['qasper', 'trec'] as const, lengths: [512, 1024], samples: 2, chatTemplate: true };
    const full = longBenchTask.plan({ ...opts, datasets: [...opts.datasets] }, makeSpec('full', undefined), ctx);
    const sparse = longBenchTask.plan({ ...opts, datasets: [...opts.datasets] }, makeSpec('quest', 256), ctx);
    expect(full).toHaveLength(2 * 2 + 2 * 1); // qasper: 2 of 3 samples, trec: its only sample
    expect(sparse.map((j) => j.prefixKey)).toEqual(full.map((j) => j.prefixKey));
    expect(new Set(full.map((j) => j.prefixKey)).size).toBe(full.length);
    expect(full[0]).toMatchObject({ task: 'longbench', dataset: 'qasper', contextLen: 512 });
    expect(String(full[0]!.params.id)).toMatch(/^fixture-qasper-/);
  });

  it('without data: a usage error naming the download', () => {
    expect(() => longBenchTask.plan(longBenchTask.defaults('cpu'), makeSpec('full', undefined), { device: 'cpu', seed: 1 })).toThrow(UsageError);
  });

  it('refuses a length that leaves no room for the answer', () => {
    expect(() => longBenchTask.plan({ datasets: ['gov_report'], lengths: [8000], samples: 1, chatTemplate: true }, makeSpec('full', undefined), { ...ctx, dataDir: fixtures }))
      .toThrow(/length 8000 tokens plus the 512 generated tokens exceeds the model's context length of 8192/);
  });
});
