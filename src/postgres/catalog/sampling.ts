// Bounded reads of table data: the per-table profile (samples, value frequencies, distinct counts) and
// the value-overlap check of inferred relationships. Nothing here scans a big table: small tables are
// read up to a row limit, big ones through TABLESAMPLE SYSTEM (a fraction of their pages), and overlap
// probes either use an index or stop after a row limit.

export type SampleMethod = 'limit' | 'tablesample';

export interface SamplePlan {
  method: SampleMethod;
  /** TABLESAMPLE SYSTEM percentage (method tablesample). */
  percent?: number;
  /** Rows read at most. */
  limit: number;
}

export interface PlanInput {
  relkind: string;
  /** Planner estimate (pg_class.reltuples summed over partitions); < 0 unknown. */
  reltuples: number;
  /** Heap size in bytes (summed over partitions). */
  heapBytes: number;
  blockSize: number;
  /** Sum of the columns' average widths, if known (pg_stats avg_width); used when reltuples is unknown. */
  rowWidthGuess?: number;
}

/**
 * How to sample a relation: tables, partitioned tables and materialized views bigger than about twice
 * the row budget are read with TABLESAMPLE SYSTEM (p) sized for ~1.5 × the budget; everything else with
 * a plain LIMIT (which stops reading once the budget is met). Views and foreign tables get a LIMIT.
 */
export function samplePlan(input: PlanInput, rowBudget: number): SamplePlan {
  if (!['r', 'p', 'm'].includes(input.relkind)) return { method: 'limit', limit: Math.min(rowBudget, 1000) };
  const pages = Math.max(0, Math.ceil(input.heapBytes / input.blockSize));
  let rows = input.reltuples;
  if (!(rows >= 0) || (rows === 0 && pages > 0)) {
    // Never analyzed: guess from the size (~ width 64 bytes + 28 bytes of tuple header and pointer).
    const width = (input.rowWidthGuess ?? 64) + 28;
    rows = Math.floor((pages * input.blockSize * 0.9) / width);
  }
  if (rows <= rowBudget * 2 || pages <= 8) return { method: 'limit', limit: rowBudget };
  const percent = Math.min(100, Math.max(0.0001, (100 * rowBudget * 1.5) / rows));
  return { method: 'tablesample', percent: Number(percent.toPrecision(4)), limit: rowBudget };
}

export interface ProfileColumnRef {
  /** quote_ident(name) */
  qName: string;
  /** Also read the column's min and max (numbers, dates and times), compared in its own type. */
  range?: boolean;
}

/**
 * One query per relation: reads at most `plan.limit` rows (as text, each value cut to `maxChars`), then
 * per column the `topK` most frequent values with their counts, the non-null count and the number of
 * distinct values within the sample. Rows: k = -1 (v NULL, n = rows read), k = -2 (lo/hi: per range
 * column, in `columns` order, min and max as text) and k = column index. Ties in frequency are broken
 * by md5 of the value: deterministic, but not alphabetical (an alphabetical pick of tied values shows
 * `aaa…` values that say nothing about the column).
 */
export function profileSql(qualified: string, columns: ProfileColumnRef[], plan: SamplePlan, topK: number, maxChars = 200): string {
  const sample =
    plan.method === 'tablesample' ? ` TABLESAMPLE SYSTEM (${plan.percent}) REPEATABLE (42)` : '';
  const ranged = columns.map((c, i) => ({ c, i })).filter((x) => x.c.range);
  const select = columns.length
    ? [...columns.map((c, i) => `left(t.${c.qName}::text, ${maxChars}) AS c${i}`), ...ranged.map((x) => `t.${x.c.qName} AS r${x.i}`)].join(', ')
    : '1 AS c_';
  let head = `WITH s AS MATERIALIZED (SELECT ${select} FROM ${qualified} AS t${sample} LIMIT ${plan.limit})
SELECT -1 AS k, NULL::text AS v, count(*)::int AS n, 0 AS nonnull, 0 AS ndistinct, NULL::text[] AS lo, NULL::text[] AS hi FROM s`;
  if (ranged.length) {
    head += `
UNION ALL
SELECT -2, NULL, 0, 0, 0, ARRAY[${ranged.map((x) => `min(s.r${x.i})::text`).join(', ')}], ARRAY[${ranged.map((x) => `max(s.r${x.i})::text`).join(', ')}] FROM s`;
  }
  if (!columns.length) return head;
  const values = columns.map((_c, i) => `(${i}, s.c${i})`).join(', ');
  return `${head}
UNION ALL
SELECT k, v, n, nonnull, ndistinct, NULL, NULL FROM (
  SELECT x.k, x.v, count(*)::int AS n,
         row_number() OVER (PARTITION BY x.k ORDER BY count(*) DESC, md5(x.v)) AS rn,
         (sum(count(*)) OVER (PARTITION BY x.k))::int AS nonnull,
         (count(*) OVER (PARTITION BY x.k))::int AS ndistinct
  FROM s CROSS JOIN LATERAL (VALUES ${values}) AS x(k, v)
  WHERE x.v IS NOT NULL
  GROUP BY x.k, x.v
) g WHERE g.rn <= ${Math.max(1, Math.floor(topK))}`;
}

/**
 * Value-overlap probe of an inferred relationship: how many of the given source values (text, cast to
 * the target column's type) exist in the target column. With an index on the target column (or a small
 * target) the probe reads the target directly; otherwise it stops after `scanLimit` target rows.
 * $1 text[] values.
 */
/**
 * Several overlap counts in one statement: row i answers the i-th target with the values of parameter
 * $(i+1). Each part is the single-target query of overlapSql, as a scalar subquery.
 */
export function overlapBatchSql(targets: Array<{ qualified: string; qColumn: string; dataType: string; bounded: boolean }>, scanLimit = 200_000): string {
  return targets
    .map((t, i) => `SELECT ${i} AS i, (${overlapSql(t.qualified, t.qColumn, t.dataType, t.bounded, scanLimit).replace('$1', `$${i + 1}`)}) AS matched`)
    .join('\nUNION ALL ');
}

export function overlapSql(targetQualified: string, targetColumn: string, targetType: string, bounded: boolean, scanLimit = 200_000): string {
  const from = bounded
    ? `(SELECT ${targetColumn} FROM ${targetQualified} LIMIT ${scanLimit}) AS t`
    : `${targetQualified} AS t`;
  return `SELECT count(DISTINCT t.${targetColumn}::text)::int AS matched FROM ${from} WHERE t.${targetColumn} = ANY ($1::text[]::${targetType}[])`;
}
