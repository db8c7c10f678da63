// Name words → a term in the task's language, phrase level first (the business glossary, built-in phrases,
// then words). Shared by ddl_generation (offline comments) and qa_generation (question wording), so both
// steps name a column the same way. A name with any unknown word keeps its English phrase whole in
// Chinese ("rental rate"), never half-translated ("rental费率").
import { ABBREVIATIONS, BUILTIN_GLOSSARY, BUILTIN_PHRASES, type Glossary } from './glossary.ts';

export type Lang = 'zh' | 'en';

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
}

/** Tables named for people: `title` there is a job title. */
const PERSON_TABLE_WORDS = new Set(['employee', 'staff', 'person', 'people', 'user', 'member', 'customer', 'student', 'teacher', 'doctor', 'patient', 'author', 'actor', 'artist', 'contact', 'instructor', 'nurse']);

/** The context of a table's column names, from its name and its columns' words. */
export function nameContext(table: { name: string; columns: Array<{ name: string }> }): NameContext {
  const words = new Set(table.columns.flatMap((c) => nameWords(c.name)));
  const tableWords = nameWords(table.name);
  return {
    geographic: ['country', 'city', 'address', 'postal', 'zip', 'province'].some((w) => words.has(w)),
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
  if (word === 'state' && context.geographic) return lang === 'zh' ? '州/省' : 'state';
  if (word === 'title' && context.person) return lang === 'zh' ? '职位' : 'job title';
  return undefined;
}

/**
 * Translates name words, longest known phrase first: the business glossary, built-in phrases, then
 * words (abbreviations expanded: cust → customer). Chinese with any unknown word gives the English
 * phrase whole.
 */
export function translateWords(words: string[], lang: Lang, glossary: Glossary, context: NameContext = NO_CONTEXT): Translation {
  const expanded = words.map((w) => ABBREVIATIONS[w] ?? w);
  const parts: string[] = [];
  const unknown: string[] = [];
  for (let i = 0; i < expanded.length; ) {
    let matched = false;
    for (let n = Math.min(4, expanded.length - i); n >= 1 && !matched; n--) {
      const key = expanded.slice(i, i + n).join('_');
      const user = glossary.get(key) ?? glossary.get(expanded.slice(i, i + n).join(' ')) ?? (n === 1 ? glossary.get(words[i]!) : undefined);
      const text =
        (lang === 'zh' ? user : undefined) ??
        (n === 1 ? contextual(key, lang, context) : undefined) ??
        BUILTIN_PHRASES[key]?.[lang] ??
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
  return { text: parts.join(''), unknown };
}

