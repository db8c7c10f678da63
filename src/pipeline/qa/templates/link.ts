// Link family: one table through its relationships. A child's measure summed per parent (grouped by the
// parent's key, shown with its label; the join goes child → parent, so nothing fans out), children counted
// per parent (through the role the reference names: tickets per assignee), parents without children, and
// link tables read through both sides.
import { plural } from '../phrasing.ts';
import { col, isExtensionName, keyedByReference, type Relationship } from '../catalog.ts';
import { childrenInTheme, colKey, draft, entityColumns, From, wordCodes, isPlainReference, withRepeats, linkSides, lit, liveOf, noun, parentsInTheme, quote, roleNoun, sharesTarget, term, type TemplateContext, type Template, totalOf, unitOf } from './model.ts';

const E = (rel: Relationship) => ({ zh: noun(rel.from, 'zh'), en: noun(rel.from, 'en', true) });
const roleOf = (rel: Relationship) => ({ zh: roleNoun(rel, 'zh'), en: roleNoun(rel, 'en') });
/** The referencing table's key is the reference (employees.id → persons.id): each row is one of the target's. */
const subtypeOf = (rel: Relationship) => keyedByReference(rel) && !isExtensionName(rel.from.name);
const extensionOf = (rel: Relationship) => keyedByReference(rel) && isExtensionName(rel.from.name);
const groupBy = (from: From, rel: Relationship) => entityColumns(from, rel.to).join(', ');

/** Parents of the table (in the theme) that a child measure can be summed under. */
function measuredParents(ctx: TemplateContext) {
  return parentsInTheme(ctx).filter(() => ctx.table.measures.length > 0);
}

