// Catalog reader: everything about a set of relations in one fixed series of catalog queries (see
// catalog/queries.ts), inside one READ ONLY transaction. Also the pre-flight check (do the requested
// tables exist and can they be read?), the relation list of the database tools API, and the bounded
// per-table profile and overlap probes (catalog/sampling.ts). Only ever reads the business database.
import type pg from 'pg';
import type { Database } from './connect.ts';
import { parseTableName, TableNameError, wildcardToLike, type RequestedName } from './catalog/names.ts';
import {
  COLUMNS_SQL,
  CONSTRAINTS_SQL,
  INDEXES_SQL,
  LIST_RELATIONS_SQL,
  PARTITIONS_SQL,
  PIN_SEARCH_PATH_SQL,
  RESOLVE_RELATIONS_SQL,
  FUNCTIONS_SQL,
  HEAP_SIZE_SQL,
  SEQUENCES_SQL,
  SERVER_INFO_SQL,
  STATS_SQL,
  TYPES_SQL,
  VIEW_DEPENDENCIES_SQL,
} from './catalog/queries.ts';
import { overlapSql, profileSql, samplePlan, type SamplePlan } from './catalog/sampling.ts';

export { parseTableName, readTableListText, wildcardToLike, fullName, TableNameError } from './catalog/names.ts';
export type { SamplePlan } from './catalog/sampling.ts';

// ----------------------------------------------------------------------------------------------- types

export type CatalogKind = 'table' | 'view' | 'materialized_view' | 'partitioned_table' | 'foreign_table';

export const RELKIND: Record<string, CatalogKind> = {
  r: 'table',
  v: 'view',
  m: 'materialized_view',
  p: 'partitioned_table',
  f: 'foreign_table',
};

export interface CatalogColumn {
  position: number;
  name: string;
  qName: string;
  /** format_type(), schema-qualified for types outside pg_catalog. */
  dataType: string;
  udtName: string;
  /** pg_type.typtype: b base, e enum, d domain, c composite, r range. */
  typtype: string;
  typcategory: string;
  typeOid: number;
  typmod: number;
  baseTypeOid: number;
  baseTypmod: number;
  baseUdtName: string;
  notNull: boolean;
  default: string | null;
  generationExpr: string | null;
  identity: 'a' | 'd' | null;
  /** 's' stored, 'v' virtual (PostgreSQL 18). */
  generated: string | null;
  collation: string | null;
  comment: string | null;
  nullFrac: number | null;
  nDistinct: number | null;
  mostCommonVals: string[] | null;
  mostCommonFreqs: number[] | null;
}

export interface CatalogConstraint {
  name: string;
  qName: string;
  /** p primary key, u unique, f foreign key, c check, x exclusion */
  type: 'p' | 'u' | 'f' | 'c' | 'x';
  definition: string;
  columns: string[];
  targetOid: number | null;
  targetSchema: string | null;
  targetTable: string | null;
  /** quote_ident(schema).quote_ident(table) of the FK target. */
  targetQName: string | null;
  targetColumns: string[];
  indexOid: number | null;
}

export interface CatalogIndex {
  name: string;
  definition: string;
  isUnique: boolean;
  isPrimary: boolean;
  columns: string[];
  keyCount: number;
  partial: boolean;
  ownedByConstraint: boolean;
}

export interface CatalogSequence {
  oid: number;
  schema: string;
  qSchema: string;
  name: string;
  qName: string;
  dataType: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  ownerRelid: number | null;
  ownerColumn: string | null;
}

export interface CatalogPartition {
  oid: number;
  parent: number;
  level: number;
  isLeaf: boolean;
  schema: string;
  qSchema: string;
  name: string;
  qName: string;
  bound: string | null;
  partitionKey: string | null;
  reltuples: number;
  heapBytes: number;
  totalBytes: number;
}

export interface CatalogDependency {
  oid: number;
  schema: string;
  name: string;
  qName: string;
}

export interface CatalogType {
  oid: number;
  schema: string;
  qSchema: string;
  name: string;
  qName: string;
  /** e enum, d domain, c composite, r range, b base (from an extension) */
  kind: string;
  depth: number;
  /** An array type: not created itself (its element is), listed only to follow the dependency. */
  isArray: boolean;
  extension: string | null;
  extensionSchema: string | null;
  enumLabels: string[] | null;
  domainBase: string | null;
  domainNotNull: boolean;
  domainDefault: string | null;
  domainCollation: string | null;
  domainChecks: string[] | null;
  compositeAttributes: string[] | null;
  rangeSubtype: string | null;
  deps: number[];
}

