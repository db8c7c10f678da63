// The offline annotator: comments from names (the task's business glossary first, then built-in
// phrases such as first_name → 名, unit_price → 单价, then built-in words) and, for names it cannot read,
// from what the sample values look like. A name that cannot be fully translated keeps its English
// phrase whole ("rental rate"), never half-translated ("rental费率"); its unknown words are collected
// for glossary_todo.json. Deterministic, no network. Used when no LLM is configured, when a table's LLM
// call failed, and for whatever the LLM left out.
import type { ColumnInfo, TableInfo } from '../../artifacts.ts';
import { ABBREVIATIONS, BUILTIN_GLOSSARY, BUILTIN_PHRASES, type Glossary } from '../../../text/glossary.ts';
import { t, type Lang } from '../../../messages.ts';
import { hasNonAscii, nameContext, nameWords, NO_CONTEXT, splitWords, translateWords, type NameContext, type Translation } from '../../../text/translate.ts';
import { singularNoun } from '../../../text/singular.ts';

export { nameContext, splitCompound, translateWords, type NameContext } from '../../../text/translate.ts';
export type { Lang };


/** Short prefixes of table names that carry no meaning (`bss_`, `t_`, `tb_`, `ods_` ...). */
const TABLE_PREFIX = /^(t|tb|tbl|bss|sys|ods|dwd|dws|dim|ads|fact|app|biz|base|md|dm)$/;
const TIME_WORDS = new Set(['ts', 'at', 'time', 'timestamp', 'on']);

/** Unknown name words met while annotating: word → the columns (`table.column`) that use it. */
export class GlossaryTodo {
  readonly words = new Map<string, Set<string>>();

  add(word: string, where: string): void {
    const set = this.words.get(word) ?? new Set<string>();
    set.add(where);
    this.words.set(word, set);
  }

  toJSON(): Array<{ word: string; used_by: string[] }> {
    return [...this.words.entries()]
      .sort((a, b) => b[1].size - a[1].size || a[0].localeCompare(b[0]))
      .map(([word, used]) => ({ word, used_by: [...used].sort() }));
  }
}


function capitalise(text: string): string {
  return text ? text[0]!.toUpperCase() + text.slice(1) : text;
}

