// Fact family: measures of event and line tables by their codes. Additive measures are summed;
// non-additive ones (prices, rates, snapshots) are averaged, or turned into a derived additive measure
// (quantity × unit price); references are counted (COUNT DISTINCT), never summed.
import type { ColumnModel, TableModel } from '../catalog.ts';
import { isDatedFact, outName, withRepeats, colKey, draft, From, groupableCodes, wordCodes, lit, noun, quote, roleNoun, term, type Template, totalOf } from './model.ts';
import { listText, plural } from '../phrasing.ts';

/** quantity × unit price (× (1 − discount)) when a line table has them. */
function derivedRevenue(t: TableModel): { qty: ColumnModel; price: ColumnModel; discount?: ColumnModel } | undefined {
  const qty = t.additive.find((c) => /(qty|quantity|数量|count|件数)/i.test(`${c.name} ${c.label.zh}`));
  const price = t.nonAdditive.find((c) => /(price|单价|价格)/i.test(`${c.name} ${c.label.zh}`));
  if (!qty || !price) return undefined;
  const discount = t.nonAdditive.find((c) => /(discount|折扣)/i.test(`${c.name} ${c.label.zh}`) && c.info.range && Number(c.info.range.max) < 1);
  return { qty, price, ...(discount ? { discount } : {}) };
}

export { derivedRevenue };

/** Additive measures that are parts of one thing (微信支付金额, 支付宝支付金额, 现金支付金额 → 支付金额 by
 * channel): three or more sharing a term suffix of two characters or more. */
function measureFamily(t: TableModel): { suffix: string; parts: Array<{ column: ColumnModel; part: string }> } | undefined {
  const labels = t.additive.map((c) => ({ column: c, zh: c.label.zh })).filter((x) => /[\u4e00-\u9fff]/.test(x.zh));
  let best: { suffix: string; parts: Array<{ column: ColumnModel; part: string }> } | undefined;
  for (const { zh } of labels) {
    for (let k = 2; k < zh.length; k++) {
      const suffix = zh.slice(zh.length - k);
      const parts = labels.filter((x) => x.zh.endsWith(suffix) && x.zh.length > suffix.length).map((x) => ({ column: x.column, part: x.zh.slice(0, x.zh.length - suffix.length) }));
      if (parts.length >= 3 && (!best || suffix.length > best.suffix.length || parts.length > best.parts.length)) best = { suffix, parts };
    }
  }
  return best;
}

