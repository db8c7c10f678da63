// The offline annotator: comments from names (the task's business glossary first, then the built-in
// glossary of common column words) and, for names it cannot read, from what the sample values look
// like. Deterministic, no network. Used when no LLM is configured, and for whatever the LLM left out.
import type { ColumnInfo, TableInfo } from '../../artifacts.ts';
import { nameWords } from '../relations.ts';
import { BUILTIN_GLOSSARY, type Glossary } from './glossary.ts';

export type Lang = 'zh' | 'en';

const ACTIONS = new Set(['create', 'created', 'update', 'updated', 'modify', 'modified', 'delete', 'deleted', 'insert', 'start', 'begin', 'end', 'finish', 'oper']);
const TIME_WORDS = new Set(['ts', 'at', 'time', 'timestamp']);
/** Short prefixes of table names that carry no meaning (`bss_`, `t_`, `tb_`, `ods_` ...). */
const TABLE_PREFIX = /^(t|tb|tbl|bss|sys|ods|dwd|dws|dim|ads|fact|app|biz|base|md|dm)$/;

interface Phrase {
  text: string;
  /** How many words the glossaries knew. */
  known: number;
}

function hasNonAscii(text: string): boolean {
  return /[^\x00-\x7f]/.test(text);
}

function word(w: string, lang: Lang, glossary: Glossary): { text: string; known: boolean } {
  const user = glossary.get(w);
  if (user) return { text: user, known: true };
  const builtin = BUILTIN_GLOSSARY[w];
  if (builtin) return { text: builtin[lang], known: true };
  return { text: w, known: false };
}

function phrase(words: string[], lang: Lang, glossary: Glossary): Phrase {
  const parts = words.map((w) => word(w, lang, glossary));
  const known = parts.filter((p) => p.known).length;
  if (lang === 'en') return { text: parts.map((p) => p.text).join(' '), known };
  // Chinese: glossary words join directly; unknown ASCII words keep a space from a neighbouring ASCII word.
  let text = '';
  for (const p of parts) {
    const last = text.at(-1);
    if (last && /[A-Za-z0-9]/.test(last) && /^[A-Za-z0-9]/.test(p.text)) text += ' ';
    text += p.text;
  }
  return { text, known };
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

/** An offline comment for a column (never empty). */
export function offlineColumnComment(column: ColumnInfo, lang: Lang, glossary: Glossary): string {
  const whole = glossary.get(column.name.toLowerCase());
  if (whole) return whole;
  const zh = lang === 'zh';
  if (hasNonAscii(column.name) && !/[A-Za-z]/.test(column.name)) return column.name;
  const words = nameWords(column.name);
  if (!words.length) return column.name;
  const last = words[words.length - 1]!;
  const rest = words.slice(0, -1);

  if (words.length === 1 && last === 'id') return column.is_primary_key ? (zh ? '主键ID' : 'Primary key ID') : 'ID';
  let text: string;
  let known: number;
  if ((words[0] === 'is' || words[0] === 'has') && words.length > 1) {
    const p = phrase(words.slice(1), lang, glossary);
    text = zh ? `${words[0] === 'is' ? '是否' : '是否有'}${p.text}` : `${words[0] === 'is' ? 'Is' : 'Has'} ${p.text}`;
    known = p.known + 1;
  } else if (last === 'by' && rest.length) {
    const p = phrase(rest, lang, glossary);
    text = zh ? `${p.text}人` : `${capitalise(p.text)} by`;
    known = p.known + 1;
  } else if (TIME_WORDS.has(last) && rest.length) {
    const p = phrase(rest, lang, glossary);
    text = zh ? `${p.text}时间` : `${capitalise(p.text)} time`;
    known = p.known + (ACTIONS.has(rest[rest.length - 1]!) ? 1 : 0) + 1;
  } else if (last === 'id' && rest.length) {
    const p = phrase(rest, lang, glossary);
    text = zh ? `${p.text}ID` : `${capitalise(p.text)} ID`;
    known = p.known + 1;
  } else {
    const p = phrase(words, lang, glossary);
    text = zh ? p.text : capitalise(p.text);
    known = p.known;
  }
  if (known === 0) {
    const hint = sampleHint(column.sample_values, lang);
    if (hint) return zh ? `${column.name}（${hint}）` : `${column.name} (${hint})`;
  }
  return text;
}

/** An offline comment for a table (never empty). */
export function offlineTableComment(table: TableInfo, lang: Lang, glossary: Glossary): string {
  const whole = glossary.get(table.name.toLowerCase()) ?? glossary.get(table.full_name.toLowerCase());
  if (whole) return whole;
  const zh = lang === 'zh';
  const isView = table.kind === 'view' || table.kind === 'materialized_view';
  if (hasNonAscii(table.name) && !/[A-Za-z]/.test(table.name)) return table.name;
  let words = nameWords(table.name);
  if (words.length > 1 && TABLE_PREFIX.test(words[0]!)) words = words.slice(1);
  const p = phrase(words, lang, glossary);
  if (zh) return /(表|视图)$/.test(p.text) ? p.text : `${p.text}${isView ? '视图' : '表'}`;
  return `${capitalise(p.text)} ${isView ? 'view' : 'table'}`;
}
