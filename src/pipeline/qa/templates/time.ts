// Time family: trends and windows on business time only (never a load or update timestamp). Windows are
// anchored in the data: an absolute month inside the column's range, or "the last 30 days" counted back
// from the latest date in the table, never from now(). Month-over-month compares a month with the one
// right before it only when that month has data (no LAG across gaps); the moving average uses RANGE with
// an interval, so a missing day does not stretch the window.
import type { Lang } from '../../../messages.ts';
import type { ColumnModel, TableModel } from '../catalog.ts';
import type { CatalogModel } from '../catalog.ts';
import { businessTimes, isDatedFact, withRepeats, colKey, draft, From, lit, liveOf, monthsOf, monthWords, namedMeasure, nextMonth, noun, term, type Draft, type Template, totalOf, unitOf } from './model.ts';
import { col } from '../catalog.ts';

/** What is measured over time: an additive measure summed, or (for tables without one) rows counted. */
interface Quantity {
  sql: (from: From) => string;
  words: Record<Lang, string>;
  key: string;
  column?: ColumnModel;
  /** The time column's event when the table has several (the month is the month of that event). */
  by?: Record<Lang, string>;
}

/** The event a time column dates: 下单日期 → 下单, 'hire date' → hired (for "orders placed", "customers created"). */
function eventWords(time: ColumnModel, t: TableModel, catalog: CatalogModel): Record<Lang, string> {
  return { zh: term(time, t, 'zh', catalog).replace(/(日期|时间|日|时刻)$/, ''), en: term(time, t, 'en', catalog).replace(/\s*(date|time|timestamp|at|on)$/i, '') };
}

function quantities(t: TableModel, catalog: CatalogModel, time?: ColumnModel): Quantity[] {
  // With several business times the question says which one the trend follows.
  const which = time && t.times.length > 1 ? eventWords(time, t, catalog) : undefined;
  // A bare measure word (金额, 数量) is named by its entity in a question that names nothing else.
  const named = (m: ColumnModel, lang: Lang) => namedMeasure(noun(t, lang), term(m, t, lang, catalog), lang);
  if (t.additive.length && isDatedFact(t)) {
    return t.additive.slice(0, 2).map((m) => ({
      sql: (from: From) => `SUM(${from.c(t, m)})`,
      words: which
        ? { zh: totalOf(named(m, 'zh'), 'zh'), en: totalOf(named(m, 'en'), 'en') }
        : { zh: totalOf(named(m, 'zh'), 'zh'), en: totalOf(named(m, 'en'), 'en') },
      ...(which ? { by: which } : {}),
      key: m.name,
      column: m,
    }));
  }
  // Rows counted by a time column are the events that column dates: orders placed, customers created.
  const event = time ? eventWords(time, t, catalog) : undefined;
  const zhEvent = event && event.zh && !/[a-z]/i.test(event.zh) ? event.zh : '';
  const e = noun(t, 'zh');
  // Rows counted by their creation date are the new ones: 新增客户数量, not 创建的客户数量.
  const created = /^(创建|新建|新增|注册|录入|建立|登记)$|^成为/.test(zhEvent);
  const zhCount = created ? `新增${e}数量` : zhEvent ? (zhEvent.includes(e) ? `${zhEvent}的数量` : `${zhEvent}的${e}数量`) : `${e}数量`;
  const enCreated = /^(created|registered|signed up|joined|added|since)$/i.test(event?.en ?? '') || created;
  const enCount = enCreated ? `number of new ${noun(t, 'en', true)}` : `number of ${noun(t, 'en', true)}${event?.en ? ` by ${event.en} date` : ''}`;
  return [{ sql: () => 'COUNT(*)', words: { zh: zhCount, en: enCount }, key: '*' }];
}

function monthly(t: TableModel): ColumnModel[] {
  return businessTimes(t).filter((c) => monthsOf(c).length >= 3);
}

function forEach(t: TableModel, catalog: CatalogModel, make: (time: ColumnModel, q: Quantity) => Draft | Draft[] | null): Draft[] {
  const out: Draft[] = [];
  for (const time of monthly(t).slice(0, 1)) for (const q of quantities(t, catalog, time)) {
    const made = make(time, q);
    for (const d of made ? (Array.isArray(made) ? made : [made]) : []) {
      if (q.by) {
        const by = q.by;
        d.questions.zh = d.questions.zh.map((x) => x.replace('按月', `按${by.zh}月份`).replace(/^每个月/, `每个${by.zh}月份`));
        d.questions.en = d.questions.en.map((x) => x.replace(/per month|in each month|from month to month/, (m) => `${m} (by ${by.en} date)`));
      }
      out.push(d);
    }
  }
  return out;
}

