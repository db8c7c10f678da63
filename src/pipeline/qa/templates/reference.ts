// Reference family: questions about one kind of thing (customers, products, service areas) — lookups by a
// real code value, counts by code, rankings by the entity's own measure (a plain ORDER BY, never a GROUP BY
// at the entity's own grain), above-average filters, and the entity with the thing it belongs to.
import {
  businessTimes,
  cap,
  colKey,
  draft,
  entityColumns,
  From,
  groupableCodes,
  isEntity,
  withRepeats,
  wordCodes,
  isPlainReference,
  lit,
  liveOf,
  noun,
  parentsInTheme,
  quote,
  roleNoun,
  term,
  type Template,
  unitOf,
} from './model.ts';
import { col, type ColumnModel, type TableModel } from '../catalog.ts';

/** Real values of a column whose values are all distinct (a unique code or name): each names one row. */
function uniqueValues(c: ColumnModel, t: TableModel): string[] {
  const share = c.info.distinct_share;
  if (c.info.long_values || typeof share !== 'number' || share < 0.98 || t.rows < 2) return [];
  return [...new Set(c.info.sample_values)].filter((v) => v.trim() !== '' && v.length <= 40).sort();
}

/** Codes that name one row each (company_no H01 …): looked up, never grouped. */
function uniqueCodes(t: TableModel): ColumnModel[] {
  return t.columns.filter((c) => c.role === 'code' && !t.info.primary_key.includes(c.name) && uniqueValues(c, t).length > 0);
}

/** The entity's one label when its values are unique (a name that can be looked up alone). */
function uniqueLabel(t: TableModel): ColumnModel | undefined {
  const label = t.display.length === 1 ? t.display[0] : undefined;
  return label && uniqueValues(label, t).length > 0 ? label : undefined;
}

