// Name words → a term in the task's language, phrase level first (the business glossary, built-in phrases,
// then words). Shared by ddl_generation (offline comments) and qa_generation (question wording), so both
// steps name a column the same way. A name with any unknown word keeps its English phrase whole in
// Chinese ("rental rate"), never half-translated ("rental费率").
import { ABBREVIATIONS, BUILTIN_GLOSSARY, BUILTIN_PHRASES, type Glossary } from './glossary.ts';
import type { Lang } from '../messages.ts';

/** The language a business glossary's terms are written in (term → Chinese name, guide §4). */
const GLOSSARY_LANG: Lang = 'zh';


/** snake_case / camelCase words, lower case. */
export function nameWords(name: string): string[] {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1_$2')
    .toLowerCase()
    .split(/[^\p{L}\p{N}]+/u)
    .filter(Boolean);
}

/** What a table's columns say about it, for words whose meaning depends on it (state, title). */
export interface NameContext {
  /** The table has address-like columns (country, city): `state` is 州/省, not 状态. */
  geographic: boolean;
  /** The table is about people: `title` is 职位, not 标题. */
  person: boolean;
  /** The table is worked on by people (assignee, priority): `ticket` is 工单, not 票. */
  workItem?: boolean;
  /** The column is a number: `area` is 面积, not 区域; a counted `num` is 数量, not 编号. */
  numeric?: boolean;
  measure?: boolean;
}

/** Tables named for people: `title` there is a job title. */
const PERSON_TABLE_WORDS = new Set(['employee', 'staff', 'person', 'people', 'user', 'member', 'customer', 'student', 'teacher', 'doctor', 'patient', 'author', 'actor', 'artist', 'contact', 'instructor', 'nurse']);

/** The context of a table's column names, from its name and its columns' words. */
export function nameContext(table: { name: string; columns: Array<{ name: string }> }): NameContext {
  const words = new Set(table.columns.flatMap((c) => nameWords(c.name)));
  const tableWords = nameWords(table.name);
  return {
    geographic: ['country', 'city', 'address', 'postal', 'zip', 'province', 'population', 'capital', 'continent', 'county', 'border'].some((w) => words.has(w)),
    workItem: ['assignee', 'priority', 'reporter', 'resolved', 'severity'].some((w) => words.has(w)),
    person: tableWords.some((w) => PERSON_TABLE_WORDS.has(w.replace(/s$/, ''))) || (words.has('first') && words.has('last')),
  };
}

export const NO_CONTEXT: NameContext = { geographic: false, person: false };

export interface Translation {
  text: string;
  /** Words no glossary knew (empty when the whole name was translated). */
  unknown: string[];
}

export function hasNonAscii(text: string): boolean {
  return /[^\x00-\x7f]/.test(text);
}

function contextual(word: string, lang: Lang, context: NameContext): string | undefined {
  if (lang === 'en') return undefined;
  if (word === 'state' && context.geographic) return '州/省';
  if (word === 'title' && context.person) return '职位';
  if (word === 'ticket' && context.workItem) return '工单';
  if (word === 'area' && context.numeric) return '面积';
  if (COUNT_WORDS.has(word) && context.measure) return '数量';
  return undefined;
}

const COUNT_WORDS = new Set(['num', 'number', 'no', 'cnt']);

/**
 * Translates name words, longest known phrase first: the business glossary, built-in phrases, then
 * words (abbreviations expanded: cust → customer). Chinese with any unknown word gives the English
 * phrase whole.
 */
export function translateWords(words: string[], lang: Lang, glossary: Glossary, context: NameContext = NO_CONTEXT): Translation {
  // An abbreviation may stand for several words (dob → birth date); `words` keeps the names as written.
  const pairs = words.flatMap((w) => (ABBREVIATIONS[w] ?? w).split(/[ _]+/).map((e) => [w, e] as const));
  const expanded = pairs.map(([, e]) => e);
  words = pairs.map(([w]) => w);
  const parts: string[] = [];
  const unknown: string[] = [];
  for (let i = 0; i < expanded.length; ) {
    let matched = false;
    for (let n = Math.min(4, expanded.length - i); n >= 1 && !matched; n--) {
      const key = expanded.slice(i, i + n).join('_');
      // A phrase may be known as written (num_cited_by) rather than expanded (number_cited_by).
      const written = words.slice(i, i + n).join('_');
      const user = glossary.get(key) ?? glossary.get(expanded.slice(i, i + n).join(' ')) ?? (n === 1 ? glossary.get(words[i]!) : undefined);
      const text =
        (lang === GLOSSARY_LANG ? user : undefined) ??
        (n === 1 ? contextual(key, lang, context) : undefined) ??
        BUILTIN_PHRASES[key]?.[lang] ??
        (n > 1 ? BUILTIN_PHRASES[written]?.[lang] : undefined) ??
        (n === 1 ? BUILTIN_GLOSSARY[key]?.[lang] : undefined);
      if (text !== undefined) {
        parts.push(text);
        i += n;
        matched = true;
      }
    }
    if (!matched) {
      parts.push(expanded[i]!);
      if (!/^\d+$/.test(expanded[i]!)) unknown.push(words[i]!);
      i += 1;
    }
  }
  if (lang === 'en') return { text: parts.join(' '), unknown };
  if (unknown.length) return { text: expanded.join(' '), unknown };
  // A leading count word goes last in Chinese: num citing → 引用数量, not 数量引用.
  if (parts.length > 1 && COUNT_WORDS.has(expanded[0]!) && parts[0] === '数量') parts.push(parts.shift()!);
  return { text: parts.join(''), unknown };
}

/** Splits a flat lowercase compound into known words (`authorid` → author id, `numcitedby` → num cited by). */
export function splitCompound(word: string, glossary: Glossary): string[] {
  const known = (w: string) => w.length >= 2 && (BUILTIN_GLOSSARY[w] !== undefined || ABBREVIATIONS[w] !== undefined || glossary.has(w));
  if (known(word) || word.length < 5 || !/^[a-z]+$/.test(word)) return [word];
  // A plural of a known word is that word (`carts` is cart, not car + ts).
  const singular = word.replace(/ies$/, 'y').replace(/([^s])s$/, '$1');
  if (singular !== word && known(singular)) return [word];
  // Parts are words: at least three letters, but for a closing key word (`authorid`, `invoiceno`).
  const part = (w: string, atEnd: boolean) => known(w) && (w.length >= 3 || (atEnd && ['id', 'no', 'by'].includes(w)));
  // Fewest parts wins (dynamic programming over the word).
  const best: Array<string[] | undefined> = [[]];
  for (let end = 1; end <= word.length; end++) {
    for (let start = Math.max(0, end - 14); start < end; start++) {
      const prev = best[start];
      const piece = word.slice(start, end);
      if (prev && part(piece, end === word.length) && (!best[end] || best[end]!.length > prev.length + 1)) best[end] = [...prev, piece];
    }
  }
  return best[word.length] ?? [word];
}

export function splitWords(words: string[], glossary: Glossary): string[] {
  return words.flatMap((w) => splitCompound(w, glossary));
}

