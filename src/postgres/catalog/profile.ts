// The bounded per-table profile and the value-overlap probes of inferred relationships (the SQL is in
// sampling.ts). Never a full scan of a big table.
import type { Database } from '../connect.ts';
import { readOnly } from '../read-only.ts';
import { HEAP_SIZE_SQL } from './queries.ts';
import { overlapBatchSql, overlapSql, profileSql, samplePlan, type SamplePlan } from './sampling.ts';
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


export interface OverlapProbeRequest {
  target: { qualified: string; qColumn: string; dataType: string };
  values: string[];
  bounded: boolean;
}

interface PendingProbe {
  request: OverlapProbeRequest;
  resolve: (matched: number) => void;
  reject: (error: unknown) => void;
}

/** Probes asked together in one statement: beyond this, a statement's planning outweighs its round trips. */
const OVERLAP_BATCH = 64;

/**
 * The overlap probes of join discovery, batched: probes asked while others run are sent together, up to
 * OVERLAP_BATCH in one statement inside one read-only transaction, `lanes` statements at once. One probe
 * per statement cost four round trips each (BEGIN, SET, the query, ROLLBACK): on 2,000 tables that was
 * most of discovery's time. When a batch fails (a value a target type rejects, a timeout) its probes are
 * asked one by one, so a failing probe fails alone (and confirms nothing) instead of taking its batch with it.
 */
export class OverlapProber {
  readonly #db: Database;
  readonly #lanes: number;
  readonly #statementTimeoutMs: number;
  readonly #queue: PendingProbe[] = [];
  #running = 0;
  #scheduled = false;
  /** Statements sent (batches and single probes), for the step's counters. */
  statements = 0;

  constructor(db: Database, options: { lanes?: number; statementTimeoutMs?: number } = {}) {
    this.#db = db;
    this.#lanes = Math.max(1, options.lanes ?? 1);
    this.#statementTimeoutMs = options.statementTimeoutMs ?? 30_000;
  }

  /** How many of the request's values occur in its target column. */
  count(request: OverlapProbeRequest): Promise<number> {
    if (!request.values.length) return Promise.resolve(0);
    return new Promise((resolve, reject) => {
      this.#queue.push({ request, resolve, reject });
      this.#schedule();
    });
  }

  /** Starts batches on the next turn, so that the probes asked in this one go together. */
  #schedule(): void {
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => {
      this.#scheduled = false;
      while (this.#running < this.#lanes && this.#queue.length) void this.#run(this.#queue.splice(0, OVERLAP_BATCH));
    });
  }

  async #run(batch: PendingProbe[]): Promise<void> {
    this.#running += 1;
    try {
      const counts = await this.#batch(batch.map((b) => b.request)).catch(() => undefined);
      if (counts) batch.forEach((b, i) => b.resolve(counts[i] ?? 0));
      else {
        for (const b of batch) {
          this.statements += 1;
          await overlapCount(this.#db, b.request.target, b.request.values, b.request.bounded, this.#statementTimeoutMs).then(b.resolve, b.reject);
        }
      }
    } finally {
      this.#running -= 1;
      if (this.#queue.length) this.#schedule();
    }
  }

  async #batch(requests: OverlapProbeRequest[]): Promise<number[]> {
    this.statements += 1;
    const sql = overlapBatchSql(requests.map((r) => ({ ...r.target, bounded: r.bounded })));
    const { value } = await readOnly(
      this.#db,
      async (q) => (await q.query<{ i: number; matched: number }>(sql, requests.map((r) => r.values))).rows,
      { statementTimeoutMs: this.#statementTimeoutMs },
    );
    const counts = new Array<number>(requests.length).fill(0);
    for (const row of value) counts[Number(row.i)] = Number(row.matched ?? 0);
    return counts;
  }
}
