// Cross family: questions across two hops or with windows — the best entity within each group
// (ROW_NUMBER, so exactly one per group), shares of a total, a child measure rolled up two levels, and a
// parent's own measure next to its child count (the children are counted before the join, so the
// parent's measure is not repeated per child).
import { plural } from '../phrasing.ts';
import type { Relationship, TableModel } from '../catalog.ts';
import { col } from '../catalog.ts';
import { childrenInTheme, colKey, draft, entityColumns, From, groupableCodes, isEntity, isPlainReference, liveOf, manyToOne, noun, parentsInTheme, roleNoun, term, type Template, type TemplateContext, totalOf, unitOf } from './model.ts';

/** entity → group (the entity's parent in the theme). */
function groupsOf(ctx: TemplateContext, t: TableModel = ctx.table): Relationship[] {
  return parentsInTheme(ctx, t).filter((r) => isPlainReference(r, 'zh') || true);
}

/** fact → entity → group chains inside the theme. */
function twoHops(ctx: TemplateContext): Array<[Relationship, Relationship]> {
  const out: Array<[Relationship, Relationship]> = [];
  for (const first of parentsInTheme(ctx)) for (const second of parentsInTheme(ctx, first.to)) if (second.to !== ctx.table && second.to !== first.to) out.push([first, second]);
  return out;
}

