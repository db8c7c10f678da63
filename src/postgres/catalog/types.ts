// The catalog's shapes: what the catalog reader (read.ts) returns about each relation.
import type pg from 'pg';


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
  /** pg_stats.histogram_bounds as text (ordered; the first and last approximate the range). */
  histogramBounds: string[] | null;
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
  /** An inheritance child (not a declarative partition): `schema.name` of its parent. */
  inheritsFrom: string | null;
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
  query<R extends pg.QueryResultRow = Record<string, unknown>>(text: string, params?: unknown[]): Promise<pg.QueryResult<R>>;
  readonly roundTrips: number;
}

