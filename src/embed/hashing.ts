// The offline default embedder: deterministic feature hashing of words and character n-grams into a
// fixed number of dimensions, signed, sublinear, L2-normalised. No model files, no network; the same text
// gives the same vector on every machine. Four models:
//   hashing-zh-v1  jieba words, CJK characters, character 2-/3-grams of everything (the first release);
//   hashing-zh-v2  also splits identifiers into words (snake_case, camelCase, flat compounds),
//                  stems English words, and expands Chinese words to English and English words to Chinese
//                  with the bilingual lexicon (CC-CEDICT + the project glossary), on documents and queries
//                  alike: a Chinese question finds a table named in English. SQL syntax words weigh little.
//   hashing-zh-v3  v2's features, but a document's first line (its title: the table, its entity, what it
//                  joins) gets half the vector however long the column list is, and the documents' own
//                  scaffolding (provenance notes, header labels, 表) is not read.
//   hashing-zh-v4  (default) v3, plus English morphology (irregular forms: paid → pay; roots: citation
//                  and cite, payment and pay meet), English synonyms CC-CEDICT glosses one word with
//                  (buy / purchase), pairs of adjacent English words (tracking number), a word's
//                  translations sharing its weight, and three fields: title 0.4, columns 0.2 and the
//                  relationships 0.4 (what a table joins is what a question passing through it names).
// Good for the demo and for checking retrieval offline; an app that reads the store must embed its
// questions with the same model, so for a shared store use a real multilingual embedding model.
import { CHINESE_STOPWORDS, englishRoot, englishStem, IRREGULAR_FORMS, loadLexicon, type Lexicon } from './lexicon.ts';
import type { Embedder } from './types.ts';
import { identifierWords } from './words.ts';

export const HASHING_MODEL_V1 = 'hashing-zh-v1';
export const HASHING_MODEL_V2 = 'hashing-zh-v2';
export const HASHING_MODEL_V3 = 'hashing-zh-v3';
export const HASHING_MODEL_V4 = 'hashing-zh-v4';
/** The default hashing model. */
export const HASHING_MODEL = HASHING_MODEL_V4;
export const HASHING_MODELS = [HASHING_MODEL_V1, HASHING_MODEL_V2, HASHING_MODEL_V3, HASHING_MODEL_V4] as const;

type Cutter = (text: string) => string[];
let cutter: Cutter | undefined;

/** jieba with its bundled dictionary, loaded once per process (~0.4 s). */
async function loadCutter(): Promise<Cutter> {
  if (!cutter) {
    const [{ Jieba }, { dict }] = await Promise.all([import('@node-rs/jieba'), import('@node-rs/jieba/dict.js')]);
    const jieba = Jieba.withDict(dict);
    cutter = (text) => jieba.cut(text, false);
  }
  return cutter;
}

const CJK = /[\u3400-\u9fff\uf900-\ufaff]/;
const WORDISH = /[\p{L}\p{N}]/u;

/** Weighted features of a text: words (jieba, lower-cased), CJK characters, character 2- and 3-grams. */
export function features(text: string, cut: Cutter): Map<string, number> {
  const normalised = text.normalize('NFKC').toLowerCase().replace(/\s+/g, ' ').trim();
  const out = new Map<string, number>();
  const add = (key: string, weight: number) => out.set(key, (out.get(key) ?? 0) + weight);
  for (const word of cut(normalised)) {
    if (!WORDISH.test(word)) continue;
    add(`w:${word}`, 1);
    // Identifiers like bss_business_day_data: their parts count as words too.
    if (word.includes('_')) for (const part of word.split('_')) if (part) add(`w:${part}`, 0.5);
  }
  const chars = Array.from(normalised);
  for (let i = 0; i < chars.length; i += 1) {
    const c = chars[i]!;
    if (CJK.test(c)) add(`c1:${c}`, 0.25);
    if (i + 1 < chars.length) add(`c2:${c}${chars[i + 1]}`, 0.5);
    if (i + 2 < chars.length) add(`c3:${c}${chars[i + 1]}${chars[i + 2]}`, 0.5);
  }
  return out;
}

/** 32-bit FNV-1a over UTF-16 code units, finished with murmur3's fmix32 for well-spread low bits. */
export function hash32(key: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < key.length; i += 1) {
    h ^= key.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  h ^= h >>> 16;
  h = Math.imul(h, 0x85ebca6b);
  h ^= h >>> 13;
  h = Math.imul(h, 0xc2b2ae35);
  h ^= h >>> 16;
  return h >>> 0;
}

