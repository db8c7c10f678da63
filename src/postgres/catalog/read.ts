// Catalog reader: everything about a set of relations in one fixed series of catalog queries (see
// queries.ts), inside one READ ONLY transaction; and the pre-flight check (do the requested tables exist
// and can they be read?). Only ever reads the business database.
import type { Database } from '../connect.ts';
import { readOnly } from '../read-only.ts';
import { parseTableName, TableNameError, type RequestedName } from './names.ts';
import {
  COLUMNS_SQL,
  CONSTRAINTS_SQL,
  INDEXES_SQL,
  PARTITIONS_SQL,
  PIN_SEARCH_PATH_SQL,
  RESOLVE_RELATIONS_SQL,
  FUNCTIONS_SQL,
  SEQUENCES_SQL,
  SERVER_INFO_SQL,
  STATS_SQL,
  TYPES_SQL,
  VIEW_DEPENDENCIES_SQL,
} from './queries.ts';
import type { ColumnRow, ConstraintRow, FunctionRow, IndexRow, PartitionRow, ResolvedRelationRow, SequenceRow, ServerInfoRow, StatsRow, TypeRow, ViewDependencyRow } from './rows.ts';
import { RELKIND, type CatalogRelation, type CatalogResult, type CatalogType, type CountingClient } from './types.ts';

const num = (v: unknown): number => (v === null || v === undefined ? NaN : Number(v));
const numOrNull = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));


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
  const info = (await q.query<ServerInfoRow>(SERVER_INFO_SQL)).rows[0]!;
  const searchPath: string[] = info.search_path ?? [];
  await q.query(PIN_SEARCH_PATH_SQL);
  const requests = parseRequests(names);
  const resolved = (await q.query<ResolvedRelationRow>(RESOLVE_RELATIONS_SQL, resolveParams(requests, searchPath))).rows;

  const byOid = new Map<number, CatalogRelation>();
  const relations: CatalogRelation[] = [];
  const missing: string[] = [];
  const unreadable: string[] = [];
  const folded: CatalogResult['folded'] = [];
  const hitByOrd = new Map<number, ResolvedRelationRow>(resolved.map((row) => [Number(row.ord), row]));
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
      inheritsFrom: row.relkind === 'r' ? row.inherits_from : null,
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

  const columns = (await q.query<ColumnRow>(COLUMNS_SQL, [oids])).rows;
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
      histogramBounds: null,
    });
  }

  const relationByName = new Map(relations.map((r) => [JSON.stringify([r.schema, r.name]), r]));
  for (const s of (await q.query<StatsRow>(STATS_SQL, [[...new Set(relations.map((r) => r.name))]])).rows) {
    const relation = relationByName.get(JSON.stringify([s.schema, s.name]));
    if (!relation || s.inherited !== (relation.relkind === 'p')) continue;
    const column = relation.columns.find((c) => c.name === s.column);
    if (!column) continue;
    column.nullFrac = s.null_frac;
    column.nDistinct = s.n_distinct;
    column.mostCommonVals = s.most_common_vals ? flattenText(s.most_common_vals) : null;
    column.mostCommonFreqs = s.most_common_freqs;
    column.histogramBounds = s.histogram_bounds ? flattenText(s.histogram_bounds) : null;
  }

  for (const c of (await q.query<ConstraintRow>(CONSTRAINTS_SQL, [oids])).rows) {
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

  for (const i of (await q.query<IndexRow>(INDEXES_SQL, [oids])).rows) {
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
  for (const t of (await q.query<TypeRow>(TYPES_SQL, [oids])).rows) {
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

  for (const s of (await q.query<SequenceRow>(SEQUENCES_SQL, [oids])).rows) {
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

  for (const p of (await q.query<PartitionRow>(PARTITIONS_SQL, [partitioned])).rows) {
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

  for (const d of (await q.query<ViewDependencyRow>(VIEW_DEPENDENCIES_SQL, [views])).rows) {
    byOid.get(num(d.relid))?.viewDependencies.push({ oid: num(d.dep_oid), schema: d.dep_schema, name: d.dep_name, qName: d.dep_q_name });
  }

  for (const f of (await q.query<FunctionRow>(FUNCTIONS_SQL, [oids])).rows) {
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
    const info = (await q.query<ServerInfoRow>(SERVER_INFO_SQL)).rows[0]!;
    const requests = parseRequests(tables);
    const rows = (await q.query<ResolvedRelationRow>(RESOLVE_RELATIONS_SQL, resolveParams(requests, info.search_path ?? []))).rows;
    const hits = new Map<number, ResolvedRelationRow>(rows.map((row) => [Number(row.ord), row]));
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

