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

export function renderQuestion(phrase: Phrase, style: QuestionStyle, lang: Lang, purposeKind: 'fact' | 'reference', pick: number): string {
  const x = lang === 'zh' ? phrase.zh : phrase.en;
  if (style === 'business') {
    const purposes = PURPOSE[lang][purposeKind];
    const purpose = purposes[pick % purposes.length]!;
    if (lang === 'zh') return `${purpose}，请${ZH.imperative[phrase.kind](x)}。`;
    const sentence = EN.imperative[phrase.kind](x);
    return `${purpose}, ${sentence.charAt(0).toLowerCase()}${sentence.slice(1)}`;
  }
  const s = style === 'other' ? 'imperative' : style;
  const text = (lang === 'zh' ? ZH : EN)[s][phrase.kind](x);
  if (lang === 'zh' && s !== 'question' && !/[。？！]$/.test(text)) return `${text}。`;
  return text;
}

/** 2024-03 → 2024年3月 / March 2024 */
export function monthText(month: string, lang: Lang): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  if (lang === 'zh') return `${y}年${m}月`;
  return `${['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'][m - 1]} ${y}`;
}

/** 2024-03-05 → 2024年3月5日 / 5 March 2024 */
export function dayText(day: string, lang: Lang): string {
  const [y, m, d] = day.split('-').map(Number) as [number, number, number];
  if (lang === 'zh') return `${y}年${m}月${d}日`;
  return `${d} ${monthText(`${y}-${m}`, 'en')}`;
}

/** “value” in zh, 'value' in en. */
export function quoted(value: string, lang: Lang): string {
  return lang === 'zh' ? `“${value}”` : `'${value}'`;
}

/** Joins labels: A、B和C / A, B and C. */
export function listText(items: string[], lang: Lang): string {
  if (items.length <= 1) return items[0] ?? '';
  const sep = lang === 'zh' ? '、' : ', ';
  const and = lang === 'zh' ? '和' : ' and ';
  return `${items.slice(0, -1).join(sep)}${and}${items.at(-1)}`;
}

/** An entity by name: 信丰服务区 (the value already says what it is) or 路段“昌九” / section '昌九'. */
export function named(noun: Record<Lang, string>, value: string, lang: Lang): string {
  if (lang === 'zh') return value.endsWith(noun.zh) ? value : `${noun.zh}${quoted(value, 'zh')}`;
  return `${noun.en} ${quoted(value, 'en')}`;
}

/** English plural of a noun phrase's last word (company → companies, branch → branches). */
export function plural(noun: string): string {
  if (!/[a-z]$/i.test(noun)) return noun;
  if (/[^aeiou]y$/i.test(noun)) return `${noun.slice(0, -1)}ies`;
  if (/(s|x|z|ch|sh)$/i.test(noun)) return `${noun}es`;
  return `${noun}s`;
}
