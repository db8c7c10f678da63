// The bounded per-table profile and the value-overlap probes of inferred relationships (the SQL is in
// sampling.ts). Never a full scan of a big table.
import type { Database } from '../connect.ts';
import { readOnly } from '../read-only.ts';
import { HEAP_SIZE_SQL } from './queries.ts';
import { overlapSql, profileSql, samplePlan, type SamplePlan } from './sampling.ts';
import type { ProfileRow } from './rows.ts';
import type { CatalogColumn, CatalogRelation } from './types.ts';


export interface ColumnProfile {
  /** Most frequent values in the sample (text, cut to 200 characters), most frequent first. */
  top: Array<{ value: string; count: number }>;
  nonNull: number;
  /** Distinct values within the sample (exact up to the sample). */
  distinct: number;
  /** Numbers, dates and times: the smallest and largest value in the sample (as text). */
  min?: string;
  max?: string;
}

export interface RelationProfile {
  plan: SamplePlan;
  /** Rows read. */
  rows: number;
  /** True when the read covered the whole relation (no TABLESAMPLE and fewer rows than the limit). */
  complete: boolean;
  columns: ColumnProfile[];
  ms: number;
  /** The measured heap size (bytes), when the catalog had no estimate (never analyzed). */
  heapBytes?: number;
}

export interface ProfileOptions {
  /** Rows read at most (default 5,000). */
  rowBudget?: number;
  /** Values kept per column (default 21). */
  topK?: number;
  statementTimeoutMs?: number;
}

/** Bounded profile of one relation: one data query (plus transaction control). Never a full scan of a big table. */
export async function profileRelation(db: Database, relation: CatalogRelation, blockSize: number, options: ProfileOptions = {}): Promise<RelationProfile> {
  const started = performance.now();
  const rowBudget = options.rowBudget ?? 5000;
  const topK = options.topK ?? 21;
  const { value } = await readOnly(
    db,
    async (q) => {
      let heapBytes = relation.heapBytes;
      let measured: number | undefined;
      if (['r', 'p', 'm'].includes(relation.relkind) && (relation.reltuples < 0 || heapBytes === 0)) {
        // Never analyzed: relpages says nothing; the actual size decides how to sample.
        measured = Number((await q.query<{ bytes: string }>(HEAP_SIZE_SQL, [relation.oid])).rows[0]?.bytes ?? 0);
        heapBytes = measured;
      }
      const plan = samplePlan({ relkind: relation.relkind, reltuples: relation.reltuples, heapBytes, blockSize }, rowBudget);
      let used = plan;
      const refs = relation.columns.map((c) => ({ qName: c.qName, range: hasRange(c) }));
      let rows = (await q.query<ProfileRow>(profileSql(relation.qualified, refs, plan, topK))).rows;
      // TABLESAMPLE SYSTEM samples pages: a table whose estimate was stale may yield too few rows.
      if (plan.method === 'tablesample' && totalRows(rows) < Math.min(100, rowBudget)) {
        used = { method: 'limit', limit: rowBudget };
        rows = (await q.query<ProfileRow>(profileSql(relation.qualified, refs, used, topK))).rows;
      }
      return { rows, plan: used, measured };
    },
    { statementTimeoutMs: options.statementTimeoutMs ?? 60_000 },
  );
  const columns: ColumnProfile[] = relation.columns.map(() => ({ top: [], nonNull: 0, distinct: 0 }));
  const ranged = relation.columns.map((c, i) => ({ c, i })).filter((x) => hasRange(x.c));
  for (const row of value.rows) {
    if (row.k === -2) {
      ranged.forEach((x, j) => {
        const lo = row.lo?.[j];
        const hi = row.hi?.[j];
        if (lo !== null && lo !== undefined) columns[x.i]!.min = lo;
        if (hi !== null && hi !== undefined) columns[x.i]!.max = hi;
      });
      continue;
    }
    if (row.k < 0 || row.v === null) continue;
    const c = columns[row.k];
    if (!c) continue;
    c.top.push({ value: row.v, count: row.n });
    c.nonNull = row.nonnull;
    c.distinct = row.ndistinct;
  }
  const read = totalRows(value.rows);
  return {
    plan: value.plan,
    rows: read,
    complete: value.plan.method === 'limit' && read < value.plan.limit,
    columns,
    ms: Math.round(performance.now() - started),
    ...(value.measured !== undefined ? { heapBytes: value.measured } : {}),
  };
}

/** Columns whose range is worth knowing: numbers, dates and times (not arrays). */
export function hasRange(column: CatalogColumn): boolean {
  return column.typcategory === 'N' || column.typcategory === 'D';
}

function totalRows(rows: ProfileRow[]): number {
  return Number(rows.find((row) => row.k === -1)?.n ?? 0);
}

/**
 * How many of `values` occur in the target column (bounded: an index probe or a capped scan).
 * `bounded` caps the target rows read (use it when the target is big and has no index on the column).
 */
export async function overlapCount(
  db: Database,
  target: { qualified: string; qColumn: string; dataType: string },
  values: string[],
  bounded: boolean,
  statementTimeoutMs = 30_000,
): Promise<number> {
  if (!values.length) return 0;
  const { value } = await readOnly(
    db,
    async (q) => (await q.query<{ matched: number }>(overlapSql(target.qualified, target.qColumn, target.dataType, bounded), [values])).rows[0]?.matched ?? 0,
    { statementTimeoutMs },
  );
  return Number(value);
}