const cols = (t: TableModel, time: ColumnModel, q: Quantity) => [colKey(t, time), ...(q.column ? [colKey(t, q.column)] : [])];

export const TIME_TEMPLATES: Template[] = [
  {
    id: 'time.monthly_trend',
    family: 'time',
    level: 'aggregate',
    applies: (ctx) => monthly(ctx.table).length > 0,
    build: ({ table: t, catalog }) =>
      forEach(t, catalog, (time, q) => {
        const from = new From(t, false);
        return draft({
          template: 'time.monthly_trend',
          family: 'time',
          level: 'aggregate',
          sql: `SELECT date_trunc('month', ${from.c(t, time)})::date AS month, ${q.sql(from)} AS value ${from.sql()}${from.where([`${from.c(t, time)} IS NOT NULL`])} GROUP BY 1 ORDER BY 1`,
          questions: {
            zh: [`按月统计${q.words.zh}。`, `每个月${q.words.zh}是多少？`, `帮我看看${q.words.zh}按月的变化。`],
            en: [`Show the ${q.words.en} per month.`, `What is the ${q.words.en} in each month?`, `How does the ${q.words.en} change from month to month?`],
          },
          signature: { entity: t.key, measure: q.key, aggregate: 'sum', grouping: 'month', filter: '-' },
          tables: [t.key],
          columns: cols(t, time, q),
          priority: 4,
        });
      }),
  },
  {
    id: 'time.latest_month',
    family: 'time',
    level: 'aggregate',
    applies: (ctx) => monthly(ctx.table).length > 0,
    build: ({ table: t, catalog }) =>
      forEach(t, catalog, (time, q) => {
        const months = monthsOf(time);
        // The last month that is surely whole: the one before the month of the latest date (earlier whole
        // months are repeats, for a size the user asked for).
        const whole = months.slice(1, -1).reverse();
        const make = (month: string) => {
        const from = new From(t, false);
        const c = from.c(t, time);
        return draft({
          template: 'time.latest_month',
          family: 'time',
          level: 'aggregate',
          sql: `SELECT ${q.sql(from)} AS value ${from.sql()}${from.where([`${c} >= DATE ${lit(`${month}-01`)}`, `${c} < DATE ${lit(`${nextMonth(month)}-01`)}`])}`,
          questions: {
            // 2010年3月入职的员工数量, not 2010年3月的入职的员工数量.
            zh: [`${monthWords(month, 'zh')}${q.words.zh.includes('的') ? '' : '的'}${q.words.zh}是多少？`, `统计${monthWords(month, 'zh')}${q.words.zh.includes('的') ? '' : '的'}${q.words.zh}。`],
            en: [`What was the ${q.words.en} in ${monthWords(month, 'en')}?`, `Calculate the ${q.words.en} for ${monthWords(month, 'en')}.`],
          },
          signature: { entity: t.key, measure: q.key, aggregate: 'sum', grouping: '-', filter: 'month' },
          tables: [t.key],
          columns: cols(t, time, q),
        });
        };
        return withRepeats(whole.slice(0, 12), make, (m) => m);
      }),
  },
  {
    id: 'time.last_30_days',
    family: 'time',
    level: 'aggregate',
    applies: (ctx) => monthly(ctx.table).length > 0,
    build: ({ table: t, catalog }) =>
      forEach(t, catalog, (time, q) => withRepeats([30, 7, 90], (days) => {
        const from = new From(t, false);
        const c = from.c(t, time);
        const live = liveOf(t);
        return draft({
          template: 'time.last_30_days',
          family: 'time',
          level: 'aggregate',
          sql: `SELECT ${q.sql(from)} AS value ${from.sql()}${from.where([`${c} > (SELECT MAX(${col('', time)}) FROM ${t.ref}${live ? ` WHERE ${live}` : ''}) - INTERVAL '${days} days'`])}`,
          questions: {
            zh: [`以数据中最新的${term(time, t, 'zh', catalog)}为准，最近${days}天的${q.words.zh}是多少？`, `统计截至最新一条记录为止最近${days}天的${q.words.zh}。`],
            en: [`What is the ${q.words.en} over the last ${days} days up to the latest ${term(time, t, 'en', catalog)} in the data?`, `Calculate the ${q.words.en} for the ${days} days up to the most recent record.`],
          },
          signature: { entity: t.key, measure: q.key, aggregate: 'sum', grouping: '-', filter: 'last_days' },
          tables: [t.key],
          columns: cols(t, time, q),
        });
      }, (days) => String(days))),
  },
  {
    id: 'time.month_over_month',
    family: 'time',
    level: 'window_cte',
    applies: (ctx) => monthly(ctx.table).length > 0,
    build: ({ table: t, catalog }) =>
      forEach(t, catalog, (time, q) => {
        const from = new From(t, false);
        const prev = 'LAG(value) OVER (ORDER BY month)';
        return draft({
          template: 'time.month_over_month',
          family: 'time',
          level: 'window_cte',
          sql:
            `WITH monthly AS (SELECT date_trunc('month', ${from.c(t, time)}) AS month, ${q.sql(from)} AS value ${from.sql()}${from.where([`${from.c(t, time)} IS NOT NULL`])} GROUP BY 1) ` +
            `SELECT month::date AS month, value, CASE WHEN LAG(month) OVER (ORDER BY month) = month - INTERVAL '1 month' THEN ROUND((value - ${prev}) * 100.0 / NULLIF(${prev}, 0), 2) END AS change_pct FROM monthly ORDER BY month`,
          questions: {
            zh: [`每个月${q.words.zh}比上个月增长或下降了百分之多少？`, `按月列出${q.words.zh}及其环比变化百分比。`],
            en: [`By what percentage did the ${q.words.en} change from each month to the next?`, `List the ${q.words.en} per month with its month-over-month change in percent.`],
          },
          signature: { entity: t.key, measure: q.key, aggregate: 'sum', grouping: 'month', filter: 'mom' },
          tables: [t.key],
          columns: cols(t, time, q),
          priority: 3,
        });
      }),
  },
  {
    id: 'time.running_total',
    family: 'time',
    level: 'window_cte',
    applies: (ctx) => monthly(ctx.table).length > 0,
    build: ({ table: t, catalog }) =>
      forEach(t, catalog, (time, q) => {
        const months = monthsOf(time);
        const year = months[months.length - 2]!.slice(0, 4);
        const from = new From(t, false);
        const c = from.c(t, time);
        return draft({
          template: 'time.running_total',
          family: 'time',
          level: 'window_cte',
          sql:
            `WITH monthly AS (SELECT date_trunc('month', ${c}) AS month, ${q.sql(from)} AS value ${from.sql()}${from.where([`${c} >= DATE ${lit(`${year}-01-01`)}`, `${c} < DATE ${lit(`${Number(year) + 1}-01-01`)}`])} GROUP BY 1) ` +
            `SELECT month::date AS month, value, SUM(value) OVER (ORDER BY month) AS running_total FROM monthly ORDER BY month`,
          questions: {
            zh: [`${year}年每个月${q.words.zh}是多少？年初至该月的累计值是多少？`, `按月列出${year}年的${q.words.zh}和累计${q.words.zh}。`],
            en: [`What is the ${q.words.en} in each month of ${year}, and the running total since January?`, `List the monthly ${q.words.en} for ${year} with a year-to-date running total.`],
          },
          signature: { entity: t.key, measure: q.key, aggregate: 'sum', grouping: 'month', filter: 'cumulative' },
          tables: [t.key],
          columns: cols(t, time, q),
        });
      }),
  },
  {
    id: 'time.moving_average',
    family: 'time',
    level: 'window_cte',
    applies: (ctx) => isDatedFact(ctx.table) && monthly(ctx.table).some((c) => c.info.udt_name === 'date'),
    build: ({ table: t, catalog }) => {
      const time = monthly(t).find((c) => c.info.udt_name === 'date')!;
      return quantities(t, catalog, time)
        .slice(0, 1)
        .map((q) => {
          const from = new From(t, false);
          return draft({
            template: 'time.moving_average',
            family: 'time',
            level: 'window_cte',
            sql:
              `WITH daily AS (SELECT ${from.c(t, time)} AS day, ${q.sql(from)} AS value ${from.sql()}${from.where([`${from.c(t, time)} IS NOT NULL`])} GROUP BY 1) ` +
              `SELECT day, value, ROUND(AVG(value) OVER (ORDER BY day RANGE BETWEEN INTERVAL '6 days' PRECEDING AND CURRENT ROW), 2) AS avg_7_days FROM daily WHERE day > (SELECT MAX(day) FROM daily) - INTERVAL '30 days' ORDER BY day`,
            questions: {
              zh: [`最近30天（截至数据中的最新日期）每天的${q.words.zh}及其7日移动平均是多少？`, `列出截至最新日期的最近30天里每天的${q.words.zh}和近7天平均值。`],
              en: [`For the last 30 days up to the latest date in the data, what is the daily ${q.words.en} and its 7-day moving average?`, `List the daily ${q.words.en} of the 30 days up to the latest date, with a 7-day moving average.`],
            },
            signature: { entity: t.key, measure: q.key, aggregate: 'avg', grouping: 'day', filter: 'moving' },
            tables: [t.key],
            columns: cols(t, time, q),
          });
        });
    },
  },
];