export const LINK_TEMPLATES: Template[] = [
  {
    id: 'link.top_parents_by_child_sum',
    family: 'link',
    level: 'aggregate',
    applies: (ctx) => ctx.table.additive.length > 0 && measuredParents(ctx).length > 0,
    build: (ctx) =>
      measuredParents(ctx)
        .slice(0, 2)
        .flatMap((rel) => ctx.table.additive.slice(0, 2).map((m) => ({ rel, m })))
        .flatMap(({ rel, m }) => withRepeats([5, 10], (n) => {
          const t = ctx.table;
          const from = new From(t).join(rel);
          const P = roleOf(rel);
          const M = { zh: term(m, t, 'zh', ctx.catalog), en: term(m, t, 'en', ctx.catalog) };
          return draft({
            template: 'link.top_parents_by_child_sum',
            family: 'link',
            level: 'aggregate',
            sql: `SELECT ${groupBy(from, rel)}, SUM(${from.c(t, m)}) AS total ${from.sql()}${from.where()} GROUP BY ${groupBy(from, rel)} ORDER BY total DESC, ${from.c(rel.to, rel.to.keyColumn!)} LIMIT ${n}`,
            questions: {
              zh: [`${totalOf(M.zh, 'zh')}最高的${n}${unitOf(P.zh)}${P.zh}是哪些？`, `找出${totalOf(M.zh, 'zh')}排名前${n}的${P.zh}。`, `帮我看看哪${n}${unitOf(P.zh)}${P.zh}的${M.zh}加起来最多。`],
              en: [`Which ${n} ${plural(P.en)} have the highest ${totalOf(M.en, 'en')}?`, `Find the top ${n} ${plural(P.en)} by ${totalOf(M.en, 'en')}.`, `Show me the ${n} ${plural(P.en)} with the most ${M.en} in total.`],
            },
            signature: { entity: t.key, measure: m.name, aggregate: 'sum', grouping: `parent:${rel.fromColumns[0]}`, filter: 'top' },
            tables: [t.key, rel.to.key],
            columns: [colKey(t, m), ...rel.to.display.map((d) => colKey(rel.to, d))],
            priority: 3,
          });
        }, (n) => `top${n}`)),
  },
  {
    id: 'link.avg_child_measure_per_parent',
    family: 'link',
    level: 'aggregate',
    applies: (ctx) => ctx.table.nonAdditive.length > 0 && parentsInTheme(ctx).length > 0,
    build: (ctx) =>
      parentsInTheme(ctx)
        .slice(0, 2)
        .map((rel) => {
          const t = ctx.table;
          const m = t.nonAdditive[0]!;
          const from = new From(t).join(rel);
          const P = roleOf(rel);
          const M = { zh: term(m, t, 'zh', ctx.catalog), en: term(m, t, 'en', ctx.catalog) };
          const plain = isPlainReference(rel, 'zh');
          return draft({
            template: 'link.avg_child_measure_per_parent',
            family: 'link',
            level: 'aggregate',
            sql: `SELECT ${groupBy(from, rel)}, COUNT(*) AS ${t.keyColumn ? 'count' : 'row_count'}, ROUND(AVG(${from.c(t, m)}), 2) AS average ${from.sql()}${from.where()} GROUP BY ${groupBy(from, rel)} ORDER BY ${from.c(rel.to, rel.to.keyColumn!)}`,
            questions: {
              zh: [`每${unitOf(P.zh)}${P.zh}${plain ? '下' : '对应'}的${E(rel).zh}有多少个？平均${M.zh}是多少？`, `按${P.zh}统计${E(rel).zh}的数量和平均${M.zh}。`],
              en: [`For each ${P.en}, how many ${E(rel).en} are there and what is their average ${M.en}?`, `Count the ${E(rel).en} per ${P.en} and give their average ${M.en}.`],
            },
            signature: { entity: t.key, measure: m.name, aggregate: 'avg', grouping: `parent:${rel.fromColumns[0]}`, filter: '-' },
            tables: [t.key, rel.to.key],
            columns: [colKey(t, m)],
            priority: 1,
          });
        }),
  },
  {
    id: 'link.top_parents_by_child_count',
    family: 'link',
    level: 'aggregate',
    applies: (ctx) => ctx.table.additive.length === 0 && (!ctx.table.isLink || linkSides(ctx).length < 2) && parentsInTheme(ctx).length > 0,
    build: (ctx) =>
      parentsInTheme(ctx)
        .slice(0, 3)
        .map((rel) => {
          const t = ctx.table;
          const from = new From(t).join(rel);
          const P = roleOf(rel);
          const plain = isPlainReference(rel, 'zh');
          // cite → paper twice: "the most cited" and "the most citing" differ only by the role.
          const T = { zh: noun(rel.to, 'zh'), en: noun(rel.to, 'en') };
          const roles = sharesTarget(rel)
            ? {
                zh: [`作为${P.zh}，哪5${unitOf(T.zh)}${T.zh}在${E(rel).zh}中出现的次数最多？`, `找出作为${P.zh}在${E(rel).zh}中出现次数最多的前5${unitOf(T.zh)}${T.zh}。`],
                en: [`Which 5 ${plural(T.en)} appear most often as the ${P.en} in ${E(rel).en}?`, `Find the top 5 ${plural(T.en)} by how often they are the ${P.en} in ${E(rel).en}.`],
              }
            : undefined;
          return draft({
            template: 'link.top_parents_by_child_count',
            family: 'link',
            level: 'aggregate',
            sql: `SELECT ${groupBy(from, rel)}, COUNT(*) AS count ${from.sql()}${from.where()} GROUP BY ${groupBy(from, rel)} ORDER BY count DESC, ${from.c(rel.to, rel.to.keyColumn!)} LIMIT 5`,
            questions: roles ?? {
              zh: plain
                ? [`${E(rel).zh}数量最多的5${unitOf(P.zh)}${P.zh}是哪些？`, `找出拥有${E(rel).zh}最多的前5${unitOf(P.zh)}${P.zh}。`]
                : [`${E(rel).zh}数量最多的5${unitOf(P.zh)}${P.zh}是哪些？`, `找出${E(rel).zh}最多的前5${unitOf(P.zh)}${P.zh}。`],
              en: plain
                ? [`Which 5 ${plural(P.en)} have the most ${E(rel).en}?`, `Find the top 5 ${plural(P.en)} by number of ${E(rel).en}.`]
                : [`Which 5 ${plural(P.en)} have the most ${E(rel).en}?`, `Find the top 5 ${plural(P.en)} by number of ${E(rel).en}.`],
            },
            signature: { entity: t.key, measure: '*', aggregate: 'count', grouping: `parent:${rel.fromColumns[0]}`, filter: 'top' },
            tables: [t.key, rel.to.key],
            columns: [colKey(t, t.byName.get(rel.fromColumns[0]!)!)],
            priority: 2,
          });
        }),
  },
  {
    id: 'link.parents_without_children',
    family: 'link',
    level: 'join',
    applies: (ctx) => Boolean(ctx.table.keyColumn && ctx.table.display.length) && childrenInTheme(ctx).length > 0,
    build: (ctx) =>
      childrenInTheme(ctx)
        .filter((rel) => rel.toColumns.length === 1)
        .slice(0, 2)
        .map((rel) => {
          const p = ctx.table;
          const c = rel.from;
          const from = new From(p);
          const childLive = liveOf(c, 'x');
          const sub = `SELECT 1 FROM ${c.ref} x WHERE ${col('x', rel.fromColumns[0]!)} = ${from.c(p, rel.toColumns[0]!)}${childLive ? ` AND ${childLive}` : ''}`;
          const P = { zh: noun(p, 'zh'), en: noun(p, 'en', true) };
          const plain = isPlainReference(rel, 'zh');
          const role = roleOf(rel);
          return draft({
            template: 'link.parents_without_children',
            family: 'link',
            level: 'join',
            sql: `SELECT ${entityColumns(from, p).join(', ')} ${from.sql()}${from.where([`NOT EXISTS (${sub})`])} ORDER BY ${from.c(p, p.keyColumn!)}`,
            // customers.id → persons.id: a customer is a person, so the rows without one are "not customers".
            questions: subtypeOf(rel) ? {
              zh: [`哪些${P.zh}不是${noun(c, 'zh')}？`, `列出不是${noun(c, 'zh')}的${P.zh}。`],
              en: [`Which ${P.en} are not ${noun(c, 'en', true)}?`, `List the ${P.en} that are not ${noun(c, 'en', true)}.`],
            } : extensionOf(rel) ? {
              // user_profiles is asked about as the user's; its own name says what is missing.
              zh: [`哪些${P.zh}没有${c.noun.zh}？`, `列出没有${c.noun.zh}的${P.zh}。`],
              en: [`Which ${P.en} have no ${c.noun.en}?`, `List the ${P.en} without a ${c.noun.en}.`],
            } : {
              zh: plain ? [`哪些${P.zh}没有任何${E(rel).zh}？`, `列出没有${E(rel).zh}记录的${P.zh}。`] : [`哪些${P.zh}从未担任过任何${E(rel).zh}的${role.zh}？`, `列出没有担任过任何${E(rel).zh}${role.zh}的${P.zh}。`],
              en: plain ? [`Which ${P.en} have no ${E(rel).en} at all?`, `List the ${P.en} without any ${E(rel).en}.`] : [`Which ${P.en} have never been the ${role.en} of any ${noun(c, 'en')}?`, `List the ${P.en} that are not the ${role.en} of any ${noun(c, 'en')}.`],
            },
            signature: { entity: p.key, measure: '-', aggregate: 'list', grouping: '-', filter: `anti:${c.key}.${rel.fromColumns[0]}` },
            tables: [p.key, c.key],
            columns: [],
            priority: 0,
          });
        }),
  },
  {
    id: 'link.children_of_code_with_parent',
    family: 'link',
    level: 'join',
    applies: (ctx) => Boolean(ctx.table.keyColumn) && ctx.table.additive.length === 0 && !ctx.table.isLink && wordCodes(ctx.table).length > 0 && parentsInTheme(ctx).length > 0,
    build: (ctx) =>
      parentsInTheme(ctx)
        .slice(0, 1)
        .flatMap((rel) => wordCodes(ctx.table).slice(0, 1).map((c) => ({ rel, c })))
        .map(({ rel, c }) => {
          const t = ctx.table;
          const from = new From(t).join(rel);
          const words = c.values.filter((x) => !/^-?\d+(\.\d+)?$/.test(x));
          const v = words[Math.min(1, words.length - 1)]!;
          const C = { zh: term(c, t, 'zh', ctx.catalog), en: term(c, t, 'en', ctx.catalog) };
          const P = roleOf(rel);
          const own = [t.keyColumn!, ...t.display, ...t.times.slice(0, 1)].filter((x, i, a) => a.indexOf(x) === i).map((x) => from.c(t, x));
          return draft({
            template: 'link.children_of_code_with_parent',
            family: 'link',
            level: 'join',
            sql: `SELECT ${own.join(', ')}, ${entityColumns(from, rel.to).join(', ')} ${from.sql()}${from.where([`${from.c(t, c)} = ${lit(v)}`])} ORDER BY ${from.c(t, t.keyColumn!)}`,
            questions: {
              zh: [`列出${C.zh}为${quote(v, 'zh')}的${E(rel).zh}及其${P.zh}。`, `${C.zh}是${quote(v, 'zh')}的${E(rel).zh}有哪些？分别对应哪${unitOf(P.zh)}${P.zh}？`],
              en: [`List the ${E(rel).en} with ${C.en} ${quote(v, 'en')} together with their ${P.en}.`, `Which ${E(rel).en} have ${C.en} ${quote(v, 'en')}, and who is the ${P.en} of each?`],
            },
            signature: { entity: t.key, measure: '-', aggregate: 'list', grouping: '-', filter: `code:${c.name}` },
            tables: [t.key, rel.to.key],
            columns: [colKey(t, c)],
          });
        }),
  },
  {
    id: 'link.pairs',
    family: 'link',
    level: 'join',
    applies: (ctx) => ctx.table.isLink && linkSides(ctx).length >= 2,
    build: (ctx) => {
      const [a, b] = linkSides(ctx);
      const t = ctx.table;
      const from = new From(t).join(a!).join(b!);
      const A = { zh: noun(a!.to, 'zh'), en: noun(a!.to, 'en') };
      const B = { zh: noun(b!.to, 'zh'), en: noun(b!.to, 'en', true) };
      return [
        draft({
          template: 'link.pairs',
          family: 'link',
          level: 'join',
          sql: `SELECT ${entityColumns(from, a!.to).join(', ')}, ${entityColumns(from, b!.to).join(', ')} ${from.sql()}${from.where()} ORDER BY ${from.c(a!.to, a!.to.keyColumn!)}, ${from.c(b!.to, b!.to.keyColumn!)}`,
          questions: {
            zh: [`列出每${unitOf(A.zh)}${A.zh}的${B.zh}。`, `各${A.zh}分别对应哪些${B.zh}？`],
            en: [`List the ${B.en} linked to each ${A.en}.`, `Which ${B.en} belong to each ${A.en}?`],
          },
          signature: { entity: t.key, measure: '-', aggregate: 'list', grouping: `join:${a!.fromColumns[0]},${b!.fromColumns[0]}`, filter: '-' },
          tables: [t.key, a!.to.key, b!.to.key],
          columns: [],
          priority: 2,
        }),
      ];
    },
  },
  {
    id: 'link.count_through_link',
    family: 'link',
    level: 'aggregate',
    applies: (ctx) => ctx.table.isLink && linkSides(ctx).length >= 2,
    build: (ctx) => {
      const rels = linkSides(ctx).slice(0, 2);
      return rels.map((rel, i) => {
        const other = rels[1 - i]!;
        const t = ctx.table;
        const from = new From(t).join(rel);
        const A = { zh: noun(rel.to, 'zh'), en: noun(rel.to, 'en') };
        const B = { zh: noun(other.to, 'zh'), en: noun(other.to, 'en', true) };
        // The other side is counted through the link, and only while it is live.
        from.join(other);
        return draft({
          template: 'link.count_through_link',
          family: 'link',
          level: 'aggregate',
          sql: `SELECT ${groupBy(from, rel)}, COUNT(DISTINCT ${from.c(other.to, other.to.keyColumn!)}) AS count ${from.sql()}${from.where()} GROUP BY ${groupBy(from, rel)} ORDER BY count DESC, ${from.c(rel.to, rel.to.keyColumn!)}`,
          questions: {
            zh: [`每${unitOf(A.zh)}${A.zh}有多少${unitOf(B.zh)}${B.zh}？`, `按${A.zh}统计${B.zh}的数量，从多到少排列。`],
            en: [`How many ${B.en} is each ${A.en} linked to?`, `Count the linked ${B.en} per ${A.en}, most first.`],
          },
          signature: { entity: t.key, measure: other.fromColumns[0]!, aggregate: 'count_distinct', grouping: `parent:${rel.fromColumns[0]}`, filter: '-' },
          tables: [t.key, rel.to.key, other.to.key],
          columns: [],
          priority: 2,
        });
      });
    },
  },
];
