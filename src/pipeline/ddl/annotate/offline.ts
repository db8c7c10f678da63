// The offline annotator: comments from names (the task's business glossary first, then built-in
// phrases such as first_name → 名, unit_price → 单价, then built-in words) and, for names it cannot read,
// from what the sample values look like. A name that cannot be fully translated keeps its English
// phrase whole ("rental rate"), never half-translated ("rental费率"); its unknown words are collected
// for glossary_todo.json. Deterministic, no network. Used when no LLM is configured, when a table's LLM
// call failed, and for whatever the LLM left out.
import type { ColumnInfo, TableInfo } from '../../artifacts.ts';
import { ABBREVIATIONS, BUILTIN_GLOSSARY, BUILTIN_PHRASES, type Glossary } from '../../../text/glossary.ts';
import type { Lang } from '../../../messages.ts';
import { hasNonAscii, nameContext, nameWords, NO_CONTEXT, splitWords, translateWords, type NameContext, type Translation } from '../../../text/translate.ts';

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
  const zh = lang === 'zh';
  if (all(/^[^@\s]+@[^@\s]+\.[^@\s]+$/)) return zh ? '邮箱地址' : 'email address';
  if (all(/^https?:\/\//i)) return zh ? '链接地址' : 'URL';
  if (all(/^1[3-9]\d{9}$/)) return zh ? '手机号码' : 'mobile phone number';
  if (all(/^-?\d{1,3}\.\d+\s*,\s*-?\d{1,3}\.\d+$/)) return zh ? '经纬度坐标' : 'coordinates (lng,lat)';
  if (all(/^\d{4}-\d{2}-\d{2}$/)) return zh ? '日期' : 'date';
  if (all(/^\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}/)) return zh ? '时间' : 'time';
  if (all(/^[0-9a-f]{32}$/i) || all(/^[0-9a-f]{8}-[0-9a-f]{4}-/i)) return zh ? '标识ID' : 'identifier';
  if (all(/^(true|false|t|f)$/)) return zh ? '标志' : 'flag';
  return undefined;
}

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
  const zh = lang === 'zh';
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
    if (zh) for (const w of t.unknown) options.todo?.add(w, `${options.where ?? ''}${options.where ? '.' : ''}${column.name}`);
    return t;
  };
  const last = words[words.length - 1]!;
  const rest = words.slice(0, -1);

  if (words.length === 1 && last === 'id') return column.is_primary_key ? (zh ? '主键ID' : 'Primary key ID') : 'ID';
  const phrase = BUILTIN_PHRASES[words.join('_')];
  if (phrase || glossary.get(words.join('_'))) {
    const t = translateWords(words, lang, glossary, context);
    return zh ? t.text : capitalise(t.text);
  }
  let t: Translation;
  let text: string;
  if ((words[0] === 'is' || words[0] === 'has') && words.length > 1) {
    t = record(translateWords(words.slice(1), lang, glossary, context));
    text = zh ? (t.unknown.length ? column.name : `${words[0] === 'is' ? '是否' : '是否有'}${t.text}`) : `${words[0] === 'is' ? 'Is' : 'Has'} ${t.text}`;
  } else if (last === 'by' && rest.length) {
    t = record(translateWords(rest, lang, glossary, context));
    text = zh ? (t.unknown.length ? words.join(' ') : `${t.text}人`) : `${capitalise(t.text)} by`;
  } else if (TIME_WORDS.has(last) && rest.length) {
    t = record(translateWords(rest, lang, glossary, context));
    text = zh ? (t.unknown.length ? words.join(' ') : `${t.text}时间`) : `${capitalise(t.text)} time`;
  } else if (last === 'id' && rest.length) {
    t = record(translateWords(rest, lang, glossary, context));
    text = zh ? (t.unknown.length ? `${rest.join(' ')} ID` : `${t.text}ID`) : `${capitalise(t.text)} ID`;
  } else {
    t = record(translateWords(words, lang, glossary, context));
    text = zh ? t.text : capitalise(t.text);
  }
  if (zh && t.unknown.length === words.length) {
    const hint = sampleHint(column.sample_values, lang);
    if (hint) return `${column.name}（${hint}）`;
  }
  if (!zh) {
    const hint = t.unknown.length === words.length ? sampleHint(column.sample_values, lang) : undefined;
    if (hint && words.every((w) => !BUILTIN_GLOSSARY[w] && !ABBREVIATIONS[w])) return `${column.name} (${hint})`;
  }
  return text;
}

/** The words of a table name that name its entity (`bss_service_area` → service area). */
export function tableNameWords(name: string, runPrefix: string[] = [], glossary: Glossary = new Map()): string[] {
  let words = splitWords(nameWords(name), glossary);
  if (runPrefix.length && words.length > runPrefix.length && runPrefix.every((w, i) => words[i] === w)) words = words.slice(runPrefix.length);
  if (words.length > 1 && TABLE_PREFIX.test(words[0]!)) words = words.slice(1);
  return words;
}

function singularWord(word: string): string {
  if (/ies$/.test(word)) return word.replace(/ies$/, 'y');
  if (/(ss|us|is)$/.test(word)) return word;
  if (/(s|x|ch|sh)es$/.test(word)) return word.replace(/es$/, '');
  if (/[^s]s$/.test(word)) return word.slice(0, -1);
  return word;
}

/** An offline comment for a table (never empty). */
export function offlineTableComment(table: TableInfo, lang: Lang, glossary: Glossary, options: OfflineOptions & { runPrefix?: string[] } = {}): string {
  const whole = glossary.get(table.name.toLowerCase()) ?? glossary.get(table.full_name.toLowerCase());
  if (whole) return whole;
  const zh = lang === 'zh';
  const isView = table.kind === 'view' || table.kind === 'materialized_view';
  if (hasNonAscii(table.name) && !/[A-Za-z]/.test(table.name)) return table.name;
  const words = tableNameWords(table.name, options.runPrefix, glossary);
  const context = nameContext(table);
  let t = translateWords(words, lang, glossary, context);
  if (t.unknown.length) {
    const singular = translateWords(words.map((w, i) => (i === words.length - 1 ? singularWord(w) : w)), lang, glossary, context);
    if (!singular.unknown.length) t = singular;
  }
  if (zh) for (const w of t.unknown) options.todo?.add(w, table.name);
  if (zh) {
    if (t.unknown.length) return `${words.join(' ')}${isView ? '视图' : '表'}`;
    return /(表|视图)$/.test(t.text) ? t.text : `${t.text}${isView ? '视图' : '表'}`;
  }
  return `${capitalise(t.text)} ${isView ? 'view' : 'table'}`;
}

/**
 * The business noun for one row of a table: from the database's table comment (its first clause without
 * 表/信息表), else the glossary and built-in words of the table name (singular). Chinese falls back to the
 * English noun whole when a word is unknown.
 */
export function offlineEntity(table: TableInfo, glossary: Glossary, runPrefix: string[] = []): { zh: string; en: string; source: 'db' | 'glossary' | 'offline' } {
  const words = tableNameWords(table.name, runPrefix, glossary);
  const singular = words.map((w, i) => (i === words.length - 1 ? singularWord(w) : w));
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