/** SQL syntax that every DDL document repeats: it says nothing about which table a question needs. */
const SQL_SYNTAX = new Set(
  `create table not null references comment on is varchar integer int int2 int4 int8 bigint smallint numeric decimal
  boolean bool timestamptz timestamp serial bigserial char character varying constraint foreign using btree alter add
  now true false schema if exists public real double precision varchar2 jsonb cascade restrict nextval regclass
  sequence owned increment minvalue maxvalue cache cycle`.split(/\s+/).filter(Boolean),
);

const TOKEN = /[A-Za-z0-9_]+|[\u3400-\u9fff\uf900-\ufaff]+/g;
const CJK_RUN = /^[\u3400-\u9fff\uf900-\ufaff]+$/;

const NO_WORDS: ReadonlySet<string> = new Set();

/** Weight of an English word's root beside its stem (hashing-zh-v4): citation meets cite, payment pay. */
const ROOT_WEIGHT = 0.5;

/** Weight of an English word's CEDICT synonyms (hashing-zh-v4): bought/buy meets purchase. */
const SYNONYM_WEIGHT = 0.3;

/**
 * hashing-zh-v4: a word's n translations share its weight (each 1/√n), so a word the dictionary knows
 * many ways (count → 数量, 尽数, 数出 …) no longer outweighs the rarer word beside it in a question.
 */
function translationShare(n: number): number {
  return n > 1 ? 1 / Math.sqrt(n) : 1;
}

