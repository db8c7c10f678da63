// The offline generator's template table: what a template is, what it is given, and the pieces every
// template builds with (FROM with joins along relationships and live-row filters, entity key + label
// lists, measure and entity words per language, time windows from the data's own range). Templates live
// one file per family (fact, reference, link, time, cross) and are data: `applies` checks the roles of a
// table, `build` returns the SQL with the question's wordings. pair-quality.md is the rulebook.
import type { Lang } from '../../../messages.ts';
import { col, joinCondition, keyedByReference, liveCondition, type CatalogModel, type ColumnModel, type Relationship, type TableModel } from '../catalog.ts';
import { monthText, plural, quoted } from '../phrasing.ts';
import { literal, safeAlias } from '../sql-text.ts';
import type { Complexity } from '../sql-analysis.ts';

export const FAMILIES = ['fact', 'reference', 'link', 'time', 'cross'] as const;
export type Family = (typeof FAMILIES)[number];

export interface TemplateContext {
  catalog: CatalogModel;
  /** The table the template is tried on. */
  table: TableModel;
  /** Tables of the theme: joins stay inside it (a one-table theme gets no join). */
  inTheme: (t: TableModel) => boolean;
}

/** What a pair is about, for semantic dedup: entity × measure × aggregate × grouping × filter kind. */
export interface Signature {
  entity: string;
  measure: string;
  aggregate: string;
  grouping: string;
  filter: string;
}

export interface Draft {
  template: string;
  family: Family;
  level: Complexity;
  sql: string;
  /** Whole questions, several wordings per language (picked by the seed). */
  questions: Record<Lang, string[]>;
  signature: Signature;
  /** Table keys used. */
  tables: string[];
  /** `table.column` of the business columns the pair uses (coverage of important columns). */
  columns: string[];
  /** Higher is picked first among equals. */
  priority: number;
  /** Another value of a question already asked (other month, other code value, a top 10): used only to
   * reach a size the user asked for when the distinct questions run out (pair-quality.md, "The whole set"). */
  repeat?: string;
}

export interface Template {
  id: string;
  family: Family;
  level: Complexity;
  applies(ctx: TemplateContext): boolean;
  build(ctx: TemplateContext): Draft[];
}

export function signatureKey(s: Signature, repeat?: string): string {
  return `${s.entity}|${s.measure}|${s.aggregate}|${s.grouping}|${s.filter}${repeat ? `#${repeat}` : ''}`;
}

/** The same draft for other values: the first is the pair, the rest are repeats. */
export function withRepeats<T>(values: T[], make: (value: T) => Draft, key: (value: T) => string): Draft[] {
  return values.map((v, i) => (i === 0 ? make(v) : { ...make(v), repeat: key(v) }));
}

// ----------------------------------------------------------------------------------------------- words

export const zhDigits = (n: number) => String(n);

/** The business noun of a table's rows. */
export function noun(t: TableModel, lang: Lang, many = false): string {
  const word = t.entity[lang] || t.noun[lang];
  return lang === 'en' && many ? plural(word) : word;
}

/** A column's term; a measure whose term another table's measure also has is named by its entity. */
const measureOwners = new WeakMap<CatalogModel, Map<string, Set<TableModel>>>();

/** Tables having a measure of this term or name (computed once per catalog). */
function ownersOf(catalog: CatalogModel, key: string): Set<TableModel> {
  let index = measureOwners.get(catalog);
  if (!index) {
    index = new Map();
    for (const o of catalog.tables) {
      if (o.partition) continue;
      for (const m of o.measures) for (const k of [`zh:${m.label.zh}`, `en:${m.label.en}`, `name:${m.name}`]) index.set(k, (index.get(k) ?? new Set()).add(o));
    }
    measureOwners.set(catalog, index);
  }
  return index.get(key) ?? new Set();
}