export interface CatalogFunction {
  oid: number;
  schema: string;
  qSchema: string;
  name: string;
  kind: string;
  /** Set when the function belongs to an extension (recreate it with CREATE EXTENSION). */
  extension: string | null;
  extensionSchema: string | null;
  /** CREATE OR REPLACE FUNCTION ... (functions and procedures outside extensions). */
  definition: string | null;
}

export interface CatalogRelation {
  oid: number;
  /** The names (as written) that resolved to this relation; several when a partition folded into it. */
  requested: string[];
  schema: string;
  name: string;
  qSchema: string;
  qName: string;
  /** `quote_ident(schema).quote_ident(name)` */
  qualified: string;
  relkind: string;
  kind: CatalogKind;
  /** pg_class.reltuples (summed over leaf partitions); -1 when never analyzed. */
  reltuples: number;
  /** Heap size estimate from pg_class.relpages (0 until the first VACUUM/ANALYZE); summed over partitions. */
  heapBytes: number;
  /** Heap + indexes + TOAST, from relpages likewise. */
  totalBytes: number;
  comment: string | null;
  readable: boolean;
  viewDefinition: string | null;
  partitionKey: string | null;
  foreignServer: string | null;
  columns: CatalogColumn[];
  constraints: CatalogConstraint[];
  indexes: CatalogIndex[];
  sequences: CatalogSequence[];
  /** User-defined types the columns need, dependencies first. */
  types: CatalogType[];
  partitions: CatalogPartition[];
  viewDependencies: CatalogDependency[];
  /** User functions called by defaults, generated columns, checks or the view body. */
  functions: CatalogFunction[];
}

export interface CatalogResult {
  database: string;
  serverVersion: string;
  serverVersionNum: number;
  searchPath: string[];
  blockSize: number;
  /** Resolved relations, unique, in the order they were first requested. */
  relations: CatalogRelation[];
  /** Names that resolved to nothing (or could not be parsed). */
  missing: string[];
  /** Names that resolved to a relation this role may not read. */
  unreadable: string[];
  /** Names folded into another entry: a partition into its root, or a duplicate. */
  folded: Array<{ input: string; into: string }>;
  stats: { roundTrips: number; ms: number };
}

/** A client that counts its round trips. */
export interface CountingClient {
  query<R extends pg.QueryResultRow = any>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  readonly roundTrips: number;
}

// ------------------------------------------------------------------------------------------ plumbing

const num = (v: unknown): number => (v === null || v === undefined ? NaN : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));

/**
 * Runs fn in a `BEGIN READ ONLY` transaction on one client of the pool (always rolled back: nothing is
 * ever written). On a real server a statement timeout bounds every statement; PGlite has none.
 */