/** What may stand between two words of a pair: spaces, an apostrophe, a hyphen — not a comma or a line end. */
const PAIR_GAP = /^[ \t'’-]*$/;
/** Weight of a pair of English words (hashing-zh-v4). */
const PAIR_WEIGHT = 0.3;

/** Weight of a translation (a word's own features weigh 1). */
const TRANSLATION_WEIGHT = 0.6;
/** CJK characters and character pairs: a fallback for words the dictionary and jieba disagree on. */
const C1_WEIGHT = 0.25;
const C2_WEIGHT = 0.5;

/**
 * hashing-zh-v2 features: Chinese words (jieba) and CJK character 1-/2-grams; identifiers as words
 * (English stems `e:`); every Chinese word's English stems and every English stem's Chinese words, so
 * both languages meet in both spaces. With `v4`, also hashing-zh-v4's English morphology, synonyms, word
 * pairs and shared translation weight.
 */
export function featuresV2(text: string, cut: Cutter, lexicon: Lexicon, extraStopwords: ReadonlySet<string> = NO_WORDS, v4 = false): Map<string, number> {
  const out = new Map<string, number>();
  const add = (key: string, weight: number) => out.set(key, (out.get(key) ?? 0) + weight);
  const addEnglish = (stem: string, weight: number) => {
    const root = v4 ? englishRoot(stem) : stem;
    const prefixed = stem.length >= 6;
    add(`e:${stem}`, weight);
    // Porter leaves diagnosis/diagnosed, prescription/prescribed apart: their first letters meet.
    if (prefixed) add(`p:${stem.slice(0, 5)}`, weight * 0.5);
    // v4: and citation (citat) / cite, payment / pay meet at their root.
    if (root !== stem) add(`e:${root}`, weight * ROOT_WEIGHT);
  };
  const addChinese = (word: string, weight: number) => add(`w:${word}`, weight);
  const translateChinese = (word: string, weight: number) => {
    const stems = lexicon.chineseToEnglish(word);
    const share = v4 ? translationShare(stems.length) : 1;
    for (const stem of stems) addEnglish(stem, weight * TRANSLATION_WEIGHT * share);
    return stems.length > 0;
  };
  const normalised = text.normalize('NFKC');
  // v4: the English word before, for word pairs (tracking number, unit cost) — a pair is far rarer than
  // either word, so a question naming a column's two words finds that column's table.
  let previous: string | undefined;
  let previousEnd = 0;
  for (const match of normalised.matchAll(TOKEN)) {
    const token = match[0];
    if (!PAIR_GAP.test(normalised.slice(previousEnd, match.index))) previous = undefined;
    previousEnd = match.index + token.length;
    if (CJK_RUN.test(token)) {
      previous = undefined;
      const words = cut(token);
      // Words v3 does not read split the run: neither they nor the character pairs across them count.
      for (const [run, runWords] of extraStopwords.size ? runsWithout(words, extraStopwords) : [[token, words] as const]) {
        const chars = Array.from(run);
        for (let i = 0; i < chars.length; i += 1) {
          add(`c1:${chars[i]}`, C1_WEIGHT);
          if (i + 1 < chars.length) add(`c2:${chars[i]}${chars[i + 1]}`, C2_WEIGHT);
        }
        for (const word of runWords) {
          if (CHINESE_STOPWORDS.has(word)) continue;
          addChinese(word, 1);
          if (!translateChinese(word, 1) && word.length > 1) {
            // Unknown to the dictionary (一级商品分类, 补货点): its longest known pieces instead.
            for (const piece of dictionaryPieces(word, lexicon)) if (!CHINESE_STOPWORDS.has(piece)) translateChinese(piece, 0.7);
          }
        }
      }
      continue;
    }
    const lower = token.toLowerCase();
    if (/^[0-9_]+$/.test(lower) || SQL_SYNTAX.has(lower)) previous = undefined;
    if (/^[0-9_]+$/.test(lower)) continue;
    // v4: a lone letter (the s of customer's) says nothing.
    if (v4 && lower.length === 1) continue;
    if (SQL_SYNTAX.has(lower)) {
      addEnglish(lower, 0.05);
      continue;
    }
    const words = identifierWords(token, lexicon);
    if (words.length > 1) add(`i:${lower}`, 0.5);
    for (const word of words) {
      if (/^[0-9]+$/.test(word)) continue;
      const expanded = lexicon.abbreviation(word);
      for (const w of expanded ? expanded.split(/\s+/) : [word]) {
        const stem = englishStem(v4 ? (IRREGULAR_FORMS[w] ?? w) : w);
        if (!stem) continue;
        addEnglish(stem, words.length > 1 ? 0.8 : 1);
        if (v4 && stem.length > 1) {
          if (previous) add(`b:${previous} ${stem}`, PAIR_WEIGHT);
          previous = stem;
        }
        if (v4) for (const synonym of lexicon.synonyms(stem)) add(`e:${synonym}`, (words.length > 1 ? 0.8 : 1) * SYNONYM_WEIGHT);
        const chinese = lexicon.englishToChinese(stem);
        const translations = v4 && !chinese.length ? lexicon.englishToChinese(englishRoot(stem)) : chinese;
        const share = v4 ? translationShare(translations.length) : 1;
        for (const zh of translations) {
          addChinese(zh, TRANSLATION_WEIGHT * share);
          // Its characters too: a Chinese synonym often shares one (级别 / 等级, 供应商 / 供货商).
          for (const c of zh) add(`c1:${c}`, C1_WEIGHT * TRANSLATION_WEIGHT * share);
        }
      }
    }
  }
  return out;
}

/** The runs of consecutive words that are not stopwords, each with its words. */
function runsWithout(words: string[], stopwords: ReadonlySet<string>): Array<readonly [string, string[]]> {
  const runs: Array<readonly [string, string[]]> = [];
  let current: string[] = [];
  for (const word of [...words, '']) {
    if (word && !stopwords.has(word)) {
      current.push(word);
      continue;
    }
    if (current.length) runs.push([current.join(''), current]);
    current = [];
  }
  return runs;
}

/** Greedy longest-match pieces of a Chinese run that the lexicon knows. */
function dictionaryPieces(run: string, lexicon: Lexicon): string[] {
  const chars = Array.from(run);
  const pieces: string[] = [];
  for (let i = 0; i < chars.length; ) {
    let taken = 1;
    for (let n = Math.min(lexicon.maxChineseLength, chars.length - i); n > 1; n -= 1) {
      if (lexicon.chineseToEnglish(chars.slice(i, i + n).join('')).length) {
        taken = n;
        break;
      }
    }
    pieces.push(chars.slice(i, i + taken).join(''));
    i += taken;
  }
  return pieces;
}

/** The signed hashed vector of features, not normalised; sublinear term frequency. */
function rawVector(feats: Map<string, number>, dim: number): Float64Array {
  const v = new Float64Array(dim);
  for (const [key, weight] of feats) {
    const h = hash32(key);
    const sign = h & 0x80000000 ? -1 : 1;
    // sublinear term frequency: repeated words do not drown the rest
    v[h % dim]! += sign * (weight <= 1 ? weight : 1 + Math.log(weight));
  }
  return v;
}

function norm2(v: Float64Array): number {
  let sum = 0;
  for (let i = 0; i < v.length; i += 1) sum += v[i]! * v[i]!;
  return Math.sqrt(sum);
}

function hashFeatures(feats: Map<string, number>, dim: number): number[] {
  if (feats.size === 0) feats.set('empty:', 1); // a fixed unit vector, never the zero vector (cosine of 0 is NaN)
  return unitVector(rawVector(feats, dim));
}

/** L2-normalised, rounded to float4. */
function unitVector(v: Float64Array): number[] {
  const dim = v.length;
  const norm = norm2(v);
  const out = new Array<number>(dim);
  // Rounded to float4 precision: what pgvector stores, so a vector read back equals the one written.
  for (let i = 0; i < dim; i += 1) out[i] = norm > 0 ? Math.fround(v[i]! / norm) : i === 0 ? 1 : 0;
  return out;
}

/**
 * What the documents this service loads say about themselves rather than about the data: the ddl step's
 * provenance notes (`-- 注释来源: 离线规则` on every comment line, the description line's counts), the
 * prelude's title, and the labels of the load step's header lines (表 / 实体 / 字段词 …; 字段 would
 * otherwise read as "field" in every document). hashing-zh-v3 reads a text without them.
 */
const SCAFFOLDING: readonly RegExp[] = [
  /--\s*注释来源:\s*(?:LLM|离线规则)/g,
  /--\s*comment source:\s*(?:llm|offline)/gi,
  /^--\s*(?:描述|Description):.*$/gm,
  /^--\s*(?:依赖的类型、函数与序列[（(]可重复执行[）)]|Types, functions and sequences it needs \(safe to repeat\))\s*$/gm,
  /[（(]filename_mapping\.txt 中排在本文件之前[）)]|\(listed before this file in filename_mapping\.txt\)/g,
  /^(--\s*)?(?:表|实体|名称词|字段词|关联|中文名|依赖|table|entity|name words|column words|relationships|name|depends on)(?=[:\s])/gim,
  /\[(?:角色|role|示例|e\.g\.|范围|range|枚举|values|关联|references)(?=:)/g,
  /^(?:字段列表：|Columns:|字段补充说明：|Notes:)$/gm,
  /; (?:连接|joins|按名称推测|by name)(?=[ )])/g,
];

export function stripScaffolding(text: string): string {
  let out = text;
  for (const pattern of SCAFFOLDING) out = out.replace(pattern, (_match, prefix?: string) => (typeof prefix === 'string' ? prefix : ' '));
  return out;
}

/**
 * Words every document of a table says (作者表, 字段): in hashing-zh-v2 they brought CEDICT's glosses
 * (表 → surface, family, relationship, watch) into every vector.
 */
const DOCUMENT_STOPWORDS: ReadonlySet<string> = new Set(['表', '字段', '该表', '数据表']);

/** Share of a document's vector that its first line (the title: table name, entity, comment) gets. */
export const TITLE_SHARE = 0.5;

/**
 * hashing-zh-v3's vector: v2's features of the title (the first line with words) and of the rest, each
 * normalised, then mixed TITLE_SHARE : 1 − TITLE_SHARE — a long table is still about its name, and a
 * junction table's column list does not outweigh what the table is (BM25F-style field weighting). A
 * question is one line: all title.
 */
export function vectorV3(text: string, dim: number, cut: Cutter, lexicon: Lexicon): number[] {
  const cleaned = stripScaffolding(text.normalize('NFC')).normalize('NFKC');
  const lines = cleaned.split('\n');
  const first = lines.findIndex((l) => WORDISH.test(l));
  if (first < 0) return hashFeatures(new Map(), dim);
  const titleFeatures = featuresV2(lines[first]!, cut, lexicon, DOCUMENT_STOPWORDS);
  const bodyFeatures = featuresV2(lines.slice(first + 1).join('\n'), cut, lexicon, DOCUMENT_STOPWORDS);
  if (bodyFeatures.size === 0 || titleFeatures.size === 0) return hashFeatures(titleFeatures.size ? titleFeatures : bodyFeatures, dim);
  const title = rawVector(titleFeatures, dim);
  const body = rawVector(bodyFeatures, dim);
  const titleNorm = norm2(title) || 1;
  const bodyNorm = norm2(body) || 1;
  const mixed = new Float64Array(dim);
  for (let i = 0; i < dim; i += 1) mixed[i] = (TITLE_SHARE * title[i]!) / titleNorm + ((1 - TITLE_SHARE) * body[i]!) / bodyNorm;
  return unitVector(mixed);
}

/** A document line that says what the table joins: the load step's relationships line, a foreign key. */
const RELATION_LINE = /^(?:--\s*)?(?:关联|relationships)[:：]|\bFOREIGN KEY\b/i;

/** hashing-zh-v4's shares of a document's vector: its title, its columns and comments, its relationships. */
export const V4_FIELD_SHARES = { title: 0.4, body: 0.2, relations: 0.4 } as const;

/**
 * hashing-zh-v4's vector: v4 features (v2's, plus English roots, irregular forms, CEDICT synonyms and
 * shared translation weight) of three fields, each normalised and mixed by V4_FIELD_SHARES. The
 * relationships get a field of their own: what a table joins (customers: membership levels, sales
 * orders) is what a question that passes through it names, and in v3 it drowned in the column list.
 * A question is one line: all title.
 */
export function vectorV4(text: string, dim: number, cut: Cutter, lexicon: Lexicon): number[] {
  const lines = text.normalize('NFC').split('\n');
  const first = lines.findIndex((l) => WORDISH.test(l));
  if (first < 0) return hashFeatures(new Map(), dim);
  const rest = lines.slice(first + 1);
  const featuresOf = (part: string[]) => featuresV2(stripScaffolding(part.join('\n')).normalize('NFKC'), cut, lexicon, DOCUMENT_STOPWORDS, true);
  const fields = [
    { share: V4_FIELD_SHARES.title, features: featuresOf([lines[first]!]) },
    { share: V4_FIELD_SHARES.body, features: featuresOf(rest.filter((l) => !RELATION_LINE.test(l))) },
    { share: V4_FIELD_SHARES.relations, features: featuresOf(rest.filter((l) => RELATION_LINE.test(l))) },
  ].filter((f) => f.features.size > 0);
  if (fields.length === 0) return hashFeatures(new Map(), dim);
  // A missing field's share goes to the others: a one-line question is all title.
  const total = fields.reduce((sum, f) => sum + f.share, 0);
  const mixed = new Float64Array(dim);
  for (const { share, features } of fields) {
    const v = rawVector(features, dim);
    const norm = norm2(v) || 1;
    for (let i = 0; i < dim; i += 1) mixed[i]! += ((share / total) * v[i]!) / norm;
  }
  return unitVector(mixed);
}

/** hashing-zh-v1's vector of a text. */
export function hashVector(text: string, dim: number, cut: Cutter): number[] {
  return hashFeatures(features(text, cut), dim);
}

export class HashingEmbedder implements Embedder {
  private constructor(
    readonly dim: number,
    readonly model: string,
    private readonly vectorOf: (text: string) => number[],
  ) {}

  /** `model`: hashing-zh-v1, -v2, -v3 or -v4 (default); any other name is refused. */
  static async create(dim: number, model: string = HASHING_MODEL): Promise<HashingEmbedder> {
    if (!Number.isInteger(dim) || dim < 1) throw new Error(`hashing embedder: dimension must be a positive integer, got ${dim}`);
    const cut = await loadCutter();
    if (model === HASHING_MODEL_V1) return new HashingEmbedder(dim, model, (text) => hashVector(text, dim, cut));
    if (model === HASHING_MODEL_V2) {
      const lexicon = await loadLexicon();
      return new HashingEmbedder(dim, model, (text) => hashFeatures(featuresV2(text, cut, lexicon), dim));
    }
    if (model === HASHING_MODEL_V3) {
      const lexicon = await loadLexicon();
      return new HashingEmbedder(dim, model, (text) => vectorV3(text, dim, cut, lexicon));
    }
    if (model === HASHING_MODEL_V4) {
      const lexicon = await loadLexicon();
      return new HashingEmbedder(dim, model, (text) => vectorV4(text, dim, cut, lexicon));
    }
    throw new Error(`hashing embedder: unknown model ${JSON.stringify(model)}; DATA_PIPELINE_EMBEDDING_MODEL must be one of ${HASHING_MODELS.join(', ')} for the hashing embedder`);
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const out: number[][] = [];
    for (const text of texts) {
      if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : new Error('aborted');
      out.push(this.vectorOf(text));
    }
    return out;
  }
}