export const FACT_TEMPLATES: Template[] = [
  {
    id: 'fact.measure_breakdown',
    family: 'fact',
    level: 'aggregate',
    applies: (ctx) => measureFamily(ctx.table) !== undefined,
    build: ({ table: t }) => {
      const f = measureFamily(t)!;
      const from = new From(t, false);
      const partsZh = f.parts.map((p) => p.part).join('、');
      const partsEn = f.parts.map((p) => p.column.label.en).join(', ');
      return [
        draft({
          template: 'fact.measure_breakdown',
          family: 'fact',
          level: 'aggregate',
          sql: `SELECT ${f.parts.map((p) => `SUM(${from.c(t, p.column)}) AS ${outName(p.column, 'total')}`).join(', ')} ${from.sql()}${from.where()}`,
          questions: {
            zh: [`${partsZh}的${f.suffix}合计分别是多少？`, `分别统计${partsZh}的${f.suffix}总和。`],
            en: [`What are the totals of ${partsEn}?`, `Sum ${partsEn} separately.`],
          },
          signature: { entity: t.key, measure: f.parts.map((p) => p.column.name).join('+'), aggregate: 'sum', grouping: '-', filter: '-' },
          tables: [t.key],
          // One pair covers a whole family of measures: ahead of the other aggregates.
          columns: f.parts.map((p) => colKey(t, p.column)),
          priority: 8,
        }),
      ];
    },
  },
  {
    id: 'fact.top_rows',
    family: 'fact',
    level: 'single_table',
    applies: (ctx) => isDatedFact(ctx.table) && ctx.table.times.length > 0 && !ctx.table.isLink,
    build: ({ table: t, catalog }) =>
      t.additive.slice(0, 1).map((m) => {
        const from = new From(t, false);
        const time = t.times[0]!;
        // A row is told apart by what it is about: its labels, else its references, and its code.
        const about = t.names.length ? t.names.slice(0, 2) : t.parents.flatMap((r) => r.fromColumns).map((n) => t.byName.get(n)!).slice(0, 1);
        const columns = [time, ...about, ...wordCodes(t).slice(0, 1), m].filter((x, i, a) => a.indexOf(x) === i);
        const shown = columns.map((c) => from.c(t, c));
        // The question names every column the SQL returns, in its order.
        const listed = { zh: listText(columns.map((c) => term(c, t, 'zh', catalog)), 'zh'), en: listText(columns.map((c) => term(c, t, 'en', catalog)), 'en') };
        const E = { zh: noun(t, 'zh'), en: noun(t, 'en', true) };
        const M = { zh: term(m, t, 'zh', catalog), en: term(m, t, 'en', catalog) };
        return draft({
          template: 'fact.top_rows',
          family: 'fact',
          level: 'single_table',
          sql: `SELECT ${shown.join(', ')} ${from.sql()}${from.where([`${from.c(t, m)} IS NOT NULL`])} ORDER BY ${from.c(t, m)} DESC LIMIT 5`,
          questions: {
            zh: [`${M.zh}最高的5条${E.zh}记录是哪些？列出${listed.zh}。`, `找出${M.zh}最大的5条${E.zh}记录，列出${listed.zh}。`],
            en: [`Which 5 ${noun(t, 'en')} records have the highest ${M.en}? Show the ${listed.en}.`, `Find the 5 ${noun(t, 'en')} records with the largest ${M.en}: show the ${listed.en}.`],
          },
          signature: { entity: t.key, measure: m.name, aggregate: 'top_rows', grouping: '-', filter: '-' },
          tables: [t.key],
          columns: [colKey(t, m), colKey(t, time)],
        });
      }),
  },
  {
    id: 'fact.sum_by_code',
    family: 'fact',
    level: 'aggregate',
    applies: (ctx) => ctx.table.additive.length > 0 && groupableCodes(ctx.table).length > 0,
    build: ({ table: t, catalog }) =>
      groupableCodes(t)
        .slice(0, 2)
        .flatMap((c) => t.additive.slice(0, 2).map((m) => ({ c, m })))
        .map(({ c, m }) => {
          const from = new From(t, false);
          const C = { zh: term(c, t, 'zh', catalog), en: term(c, t, 'en', catalog) };
          const M = { zh: term(m, t, 'zh', catalog), en: term(m, t, 'en', catalog) };
          return draft({
            template: 'fact.sum_by_code',
            family: 'fact',
            level: 'aggregate',
            sql: `SELECT ${from.c(t, c)}, SUM(${from.c(t, m)}) AS total ${from.sql()}${from.where()} GROUP BY ${from.c(t, c)} ORDER BY total DESC, ${from.c(t, c)}`,
            questions: {
              zh: [`各${C.zh}的${totalOf(M.zh, 'zh')}分别是多少？`, `按${C.zh}汇总${M.zh}，从高到低排列。`, `不同${C.zh}的${totalOf(M.zh, 'zh')}各是多少？`],
              en: [`What is the ${totalOf(M.en, 'en')} for each ${C.en}?`, `Sum the ${M.en} by ${C.en}, highest first.`, `How much ${M.en} is there per ${C.en} in total?`],
            },
            signature: { entity: t.key, measure: m.name, aggregate: 'sum', grouping: `code:${c.name}`, filter: '-' },
            tables: [t.key],
            columns: [colKey(t, c), colKey(t, m)],
            priority: 2,
          });
        }),
  },
  {
    id: 'fact.avg_by_code',
    family: 'fact',
    level: 'aggregate',
    applies: (ctx) => ctx.table.nonAdditive.length > 0 && groupableCodes(ctx.table).length > 0,
    build: ({ table: t, catalog }) =>
      groupableCodes(t)
        .slice(0, 1)
        .flatMap((c) => t.nonAdditive.slice(0, 2).map((m) => ({ c, m })))
        .map(({ c, m }) => {
          const from = new From(t, false);
          const E = { zh: noun(t, 'zh'), en: noun(t, 'en', true) };
          const C = { zh: term(c, t, 'zh', catalog), en: term(c, t, 'en', catalog) };
          const M = { zh: term(m, t, 'zh', catalog), en: term(m, t, 'en', catalog) };
          return draft({
            template: 'fact.avg_by_code',
            family: 'fact',
            level: 'aggregate',
            sql: `SELECT ${from.c(t, c)}, ROUND(AVG(${from.c(t, m)}), 2) AS average ${from.sql()}${from.where()} GROUP BY ${from.c(t, c)} ORDER BY average DESC, ${from.c(t, c)}`,
            questions: {
              zh: [`各${C.zh}的${E.zh}平均${M.zh}是多少？`, `按${C.zh}统计${E.zh}的平均${M.zh}。`],
              en: [`What is the average ${M.en} of the ${E.en} for each ${C.en}?`, `Show the average ${M.en} of ${E.en} by ${C.en}.`],
            },
            signature: { entity: t.key, measure: m.name, aggregate: 'avg', grouping: `code:${c.name}`, filter: '-' },
            tables: [t.key],
            columns: [colKey(t, c), colKey(t, m)],
          });
        }),
  },
  {
    id: 'fact.sum_for_code_value',
    family: 'fact',
    level: 'aggregate',
    applies: (ctx) => ctx.table.additive.length > 0 && wordCodes(ctx.table).length > 0,
    build: ({ table: t, catalog }) =>
      wordCodes(t)
        .slice(0, 2)
        .flatMap((c) => withRepeats(c.values.filter((x) => !/^-?\d+(\.\d+)?$/.test(x)).slice(0, 6), (v) => {
          const m = t.additive[0]!;
          const from = new From(t, false);
          const C = { zh: term(c, t, 'zh', catalog), en: term(c, t, 'en', catalog) };
          const M = { zh: term(m, t, 'zh', catalog), en: term(m, t, 'en', catalog) };
          return draft({
            template: 'fact.sum_for_code_value',
            family: 'fact',
            level: 'aggregate',
            sql: `SELECT SUM(${from.c(t, m)}) AS total ${from.sql()}${from.where([`${from.c(t, c)} = ${lit(v)}`])}`,
            questions: {
              zh: [`${C.zh}为${quote(v, 'zh')}的${totalOf(M.zh, 'zh')}是多少？`, `统计${C.zh}是${quote(v, 'zh')}时的${totalOf(M.zh, 'zh')}。`],
              en: [`What is the ${totalOf(M.en, 'en')} where the ${C.en} is ${quote(v, 'en')}?`, `Calculate the ${totalOf(M.en, 'en')} for ${C.en} ${quote(v, 'en')}.`],
            },
            signature: { entity: t.key, measure: m.name, aggregate: 'sum', grouping: '-', filter: `code:${c.name}` },
            tables: [t.key],
            columns: [colKey(t, c), colKey(t, m)],
          });
        }, (v) => v)),
  },
  {
    id: 'fact.derived_total',
    family: 'fact',
    level: 'aggregate',
    applies: (ctx) => derivedRevenue(ctx.table) !== undefined,
    build: ({ table: t, catalog }) => {
      const d = derivedRevenue(t)!;
      const from = new From(t, false);
      const expr = `${from.c(t, d.qty)} * ${from.c(t, d.price)}${d.discount ? ` * (1 - ${from.c(t, d.discount)})` : ''}`;
      const Q = { zh: term(d.qty, t, 'zh', catalog), en: term(d.qty, t, 'en', catalog) };
      const P = { zh: term(d.price, t, 'zh', catalog), en: term(d.price, t, 'en', catalog) };
      const D = d.discount ? { zh: term(d.discount, t, 'zh', catalog), en: term(d.discount, t, 'en', catalog) } : undefined;
      const how = { zh: `${Q.zh}×${P.zh}${D ? `×(1−${D.zh})` : ''}`, en: `${Q.en} × ${P.en}${D ? ` × (1 − ${D.en})` : ''}` };
      return [
        draft({
          template: 'fact.derived_total',
          family: 'fact',
          level: 'aggregate',
          sql: `SELECT ROUND(SUM(${expr}), 2) AS amount ${from.sql()}${from.where()}`,
          questions: {
            zh: [`按${how.zh}计算，全部${noun(t, 'zh')}的金额合计是多少？`, `统计所有${noun(t, 'zh')}的金额总和（${how.zh}）。`],
            en: [`What is the total amount of all ${noun(t, 'en', true)}, computed as ${how.en}?`, `Calculate the total amount over all ${noun(t, 'en', true)} (${how.en}).`],
          },
          signature: { entity: t.key, measure: `${d.qty.name}*${d.price.name}`, aggregate: 'sum', grouping: '-', filter: '-' },
          tables: [t.key],
          columns: [colKey(t, d.qty), colKey(t, d.price), ...(d.discount ? [colKey(t, d.discount)] : [])],
          priority: 2,
        }),
      ];
    },
  },
  {
    id: 'fact.distinct_references',
    family: 'fact',
    level: 'aggregate',
    applies: (ctx) => !ctx.table.isLink && ctx.table.parents.some((r) => r.to !== ctx.table && r.fromColumns.length === 1),
    build: ({ table: t }) =>
      t.parents
        .filter((r) => r.to !== t && r.fromColumns.length === 1 && !r.to.partition)
        .slice(0, 2)
        .map((rel) => {
          const from = new From(t, false);
          const fk = t.byName.get(rel.fromColumns[0]!)!;
          const E = { zh: noun(t, 'zh'), en: noun(t, 'en', true) };
          const P = { zh: roleNoun(rel, 'zh'), en: plural(roleNoun(rel, 'en')) };
          return draft({
            template: 'fact.distinct_references',
            family: 'fact',
            level: 'aggregate',
            sql: `SELECT COUNT(DISTINCT ${from.c(t, fk)}) AS count ${from.sql()}${from.where()}`,
            questions: {
              zh: [`有${E.zh}的${P.zh}一共有多少个？`, `${E.zh}中共涉及多少个不同的${P.zh}？`],
              en: [`How many different ${P.en} appear in the ${E.en}?`, `Count the distinct ${P.en} that have ${E.en}.`],
            },
            signature: { entity: t.key, measure: fk.name, aggregate: 'count_distinct', grouping: '-', filter: '-' },
            tables: [t.key],
            columns: [colKey(t, fk)],
            priority: -1,
          });
        }),
  },
];