/** What sample values look like, for names the glossaries cannot read. */
function sampleHint(values: string[], lang: Lang): string | undefined {
  const v = values.filter((x) => x !== '');
  if (!v.length) return undefined;
  const all = (re: RegExp) => v.every((x) => re.test(x));
  if (all(/^[^@\s]+@[^@\s]+\.[^@\s]+$/)) return t('hint.email', lang);
  if (all(/^https?:\/\//i)) return t('hint.url', lang);
  if (all(/^1[3-9]\d{9}$/)) return t('hint.mobile', lang);
  if (all(/^-?\d{1,3}\.\d+\s*,\s*-?\d{1,3}\.\d+$/)) return t('hint.coordinates', lang);
  if (all(/^\d{4}-\d{2}-\d{2}$/)) return t('hint.date', lang);
  if (all(/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/)) return t('hint.time', lang);
  if (all(/^[0-9a-f]{32}$/i) || all(/^[0-9a-f]{8}-[0-9a-f]{4}-/i)) return t('hint.identifier', lang);
  if (all(/^(true|false|t|f)$/)) return t('hint.flag', lang);
  return undefined;
}

/** How an offline comment is worded in each language: Chinese keeps an unknown name whole and leaves its
 * words to the glossary (glossary_todo.json); English names are their own words, capitalised. */
interface CommentWords {
  recordsUntranslated: boolean;
  primaryKeyId: string;
  phrase(tr: Translation): string;
  flag(is: boolean, tr: Translation, name: string): string;
  by(tr: Translation, words: string[]): string;
  time(tr: Translation, words: string[]): string;
  reference(tr: Translation, rest: string[]): string;
  plain(tr: Translation): string;
  /** The column name with what its values look like, when no word of the name is known. */
  hinted(column: ColumnInfo, words: string[], tr: Translation): string | undefined;
  table(tr: Translation, words: string[], isView: boolean): string;
}

const COMMENT_WORDS: Record<Lang, CommentWords> = {
  zh: {
    recordsUntranslated: true,
    primaryKeyId: '主键ID',
    phrase: (tr) => tr.text,
    flag: (is, tr, name) => (tr.unknown.length ? name : `${is ? '是否' : '是否有'}${tr.text}`),
    by: (tr, words) => (tr.unknown.length ? words.join(' ') : `${tr.text}人`),
    time: (tr, words) => (tr.unknown.length ? words.join(' ') : `${tr.text}时间`),
    reference: (tr, rest) => (tr.unknown.length ? `${rest.join(' ')} ID` : `${tr.text}ID`),
    plain: (tr) => tr.text,
    hinted: (column, words, tr) => {
      if (tr.unknown.length !== words.length) return undefined;
      const hint = sampleHint(column.sample_values, 'zh');
      return hint ? `${column.name}（${hint}）` : undefined;
    },
    table: (tr, words, isView) => {
      if (tr.unknown.length) return `${words.join(' ')}${isView ? '视图' : '表'}`;
      return /(表|视图)$/.test(tr.text) ? tr.text : `${tr.text}${isView ? '视图' : '表'}`;
    },
  },
  en: {
    recordsUntranslated: false,
    primaryKeyId: 'Primary key ID',
    phrase: (tr) => capitalise(tr.text),
    flag: (is, tr) => `${is ? 'Is' : 'Has'} ${tr.text}`,
    by: (tr) => `${capitalise(tr.text)} by`,
    time: (tr) => `${capitalise(tr.text)} time`,
    reference: (tr) => `${capitalise(tr.text)} ID`,
    plain: (tr) => capitalise(tr.text),
    hinted: (column, words, tr) => {
      const hint = tr.unknown.length === words.length ? sampleHint(column.sample_values, 'en') : undefined;
      return hint && words.every((w) => !BUILTIN_GLOSSARY[w] && !ABBREVIATIONS[w]) ? `${column.name} (${hint})` : undefined;
    },
    table: (tr, _words, isView) => `${capitalise(tr.text)} ${isView ? 'view' : 'table'}`,
  },
};



export interface OfflineOptions {
  context?: NameContext;
  /** Words a table puts in front of every column (`crm`, `cust` in crmCustName): not part of the meaning. */
  columnPrefix?: string[];
  todo?: GlossaryTodo;
  /** `table` for the todo list. */
  where?: string;
}

/** An offline comment for a column (never empty). */
export function offlineColumnComment(column: ColumnInfo, lang: Lang, glossary: Glossary, options: OfflineOptions = {}): string {
  const whole = glossary.get(column.name.toLowerCase());
  if (whole) return whole;
  const say = COMMENT_WORDS[lang];
  if (hasNonAscii(column.name) && !/[A-Za-z]/.test(column.name)) return column.name;
  let words = nameWords(column.name);
  const prefix = options.columnPrefix ?? [];
  if (prefix.length && words.length > prefix.length && prefix.every((w, i) => words[i] === w)) {
    // crmCustName in crmCustomer: the table prefix names the table's own entity (cust → 客户名称); a
    // reference keeps only its own words (crmOrdCustId → 客户ID).
    const rest = words.slice(prefix.length);
    const own = rest.length === 1 ? prefix.filter((w) => ABBREVIATIONS[w] || BUILTIN_GLOSSARY[w]).slice(-1) : [];
    words = [...own, ...rest];
  }
  words = splitWords(words, glossary);
  if (!words.length) return column.name;
  const numeric = /^(int2|int4|int8|numeric|float4|float8|money)$/.test(column.udt_name);
  const context = { ...(options.context ?? NO_CONTEXT), numeric, measure: column.role === 'additive_measure' || column.role === 'non_additive_measure' };
  const record = (t: Translation) => {
    // English comments need no translation: only Chinese output leaves words to the glossary.
    if (say.recordsUntranslated) for (const w of t.unknown) options.todo?.add(w, `${options.where ?? ''}${options.where ? '.' : ''}${column.name}`);
    return t;
  };
  const last = words[words.length - 1]!;
  const rest = words.slice(0, -1);

  if (words.length === 1 && last === 'id') return column.is_primary_key ? say.primaryKeyId : 'ID';
  const phrase = BUILTIN_PHRASES[words.join('_')];
  if (phrase || glossary.get(words.join('_'))) {
    return say.phrase(translateWords(words, lang, glossary, context));
  }
  let t: Translation;
  let text: string;
  if ((words[0] === 'is' || words[0] === 'has') && words.length > 1) {
    t = record(translateWords(words.slice(1), lang, glossary, context));
    text = say.flag(words[0] === 'is', t, column.name);
  } else if (last === 'by' && rest.length) {
    t = record(translateWords(rest, lang, glossary, context));
    text = say.by(t, words);
  } else if (TIME_WORDS.has(last) && rest.length) {
    t = record(translateWords(rest, lang, glossary, context));
    text = say.time(t, words);
  } else if (last === 'id' && rest.length) {
    t = record(translateWords(rest, lang, glossary, context));
    text = say.reference(t, rest);
  } else {
    t = record(translateWords(words, lang, glossary, context));
    text = say.plain(t);
  }
  return say.hinted(column, words, t) ?? text;
}

/** The words of a table name that name its entity (`bss_service_area` → service area). */
export function tableNameWords(name: string, runPrefix: string[] = [], glossary: Glossary = new Map()): string[] {
  let words = splitWords(nameWords(name), glossary);
  if (runPrefix.length && words.length > runPrefix.length && runPrefix.every((w, i) => words[i] === w)) words = words.slice(runPrefix.length);
  if (words.length > 1 && TABLE_PREFIX.test(words[0]!)) words = words.slice(1);
  return words;
}

/** An offline comment for a table (never empty). */
export function offlineTableComment(table: TableInfo, lang: Lang, glossary: Glossary, options: OfflineOptions & { runPrefix?: string[] } = {}): string {
  const whole = glossary.get(table.name.toLowerCase()) ?? glossary.get(table.full_name.toLowerCase());
  if (whole) return whole;
  const say = COMMENT_WORDS[lang];
  const isView = table.kind === 'view' || table.kind === 'materialized_view';
  if (hasNonAscii(table.name) && !/[A-Za-z]/.test(table.name)) return table.name;
  const words = tableNameWords(table.name, options.runPrefix, glossary);
  const context = nameContext(table);
  let t = translateWords(words, lang, glossary, context);
  if (t.unknown.length) {
    const singular = translateWords(words.map((w, i) => (i === words.length - 1 ? singularNoun(w) : w)), lang, glossary, context);
    if (!singular.unknown.length) t = singular;
  }
  if (say.recordsUntranslated) for (const w of t.unknown) options.todo?.add(w, table.name);
  return say.table(t, words, isView);
}

/**
 * The business noun for one row of a table: from the database's table comment (its first clause without
 * 表/信息表), else the glossary and built-in words of the table name (singular). Chinese falls back to the
 * English noun whole when a word is unknown.
 */
export function offlineEntity(table: TableInfo, glossary: Glossary, runPrefix: string[] = []): { zh: string; en: string; source: 'db' | 'glossary' | 'offline' } {
  const words = tableNameWords(table.name, runPrefix, glossary);
  const singular = words.map((w, i) => (i === words.length - 1 ? singularNoun(w) : w));
  const en = translateWords(singular, 'en', new Map()).text || table.name;
  const glossed = glossary.get(table.name.toLowerCase()) ?? glossary.get(singular.join('_'));
  if (glossed) return { zh: nounOf(glossed), en, source: 'glossary' };
  if (table.comment && table.comment_source === 'db' && hasNonAscii(table.comment)) {
    const noun = nounOf(table.comment);
    if (noun) return { zh: noun, en, source: 'db' };
  }
  if (hasNonAscii(table.name) && !/[A-Za-z]/.test(table.name)) return { zh: nounOf(table.name) || table.name, en, source: 'offline' };
  const context = nameContext(table);
  let zh = translateWords(singular, 'zh', glossary, context);
  if (zh.unknown.length) zh = translateWords(words, 'zh', glossary, context);
  return { zh: zh.unknown.length ? en : zh.text, en, source: 'offline' };
}

/** `服务区基础信息表（…）` → 服务区; `公司信息表` → 公司. */
function nounOf(text: string): string {
  const clause = text.split(/[（(，,；;。:：\n]/)[0]!.trim();
  return clause.replace(/(的)?(基础|基本|主|明细|详细)?(信息|资料|数据|记录|档案)?(表|视图|清单|列表)$/, '').trim() || clause;
}