export const REFERENCE_TEMPLATES: Template[] = [
  {
    id: 'reference.count_all',
    family: 'reference',
    level: 'single_table',
    // The plainest question about a kind of thing; picked last, so it fills only a schema with little else.
    applies: (ctx) => isEntity(ctx.table),
    build: ({ table: t }) => {
      const from = new From(t, false);
      const E = { zh: noun(t, 'zh'), en: noun(t, 'en', true) };
      return [
        draft({
          template: 'reference.count_all',
          family: 'reference',
          level: 'single_table',
          sql: `SELECT COUNT(*) AS count ${from.sql()}${from.where()}`,
          questions: {
            zh: [`${E.zh}的总数是多少？`, `统计${E.zh}的总数。`, `目前一共有多少${E.zh}？`],
            en: [`How many ${E.en} are there?`, `Count the ${E.en}.`, `What is the total number of ${E.en}?`],
          },
          signature: { entity: t.key, measure: '*', aggregate: 'count', grouping: '-', filter: '-' },
          tables: [t.key],
          priority: -4,
        }),
      ];
    },
  },
  {
    id: 'reference.list_with_code',
    family: 'reference',
    level: 'single_table',
    applies: (ctx) => isEntity(ctx.table) && uniqueCodes(ctx.table).length > 0,
    build: ({ table: t, catalog }) => {
      const c = uniqueCodes(t)[0]!;
      const from = new From(t, false);
      const E = { zh: noun(t, 'zh'), en: noun(t, 'en', true) };
      const C = { zh: term(c, t, 'zh', catalog), en: term(c, t, 'en', catalog) };
      const L = { zh: t.display.map((d) => term(d, t, 'zh', catalog)).join('、'), en: t.display.map((d) => term(d, t, 'en', catalog)).join(' and ') };
      return [
        draft({
          template: 'reference.list_with_code',
          family: 'reference',
          level: 'single_table',
          sql: `SELECT ${from.c(t, c)}, ${t.display.map((d) => from.c(t, d)).join(', ')} ${from.sql()}${from.where()} ORDER BY ${from.c(t, c)}`,
          questions: {
            zh: [`按${C.zh}排序，列出所有${E.zh}的${C.zh}和${L.zh}。`, `列出全部${E.zh}的${C.zh}和${L.zh}，按${C.zh}排序。`],
            en: [`List every ${noun(t, 'en')}'s ${C.en} and ${L.en}, ordered by ${C.en}.`, `Show the ${C.en} and ${L.en} of all ${E.en}, sorted by ${C.en}.`],
          },
          signature: { entity: t.key, measure: '-', aggregate: 'list', grouping: '-', filter: '-' },
          tables: [t.key],
          columns: [colKey(t, c), ...t.display.map((d) => colKey(t, d))],
          priority: -3,
        }),
      ];
    },
  },
  {
    id: 'reference.label_of_code',
    family: 'reference',
    level: 'single_table',
    applies: (ctx) => isEntity(ctx.table) && uniqueCodes(ctx.table).length > 0,
    build: ({ table: t, catalog }) =>
      uniqueCodes(t).slice(0, 1).flatMap((c) =>
        withRepeats(uniqueValues(c, t).slice(0, 4), (v) => {
          const from = new From(t, false);
          const E = { zh: noun(t, 'zh'), en: noun(t, 'en') };
          const C = { zh: term(c, t, 'zh', catalog), en: term(c, t, 'en', catalog) };
          const L = { zh: t.display.map((d) => term(d, t, 'zh', catalog)).join('、'), en: t.display.map((d) => term(d, t, 'en', catalog)).join(' and ') };
          return draft({
            template: 'reference.label_of_code',
            family: 'reference',
            level: 'single_table',
            sql: `SELECT ${t.display.map((d) => from.c(t, d)).join(', ')} ${from.sql()}${from.where([`${from.c(t, c)} = ${lit(v)}`])}`,
            questions: {
              zh: [`${C.zh}${quote(v, 'zh')}对应的${L.zh}是什么？`, `${C.zh}为${quote(v, 'zh')}的${E.zh}，${L.zh}是什么？`],
              en: [`What is the ${L.en} of the ${E.en} with ${C.en} ${quote(v, 'en')}?`, `Which ${E.en} has ${C.en} ${quote(v, 'en')}? Give its ${L.en}.`],
            },
            signature: { entity: t.key, measure: '-', aggregate: 'lookup', grouping: '-', filter: `unique:${c.name}` },
            tables: [t.key],
            columns: [colKey(t, c), ...t.display.map((d) => colKey(t, d))],
            priority: -2,
          });
        }, (v) => v),
      ),
  },
  {
    id: 'reference.code_of_label',
    family: 'reference',
    level: 'single_table',
    // Only a label whose values are all distinct is a lookup key (pair-quality.md, "label").
    applies: (ctx) => isEntity(ctx.table) && uniqueCodes(ctx.table).length > 0 && uniqueLabel(ctx.table) !== undefined,
    build: ({ table: t, catalog }) => {
      const label = uniqueLabel(t)!;
      const c = uniqueCodes(t)[0]!;
      const C = { zh: term(c, t, 'zh', catalog), en: term(c, t, 'en', catalog) };
      return withRepeats(uniqueValues(label, t).slice(0, 4), (v) => {
        const from = new From(t, false);
        return draft({
          template: 'reference.code_of_label',
          family: 'reference',
          level: 'single_table',
          sql: `SELECT ${from.c(t, c)} ${from.sql()}${from.where([`${from.c(t, label)} = ${lit(v)}`])}`,
          questions: {
            zh: [`${quote(v, 'zh')}的${C.zh}是什么？`, `查一下${quote(v, 'zh')}的${C.zh}。`],
            en: [`What is the ${C.en} of ${quote(v, 'en')}?`, `Look up the ${C.en} of ${quote(v, 'en')}.`],
          },
          signature: { entity: t.key, measure: '-', aggregate: 'lookup', grouping: '-', filter: `unique:${label.name}` },
          tables: [t.key],
          columns: [colKey(t, c), colKey(t, label)],
          priority: -2,
        });
      }, (v) => v);
    },
  },
  {
    id: 'reference.filter_by_code',
    family: 'reference',
    level: 'single_table',
    applies: (ctx) => isEntity(ctx.table) && wordCodes(ctx.table).length > 0,
    build: ({ table: t, catalog }) =>
      wordCodes(t).slice(0, 2).flatMap((c) => withRepeats(c.values.filter((x) => !/^-?\d+(\.\d+)?$/.test(x)).slice(0, 6), (v) => {
        const from = new From(t, false);
        const E = { zh: noun(t, 'zh'), en: noun(t, 'en', true) };
        const C = { zh: term(c, t, 'zh', catalog), en: term(c, t, 'en', catalog) };
        return draft({
          template: 'reference.filter_by_code',
          family: 'reference',
          level: 'single_table',
          sql: `SELECT ${entityColumns(from, t).join(', ')} ${from.sql()}${from.where([`${from.c(t, c)} = ${lit(v)}`])} ORDER BY ${from.c(t, t.keyColumn!)}`,
          questions: {
            zh: [`列出${C.zh}为${quote(v, 'zh')}的${E.zh}。`, `哪些${E.zh}的${C.zh}是${quote(v, 'zh')}？`, `帮我查一下${C.zh}为${quote(v, 'zh')}的${E.zh}有哪些。`],
            en: [`List the ${E.en} whose ${C.en} is ${quote(v, 'en')}.`, `Which ${E.en} have ${C.en} ${quote(v, 'en')}?`, `Can you pull up the ${E.en} with ${C.en} ${quote(v, 'en')}?`],
          },
          signature: { entity: t.key, measure: '-', aggregate: 'list', grouping: '-', filter: `code:${c.name}` },
          tables: [t.key],
          columns: [colKey(t, c), ...t.display.map((d) => colKey(t, d))],
        });
      }, (v) => v)),
  },
  {
    id: 'reference.count_by_code',
    family: 'reference',
    level: 'aggregate',
    // Counting rows per code is what a table without measures is for; a fact table gets its measures summed.
    applies: (ctx) => groupableCodes(ctx.table).length > 0 && ctx.table.additive.length === 0,
    build: ({ table: t, catalog }) =>
      groupableCodes(t).slice(0, 2).map((c) => {
        const from = new From(t, false);
        const E = { zh: noun(t, 'zh'), en: noun(t, 'en', true) };
        const C = { zh: term(c, t, 'zh', catalog), en: term(c, t, 'en', catalog) };
        const n = `${t.keyColumn ? 'count' : 'row_count'}`;
        return draft({
          template: 'reference.count_by_code',
          family: 'reference',
          level: 'aggregate',
          sql: `SELECT ${from.c(t, c)}, COUNT(*) AS ${n} ${from.sql()}${from.where()} GROUP BY ${from.c(t, c)} ORDER BY ${n} DESC, ${from.c(t, c)}`,
          questions: {
            zh: [`各${C.zh}的${E.zh}数量分别是多少？`, `按${C.zh}统计${E.zh}的数量。`, `每种${C.zh}各有多少${unitOf(E.zh)}${E.zh}？`],
            en: [`How many ${E.en} are there for each ${C.en}?`, `Count the ${E.en} by ${C.en}.`, `What is the number of ${E.en} per ${C.en}?`],
          },
          signature: { entity: t.key, measure: '*', aggregate: 'count', grouping: `code:${c.name}`, filter: '-' },
          tables: [t.key],
          columns: [colKey(t, c)],
        });
      }),
  },
  {
    id: 'reference.top_by_own_measure',
    family: 'reference',
    level: 'single_table',
    // A top 5 of five rows is a plain list: only tables with more rows than the limit.
    applies: (ctx) => isEntity(ctx.table) && ctx.table.measures.length > 0 && ctx.table.rows > 10,
    build: ({ table: t, catalog }) =>
      t.measures.slice(0, 3).map((m) => {
        const from = new From(t, false);
        const E = { zh: noun(t, 'zh'), en: noun(t, 'en', true) };
        const M = { zh: term(m, t, 'zh', catalog), en: term(m, t, 'en', catalog) };
        return draft({
          template: 'reference.top_by_own_measure',
          family: 'reference',
          level: 'single_table',
          sql: `SELECT ${entityColumns(from, t).join(', ')}, ${from.c(t, m)} ${from.sql()}${from.where([`${from.c(t, m)} IS NOT NULL`])} ORDER BY ${from.c(t, m)} DESC, ${from.c(t, t.keyColumn!)} LIMIT 5`,
          questions: {
            zh: [`${M.zh}最高的5${unitOf(E.zh)}${E.zh}是哪些？`, `列出${M.zh}最高的前5${unitOf(E.zh)}${E.zh}。`, `帮我找出${M.zh}排在前5位的${E.zh}。`],
            en: [`Which 5 ${E.en} have the highest ${M.en}?`, `List the top 5 ${E.en} by ${M.en}.`, `Show me the 5 ${E.en} with the largest ${M.en}.`],
          },
          signature: { entity: t.key, measure: m.name, aggregate: 'top', grouping: '-', filter: '-' },
          tables: [t.key],
          columns: [colKey(t, m), ...t.display.map((d) => colKey(t, d))],
          priority: m.role === 'non_additive_measure' ? 1 : 0,
        });
      }),
  },
  {
    id: 'reference.above_average',
    family: 'reference',
    level: 'aggregate',
    applies: (ctx) => isEntity(ctx.table) && ctx.table.measures.length > 0,
    build: ({ table: t, catalog }) =>
      t.measures.slice(0, 2).map((m) => {
        const from = new From(t, false);
        const E = { zh: noun(t, 'zh'), en: noun(t, 'en', true) };
        const M = { zh: term(m, t, 'zh', catalog), en: term(m, t, 'en', catalog) };
        const live = liveOf(t);
        return draft({
          template: 'reference.above_average',
          family: 'reference',
          level: 'aggregate',
          sql: `SELECT ${entityColumns(from, t).join(', ')}, ${from.c(t, m)} ${from.sql()}${from.where([`${from.c(t, m)} > (SELECT AVG(${col('', m)}) FROM ${t.ref}${live ? ` WHERE ${live}` : ''})`])} ORDER BY ${from.c(t, m)} DESC, ${from.c(t, t.keyColumn!)}`,
          questions: {
            zh: [`哪些${E.zh}的${M.zh}高于所有${E.zh}的平均${M.zh}？`, `列出${M.zh}高于平均水平的${E.zh}。`],
            en: [`Which ${E.en} have a ${M.en} above the average ${M.en} of all ${E.en}?`, `List the ${E.en} whose ${M.en} is above average.`],
          },
          signature: { entity: t.key, measure: m.name, aggregate: 'above_avg', grouping: '-', filter: '-' },
          tables: [t.key],
          columns: [colKey(t, m)],
        });
      }),
  },
  {
    id: 'reference.measure_summary',
    family: 'reference',
    level: 'aggregate',
    applies: (ctx) => isEntity(ctx.table) && ctx.table.measures.length > 0,
    build: ({ table: t, catalog }) =>
      t.measures.slice(0, 3).map((m) => {
        const from = new From(t, false);
        const E = { zh: noun(t, 'zh'), en: noun(t, 'en', true) };
        const M = { zh: term(m, t, 'zh', catalog), en: term(m, t, 'en', catalog) };
        const c = from.c(t, m);
        // Only additive measures are summed; a price, rate or snapshot gets its average and extremes.
        const additive = m.role === 'additive_measure';
        const sql = additive
          ? `SELECT SUM(${c}) AS total, ROUND(AVG(${c}), 2) AS average ${from.sql()}${from.where()}`
          : `SELECT ROUND(AVG(${c}), 2) AS average, MIN(${c}) AS lowest, MAX(${c}) AS highest ${from.sql()}${from.where()}`;
        return draft({
          template: 'reference.measure_summary',
          family: 'reference',
          level: 'aggregate',
          sql,
          questions: additive
            ? {
                zh: [`所有${E.zh}的${M.zh}合计是多少？平均每${unitOf(E.zh)}${E.zh}是多少？`, `统计${M.zh}的总和以及每${unitOf(E.zh)}${E.zh}的平均值。`],
                en: [`What is the total ${M.en} over all ${E.en}, and the average per ${noun(t, 'en')}?`, `Calculate the total and the average ${M.en} of the ${E.en}.`],
              }
            : {
                zh: [`${E.zh}的${M.zh}平均是多少？最低和最高各是多少？`, `统计${E.zh}${M.zh}的平均值、最低值和最高值。`],
                en: [`What are the average, lowest and highest ${M.en} of the ${E.en}?`, `Give the average, minimum and maximum ${M.en} across ${E.en}.`],
              },
          signature: { entity: t.key, measure: m.name, aggregate: additive ? 'sum_avg' : 'avg_min_max', grouping: '-', filter: '-' },
          tables: [t.key],
          columns: [colKey(t, m)],
          priority: -1,
        });
      }),
  },
  {
    id: 'reference.flag_count',
    family: 'reference',
    level: 'aggregate',
    applies: (ctx) => ctx.table.columns.some((c) => c.role === 'flag' && c.info.udt_name === 'bool'),
    build: ({ table: t, catalog }) =>
      t.columns
        .filter((c) => c.role === 'flag' && c.info.udt_name === 'bool')
        .slice(0, 1)
        .map((f) => {
          const from = new From(t, false);
          const E = { zh: noun(t, 'zh'), en: noun(t, 'en', true) };
          const F = { zh: term(f, t, 'zh', catalog).replace(/^是否/, ''), en: term(f, t, 'en', catalog).replace(/^is /i, '') };
          return draft({
            template: 'reference.flag_count',
            family: 'reference',
            level: 'aggregate',
            sql: `SELECT COUNT(*) FILTER (WHERE ${from.c(t, f)}) AS yes_count, COUNT(*) FILTER (WHERE NOT ${from.c(t, f)}) AS no_count ${from.sql()}${from.where()}`,
            questions: {
              zh: [`${F.zh}和非${F.zh}的${E.zh}各有多少个？`, `分别统计${F.zh}与非${F.zh}的${E.zh}数量。`],
              en: [`How many ${E.en} are ${F.en} and how many are not?`, `Count the ${E.en} that are ${F.en} and those that are not.`],
            },
            signature: { entity: t.key, measure: '*', aggregate: 'count', grouping: `flag:${f.name}`, filter: '-' },
            tables: [t.key],
            columns: [colKey(t, f)],
          });
        }),
  },
  {
    id: 'reference.with_parent',
    family: 'reference',
    level: 'join',
    applies: (ctx) => isEntity(ctx.table) && parentsInTheme(ctx).length > 0,
    build: (ctx) =>
      parentsInTheme(ctx).slice(0, 2).map((rel) => {
        const t = ctx.table;
        const p = rel.to;
        const from = new From(t).join(rel);
        const E = { zh: noun(t, 'zh'), en: noun(t, 'en', true) };
        const P = { zh: roleNoun(rel, 'zh'), en: roleNoun(rel, 'en') };
        const plain = isPlainReference(rel, 'zh');
        return draft({
          template: 'reference.with_parent',
          family: 'reference',
          level: 'join',
          sql: `SELECT ${entityColumns(from, t).join(', ')}, ${p.display.map((d) => `${from.c(p, d)} AS ${d.name.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_of_${rel.fromColumns[0]!.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}`).join(', ')} ${from.sql()}${from.where()} ORDER BY ${from.c(t, t.keyColumn!)}`,
          questions: {
            zh: plain ? [`列出每${unitOf(E.zh)}${E.zh}及其所属的${P.zh}。`, `各${E.zh}分别属于哪${unitOf(P.zh)}${P.zh}？`] : [`列出每${unitOf(E.zh)}${E.zh}及其${P.zh}。`, `每${unitOf(E.zh)}${E.zh}的${P.zh}分别是谁？`],
            en: plain ? [`List each ${noun(t, 'en')} with the ${P.en} it belongs to.`, `Which ${P.en} does each ${noun(t, 'en')} belong to?`] : [`List each ${noun(t, 'en')} with its ${P.en}.`, `${cap(`who is the ${P.en} of each ${noun(t, 'en')}?`)}`],
          },
          signature: { entity: t.key, measure: '-', aggregate: 'list', grouping: `join:${rel.fromColumns[0]}`, filter: '-' },
          tables: [t.key, p.key],
          columns: [colKey(t, t.byName.get(rel.fromColumns[0]!)!)],
        });
      }),
  },
  {
    id: 'reference.count_by_year',
    family: 'reference',
    level: 'aggregate',
    applies: (ctx) => isEntity(ctx.table) && ctx.table.additive.length === 0 && businessTimes(ctx.table).some((c) => c.range!.min.slice(0, 4) !== c.range!.max.slice(0, 4)),
    build: ({ table: t, catalog }) =>
      businessTimes(t)
        .filter((c) => c.range!.min.slice(0, 4) !== c.range!.max.slice(0, 4))
        .slice(0, 1)
        .map((time) => {
          const from = new From(t, false);
          const E = { zh: noun(t, 'zh'), en: noun(t, 'en', true) };
          const T = { zh: term(time, t, 'zh', catalog).replace(/(日期|时间)$/, ''), en: term(time, t, 'en', catalog).replace(/\s*(date|time)$/i, '') };
          return draft({
            template: 'reference.count_by_year',
            family: 'time',
            level: 'aggregate',
            sql: `SELECT EXTRACT(YEAR FROM ${from.c(t, time)})::int AS year, COUNT(*) AS count ${from.sql()}${from.where([`${from.c(t, time)} IS NOT NULL`])} GROUP BY 1 ORDER BY 1`,
            questions: {
              zh: [`按${T.zh}年份统计，每年有多少${unitOf(E.zh)}${E.zh}？`, `每年${T.zh}的${E.zh}各有多少个？`],
              en: [`How many ${E.en} are there per year of ${T.en}?`, `Count the ${E.en} by the year of their ${T.en}.`],
            },
            signature: { entity: t.key, measure: '*', aggregate: 'count', grouping: `year:${time.name}`, filter: '-' },
            tables: [t.key],
            columns: [colKey(t, time)],
          });
        }),
  },
];