export const CROSS_TEMPLATES: Template[] = [
  {
    id: 'cross.best_in_group_by_own_measure',
    family: 'cross',
    level: 'window_cte',
    applies: (ctx) => isEntity(ctx.table) && ctx.table.measures.length > 0 && groupsOf(ctx).length > 0,
    build: (ctx) =>
      groupsOf(ctx)
        .slice(0, 1)
        .flatMap((rel) => ctx.table.measures.slice(0, 2).map((m) => ({ rel, m })))
        .map(({ rel, m }) => {
          const t = ctx.table;
          const g = rel.to;
          const from = new From(t).join(rel);
          const E = { zh: noun(t, 'zh'), en: noun(t, 'en') };
          const G = { zh: roleNoun(rel, 'zh'), en: roleNoun(rel, 'en') };
          const M = { zh: term(m, t, 'zh', ctx.catalog), en: term(m, t, 'en', ctx.catalog) };
          const gCols = entityColumns(from, g);
          const tCols = entityColumns(from, t);
          return draft({
            template: 'cross.best_in_group_by_own_measure',
            family: 'cross',
            level: 'window_cte',
            sql:
              `WITH ranked AS (SELECT ${gCols.map((c, i) => `${c} AS g${i}`).join(', ')}, ${tCols.map((c, i) => `${c} AS e${i}`).join(', ')}, ${from.c(t, m)} AS value, ` +
              `ROW_NUMBER() OVER (PARTITION BY ${from.c(g, g.keyColumn!)} ORDER BY ${from.c(t, m)} DESC, ${from.c(t, t.keyColumn!)}) AS rn ${from.sql()}${from.where([`${from.c(t, m)} IS NOT NULL`])}) ` +
              `SELECT ${gCols.map((_, i) => `g${i}`).join(', ')}, ${tCols.map((_, i) => `e${i}`).join(', ')}, value FROM ranked WHERE rn = 1 ORDER BY g0`,
            questions: {
              zh: [`每${unitOf(G.zh)}${G.zh}中${M.zh}最高的${E.zh}是哪一个？`, `找出各${G.zh}里${M.zh}排第一的${E.zh}。`],
              en: [`In each ${G.en}, which ${E.en} has the highest ${M.en}?`, `Find the ${E.en} with the top ${M.en} within every ${G.en}.`],
            },
            signature: { entity: t.key, measure: m.name, aggregate: 'top1', grouping: `parent:${rel.fromColumns[0]}`, filter: '-' },
            tables: [t.key, g.key],
            columns: [colKey(t, m)],
            priority: 2,
          });
        }),
  },
  {
    id: 'cross.best_in_group_by_child_sum',
    family: 'cross',
    level: 'window_cte',
    applies: (ctx) => ctx.table.additive.length > 0 && twoHops(ctx).length > 0,
    build: (ctx) =>
      twoHops(ctx)
        .slice(0, 2)
        .map(([first, second]) => {
          const t = ctx.table;
          const e = first.to;
          const g = second.to;
          const m = t.additive[0]!;
          const from = new From(t).join(first).join(second);
          const E = { zh: roleNoun(first, 'zh'), en: roleNoun(first, 'en') };
          const G = { zh: roleNoun(second, 'zh'), en: roleNoun(second, 'en') };
          const M = { zh: term(m, t, 'zh', ctx.catalog), en: term(m, t, 'en', ctx.catalog) };
          const gCols = entityColumns(from, g);
          const eCols = entityColumns(from, e);
          const cols = [...gCols.map((c, i) => `${c} AS g${i}`), ...eCols.map((c, i) => `${c} AS e${i}`)];
          const names = [...gCols.map((_, i) => `g${i}`), ...eCols.map((_, i) => `e${i}`)];
          return draft({
            template: 'cross.best_in_group_by_child_sum',
            family: 'cross',
            level: 'window_cte',
            sql:
              `WITH totals AS (SELECT ${cols.join(', ')}, SUM(${from.c(t, m)}) AS total ${from.sql()}${from.where()} GROUP BY ${[...gCols, ...eCols].join(', ')}), ` +
              `ranked AS (SELECT totals.*, ROW_NUMBER() OVER (PARTITION BY g0 ORDER BY total DESC, e0) AS rn FROM totals) ` +
              `SELECT ${names.join(', ')}, total FROM ranked WHERE rn = 1 ORDER BY g0`,
            questions: {
              zh: [`每${unitOf(G.zh)}${G.zh}中${totalOf(M.zh, 'zh')}最高的${E.zh}是哪一个？`, `找出各${G.zh}里${totalOf(M.zh, 'zh')}排第一的${E.zh}。`],
              en: [`In each ${G.en}, which ${E.en} has the highest ${totalOf(M.en, 'en')}?`, `Find the ${E.en} with the largest ${totalOf(M.en, 'en')} within every ${G.en}.`],
            },
            signature: { entity: t.key, measure: m.name, aggregate: 'top1', grouping: `parent:${first.fromColumns[0]}>${second.fromColumns[0]}`, filter: '-' },
            tables: [t.key, e.key, g.key],
            columns: [colKey(t, m)],
            priority: 3,
          });
        }),
  },
  {
    id: 'cross.sum_by_grandparent',
    family: 'cross',
    level: 'aggregate',
    applies: (ctx) => ctx.table.additive.length > 0 && twoHops(ctx).length > 0,
    build: (ctx) =>
      twoHops(ctx)
        .slice(0, 2)
        .map(([first, second]) => {
          const t = ctx.table;
          const g = second.to;
          const m = t.additive[0]!;
          const from = new From(t).join(first).join(second);
          const E = { zh: roleNoun(first, 'zh'), en: roleNoun(first, 'en') };
          const G = { zh: roleNoun(second, 'zh'), en: roleNoun(second, 'en') };
          const M = { zh: term(m, t, 'zh', ctx.catalog), en: term(m, t, 'en', ctx.catalog) };
          const gCols = entityColumns(from, g);
          return draft({
            template: 'cross.sum_by_grandparent',
            family: 'cross',
            level: 'aggregate',
            sql: `SELECT ${gCols.join(', ')}, SUM(${from.c(t, m)}) AS total ${from.sql()}${from.where()} GROUP BY ${gCols.join(', ')} ORDER BY total DESC, ${gCols[0]}`,
            questions: {
              // A role (assignee_id → 处理人) is a person in the grandparent, not a thing it owns.
              zh: isPlainReference(first, 'zh')
                ? [`按${E.zh}所属的${G.zh}汇总，各${G.zh}的${totalOf(M.zh, 'zh')}是多少？`, `每${unitOf(G.zh)}${G.zh}下所有${E.zh}的${M.zh}加起来是多少？`]
                : [`按${E.zh}所在的${G.zh}汇总，各${G.zh}的${totalOf(M.zh, 'zh')}是多少？`],
              en: [`What is the ${totalOf(M.en, 'en')} per ${G.en}, over the ${plural(E.en)} that belong to it?`, `Sum the ${M.en} of all ${plural(E.en)} by their ${G.en}.`],
            },
            signature: { entity: t.key, measure: m.name, aggregate: 'sum', grouping: `parent:${first.fromColumns[0]}>${second.fromColumns[0]}`, filter: '-' },
            tables: [t.key, first.to.key, g.key],
            columns: [colKey(t, m)],
            priority: 3,
          });
        }),
  },
  {
    id: 'cross.share_by_code',
    family: 'cross',
    level: 'window_cte',
    applies: (ctx) => ctx.table.additive.length > 0 && groupableCodes(ctx.table).length > 0,
    build: ({ table: t, catalog }) =>
      groupableCodes(t)
        .slice(0, 1)
        .map((c) => {
          const m = t.additive[0]!;
          const from = new From(t, false);
          const C = { zh: term(c, t, 'zh', catalog), en: term(c, t, 'en', catalog) };
          const M = { zh: term(m, t, 'zh', catalog), en: term(m, t, 'en', catalog) };
          return draft({
            template: 'cross.share_by_code',
            family: 'cross',
            level: 'window_cte',
            sql: `SELECT ${from.c(t, c)}, SUM(${from.c(t, m)}) AS total, ROUND(SUM(${from.c(t, m)}) * 100.0 / SUM(SUM(${from.c(t, m)})) OVER (), 2) AS share_pct ${from.sql()}${from.where()} GROUP BY ${from.c(t, c)} ORDER BY total DESC, ${from.c(t, c)}`,
            questions: {
              zh: [`各${C.zh}的${totalOf(M.zh, 'zh')}占全部${M.zh}的百分比是多少？`, `按${C.zh}统计${totalOf(M.zh, 'zh')}及其占比。`],
              en: [`What share of the ${totalOf(M.en, 'en')} does each ${C.en} account for, in percent?`, `Show the ${totalOf(M.en, 'en')} per ${C.en} and its percentage of the overall total.`],
            },
            signature: { entity: t.key, measure: m.name, aggregate: 'share', grouping: `code:${c.name}`, filter: '-' },
            tables: [t.key],
            columns: [colKey(t, c), colKey(t, m)],
            priority: 1,
          });
        }),
  },
  {
    id: 'cross.own_measure_with_child_count',
    family: 'cross',
    level: 'aggregate',
    applies: (ctx) => isEntity(ctx.table) && ctx.table.measures.length > 0 && childrenInTheme(ctx).some((r) => r.toColumns.length === 1 && manyToOne(r)),
    build: (ctx) =>
      childrenInTheme(ctx)
        // A one-to-one child (highlow of a state) has 0 or 1 rows per parent: nothing to count.
        .filter((r) => r.toColumns.length === 1 && r.to === ctx.table && manyToOne(r))
        .slice(0, 1)
        .map((rel) => {
          const p = ctx.table;
          const c = rel.from;
          const m = p.measures[0]!;
          const from = new From(p);
          const live = liveOf(c);
          const fk = col('', rel.fromColumns[0]!);
          const P = { zh: noun(p, 'zh'), en: noun(p, 'en') };
          const C = { zh: noun(c, 'zh'), en: noun(c, 'en', true) };
          // "每个部门的预算", not "每个部门的部门预算": the sentence already names the entity.
          const own = (text: string, e: string) => (text.toLowerCase().startsWith(e.toLowerCase()) && text.length > e.length ? text.slice(e.length).trim() : text);
          const M = { zh: own(term(m, p, 'zh', ctx.catalog), P.zh), en: own(term(m, p, 'en', ctx.catalog), P.en) };
          const role = { zh: roleNoun(rel, 'zh'), en: roleNoun(rel, 'en') };
          const plain = isPlainReference(rel, 'zh');
          return draft({
            template: 'cross.own_measure_with_child_count',
            family: 'cross',
            level: 'aggregate',
            sql:
              `SELECT ${entityColumns(from, p).join(', ')}, ${from.c(p, m)}, COALESCE(n.count, 0) AS ${plain ? 'child_count' : 'role_count'} ${from.sql()} ` +
              `LEFT JOIN (SELECT ${fk}, COUNT(*) AS count FROM ${c.ref}${live ? ` WHERE ${live}` : ''} GROUP BY ${fk}) n ON n.${fk} = ${from.c(p, rel.toColumns[0]!)}${from.where()} ORDER BY ${from.c(p, p.keyColumn!)}`,
            questions: plain
              ? {
                  zh: [`列出每${unitOf(P.zh)}${P.zh}的${M.zh}以及它的${C.zh}数量。`, `各${P.zh}的${M.zh}是多少？分别有多少${unitOf(C.zh)}${C.zh}？`],
                  en: [`List each ${P.en} with its ${M.en} and its number of ${C.en}.`, `For every ${P.en}, what is its ${M.en} and how many ${C.en} does it have?`],
                }
              : {
                  zh: [`列出每${unitOf(P.zh)}${P.zh}的${M.zh}以及其作为${role.zh}的${C.zh}数量。`],
                  en: [`List each ${P.en} with its ${M.en} and the number of ${C.en} where it is the ${role.en}.`],
                },
            signature: { entity: p.key, measure: `${m.name}+count`, aggregate: 'list_count', grouping: `child:${c.key}.${rel.fromColumns[0]}`, filter: '-' },
            tables: [p.key, c.key],
            columns: [colKey(p, m)],
            priority: 1,
          });
        }),
  },
];