export async function readOnly<T>(
  db: Database,
  fn: (client: CountingClient) => Promise<T>,
  options: { statementTimeoutMs?: number } = {},
): Promise<{ value: T; roundTrips: number }> {
  const client = await db.pool.connect();
  let trips = 0;
  const counting: CountingClient = {
    query: (text: string, params?: unknown[]) => {
      trips += 1;
      return client.query(text, params as unknown[]);
    },
    get roundTrips() {
      return trips;
    },
  };
  let broken: unknown;
  try {
    await counting.query('BEGIN READ ONLY');
    if (options.statementTimeoutMs && db.kind === 'postgres') {
      await counting.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(options.statementTimeoutMs))}`);
    }
    const value = await fn(counting);
    await counting.query('ROLLBACK');
    return { value, roundTrips: trips };
  } catch (error) {
    await client.query('ROLLBACK').catch((e) => (broken = e));
    throw error;
  } finally {
    client.release(broken instanceof Error ? broken : undefined);
  }
}

interface ParsedRequest {
  index: number;
  requested: RequestedName | undefined;
  input: string;
}

function parseRequests(names: readonly string[]): ParsedRequest[] {
  return names.map((input, index) => {
    try {
      return { index, input, requested: parseTableName(input) };
    } catch (error) {
      if (error instanceof TableNameError) return { index, input, requested: undefined };
      throw error;
    }
  });
}

function resolveParams(requests: ParsedRequest[], searchPath: string[]): unknown[] {
  const ord: number[] = [];
  const priority: number[] = [];
  const schemas: Array<string | null> = [];
  const rels: string[] = [];
  for (const r of requests) {
    r.requested?.candidates.forEach((c, p) => {
      ord.push(r.index);
      priority.push(p);
      schemas.push(c.schema ?? null);
      rels.push(c.name);
    });
  }
  return [ord, priority, schemas, rels, searchPath];
}

// ------------------------------------------------------------------------------------------- reading

/** Reads the catalog of the named relations with a fixed number of queries, whatever their number. */
export async function readCatalog(db: Database, names: readonly string[]): Promise<CatalogResult> {
  const started = performance.now();
  const { value, roundTrips } = await readOnly(db, (q) => readCatalogIn(q, names));
  value.stats = { roundTrips, ms: Math.round(performance.now() - started) };
  return value;
}

/** readCatalog on an open transaction (the caller owns BEGIN/ROLLBACK). */
export async function readCatalogIn(q: CountingClient, names: readonly string[]): Promise<CatalogResult> {
  const info = (await q.query(SERVER_INFO_SQL)).rows[0];
  const searchPath: string[] = info.search_path ?? [];
  await q.query(PIN_SEARCH_PATH_SQL);
  const requests = parseRequests(names);
  const resolved = (await q.query(RESOLVE_RELATIONS_SQL, resolveParams(requests, searchPath))).rows;

  const byOid = new Map<number, CatalogRelation>();
  const relations: CatalogRelation[] = [];
  const missing: string[] = [];
  const unreadable: string[] = [];
  const folded: CatalogResult['folded'] = [];
  const hitByOrd = new Map<number, any>(resolved.map((row) => [Number(row.ord), row]));
  for (const request of requests) {
    const row = hitByOrd.get(request.index);
    if (!row) {
      missing.push(request.input);
      continue;
    }
    const oid = num(row.oid);
    let relation = byOid.get(oid);
    if (relation) {
      relation.requested.push(request.input);
      folded.push({ input: request.input, into: `${relation.schema}.${relation.name}` });
      continue;
    }
    relation = {
      oid,
      requested: [request.input],
      schema: row.schema,
      name: row.name,
      qSchema: row.q_schema,
      qName: row.q_name,
      qualified: `${row.q_schema}.${row.q_name}`,
      relkind: row.relkind,
      kind: RELKIND[row.relkind]!,
      reltuples: num(row.reltuples),
      heapBytes: num(row.heap_bytes),
      totalBytes: num(row.total_bytes),
      comment: row.comment,
      readable: row.readable,
      viewDefinition: row.view_definition,
      partitionKey: row.partition_key,
      foreignServer: row.foreign_server,
      columns: [],
      constraints: [],
      indexes: [],
      sequences: [],
      types: [],
      partitions: [],
      viewDependencies: [],
      functions: [],
    };
    if (num(row.requested_oid) !== oid) folded.push({ input: request.input, into: `${row.schema}.${row.name}` });
    byOid.set(oid, relation);
    relations.push(relation);
    if (!row.readable) unreadable.push(request.input);
  }

  const oids = relations.map((r) => r.oid);
  const partitioned = relations.filter((r) => r.relkind === 'p').map((r) => r.oid);
  const views = relations.filter((r) => r.relkind === 'v' || r.relkind === 'm').map((r) => r.oid);

  const columns = (await q.query(COLUMNS_SQL, [oids])).rows;
  for (const c of columns) {
    byOid.get(num(c.relid))?.columns.push({
      position: c.position,
      name: c.name,
      qName: c.q_name,
      dataType: c.data_type,
      udtName: c.udt_name,
      typtype: c.typtype,
      typcategory: c.typcategory,
      typeOid: num(c.type_oid),
      typmod: c.typmod,
      baseTypeOid: num(c.base_type_oid),
      baseTypmod: c.base_typmod,
      baseUdtName: c.base_udt_name,
      notNull: c.not_null,
      default: c.default_expr,
      generationExpr: c.generation_expr,
      identity: c.identity,
      generated: c.generated,
      collation: c.collation,
      comment: c.comment,
      nullFrac: null,
      nDistinct: null,
      mostCommonVals: null,
      mostCommonFreqs: null,
    });
  }

  const relationByName = new Map(relations.map((r) => [JSON.stringify([r.schema, r.name]), r]));
  for (const s of (await q.query(STATS_SQL, [[...new Set(relations.map((r) => r.name))]])).rows) {
    const relation = relationByName.get(JSON.stringify([s.schema, s.name]));
    if (!relation || s.inherited !== (relation.relkind === 'p')) continue;
    const column = relation.columns.find((c) => c.name === s.column);
    if (!column) continue;
    column.nullFrac = s.null_frac;
    column.nDistinct = s.n_distinct;
    column.mostCommonVals = s.most_common_vals ? flattenText(s.most_common_vals) : null;
    column.mostCommonFreqs = s.most_common_freqs;
  }

  for (const c of (await q.query(CONSTRAINTS_SQL, [oids])).rows) {
    byOid.get(num(c.relid))?.constraints.push({
      name: c.name,
      qName: c.q_name,
      type: c.type,
      definition: c.definition,
      columns: c.columns ?? [],
      targetOid: numOrNull(c.target_oid),
      targetSchema: c.target_schema,
      targetTable: c.target_table,
      targetQName: c.target_q_name,
      targetColumns: c.target_columns ?? [],
      indexOid: numOrNull(c.index_oid) || null,
    });
  }

  for (const i of (await q.query(INDEXES_SQL, [oids])).rows) {
    byOid.get(num(i.relid))?.indexes.push({
      name: i.name,
      definition: i.definition,
      isUnique: i.is_unique,
      isPrimary: i.is_primary,
      columns: i.columns ?? [],
      keyCount: i.key_count,
      partial: i.partial,
      ownedByConstraint: i.owned_by_constraint,
    });
  }

  const types = new Map<number, CatalogType>();
  for (const t of (await q.query(TYPES_SQL, [oids])).rows) {
    types.set(num(t.oid), {
      oid: num(t.oid),
      schema: t.schema,
      qSchema: t.q_schema,
      name: t.name,
      qName: t.q_name,
      kind: t.kind,
      depth: t.depth,
      isArray: t.is_array,
      extension: t.extension,
      extensionSchema: t.extension_schema,
      enumLabels: t.enum_labels,
      domainBase: t.domain_base,
      domainNotNull: t.domain_not_null,
      domainDefault: t.domain_default,
      domainCollation: t.domain_collation,
      domainChecks: t.domain_checks,
      compositeAttributes: t.composite_attributes,
      rangeSubtype: t.range_subtype,
      deps: (t.deps ?? []).map(Number),
    });
  }

  for (const s of (await q.query(SEQUENCES_SQL, [oids])).rows) {
    byOid.get(num(s.relid))?.sequences.push({
      oid: num(s.oid),
      schema: s.schema,
      qSchema: s.q_schema,
      name: s.name,
      qName: s.q_name,
      dataType: s.data_type,
      start: s.start,
      increment: s.increment,
      min: s.min,
      max: s.max,
      cache: s.cache,
      cycle: s.cycle,
      ownerRelid: numOrNull(s.owner_relid),
      ownerColumn: s.owner_column,
    });
  }

  for (const p of (await q.query(PARTITIONS_SQL, [partitioned])).rows) {
    byOid.get(num(p.root))?.partitions.push({
      oid: num(p.oid),
      parent: num(p.parent),
      level: p.level,
      isLeaf: p.is_leaf,
      schema: p.schema,
      qSchema: p.q_schema,
      name: p.name,
      qName: p.q_name,
      bound: p.bound,
      partitionKey: p.partition_key,
      reltuples: num(p.reltuples),
      heapBytes: num(p.heap_bytes),
      totalBytes: num(p.total_bytes),
    });
  }

  for (const d of (await q.query(VIEW_DEPENDENCIES_SQL, [views])).rows) {
    byOid.get(num(d.relid))?.viewDependencies.push({ oid: num(d.dep_oid), schema: d.dep_schema, name: d.dep_name, qName: d.dep_q_name });
  }

  for (const f of (await q.query(FUNCTIONS_SQL, [oids])).rows) {
    byOid.get(num(f.relid))?.functions.push({
      oid: num(f.oid),
      schema: f.schema,
      qSchema: f.q_schema,
      name: f.name,
      kind: f.kind,
      extension: f.extension,
      extensionSchema: f.extension_schema,
      definition: f.definition,
    });
  }

  for (const relation of relations) {
    if (relation.relkind === 'p') {
      const leaves = relation.partitions.filter((p) => p.isLeaf);
      const analyzed = leaves.filter((p) => p.reltuples >= 0);
      relation.reltuples = analyzed.length ? analyzed.reduce((sum, p) => sum + p.reltuples, 0) : leaves.length ? -1 : 0;
      relation.heapBytes = leaves.reduce((sum, p) => sum + p.heapBytes, 0);
      relation.totalBytes = relation.partitions.reduce((sum, p) => sum + p.totalBytes, 0);
    }
    relation.types = typesNeeded(relation, types);
  }

  return {
    database: info.database,
    serverVersion: info.server_version,
    serverVersionNum: info.server_version_num,
    searchPath,
    blockSize: info.block_size,
    relations,
    missing,
    unreadable,
    folded,
    stats: { roundTrips: 0, ms: 0 },
  };
}

/** The user types a relation's columns need (transitively), dependencies before dependents. */
function typesNeeded(relation: CatalogRelation, all: Map<number, CatalogType>): CatalogType[] {
  const out: CatalogType[] = [];
  const seen = new Set<number>();
  const visit = (oid: number) => {
    if (seen.has(oid)) return;
    seen.add(oid);
    const type = all.get(oid);
    if (!type) return;
    // A type owned by an extension comes with CREATE EXTENSION: its own dependencies are not ours.
    if (!type.extension) for (const dep of type.deps) visit(dep);
    if (!type.isArray) out.push(type);
  };
  for (const column of relation.columns) visit(column.typeOid);
  return out;
}

/** Flattens nested arrays (array columns' MCVs) into their text form. */
function flattenText(values: unknown[]): string[] {
  return values.map((v) => (Array.isArray(v) ? JSON.stringify(v) : String(v)));
}

// ------------------------------------------------------------------------------------------ pre-flight

export interface PreflightResult {
  /** Names that resolve to no table, view or partition (or are not valid names). */
  missing: string[];
  /** Names that resolve to a relation the connecting role may not SELECT from. */
  unreadable: string[];
}

/** Do the tables exist and may they be read? Three catalog round trips, whatever the number of names. */
export async function preflightTables(db: Database, tables: readonly string[]): Promise<PreflightResult> {
  const { value } = await readOnly(db, async (q) => {
    const info = (await q.query(SERVER_INFO_SQL)).rows[0];
    const requests = parseRequests(tables);
    const rows = (await q.query(RESOLVE_RELATIONS_SQL, resolveParams(requests, info.search_path ?? []))).rows;
    const hits = new Map<number, any>(rows.map((row) => [Number(row.ord), row]));
    const missing: string[] = [];
    const unreadable: string[] = [];
    for (const r of requests) {
      const hit = hits.get(r.index);
      if (!hit) missing.push(r.input);
      else if (!hit.readable) unreadable.push(r.input);
    }
    return { missing, unreadable };
  });
  return value;
}

// ------------------------------------------------------------------------------------------ listing

export interface ListedRelation {
  schema: string;
  name: string;
  kind: CatalogKind;
  /** Planner estimate (pg_class.reltuples, summed over partitions); -1 when never analyzed. */
  estimatedRows: number;
  comment: string | null;
}

/**
 * Lists tables, views, materialized views, partitioned and foreign tables (partitions folded into their
 * parent). Schemas and the name pattern accept `*` and `?` wildcards and match case-insensitively.
 */
export async function listRelations(db: Database, options: { schemas: string[]; pattern?: string }): Promise<ListedRelation[]> {
  const { value } = await readOnly(db, async (q) => {
    const rows = (await q.query(LIST_RELATIONS_SQL, [options.schemas.map(wildcardToLike), options.pattern ? wildcardToLike(options.pattern) : null])).rows;
    return rows.map((row) => ({
      schema: row.schema,
      name: row.name,
      kind: RELKIND[row.relkind]!,
      estimatedRows: row.relkind === 'v' ? -1 : Math.round(Number(row.reltuples)),
      comment: row.comment,
    }));
  });
  return value;
}

// ------------------------------------------------------------------------------------------ profiling

export interface ColumnProfile {
  /** Most frequent values in the sample (text, cut to 200 characters), most frequent first. */
  top: Array<{ value: string; count: number }>;
  nonNull: number;
  /** Distinct values within the sample (exact up to the sample). */
  distinct: number;
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
        measured = Number((await q.query(HEAP_SIZE_SQL, [relation.oid])).rows[0]?.bytes ?? 0);
        heapBytes = measured;
      }
      const plan = samplePlan({ relkind: relation.relkind, reltuples: relation.reltuples, heapBytes, blockSize }, rowBudget);
      let used = plan;
      let rows = (await q.query(profileSql(relation.qualified, relation.columns, plan, topK))).rows;
      // TABLESAMPLE SYSTEM samples pages: a table whose estimate was stale may yield too few rows.
      if (plan.method === 'tablesample' && totalRows(rows) < Math.min(100, rowBudget)) {
        used = { method: 'limit', limit: rowBudget };
        rows = (await q.query(profileSql(relation.qualified, relation.columns, used, topK))).rows;
      }
      return { rows, plan: used, measured };
    },
    { statementTimeoutMs: options.statementTimeoutMs ?? 60_000 },
  );
  const columns: ColumnProfile[] = relation.columns.map(() => ({ top: [], nonNull: 0, distinct: 0 }));
  for (const row of value.rows) {
    if (row.k < 0) continue;
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

function totalRows(rows: any[]): number {
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
    async (q) => (await q.query(overlapSql(target.qualified, target.qColumn, target.dataType, bounded), [values])).rows[0]?.matched ?? 0,
    { statementTimeoutMs },
  );
  return Number(value);
}