/** The generator's word rules that differ by language (the domain's grammar, one entry per language). */
const WORDS: Record<Lang, {
  /** A bare money word (金额, amount) says nothing alone; a bare 数量 stays (订单明细数量 would read as a row count). */
  isBare(label: string): boolean;
  /** The measure qualified by its entity: 支付金额 / payment amount. */
  qualify(entity: string, label: string): string;
  /** A reference column's role without its id word: 所属公司编号 → 公司, assignee id → assignee. */
  role(label: string): string;
  /** "total M" unless the term already says total (支付总金额, 订单总数, total amount). */
  total(m: string): string;
  /** A one-word measure named by its entity when the question names nothing else (金额 → 支付金额). */
  named(entity: string, word: string): string;
}> = {
  zh: {
    isBare: (label) => label.length <= 2 && !/[数量次]/.test(label),
    qualify: (e, label) => (label.startsWith(e) ? label : `${e}${label}`),
    role: (label) => label.replace(/(ID|编号|编码|号)$/i, '').replace(/^所属/, '').trim(),
    total: (m) => (/(总|合计|累计)/.test(m) ? m : `${m}合计`),
    named: (e, word) => (word.length <= 2 && !word.startsWith(e) ? `${e}${word}` : word),
  },
  en: {
    isBare: (label) => !label.includes(' ') && !/^(quantity|qty|count)$/i.test(label),
    qualify: (e, label) => (label.toLowerCase().startsWith(e.toLowerCase()) ? label : `${e} ${label}`),
    role: (label) => label.replace(/\s*(id|number|no|code)$/i, '').trim(),
    total: (m) => (/\b(total|sum)\b/i.test(m) ? m : `total ${m}`),
    named: (e, word) => (word.split(' ').length === 1 && !word.toLowerCase().startsWith(e.toLowerCase()) ? `${e} ${word}` : word),
  },
};

export function term(c: ColumnModel, t: TableModel, lang: Lang, catalog: CatalogModel): string {
  const label = c.label[lang];
  const others = (key: string) => [...ownersOf(catalog, key)].some((o) => o !== t);
  const clash = others(`${lang}:${label}`) || others(`name:${c.name}`);
  if ((!clash && !WORDS[lang].isBare(label)) || !isMeasure(c)) return label;
  return WORDS[lang].qualify(noun(t, lang), label);
}

/** The noun for a referenced table seen through one relationship: the role the FK names
 * (assignee_id → 负责人) when it is not just the target's own noun. */
export function roleNoun(rel: Relationship, lang: Lang): string {
  const target = noun(rel.to, lang);
  if (rel.fromColumns.length !== 1) return target;
  const c = rel.from.byName.get(rel.fromColumns[0]!);
  if (!c) return target;
  const stripped = WORDS[lang].role(c.label[lang]);
  if (!stripped || stripped === c.label[lang]) return target;
  // Two references to the same table (citing / cited paper, origin / destination airport) are told apart
  // by their roles, even when each role contains the target's noun.
  if (sharesTarget(rel) && stripped !== target) return stripped;
  // service_no → 服务区 / "service": a shortening of the target's own noun is the target.
  if (target.includes(stripped) || stripped.includes(target)) return target;
  return stripped;
}

/** Whether the referencing table has another reference to the same target (cite → paper twice). */
export function sharesTarget(rel: Relationship): boolean {
  return rel.from.parents.filter((r) => r.to === rel.to).length > 1;
}

/** Whether a relationship is the target's plain reference (customer_id → customer), not a role (assignee_id). */
export function isPlainReference(rel: Relationship, lang: Lang): boolean {
  if (sharesTarget(rel)) return false;
  return roleNoun(rel, lang) === noun(rel.to, lang) || roleNoun(rel, lang).includes(noun(rel.to, lang));
}

/** The measure word for counting a noun: 5篇论文, 3位员工, 2家公司, else 个. */
export function unitOf(nounZh: string): string {
  if (/(论文|文章|报告|报道)$/.test(nounZh)) return '篇';
  if (/(支付|付款|交易|订单|账单|收款|退款)$/.test(nounZh)) return '笔';
  if (/(记录|明细|日志)$/.test(nounZh)) return '条';
  if (/(公司|企业|医院|银行|门店|商店|店铺|酒店|工厂|学校|供应商|航空公司)$/.test(nounZh)) return '家';
  if (/(作者|员工|职员|客户|顾客|医生|护士|患者|病人|教师|老师|学生|用户|会员|司机|乘客|经理|代表|处理人|负责人|销售员|联系人|雇员)$/.test(nounZh)) return '位';
  return '个';
}

export function namedMeasure(entity: string, word: string, lang: Lang): string {
  return WORDS[lang].named(entity, word);
}

export function totalOf(m: string, lang: Lang): string {
  return WORDS[lang].total(m);
}

export function isMeasure(c: ColumnModel): boolean {
  return c.role === 'additive_measure' || c.role === 'non_additive_measure';
}

