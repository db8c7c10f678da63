// Question rendering for the offline generator: a template gives what is asked as a noun phrase per
// language and the kind of answer (a list, a value, a ranking, a trend, a comparison); a style turns it
// into a sentence an analyst would write. Styles rotate so a theme's questions read differently.
import type { Lang } from '../../messages.ts';
import type { QuestionStyle } from './types.ts';

export type AnswerKind = 'list' | 'value' | 'rank' | 'trend' | 'compare';

export interface Phrase {
  kind: AnswerKind;
  zh: string;
  en: string;
}

const ZH: Record<Exclude<QuestionStyle, 'other' | 'business'>, Record<AnswerKind, (x: string) => string>> = {
  imperative: {
    list: (x) => `列出${x}`,
    value: (x) => `统计${x}`,
    rank: (x) => `找出${x}`,
    trend: (x) => `展示${x}`,
    compare: (x) => `对比${x}`,
  },
  question: {
    list: (x) => `${x}有哪些？`,
    value: (x) => `${x}是多少？`,
    rank: (x) => `${x}分别是哪些？`,
    trend: (x) => `${x}是怎样的？`,
    compare: (x) => `${x}有什么差别？`,
  },
  colloquial: {
    list: (x) => `帮我查一下${x}`,
    value: (x) => `帮我算一下${x}`,
    rank: (x) => `帮我看看${x}`,
    trend: (x) => `我想看看${x}`,
    compare: (x) => `帮我比较一下${x}`,
  },
};

const EN: Record<Exclude<QuestionStyle, 'other' | 'business'>, Record<AnswerKind, (x: string) => string>> = {
  imperative: {
    list: (x) => `List ${x}.`,
    value: (x) => `Calculate ${x}.`,
    rank: (x) => `Find ${x}.`,
    trend: (x) => `Show ${x}.`,
    compare: (x) => `Compare ${x}.`,
  },
  question: {
    list: (x) => `What are ${x}?`,
    value: (x) => `What is ${x}?`,
    rank: (x) => `Which are ${x}?`,
    trend: (x) => `How did ${x} develop?`,
    compare: (x) => `How do ${x} differ?`,
  },
  colloquial: {
    list: (x) => `Can you pull up ${x}?`,
    value: (x) => `Can you work out ${x}?`,
    rank: (x) => `Could you check ${x}?`,
    trend: (x) => `I'd like to see ${x}.`,
    compare: (x) => `Could you compare ${x}?`,
  },
};

const PURPOSE: Record<Lang, Record<'fact' | 'reference', string[]>> = {
  zh: {
    fact: ['为评估经营情况', '在月度经营分析中', '为制定下一阶段的运营计划', '为向管理层汇报'],
    reference: ['为核对基础数据', '为梳理管理范围', '为完善主数据管理', '为排查数据质量问题'],
  },
  en: {
    fact: ['To assess performance', 'For the monthly business review', 'To plan next quarter\'s operations', 'For a management report'],
    reference: ['To check the reference data', 'To review what we manage', 'For master-data maintenance', 'To look for data-quality issues'],
  },
};

type SentenceStyle = Exclude<QuestionStyle, 'other' | 'business'>;
const MONTHS_EN = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

/** How each language builds what the generator says: the domain's own grammar, one entry per language. */
interface Grammar {
  /** A question in a style; Chinese closes what is not a question with 。 */
  sentence(style: SentenceStyle, kind: AnswerKind, x: string): string;
  /** "For a management report, list …" */
  withPurpose(purpose: string, kind: AnswerKind, x: string): string;
  month(y: number, m: number): string;
  day(y: number, m: number, d: number): string;
  quote(value: string): string;
  separator: string;
  and: string;
  named(noun: Record<Lang, string>, value: string): string;
}

const GRAMMAR: Record<Lang, Grammar> = {
  zh: {
    sentence: (s, kind, x) => {
      const text = ZH[s][kind](x);
      return s !== 'question' && !/[。？！]$/.test(text) ? `${text}。` : text;
    },
    withPurpose: (purpose, kind, x) => `${purpose}，请${ZH.imperative[kind](x)}。`,
    month: (y, m) => `${y}年${m}月`,
    day: (y, m, d) => `${y}年${m}月${d}日`,
    quote: (value) => `“${value}”`,
    separator: '、',
    and: '和',
    named: (noun, value) => (value.endsWith(noun.zh) ? value : `${noun.zh}${GRAMMAR.zh.quote(value)}`),
  },
  en: {
    sentence: (s, kind, x) => EN[s][kind](x),
    withPurpose: (purpose, kind, x) => {
      const sentence = EN.imperative[kind](x);
      return `${purpose}, ${sentence.charAt(0).toLowerCase()}${sentence.slice(1)}`;
    },
    month: (y, m) => `${MONTHS_EN[m - 1]} ${y}`,
    day: (y, m, d) => `${d} ${MONTHS_EN[m - 1]} ${y}`,
    quote: (value) => `'${value}'`,
    separator: ', ',
    and: ' and ',
    named: (noun, value) => `${noun.en} ${GRAMMAR.en.quote(value)}`,
  },
};

export function renderQuestion(phrase: Phrase, style: QuestionStyle, lang: Lang, purposeKind: 'fact' | 'reference', pick: number): string {
  const x = phrase[lang];
  if (style === 'business') {
    const purposes = PURPOSE[lang][purposeKind];
    return GRAMMAR[lang].withPurpose(purposes[pick % purposes.length]!, phrase.kind, x);
  }
  return GRAMMAR[lang].sentence(style === 'other' ? 'imperative' : style, phrase.kind, x);
}

/** 2024-03 → 2024年3月 / March 2024 */
export function monthText(month: string, lang: Lang): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return GRAMMAR[lang].month(y, m);
}

/** 2024-03-05 → 2024年3月5日 / 5 March 2024 */
export function dayText(day: string, lang: Lang): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  return GRAMMAR[lang].day(y, m, d);
}

/** “value” in zh, 'value' in en. */
export function quoted(value: string, lang: Lang): string {
  return GRAMMAR[lang].quote(value);
}

/** Joins labels: A、B和C / A, B and C. */
export function listText(items: string[], lang: Lang): string {
  if (items.length <= 1) return items[0] ?? '';
  return `${items.slice(0, -1).join(GRAMMAR[lang].separator)}${GRAMMAR[lang].and}${items.at(-1)}`;
}

/** An entity by name: 信丰服务区 (the value already says what it is) or 路段“昌九” / section '昌九'. */
export function named(noun: Record<Lang, string>, value: string, lang: Lang): string {
  return GRAMMAR[lang].named(noun, value);
}

/** English plural of a noun phrase's last word (company → companies, branch → branches). */
export function plural(noun: string): string {
  if (!/[a-z]$/i.test(noun)) return noun;
  if (/[^aeiou]y$/i.test(noun)) return `${noun.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/i.test(noun)) return `${noun}es`;
  return `${noun}s`;
}
