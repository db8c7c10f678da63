// The offline pair synthesizer. From the catalog's column roles and relationships it drafts candidate
// question–SQL pairs for a theme — totals, top-N by a dimension, trends by day and month, distinct counts,
// filters on real enum values and sample values, joins along relationships (declared and inferred),
// soft-delete filters wherever a table has such a column, rankings, shares, running totals, month-over-
// month changes, per-group top-N, anti-joins — and the selector (selector.ts) picks a spread of them.
// Every identifier goes through ident() (quote_ident semantics); every value is a literal from the data
// (enum values, pg_stats, bounded samples), so filters match real rows. Deterministic for a seed.
import type { Lang } from '../../config.ts';
import { col, joinCondition, liveCondition, type CatalogModel, type ColumnModel, type Relationship, type TableModel } from './catalog.ts';
import { dayText, listText, monthText, named, plural, quoted, type Phrase } from './phrasing.ts';
import { ident, literal, safeAlias } from './sql-text.ts';
import type { Theme } from './types.ts';

export interface Draft {
  template: string;
  sql: string;
  phrase: Phrase;
  purpose: 'fact' | 'reference';
  /** Higher is drafted earlier in the selection. */
  priority: number;
  /** Table keys this draft uses (the selector prefers tables not covered yet). */
  tables: string[];
}

export function hashString(text: string): number {
  let h = 2166136261;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 16777619);
  }
  return h >>> 0;
}

// ------------------------------------------------------------------------------------------ SQL assembly

/** FROM … JOIN … with aliases (or none for a single table) and the live-row conditions of every table. */
class From {
  readonly aliases = new Map<string, string>();
  readonly #taken = new Set<string>();
  readonly #parts: string[] = [];
  readonly live: string[] = [];
  readonly tables: TableModel[] = [];

  constructor(
    readonly base: TableModel,
    readonly aliased: boolean,
    readonly prefixes: Set<string>,
  ) {
    const alias = this.#aliasFor(base);
    this.#parts.push(alias ? `${base.ref} ${alias}` : base.ref);
    this.#addLive(base, alias);
  }

  alias(table: TableModel): string {
    const a = this.aliases.get(table.key);
    if (a === undefined) throw new Error(`table ${table.key} is not in this FROM`);
    return a;
  }

  has(table: TableModel): boolean {
    return this.aliases.has(table.key);
  }

  /** Adds the other side of a relationship; one side must already be present. Returns the new alias. */
  join(rel: Relationship): string {
    const childIn = this.has(rel.from);
    const parentIn = this.has(rel.to);
    if (childIn && parentIn) return this.alias(childIn ? rel.to : rel.from);
    if (!childIn && !parentIn) throw new Error('join: neither side present');
    const adding = childIn ? rel.to : rel.from;
    const alias = this.#aliasFor(adding);
    const on = joinCondition(rel, this.alias(rel.from), this.alias(rel.to));
    this.#parts.push(`JOIN ${adding.ref} ${alias} ON ${on}`);
    this.#addLive(adding, alias);
    return alias;
  }

  /** Joins a chain of relationships walking from the base upwards (child → parent). */
  chain(rels: Relationship[]): string {
    let alias = this.alias(this.base);
    for (const rel of rels) alias = this.join(rel);
    return alias;
  }

  sql(): string {
    return `FROM ${this.#parts.join(' ')}`;
  }

  where(extra: Array<string | null | undefined> = []): string {
    const conditions = [...extra.filter((c): c is string => Boolean(c)), ...this.live];
    return conditions.length ? ` WHERE ${conditions.join(' AND ')}` : '';
  }

  #aliasFor(table: TableModel): string {
    this.tables.push(table);
    if (!this.aliased) {
      this.aliases.set(table.key, '');
      return '';
    }
    const parts = table.name.toLowerCase().split(/[^a-z0-9]+/).filter(Boolean);
    const meaningful = parts.length > 1 && this.prefixes.has(parts[0]!) ? parts.slice(1) : parts;
    const base = meaningful.map((p) => p[0]).join('') || 't';
    const alias = safeAlias(base, this.#taken);
    this.aliases.set(table.key, alias);
    return alias;
  }

  #addLive(table: TableModel, alias: string): void {
    const live = liveCondition(table, alias);
    if (live) this.live.push(live);
  }
}

// ------------------------------------------------------------------------------------------ the drafter

interface Dim {
  column: ColumnModel;
  table: TableModel;
  /** Relationships from the fact up to `table` (empty: the fact's own column). */
  path: Relationship[];
  noun: Record<Lang, string>;
}

const AVG_LIKE = /(price|rate|ratio|pct|percent|avg|average|score|temperature|age|单价|均价|比例|比率|率|平均|评分|温度|年龄)/i;

export class OfflineDrafter {
  readonly #drafts: Draft[] = [];
  readonly #prefixes: Set<string>;
  readonly #themeTables: Set<string>;

  constructor(
    readonly catalog: CatalogModel,
    readonly theme: Theme,
    readonly lang: Lang,
    readonly rand: () => number,
  ) {
    const counts = new Map<string, number>();
    for (const t of catalog.tables) {
      const first = t.name.toLowerCase().split(/[^a-z0-9]+/)[0];
      if (first) counts.set(first, (counts.get(first) ?? 0) + 1);
    }
    this.#prefixes = new Set([...counts.entries()].filter(([, n]) => n >= 2).map(([p]) => p));
    this.#themeTables = new Set(theme.tables);
  }

  drafts(): Draft[] {
    const tables = this.theme.tables.map((k) => this.catalog.table(k)).filter((t): t is TableModel => Boolean(t));
    for (const t of tables) {
      if (t.isFact) this.#factTemplates(t);
      else if (t.isLink) this.#linkTemplates(t);
      else this.#referenceTemplates(t);
    }
    this.#crossFactTemplates(tables.filter((t) => t.isFact));
    // Theme focus and anchor bias the priority; the selector does the rest.
    const anchor = this.theme.anchor;
    for (const d of this.#drafts) {
      if (anchor && d.tables.includes(anchor)) d.priority += 3;
      if (this.theme.focus === 'trend' && /trend|mom|running|moving|daily|weekday/.test(d.template)) d.priority += 6;
      if (this.theme.focus === 'structure' && /share|enum|avg_by|compare|top_per|distinct|above/.test(d.template)) d.priority += 6;
      d.priority += this.rand() * 2; // seeded variety among equals
    }
    return this.#drafts;
  }

  // ---------------------------------------------------------------------------------- helpers