/** 2024-03 → 2024年3月 / March 2024. */
export function monthWords(month: string, lang: Lang): string {
  return monthText(month, lang);
}

export function quote(value: string, lang: Lang): string {
  return quoted(value, lang);
}

export function cap(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// ------------------------------------------------------------------------------------------- columns

/** Codes worth grouping or filtering by: a few real values, not the key, not a reference. */
export function groupableCodes(t: TableModel): ColumnModel[] {
  return t.columns.filter((c) => c.role === 'code' && c.values.length >= 2 && c.values.length <= 30 && !t.info.primary_key.includes(c.name) && !c.info.long_values);
}

/** Business times with a known range that spans more than one day. */
export function businessTimes(t: TableModel): ColumnModel[] {
  // A birth date dates a person, not an event of the business: no trends or windows on it.
  return t.times.filter((c) => !/(^|_)(birth|dob|birthday)|出生|生日/i.test(`${c.name} ${c.label.zh}`)).filter((c) => ['date', 'timestamp', 'timestamptz'].includes(c.info.udt_name) && c.range && c.range.min.slice(0, 10) !== c.range.max.slice(0, 10));
}

/** Months (YYYY-MM) from the start of a range to its end. */
export function monthsOf(c: ColumnModel): string[] {
  const r = c.range;
  if (!r) return [];
  const [y0, m0] = r.min.slice(0, 7).split('-').map(Number) as [number, number];
  const [y1, m1] = r.max.slice(0, 7).split('-').map(Number) as [number, number];
  const out: string[] = [];
  for (let y = y0, m = m0; y < y1 || (y === y1 && m <= m1); m === 12 ? ((m = 1), (y += 1)) : (m += 1)) {
    out.push(`${y}-${String(m).padStart(2, '0')}`);
    if (out.length > 600) break;
  }
  return out;
}

export function nextMonth(month: string): string {
  const [y, m] = month.split('-').map(Number) as [number, number];
  return m === 12 ? `${y + 1}-01` : `${y}-${String(m + 1).padStart(2, '0')}`;
}

/** Many rows per parent: a reference that is the row's key or unique (highlow.state_name, an extension
 * table), or whose values are all distinct (department.head_id), is one-to-one, and grouping or counting
 * by it is the row's own grain. */
export function manyToOne(rel: Relationship): boolean {
  if (rel.from.isLink) return true;
  const { primary_key, unique_constraints } = rel.from.info;
  const covers = (key: string[]) => key.length === rel.fromColumns.length && rel.fromColumns.every((c) => key.includes(c));
  if (covers(primary_key) || unique_constraints.some(covers)) return false;
  const c = rel.from.byName.get(rel.fromColumns[0]!);
  const share = c?.info.distinct_share;
  return !(typeof share === 'number' && share >= 0.98 && rel.from.rows > 1);
}

/** Tables this one references inside the theme (many-to-one), with a key to group by and a label to show. */
export function parentsInTheme(ctx: TemplateContext, t: TableModel = ctx.table): Relationship[] {
  return t.parents.filter((r) => r.to !== t && ctx.inTheme(r.to) && !r.to.partition && r.to.keyColumn && r.to.display.length > 0 && r.fromColumns.length === 1 && manyToOne(r));
}

/** The parents of a link table on distinct tables (a self-link like cite → paper twice is not walked). */
export function linkSides(ctx: TemplateContext): Relationship[] {
  const out: Relationship[] = [];
  for (const r of parentsInTheme(ctx)) if (!out.some((o) => o.to === r.to)) out.push(r);
  return out;
}

/** Tables referencing this one inside the theme. */
export function childrenInTheme(ctx: TemplateContext, t: TableModel = ctx.table): Relationship[] {
  return t.children.filter((r) => r.from !== t && ctx.inTheme(r.from) && !r.from.partition && r.fromColumns.length === 1 && r.from.business);
}

/** An entity table: one row per thing, with a key and a label to show — not a dated fact whose rows are
 * events or daily figures (those are aggregated, not listed one by one). */
export function isEntity(t: TableModel): boolean {
  return Boolean(t.keyColumn && t.display.length > 0) && !isDatedFact(t) && !t.isLink;
}

/** Rows are figures of a day or an event (many rows share a date): measures are summed over time.
 * Otherwise a measure is an attribute of the row (an employee's salary) and time only counts rows. */
export function isDatedFact(t: TableModel): boolean {
  if (t.additive.length === 0) return false;
  // A subtype row (employees keyed by person_id) is a thing with attributes (salary, hire date), not an event.
  if (t.parents.some(keyedByReference)) return false;
  if (!t.display.length) return t.times.length > 0;
  return t.times.some((c) => typeof c.info.distinct_share === 'number' && c.info.distinct_share < 0.9);
}

/** Codes whose values read as words in a question (not bare numbers like source_type = 2). */
export function wordCodes(t: TableModel): ColumnModel[] {
  return groupableCodes(t).filter((c) => c.values.some((v) => !/^-?\d+(\.\d+)?$/.test(v)));
}

// ----------------------------------------------------------------------------------------------- SQL

/** FROM … JOIN … with short aliases and the live-row condition of every table joined. */
export class From {
  readonly #aliases = new Map<string, string>();
  readonly #taken = new Set<string>();
  readonly #parts: string[] = [];
  readonly live: string[] = [];
  readonly tables: TableModel[] = [];

  constructor(
    readonly base: TableModel,
    readonly aliased = true,
  ) {
    const a = this.#add(base);
    this.#parts.push(a ? `${base.ref} ${a}` : base.ref);
  }

  a(t: TableModel = this.base): string {
    const alias = this.#aliases.get(t.key);
    if (alias === undefined) throw new Error(`${t.key} is not joined`);
    return alias;
  }

  /** `alias.column`. */
  c(t: TableModel, column: ColumnModel | string): string {
    return col(this.a(t), column);
  }

  /** Joins the other side of a relationship (one side is already there). */
  join(rel: Relationship, kind: 'JOIN' | 'LEFT JOIN' = 'JOIN'): this {
    const adding = this.#aliases.has(rel.from.key) ? rel.to : rel.from;
    const alias = this.#add(adding);
    const on = [joinCondition(rel, this.a(rel.from), this.a(rel.to))];
    // A LEFT JOIN keeps its live filter in ON, so the unmatched rows stay.
    if (kind === 'LEFT JOIN') {
      const live = this.live.pop();
      if (live) on.push(live);
    }
    this.#parts.push(`${kind} ${adding.ref} ${alias} ON ${on.join(' AND ')}`);
    return this;
  }

  sql(): string {
    return `FROM ${this.#parts.join(' ')}`;
  }

  where(extra: Array<string | null | undefined> = []): string {
    const all = [...extra.filter((x): x is string => Boolean(x)), ...this.live];
    return all.length ? ` WHERE ${all.join(' AND ')}` : '';
  }

  #add(t: TableModel): string {
    this.tables.push(t);
    let alias = '';
    if (this.aliased) {
      const words = t.name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
      const meaningful = words.length > 1 && /^(t|tb|tbl|bss|sys|ods|dwd|dws|dim|ads|fact|app|biz|crm|erp)$/.test(words[0]!) ? words.slice(1) : words;
      alias = safeAlias(meaningful.map((w) => w[0]).join('') || 't', this.#taken);
    }
    this.#aliases.set(t.key, alias);
    const live = liveCondition(t, alias);
    if (live) this.live.push(live);
    return alias;
  }
}

/** Key and display columns of an entity, qualified. */
export function entityColumns(from: From, t: TableModel): string[] {
  return [t.keyColumn!, ...t.display.filter((d) => d !== t.keyColumn)].map((c) => from.c(t, c));
}

/** The live-row condition of a table in a subquery without alias. */
export function liveOf(t: TableModel, alias = ''): string | null {
  return liveCondition(t, alias);
}

export function lit(value: string): string {
  return literal(value);
}

/** A result column name that reads well and never needs quoting. */
export function outName(c: ColumnModel, prefix: string): string {
  const base = c.name.replace(/([a-z0-9])([A-Z])/g, '$1_$2').toLowerCase().replace(/[^a-z0-9]+/g, '_').replace(/^_|_$/g, '');
  return /^[a-z][a-z0-9_]*$/.test(base) ? `${prefix}_${base}` : prefix;
}

export function draft(partial: Omit<Draft, 'priority' | 'columns'> & { priority?: number; columns?: string[] }): Draft {
  return { priority: 0, columns: [], ...partial };
}

export function colKey(t: TableModel, c: ColumnModel): string {
  return `${t.key}.${c.name}`;
}