  #t(zh: string, en: string): Record<Lang, string> {
    return { zh, en };
  }

  #push(template: string, from: From | TableModel[], sql: string, phrase: Phrase, purpose: Draft['purpose'], priority: number): void {
    const tables = Array.isArray(from) ? from : from.tables;
    this.#drafts.push({ template, sql: `${sql};`, phrase, purpose, priority, tables: [...new Set(tables.map((t) => t.key))] });
  }

  #from(base: TableModel, aliased: boolean): From {
    return new From(base, aliased, this.#prefixes);
  }

  #inTheme(t: TableModel): boolean {
    return this.#themeTables.has(t.key);
  }

  #pick<T>(items: T[]): T | undefined {
    if (items.length === 0) return undefined;
    return items[Math.floor(this.rand() * items.length)];
  }

  /** Real values of a column, test-looking ones last. */
  #values(c: ColumnModel): string[] {
    const raw = [...c.values, ...c.info.sample_values, ...(c.info.stats?.most_common_vals ?? [])].filter((v) => typeof v === 'string' && v.trim() !== '' && v.length <= 80);
    const unique = [...new Set(raw)];
    const clean = unique.filter((v) => !/测试|test|demo|临时|tmp|dummy/i.test(v));
    return clean.length ? clean : unique;
  }

  #value(c: ColumnModel): string | undefined {
    const values = this.#values(c);
    return this.#pick(values.slice(0, 8));
  }

  #days(t: ColumnModel): string[] {
    return [...new Set(this.#values(t).map((v) => /^(\d{4}-\d{2}-\d{2})/.exec(v)?.[1]).filter((v): v is string => Boolean(v)))].sort();
  }

  #month(t: ColumnModel): { from: string; to: string; text: string } | undefined {
    const day = this.#pick(this.#days(t));
    if (!day) return undefined;
    const [y, m] = day.split('-').map(Number) as [number, number];
    const next = m === 12 ? `${y + 1}-01-01` : `${y}-${String(m + 1).padStart(2, '0')}-01`;
    const first = `${y}-${String(m).padStart(2, '0')}-01`;
    return { from: first, to: next, text: monthText(first.slice(0, 7), this.lang) };
  }

  #monthCondition(alias: string, t: ColumnModel, month: { from: string; to: string }): string {
    return `${col(alias, t)} >= ${literal(month.from)} AND ${col(alias, t)} < ${literal(month.to)}`;
  }

  /** The day of a time column as an expression (dates as they are, timestamps cast). */
  #dayExpr(alias: string, t: ColumnModel): string {
    return t.info.udt_name === 'date' ? col(alias, t) : `${col(alias, t)}::date`;
  }

  #agg(m: ColumnModel): 'SUM' | 'AVG' {
    return AVG_LIKE.test(`${m.name} ${m.info.comment ?? ''}`) ? 'AVG' : 'SUM';
  }

  #aggExpr(alias: string, m: ColumnModel): string {
    return this.#agg(m) === 'AVG' ? `ROUND(AVG(${col(alias, m)}), 2)` : `SUM(${col(alias, m)})`;
  }

  /** 支付总金额合计 / total pay sum; 平均单价 / average unit price. */
  #aggLabel(m: ColumnModel): Record<Lang, string> {
    if (this.#agg(m) === 'AVG') return this.#t(`平均${m.label.zh}`, `average ${m.label.en}`);
    return this.#t(/(合计|总计)$/.test(m.label.zh) ? m.label.zh : `${m.label.zh}合计`, `total ${m.label.en}`);
  }

  #outName(prefix: string, c: ColumnModel | string): string {
    const name = typeof c === 'string' ? c : c.name;
    const ascii = name.toLowerCase().replace(/[^a-z0-9_]+/g, '_').replace(/^_+|_+$/g, '');
    return ident(ascii ? `${prefix}${prefix ? '_' : ''}${ascii}` : prefix || 'value');
  }

  /** What a fact's rows are about, e.g. 所有服务区 / all service areas, or the table label. */
  #allOf(f: TableModel): Record<Lang, string> {
    if (f.names.length) return this.#t(`所有${f.names[0]!.noun!.zh}`, `all ${plural(f.names[0]!.noun!.en)}`);
    return this.#t(f.label.zh, f.label.en);
  }

  /** The noun for rows of `child` counted under `parent` (its label when the nouns collide). */
  #thing(child: TableModel, parent?: TableModel): Record<Lang, string> {
    if (parent && child.noun.zh === parent.noun.zh) return child.label;
    return child.noun;
  }

  #shuffle<T>(items: T[]): T[] {
    const out = [...items];
    for (let i = out.length - 1; i > 0; i--) {
      const j = Math.floor(this.rand() * (i + 1));
      [out[i], out[j]] = [out[j]!, out[i]!];
    }
    return out;
  }

  /** Dimensions of a fact: its own enums and names, and the names of the tables it references (≤ 2 hops). */
  #dims(f: TableModel): { own: Dim[]; parents: Dim[] } {
    const own: Dim[] = [];
    for (const e of f.enums) if (e.hasComment) own.push({ column: e, table: f, path: [], noun: e.label });
    for (const n of f.names) own.push({ column: n, table: f, path: [], noun: n.noun! });
    const parents: Dim[] = [];
    for (const rel of f.parents) {
      const p = rel.to;
      if (p.names[0]) parents.push({ column: p.names[0], table: p, path: [rel], noun: p.names[0].noun! });
      for (const e of p.enums) if (e.hasComment) parents.push({ column: e, table: p, path: [rel], noun: e.label });
      for (const rel2 of p.parents) {
        const g = rel2.to;
        if (g === f || !g.names[0]) continue;
        parents.push({ column: g.names[0], table: g, path: [rel, rel2], noun: g.names[0].noun! });
      }
    }
    return { own, parents: parents.filter((d) => d.path.every((r) => this.#inTheme(r.to))) };
  }

  // ---------------------------------------------------------------------------------- fact tables

  #factTemplates(f: TableModel): void {
    const L = this.lang;
    const t = f.times[0];
    const { own, parents } = this.#dims(f);
    const names = f.names.slice(0, 2);
    const allOf = this.#allOf(f);
    const ownEnums = own.filter((d) => d.column.role === 'enum');

    // Several measures give several variants; the selector spreads them.
    const measures = this.#shuffle(f.measures.slice(0, 4));
    for (let variant = 0; variant < measures.length; variant++) {
      const m = measures[variant]!;
      const m2 = measures.find((x) => x !== m && x.hasComment && this.#agg(x) === this.#agg(m));
      const aggL = this.#aggLabel(m);
      const totalName = this.#outName(this.#agg(m) === 'AVG' ? 'avg' : 'total', m);

      // -- aggregate, single table
      {
        const from = this.#from(f, false);
        const cols = [`${this.#aggExpr('', m)} AS ${totalName}`];
        if (m2) cols.push(`${this.#aggExpr('', m2)} AS ${this.#outName(this.#agg(m2) === 'AVG' ? 'avg' : 'total', m2)}`);
        const what = m2 ? listText([aggL[L], this.#aggLabel(m2)[L]], L) : aggL[L];
        this.#push(`fact.total${m2 ? '2' : ''}`, from, `SELECT ${cols.join(', ')} ${from.sql()}${from.where()}`, { kind: 'value', zh: `${allOf.zh}的${what}`, en: `the ${what} across ${allOf.en}` }, 'fact', 4);
      }
      {
        const from = this.#from(f, false);
        this.#push(
          'fact.min_max_avg',
          from,
          `SELECT MIN(${ident(m.name)}) AS ${this.#outName('min', m)}, MAX(${ident(m.name)}) AS ${this.#outName('max', m)}, ROUND(AVG(${ident(m.name)}), 2) AS ${this.#outName('avg', m)} ${from.sql()}${from.where()}`,
          { kind: 'value', zh: `单条记录${m.label.zh}的最小值、最大值和平均值`, en: `the minimum, maximum and average ${m.label.en} per record` },
          'fact',
          2,
        );
      }
      if (t) {
        const month = this.#month(t);
        if (month) {
          const from = this.#from(f, false);
          this.#push('fact.month_total', from, `SELECT ${this.#aggExpr('', m)} AS ${totalName} ${from.sql()}${from.where([this.#monthCondition('', t, month)])}`, { kind: 'value', zh: `${month.text}${allOf.zh}的${aggL.zh}`, en: `the ${aggL.en} across ${allOf.en} in ${month.text}` }, 'fact', 5);
          const daily = this.#from(f, false);
          this.#push(
            'fact.daily_trend',
            daily,
            `SELECT ${this.#dayExpr('', t)} AS ${ident('day')}, ${this.#aggExpr('', m)} AS ${totalName} ${daily.sql()}${daily.where([this.#monthCondition('', t, month)])} GROUP BY ${this.#dayExpr('', t)} ORDER BY ${ident('day')}`,
            { kind: 'trend', zh: `${month.text}每天的${aggL.zh}`, en: `the daily ${aggL.en} in ${month.text}` },
            'fact',
            7,
          );
          const n = names[0];
          if (n) {
            const dc = this.#from(f, false);
            this.#push('fact.distinct_in_month', dc, `SELECT COUNT(DISTINCT ${ident(n.name)}) AS ${this.#outName('count', n)} ${dc.sql()}${dc.where([this.#monthCondition('', t, month)])}`, { kind: 'value', zh: `${month.text}有记录的${n.noun!.zh}数量`, en: `the number of ${plural(n.noun!.en)} with records in ${month.text}` }, 'fact', 5);
          }
          const e = this.#pick(ownEnums);
          if (e) {
            const fe = this.#from(f, false);
            this.#push(
              'fact.enum_month',
              fe,
              `SELECT ${ident(e.column.name)}, ${this.#aggExpr('', m)} AS ${totalName} ${fe.sql()}${fe.where([this.#monthCondition('', t, month)])} GROUP BY ${ident(e.column.name)} ORDER BY ${totalName} DESC`,
              { kind: 'value', zh: `${month.text}各${e.noun.zh}的${aggL.zh}`, en: `the ${aggL.en} per ${e.noun.en} in ${month.text}` },
              'fact',
              5,
            );
          }
          // running total within the month
          const run = this.#from(f, false);
          this.#push(
            'fact.running',
            run,
            `SELECT ${this.#dayExpr('', t)} AS ${ident('day')}, ${this.#aggExpr('', m)} AS ${this.#outName('daily', m)}, SUM(${this.#aggExpr('', m)}) OVER (ORDER BY ${this.#dayExpr('', t)}) AS ${this.#outName('running', m)} ${run.sql()}${run.where([this.#monthCondition('', t, month)])} GROUP BY ${this.#dayExpr('', t)} ORDER BY ${ident('day')}`,
            { kind: 'trend', zh: `${month.text}每天的${aggL.zh}及月内累计值`, en: `the daily ${aggL.en} and its running total in ${month.text}` },
            'fact',
            7,
          );
        }
        const trend = this.#from(f, false);
        this.#push(
          'fact.monthly_trend',
          trend,
          `SELECT to_char(${ident(t.name)}, 'YYYY-MM') AS ${ident('month')}, ${this.#aggExpr('', m)} AS ${totalName} ${trend.sql()}${trend.where()} GROUP BY to_char(${ident(t.name)}, 'YYYY-MM') ORDER BY ${ident('month')}`,
          { kind: 'trend', zh: `${aggL.zh}的按月变化趋势`, en: `the monthly trend of the ${aggL.en}` },
          'fact',
          8,
        );
        const mom = this.#from(f, false);
        const lag = `LAG(total) OVER (ORDER BY ${ident('month')})`;
        this.#push(
          'fact.mom',
          mom,
          `WITH monthly AS (SELECT to_char(${ident(t.name)}, 'YYYY-MM') AS ${ident('month')}, ${this.#aggExpr('', m)} AS total ${mom.sql()}${mom.where()} GROUP BY to_char(${ident(t.name)}, 'YYYY-MM')) SELECT ${ident('month')}, total, total - ${lag} AS change, ROUND((total - ${lag}) * 100.0 / NULLIF(${lag}, 0), 2) AS change_pct FROM monthly ORDER BY ${ident('month')}`,
          { kind: 'trend', zh: `${aggL.zh}的月度环比变化`, en: `the month-over-month change of the ${aggL.en}` },
          'fact',
          8,
        );
        const mv = this.#from(f, false);
        this.#push(
          'fact.moving_avg',
          mv,
          `WITH daily AS (SELECT ${this.#dayExpr('', t)} AS ${ident('day')}, ${this.#aggExpr('', m)} AS total ${mv.sql()}${mv.where()} GROUP BY ${this.#dayExpr('', t)}) SELECT ${ident('day')}, total, ROUND(AVG(total) OVER (ORDER BY ${ident('day')} ROWS BETWEEN 6 PRECEDING AND CURRENT ROW), 2) AS avg_7d FROM daily WHERE ${ident('day')} > (SELECT MAX(${ident('day')}) FROM daily) - 30 ORDER BY ${ident('day')}`,
          { kind: 'trend', zh: `数据中最近30天每天的${aggL.zh}及其7日移动平均`, en: `the daily ${aggL.en} over the last 30 days in the data, with a 7-day moving average` },
          'fact',
          6,
        );
        const wk = this.#from(f, false);
        const [weekend, weekday] = L === 'zh' ? ['周末', '工作日'] : ['weekend', 'weekday'];
        this.#push(
          'fact.weekday',
          wk,
          `WITH daily AS (SELECT ${this.#dayExpr('', t)} AS ${ident('day')}, ${this.#aggExpr('', m)} AS total ${wk.sql()}${wk.where()} GROUP BY ${this.#dayExpr('', t)}) SELECT CASE WHEN EXTRACT(ISODOW FROM ${ident('day')}) IN (6, 7) THEN ${literal(weekend)} ELSE ${literal(weekday)} END AS day_type, ROUND(AVG(total), 2) AS avg_daily_total FROM daily GROUP BY 1 ORDER BY 1`,
          { kind: 'compare', zh: `工作日与周末的日均${aggL.zh}`, en: `weekdays and weekends by average daily ${aggL.en}` },
          'fact',
          5,
        );
        if (names.length) {
          const latest = this.#from(f, false);
          this.#push(
            'fact.latest_day',
            latest,
            `SELECT ${names.map((n) => ident(n.name)).join(', ')}, ${ident(m.name)} ${latest.sql()}${latest.where([`${ident(t.name)} = (SELECT MAX(${ident(t.name)}) FROM ${f.ref}${liveCondition(f, '') ? ` WHERE ${liveCondition(f, '')}` : ''})`])} ORDER BY ${ident(m.name)} DESC`,
            { kind: 'list', zh: `最近一个${t.label.zh}各${names.map((n) => n.noun!.zh).join('、')}的${m.label.zh}`, en: `the ${m.label.en} of each ${names.map((n) => n.noun!.en).join(' and ')} on the latest ${t.label.en}` },
            'fact',
            4,
          );
          const n = names[0]!;
          const x = this.#value(n);
          const day = this.#pick(this.#days(t));
          if (x && day) {
            const rest = names.slice(1);
            const shown = [...rest.map((r) => ident(r.name)), ident(m.name), ...(m2 ? [ident(m2.name)] : [])];
            const dd = this.#from(f, false);
            this.#push(
              'fact.day_entity',
              dd,
              `SELECT ${shown.join(', ')} ${dd.sql()}${dd.where([`${ident(t.name)} = ${literal(day)}`, `${ident(n.name)} = ${literal(x)}`])} ORDER BY ${ident(m.name)} DESC`,
              {
                kind: 'list',
                zh: `${dayText(day, 'zh')}${x}${rest.length ? `各${rest.map((r) => r.noun!.zh).join('、')}` : ''}的${listText([m.label.zh, ...(m2 ? [m2.label.zh] : [])], 'zh')}`,
                en: `the ${listText([m.label.en, ...(m2 ? [m2.label.en] : [])], 'en')} of ${x}${rest.length ? ` per ${rest.map((r) => r.noun!.en).join(' and ')}` : ''} on ${dayText(day, 'en')}`,
              },
              'fact',
              5,
            );
          }
        }
      }
      // -- single table listing with a threshold from the data
      const samples = this.#values(m).map(Number).filter((v) => Number.isFinite(v) && v > 0);
      if (samples.length && names.length) {
        const top = Math.max(...samples);
        const magnitude = 10 ** Math.max(0, Math.floor(Math.log10(top)) - 1);
        const threshold = Math.floor(top / magnitude) * magnitude;
        const th = this.#from(f, false);
        const cols = [...(t ? [ident(t.name)] : []), ...names.map((n) => ident(n.name)), ident(m.name)];
        this.#push(
          'fact.threshold',
          th,
          `SELECT ${cols.join(', ')} ${th.sql()}${th.where([`${ident(m.name)} >= ${threshold}`])} ORDER BY ${ident(m.name)} DESC LIMIT 20`,
          { kind: 'list', zh: `${m.label.zh}不低于${threshold}的记录（按${m.label.zh}从高到低取前20条）`, en: `the records with ${m.label.en} of at least ${threshold} (top 20 by ${m.label.en})` },
          'fact',
          4,
        );
        const tr = this.#from(f, false);
        this.#push(
          'fact.top_rows',
          tr,
          `SELECT ${cols.join(', ')} ${tr.sql()}${tr.where([`${ident(m.name)} IS NOT NULL`])} ORDER BY ${ident(m.name)} DESC LIMIT 10`,
          { kind: 'rank', zh: `${m.label.zh}最高的10条记录`, en: `the 10 records with the highest ${m.label.en}` },
          'fact',
          3,
        );
      }

      // -- by own dimension: top-N, average by enum, rank, share, above average
      for (const d of own) {
        const key = ident(d.column.name);
        const top = this.#from(f, false);
        this.#push(
          'fact.top_dim',
          top,
          `SELECT ${key}, ${this.#aggExpr('', m)} AS ${totalName} ${top.sql()}${top.where()} GROUP BY ${key} ORDER BY ${totalName} DESC LIMIT 5`,
          { kind: 'rank', zh: `${aggL.zh}排名前5的${d.noun.zh}`, en: `the top 5 ${d.noun.en} values by ${aggL.en}` },
          'fact',
          6,
        );
        if (d.column.role === 'enum' && this.#agg(m) === 'SUM') {
          const avg = this.#from(f, false);
          this.#push(
            'fact.avg_by_enum',
            avg,
            `SELECT ${key}, ROUND(AVG(${ident(m.name)}), 2) AS ${this.#outName('avg', m)} ${avg.sql()}${avg.where()} GROUP BY ${key} ORDER BY ${this.#outName('avg', m)} DESC`,
            { kind: 'compare', zh: `不同${d.noun.zh}的平均${m.label.zh}`, en: `the average ${m.label.en} across ${d.noun.en} values` },
            'fact',
            5,
          );
        }
        this.#windowByDim(f, d, m, variant);
      }

      // -- joined: along the relationships
      for (const d of parents) {
        const from = this.#from(f, true);
        const alias = from.chain(d.path);
        const fa = from.alias(f);
        const key = col(alias, d.column);
        if (d.column.role === 'name') {
          this.#push(
            d.path.length === 1 ? 'fact.parent_top' : 'fact.grandparent_total',
            from,
            `SELECT ${key}, ${this.#aggExpr(fa, m)} AS ${totalName} ${from.sql()}${from.where()} GROUP BY ${key} ORDER BY ${totalName} DESC${d.path.length === 1 ? ' LIMIT 10' : ''}`,
            d.path.length === 1
              ? { kind: 'rank', zh: `${aggL.zh}最高的10个${d.noun.zh}`, en: `the 10 ${plural(d.noun.en)} with the highest ${aggL.en}` }
              : { kind: 'value', zh: `各${d.noun.zh}的${aggL.zh}`, en: `the ${aggL.en} per ${d.noun.en}` },
            'fact',
            d.path.length === 1 ? 7 : 8,
          );
        } else {
          // an enum of the referenced table: filter on one real value
          const v = this.#value(d.column);
          const pn = d.table.names[0];
          if (v && pn) {
            const f2 = this.#from(f, true);
            const a2 = f2.chain(d.path);
            const fa2 = f2.alias(f);
            this.#push(
              'fact.parent_enum_filter',
              f2,
              `SELECT ${col(a2, pn)}, ${this.#aggExpr(fa2, m)} AS ${totalName} ${f2.sql()}${f2.where([`${col(a2, d.column)} = ${literal(v)}`])} GROUP BY ${col(a2, pn)} ORDER BY ${totalName} DESC`,
              { kind: 'value', zh: `${d.column.label.zh}为${quoted(v, 'zh')}的各${pn.noun!.zh}${aggL.zh}`, en: `the ${aggL.en} of each ${pn.noun!.en} whose ${d.column.label.en} is ${quoted(v, 'en')}` },
              'fact',
              7,
            );
          }
          const f3 = this.#from(f, true);
          const a3 = f3.chain(d.path);
          this.#push(
            'fact.parent_enum_group',
            f3,
            `SELECT ${col(a3, d.column)}, ${this.#aggExpr(f3.alias(f), m)} AS ${totalName} ${f3.sql()}${f3.where()} GROUP BY ${col(a3, d.column)} ORDER BY ${totalName} DESC`,
            { kind: 'compare', zh: `不同${d.noun.zh}的${aggL.zh}`, en: `the ${aggL.en} across ${d.noun.en} values` },
            'fact',
            6,
          );
        }
        this.#windowByDim(f, d, m, variant);
      }

      // joined listing of the top rows with the name of what they belong to (no aggregation)
      for (const d of parents.filter((x) => x.column.role === 'name' && x.path.length === 1).slice(0, 1)) {
        const from = this.#from(f, true);
        const pa = from.chain(d.path);
        const fa = from.alias(f);
        const own = [...names.slice(-1), ...ownEnums.slice(0, 1).map((e) => e.column)].map((c) => col(fa, c));
        this.#push(
          'fact.join_top_rows',
          from,
          `SELECT ${[col(pa, d.column), ...own, col(fa, m)].join(', ')} ${from.sql()}${from.where([`${col(fa, m)} IS NOT NULL`])} ORDER BY ${col(fa, m)} DESC LIMIT 10`,
          { kind: 'rank', zh: `${m.label.zh}最高的10条${f.label.zh}记录及其所属${d.noun.zh}`, en: `the 10 ${f.label.en} records with the highest ${m.label.en}, with their ${d.noun.en}` },
          'fact',
          6,
        );
      }

      // joined listing for one day and one parent (no aggregation)
      const nameDims = parents.filter((d) => d.column.role === 'name');
      const top = nameDims.find((d) => d.path.length === 2) ?? nameDims[0];
      if (t && top) {
        const x = this.#value(top.column);
        const day = this.#pick(this.#days(t));
        if (x && day) {
          const from = this.#from(f, true);
          const ta = from.chain(top.path);
          const fa = from.alias(f);
          const mid = top.path.length === 2 ? top.path[0]!.to : undefined;
          const midName = mid?.names[0];
          const shown = [
            ...(midName ? [col(from.alias(mid!), midName)] : []),
            ...ownEnums.slice(0, 1).map((e) => col(fa, e.column)),
            ...names.slice(-1).map((n) => col(fa, n)),
            col(fa, m),
          ];
          this.#push(
            'fact.join_day_list',
            from,
            `SELECT ${shown.join(', ')} ${from.sql()}${from.where([`${col(fa, t)} = ${literal(day)}`, `${col(ta, top.column)} = ${literal(x)}`])} ORDER BY ${col(fa, m)} DESC`,
            {
              kind: 'list',
              zh: `${dayText(day, 'zh')}${named(top.noun, x, 'zh')}${midName ? `下属各${midName.noun!.zh}` : ''}${ownEnums[0] ? `按${ownEnums[0].noun.zh}` : ''}的${m.label.zh}明细`,
              en: `the ${m.label.en} details of ${named(top.noun, x, 'en')}${midName ? ` by ${midName.noun!.en}` : ''}${ownEnums[0] ? ` and ${ownEnums[0].noun.en}` : ''} on ${dayText(day, 'en')}`,
            },
            'fact',
            6,
          );
        }
        // month × parent × own enum
        const e = ownEnums[0];
        const month = this.#month(t);
        if (e && month) {
          const from2 = this.#from(f, true);
          const ta2 = from2.chain(top.path);
          const fa2 = from2.alias(f);
          this.#push(
            'fact.join_month_enum',
            from2,
            `SELECT ${col(ta2, top.column)}, ${col(fa2, e.column)}, ${this.#aggExpr(fa2, m)} AS ${totalName} ${from2.sql()}${from2.where([this.#monthCondition(fa2, t, month)])} GROUP BY ${col(ta2, top.column)}, ${col(fa2, e.column)} ORDER BY ${col(ta2, top.column)}, ${totalName} DESC`,
            { kind: 'value', zh: `${month.text}各${top.noun.zh}不同${e.noun.zh}的${aggL.zh}`, en: `the ${aggL.en} per ${top.noun.en} and ${e.noun.en} in ${month.text}` },
            'fact',
            7,
          );
        }
      }

      // per-group top 3: partition by the upper level (grandparent or own enum), rank the parents
      const p1 = nameDims.find((d) => d.path.length === 1);
      const g = nameDims.find((d) => d.path.length === 2 && d.path[0] === p1?.path[0]);
      const partitionBy = g ?? (ownEnums[0] && p1 ? ownEnums[0] : undefined);
      if (p1 && partitionBy) {
        const from = this.#from(f, true);
        const pa = from.chain(p1.path);
        const ga = partitionBy.path.length ? from.chain(partitionBy.path) : from.alias(f);
        const fa = from.alias(f);
        const gExpr = col(ga, partitionBy.column);
        const pExpr = col(pa, p1.column);
        this.#push(
          'fact.top_per_group',
          from,
          `WITH ranked AS (SELECT ${gExpr} AS group_name, ${pExpr} AS item_name, ${this.#aggExpr(fa, m)} AS total, ROW_NUMBER() OVER (PARTITION BY ${gExpr} ORDER BY ${this.#aggExpr(fa, m)} DESC) AS rn ${from.sql()}${from.where()} GROUP BY ${gExpr}, ${pExpr}) SELECT group_name, item_name, total FROM ranked WHERE rn <= 3 ORDER BY group_name, rn`,
          {
            kind: 'rank',
            zh: `每个${partitionBy.noun.zh}中${aggL.zh}最高的3个${p1.noun.zh}`,
            en: `the top 3 ${plural(p1.noun.en)} by ${aggL.en} within each ${partitionBy.noun.en}`,
          },
          'fact',
          8,
        );
      }
    }

    // share of a total measure
    const total = f.measures.find((m) => /(sum|total)/i.test(m.name) || /总/.test(m.label.zh));
    if (total && this.#agg(total) === 'SUM') {
      const sameKind = (m: ColumnModel) => m.label.zh.slice(-2) === total.label.zh.slice(-2) || m.name.split('_').some((w) => w.length > 2 && total.name.split('_').includes(w));
      const part = this.#pick(f.measures.filter((m) => m !== total && m.hasComment && m.info.udt_name === total.info.udt_name && sameKind(m)));
      if (part) {
        const from = this.#from(f, false);
        this.#push(
          'fact.share',
          from,
          `SELECT ROUND(SUM(${ident(part.name)}) * 100.0 / NULLIF(SUM(${ident(total.name)}), 0), 2) AS ${this.#outName('pct', part)} ${from.sql()}${from.where()}`,
          { kind: 'value', zh: `${part.label.zh}占${total.label.zh}的比例（%）`, en: `the share of ${part.label.en} in ${total.label.en} (%)` },
          'fact',
          5,
        );
      }
    }
  }

  /** Window and CTE questions over a dimension of a fact (own or referenced). */
  #windowByDim(f: TableModel, d: Dim, m: ColumnModel, variant: number): void {
    const aggL = this.#aggLabel(m);
    const make = () => {
      const from = this.#from(f, d.path.length > 0);
      const alias = d.path.length ? from.chain(d.path) : '';
      return { from, key: col(alias, d.column), agg: this.#aggExpr(from.alias(f), m), fa: from.alias(f) };
    };
    const tag = d.path.length ? 'join' : 'own';
    {
      const { from, key, agg } = make();
      this.#push(
        `fact.rank_window.${tag}`,
        from,
        `SELECT ${key}, ${agg} AS total, RANK() OVER (ORDER BY ${agg} DESC) AS rnk ${from.sql()}${from.where()} GROUP BY ${key} ORDER BY rnk`,
        { kind: 'rank', zh: `各${d.noun.zh}的${aggL.zh}及排名`, en: `each ${d.noun.en} with its ${aggL.en} and rank` },
        'fact',
        6 - variant,
      );
    }
    if (this.#agg(m) === 'SUM') {
      const { from, key, agg } = make();
      this.#push(
        `fact.share_window.${tag}`,
        from,
        `SELECT ${key}, ${agg} AS total, ROUND(${agg} * 100.0 / SUM(${agg}) OVER (), 2) AS share_pct ${from.sql()}${from.where()} GROUP BY ${key} ORDER BY total DESC`,
        { kind: 'value', zh: `各${d.noun.zh}的${aggL.zh}及其占比`, en: `the ${aggL.en} of each ${d.noun.en} and its share of the whole` },
        'fact',
        6 - variant,
      );
    }
    {
      const { from, key, agg } = make();
      this.#push(
        `fact.above_avg.${tag}`,
        from,
        `WITH per_group AS (SELECT ${key} AS name, ${agg} AS total ${from.sql()}${from.where()} GROUP BY ${key}) SELECT name, total FROM per_group WHERE total > (SELECT AVG(total) FROM per_group) ORDER BY total DESC`,
        { kind: 'list', zh: `${aggL.zh}高于平均水平的${d.noun.zh}`, en: `the ${plural(d.noun.en)} whose ${aggL.en} is above average` },
        'fact',
        5 - variant,
      );
    }
  }

  /** Two facts that reference the same table: a ratio per parent (e.g. revenue per vehicle). */
  #crossFactTemplates(facts: TableModel[]): void {
    const L = this.lang;
    const all = this.catalog.tables.filter((t) => t.isFact);
    for (const f1 of facts) {
      for (const f2 of all) {
        if (f2 === f1) continue;
        for (const r1 of f1.parents) {
          const r2 = f2.parents.find((r) => r.to === r1.to);
          const p = r1.to;
          const pn = p.names[0];
          if (!r2 || !pn || !f1.times[0] || !f2.times[0]) continue;
          const m1 = f1.measures[0]!;
          const m2 = f2.measures[0]!;
          if (this.#agg(m1) !== 'SUM' || this.#agg(m2) !== 'SUM') continue;
          const month = this.#month(f1.times[0]);
          if (!month) continue;
          const a = this.#from(f1, true);
          const aa = a.chain([r1]);
          const b = this.#from(f2, true);
          const ba = b.chain([r2]);
          const l1 = this.#aggLabel(m1);
          const l2 = this.#aggLabel(m2);
          const sql =
            `WITH a AS (SELECT ${col(aa, pn)} AS name, SUM(${col(a.alias(f1), m1)}) AS total_a ${a.sql()}${a.where([this.#monthCondition(a.alias(f1), f1.times[0], month)])} GROUP BY ${col(aa, pn)}), ` +
            `b AS (SELECT ${col(ba, pn)} AS name, SUM(${col(b.alias(f2), m2)}) AS total_b ${b.sql()}${b.where([this.#monthCondition(b.alias(f2), f2.times[0], month)])} GROUP BY ${col(ba, pn)}) ` +
            `SELECT a.name, a.total_a, b.total_b, ROUND(a.total_a / NULLIF(b.total_b, 0), 2) AS ratio FROM a JOIN b ON b.name = a.name ORDER BY ratio DESC`;
          const draft: Draft = {
            template: 'fact.cross_ratio',
            sql: `${sql};`,
            phrase: {
              kind: 'value',
              zh: `${month.text}各${pn.noun!.zh}的${l1.zh}与${l2.zh}之比（从高到低）`,
              en: `the ratio of ${l1.en} to ${l2.en} per ${pn.noun!.en} in ${month.text}, highest first`,
            },
            purpose: 'fact',
            priority: 8,
            tables: [...new Set([...a.tables, ...b.tables].map((t) => t.key))],
          };
          void L;
          this.#drafts.push(draft);
          return;
        }
      }
    }
  }

  // ---------------------------------------------------------------------------------- reference tables

  #referenceTemplates(t: TableModel): void {
    const L = this.lang;
    const n = t.names[0];
    const enums = t.enums.filter((e) => e.hasComment || t.enums.length === 1);
    const noun = t.noun;

    for (const e of enums.slice(0, 3)) {
      const v = this.#value(e);
      if (n && v) {
        const from = this.#from(t, false);
        const shown = [ident(n.name), ...t.codes.slice(0, 1).map((c) => ident(c.name))];
        this.#push(
          'ref.list_enum',
          from,
          `SELECT ${shown.join(', ')} ${from.sql()}${from.where([`${ident(e.name)} = ${literal(v)}`])} ORDER BY ${ident(n.name)}`,
          { kind: 'list', zh: `${e.label.zh}为${quoted(v, 'zh')}的${noun.zh}`, en: `the ${plural(noun.en)} whose ${e.label.en} is ${quoted(v, 'en')}` },
          'reference',
          6,
        );
      }
      const cnt = this.#from(t, false);
      this.#push(
        'ref.count_by_enum',
        cnt,
        `SELECT ${ident(e.name)}, COUNT(*) AS record_count ${cnt.sql()}${cnt.where()} GROUP BY ${ident(e.name)} ORDER BY record_count DESC`,
        { kind: 'value', zh: `各${e.label.zh}的${this.#thing(t).zh}数量`, en: `the number of ${plural(this.#thing(t).en)} per ${e.label.en}` },
        'reference',
        6,
      );
      const dist = this.#from(t, false);
      this.#push(
        'ref.distinct_enum',
        dist,
        `SELECT DISTINCT ${ident(e.name)} ${dist.sql()}${dist.where([`${ident(e.name)} IS NOT NULL`])} ORDER BY ${ident(e.name)}`,
        { kind: 'list', zh: `${noun.zh}的所有${e.label.zh}`, en: `all distinct ${e.label.en} values of ${plural(noun.en)}` },
        'reference',
        3,
      );
      const share = this.#from(t, false);
      this.#push(
        'ref.enum_share_window',
        share,
        `SELECT ${ident(e.name)}, COUNT(*) AS record_count, ROUND(COUNT(*) * 100.0 / SUM(COUNT(*)) OVER (), 2) AS share_pct ${share.sql()}${share.where()} GROUP BY ${ident(e.name)} ORDER BY record_count DESC`,
        { kind: 'value', zh: `各${e.label.zh}的${this.#thing(t).zh}数量及占比`, en: `the number and share of ${plural(this.#thing(t).en)} per ${e.label.en}` },
        'reference',
        6,
      );
    }
    if (n) {
      // columns left empty
      const nullable = t.columns.find((c) => ['enum', 'text', 'code', 'name'].includes(c.role) && c !== n && c.hasComment && (c.info.stats?.null_frac ?? 0) > 0);
      if (nullable) {
        const from = this.#from(t, false);
        this.#push(
          'ref.null',
          from,
          `SELECT ${ident(n.name)} ${from.sql()}${from.where([`${ident(nullable.name)} IS NULL`])} ORDER BY ${ident(n.name)}`,
          { kind: 'list', zh: `未填写${nullable.label.zh}的${noun.zh}`, en: `the ${plural(noun.en)} with no ${nullable.label.en}` },
          'reference',
          4,
        );
      }
      // one entity's details
      const x = this.#value(n);
      const details = [...t.codes, ...t.enums, ...t.names.slice(1)].filter((c) => c.hasComment).slice(0, 3);
      if (x && details.length) {
        const from = this.#from(t, false);
        this.#push(
          'ref.lookup',
          from,
          `SELECT ${[n, ...details].map((c) => ident(c.name)).join(', ')} ${from.sql()}${from.where([`${ident(n.name)} = ${literal(x)}`])}`,
          { kind: 'list', zh: `${x}的${listText(details.map((c) => c.label.zh), 'zh')}`, en: `the ${listText(details.map((c) => c.label.en), 'en')} of ${x}` },
          'reference',
          4,
        );
      }
      // a second name column that groups the first (e.g. route → sections)
      const group = t.names.slice(1).find((c) => c.values.length >= 2);
      if (group) {
        const from = this.#from(t, false);
        this.#push(
          'ref.group_count',
          from,
          `SELECT ${ident(group.name)}, COUNT(*) AS record_count ${from.sql()}${from.where()} GROUP BY ${ident(group.name)} ORDER BY record_count DESC`,
          { kind: 'value', zh: `每个${group.noun!.zh}包含的${noun.zh}数量`, en: `the number of ${plural(noun.en)} per ${group.noun!.en}` },
          'reference',
          5,
        );
      }
    }
    {
      const from = this.#from(t, false);
      this.#push('ref.count_total', from, `SELECT COUNT(*) AS record_count ${from.sql()}${from.where()}`, { kind: 'value', zh: `${this.#thing(t).zh}的总数`, en: `the total number of ${plural(this.#thing(t).en)}` }, 'reference', 1);
    }

    // along references: parent listing and filters
    for (const rel of t.parents) {
      const p = rel.to;
      const pn = p.names[0];
      if (!pn || !this.#inTheme(p)) continue;
      if (n) {
        const from = this.#from(t, true);
        const pa = from.join(rel);
        const ta = from.alias(t);
        this.#push(
          'ref.parent_list',
          from,
          `SELECT ${col(ta, n)}, ${col(pa, pn)} ${from.sql()}${from.where()} ORDER BY ${col(pa, pn)}, ${col(ta, n)}`,
          { kind: 'list', zh: `每个${this.#thing(t, p).zh}及其所属${p.noun.zh}`, en: `each ${this.#thing(t, p).en} with the ${p.noun.en} it belongs to` },
          'reference',
          6,
        );
        const x = this.#value(pn);
        if (x) {
          const f2 = this.#from(t, true);
          const pa2 = f2.join(rel);
          const ta2 = f2.alias(t);
          const shown = [n, ...t.codes.slice(0, 1), ...enums.slice(0, 1)].map((c) => col(ta2, c));
          this.#push(
            'ref.parent_filter',
            f2,
            `SELECT ${shown.join(', ')} ${f2.sql()}${f2.where([`${col(pa2, pn)} = ${literal(x)}`])} ORDER BY ${col(ta2, n)}`,
            { kind: 'list', zh: `${named(p.noun, x, 'zh')}下的${this.#thing(t, p).zh}`, en: `the ${plural(this.#thing(t, p).en)} under ${named(p.noun, x, 'en')}` },
            'reference',
            7,
          );
        }
      }
      // child enum filtered listing shown with the parent's name (e.g. codes of each area in one system)
      const e = enums[0];
      const v = e ? this.#value(e) : undefined;
      if (e && v) {
        const from = this.#from(t, true);
        const pa = from.join(rel);
        const ta = from.alias(t);
        const shown = [col(pa, pn), ...[...t.codes, ...t.names].slice(0, 2).map((c) => col(ta, c))];
        this.#push(
          'ref.parent_enum_list',
          from,
          `SELECT ${shown.join(', ')} ${from.sql()}${from.where([`${col(ta, e)} = ${literal(v)}`])} ORDER BY ${col(pa, pn)}`,
          { kind: 'list', zh: `${e.label.zh}为${quoted(v, 'zh')}的${this.#thing(t, p).zh}及对应的${p.noun.zh}`, en: `the ${plural(this.#thing(t, p).en)} whose ${e.label.en} is ${quoted(v, 'en')}, with their ${p.noun.en}` },
          'reference',
          6,
        );
      }
      // through the parent to its parent (e.g. mapping → area → company)
      for (const rel2 of p.parents) {
        const g = rel2.to;
        const gn = g.names[0];
        if (!gn || !this.#inTheme(g) || g === t) continue;
        const from = this.#from(t, true);
        from.join(rel);
        const ga = from.join(rel2);
        this.#push(
          'ref.grandparent_count',
          from,
          `SELECT ${col(ga, gn)}, COUNT(*) AS record_count ${from.sql()}${from.where()} GROUP BY ${col(ga, gn)} ORDER BY record_count DESC`,
          { kind: 'value', zh: `各${g.noun.zh}的${this.#thing(t, p).zh}数量`, en: `the number of ${plural(this.#thing(t, p).en)} per ${g.noun.en}` },
          'reference',
          7,
        );
      }
    }

    // children of this table (counts, per-enum counts, rankings, anti-joins, having)
    for (const rel of t.children) {
      const c = rel.from;
      if (!n || c.isLink || !this.#inTheme(c)) continue;
      const thing = this.#thing(c, t);
      const make = () => {
        const from = this.#from(t, true);
        const ca = from.join(rel);
        return { from, ta: from.alias(t), ca };
      };
      {
        const { from, ta } = make();
        this.#push(
          c.isFact ? 'ref.children_count.fact' : 'ref.children_count',
          from,
          `SELECT ${col(ta, n)}, COUNT(*) AS record_count ${from.sql()}${from.where()} GROUP BY ${col(ta, n)} ORDER BY record_count DESC`,
          { kind: 'value', zh: `每个${noun.zh}的${thing.zh}数量`, en: `the number of ${plural(thing.en)} per ${noun.en}` },
          'reference',
          c.isFact ? 3 : 7,
        );
      }
      if (c.isFact) continue;
      {
        const { from, ta } = make();
        this.#push(
          'ref.children_rank',
          from,
          `SELECT ${col(ta, n)}, COUNT(*) AS record_count, RANK() OVER (ORDER BY COUNT(*) DESC) AS rnk ${from.sql()}${from.where()} GROUP BY ${col(ta, n)} ORDER BY rnk`,
          { kind: 'rank', zh: `各${noun.zh}的${thing.zh}数量及排名`, en: `each ${noun.en} with its number of ${plural(thing.en)} and rank` },
          'reference',
          6,
        );
      }
      {
        const { from, ta } = make();
        this.#push(
          'ref.children_above_avg',
          from,
          `WITH per_group AS (SELECT ${col(ta, n)} AS name, COUNT(*) AS record_count ${from.sql()}${from.where()} GROUP BY ${col(ta, n)}) SELECT name, record_count FROM per_group WHERE record_count > (SELECT AVG(record_count) FROM per_group) ORDER BY record_count DESC`,
          { kind: 'list', zh: `${thing.zh}数量高于平均水平的${noun.zh}`, en: `the ${plural(noun.en)} with more ${plural(thing.en)} than average` },
          'reference',
          6,
        );
      }
      const ce = c.enums.filter((e) => e.hasComment)[0];
      if (ce) {
        const { from, ta, ca } = make();
        this.#push(
          'ref.children_enum',
          from,
          `SELECT ${col(ta, n)}, ${col(ca, ce)}, COUNT(*) AS record_count ${from.sql()}${from.where()} GROUP BY ${col(ta, n)}, ${col(ca, ce)} ORDER BY ${col(ta, n)}, record_count DESC`,
          { kind: 'value', zh: `各${noun.zh}不同${ce.label.zh}的${thing.zh}数量`, en: `the number of ${plural(thing.en)} per ${noun.en} and ${ce.label.en}` },
          'reference',
          6,
        );
        const w = make();
        this.#push(
          'ref.partition_share',
          w.from,
          `SELECT ${col(w.ta, n)}, ${col(w.ca, ce)}, COUNT(*) AS record_count, ROUND(COUNT(*) * 100.0 / SUM(COUNT(*)) OVER (PARTITION BY ${col(w.ta, n)}), 2) AS share_pct ${w.from.sql()}${w.from.where()} GROUP BY ${col(w.ta, n)}, ${col(w.ca, ce)} ORDER BY ${col(w.ta, n)}, record_count DESC`,
          { kind: 'value', zh: `各${noun.zh}内部不同${ce.label.zh}的${thing.zh}数量占比`, en: `within each ${noun.en}, the share of ${plural(thing.en)} per ${ce.label.en}` },
          'reference',
          6,
        );
        const v = this.#value(ce);
        if (v) {
          // anti-join: parents without a child of that kind
          const from2 = this.#from(t, true);
          const ta2 = from2.alias(t);
          const sub = this.#from(c, true);
          // keep aliases distinct from the outer query
          const ca2 = `${sub.alias(c)}_x`;
          const subLive = liveCondition(c, ca2);
          const cond = rel.fromColumns.map((fc, i) => `${col(ca2, fc)} = ${col(ta2, rel.toColumns[i]!)}`).join(' AND ');
          this.#push(
            'ref.anti_join',
            [t, c],
            `SELECT ${col(ta2, n)} ${from2.sql()}${from2.where([`NOT EXISTS (SELECT 1 FROM ${c.ref} ${ca2} WHERE ${cond} AND ${col(ca2, ce)} = ${literal(v)}${subLive ? ` AND ${subLive}` : ''})`])} ORDER BY ${col(ta2, n)}`,
            { kind: 'list', zh: `没有${ce.label.zh}为${quoted(v, 'zh')}的${thing.zh}的${noun.zh}`, en: `the ${plural(noun.en)} with no ${thing.en} whose ${ce.label.en} is ${quoted(v, 'en')}` },
            'reference',
            6,
          );
          const h = make();
          const kinds = Math.max(2, Math.min(3, ce.values.length));
          this.#push(
            'ref.having',
            h.from,
            `SELECT ${col(h.ta, n)}, COUNT(DISTINCT ${col(h.ca, ce)}) AS kinds ${h.from.sql()}${h.from.where()} GROUP BY ${col(h.ta, n)} HAVING COUNT(DISTINCT ${col(h.ca, ce)}) >= ${kinds} ORDER BY kinds DESC`,
            { kind: 'list', zh: `${thing.zh}覆盖至少${kinds}种${ce.label.zh}的${noun.zh}`, en: `the ${plural(noun.en)} whose ${plural(thing.en)} cover at least ${kinds} ${ce.label.en} values` },
            'reference',
            6,
          );
        }
      }
    }
    void L;
  }

  // ---------------------------------------------------------------------------------- link tables

  #linkTemplates(l: TableModel): void {
    const rels = l.parents.filter((r) => r.to.names[0] && this.#inTheme(r.to));
    for (let i = 0; i < rels.length; i++) {
      for (let j = 0; j < rels.length; j++) {
        if (i === j) continue;
        const ra = rels[i]!;
        const rb = rels[j]!;
        const a = ra.to;
        const b = rb.to;
        const an = a.names[0]!;
        const bn = b.names[0]!;
        const build = () => {
          const from = this.#from(a, true);
          from.join(ra);
          const ba = from.join(rb);
          return { from, aa: from.alias(a), ba };
        };
        const x = this.#value(an);
        if (x) {
          const { from, aa, ba } = build();
          const extra = b.names.slice(1, 2).map((c) => col(ba, c));
          this.#push(
            'link.list_for',
            from,
            `SELECT ${[col(ba, bn), ...extra].join(', ')} ${from.sql()}${from.where([`${col(aa, an)} = ${literal(x)}`])} ORDER BY ${col(ba, bn)}`,
            { kind: 'list', zh: `${named(a.noun, x, 'zh')}关联的${b.noun.zh}`, en: `the ${plural(b.noun.en)} linked to ${named(a.noun, x, 'en')}` },
            'reference',
            8,
          );
        }
        {
          const { from, aa, ba } = build();
          this.#push(
            'link.count_per',
            from,
            `SELECT ${col(aa, an)}, COUNT(DISTINCT ${col(ba, pkOrName(b))}) AS ${this.#outName('count', b.name)} ${from.sql()}${from.where()} GROUP BY ${col(aa, an)} ORDER BY ${this.#outName('count', b.name)} DESC`,
            { kind: 'value', zh: `每个${a.noun.zh}关联的${b.noun.zh}数量`, en: `the number of ${plural(b.noun.en)} linked to each ${a.noun.en}` },
            'reference',
            7,
          );
        }
        {
          const { from, aa, ba } = build();
          this.#push(
            'link.having',
            from,
            `SELECT ${col(aa, an)}, COUNT(DISTINCT ${col(ba, pkOrName(b))}) AS linked ${from.sql()}${from.where()} GROUP BY ${col(aa, an)} HAVING COUNT(DISTINCT ${col(ba, pkOrName(b))}) >= 2 ORDER BY linked DESC`,
            { kind: 'list', zh: `关联了至少2个${b.noun.zh}的${a.noun.zh}`, en: `the ${plural(a.noun.en)} linked to at least 2 ${plural(b.noun.en)}` },
            'reference',
            7,
          );
        }
        {
          const { from, aa, ba } = build();
          this.#push(
            'link.rank',
            from,
            `SELECT ${col(aa, an)}, COUNT(DISTINCT ${col(ba, pkOrName(b))}) AS linked, DENSE_RANK() OVER (ORDER BY COUNT(DISTINCT ${col(ba, pkOrName(b))}) DESC) AS rnk ${from.sql()}${from.where()} GROUP BY ${col(aa, an)} ORDER BY rnk, ${col(aa, an)}`,
            { kind: 'rank', zh: `各${a.noun.zh}关联的${b.noun.zh}数量排名`, en: `the ranking of ${plural(a.noun.en)} by number of linked ${plural(b.noun.en)}` },
            'reference',
            6,
          );
        }
        if (i < j) {
          const { from, aa, ba } = build();
          this.#push(
            'link.list_all',
            from,
            `SELECT ${col(aa, an)}, ${col(ba, bn)} ${from.sql()}${from.where()} ORDER BY ${col(aa, an)}, ${col(ba, bn)}`,
            { kind: 'list', zh: `每个${a.noun.zh}及其关联的${b.noun.zh}`, en: `each ${a.noun.en} with its linked ${plural(b.noun.en)}` },
            'reference',
            5,
          );
        }
        // a grouping name of A (e.g. route of a section) or the parent of B (e.g. company of an area)
        const group = a.names.slice(1).find((c) => c.values.length >= 2);
        if (group) {
          const { from, aa, ba } = build();
          this.#push(
            'link.group_count',
            from,
            `SELECT ${col(aa, group)}, COUNT(DISTINCT ${col(ba, pkOrName(b))}) AS linked ${from.sql()}${from.where()} GROUP BY ${col(aa, group)} ORDER BY linked DESC`,
            { kind: 'value', zh: `每个${group.noun!.zh}经过的${b.noun.zh}数量`, en: `the number of ${plural(b.noun.en)} along each ${group.noun!.en}` },
            'reference',
            7,
          );
        }
        for (const rel2 of b.parents) {
          const g = rel2.to;
          const gn = g.names[0];
          if (!gn || g === a || g === l || !this.#inTheme(g)) continue;
          const { from, aa } = build();
          const ga = from.join(rel2);
          this.#push(
            'link.grand_count',
            from,
            `SELECT ${col(ga, gn)}, COUNT(DISTINCT ${col(aa, pkOrName(a))}) AS linked ${from.sql()}${from.where()} GROUP BY ${col(ga, gn)} ORDER BY linked DESC`,
            { kind: 'value', zh: `各${g.noun.zh}下属${b.noun.zh}涉及的${a.noun.zh}数量`, en: `the number of ${plural(a.noun.en)} that the ${plural(b.noun.en)} of each ${g.noun.en} lie on` },
            'reference',
            7,
          );
        }
      }
    }
  }
}

/** The primary key's single column, else the first name column (for COUNT(DISTINCT …)). */
function pkOrName(t: TableModel): string {
  return t.info.primary_key.length === 1 ? t.info.primary_key[0]! : (t.names[0]?.name ?? t.columns[0]!.name);
}
