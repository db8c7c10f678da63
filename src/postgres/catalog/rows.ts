// The rows of the named catalog queries (queries.ts), as the pg driver returns them for each SQL alias:
// int8/oid::int8 as text (pg's default for 64-bit integers), int and float8 as numbers, text[] as arrays.
// The reader (read.ts, list.ts, profile.ts) maps these to the catalog's shapes (types.ts).
type Int8 = string;

export interface ServerInfoRow {
  database: string;
  server_version: string;
  server_version_num: number;
  search_path: string[] | null;
  block_size: number;
}

export interface ResolvedRelationRow {
  ord: number;
  requested_oid: Int8;
  oid: Int8;
  schema: string;
  name: string;
  q_schema: string;
  q_name: string;
  relkind: string;
  reltuples: number;
  heap_bytes: Int8;
  total_bytes: Int8;
  comment: string | null;
  readable: boolean;
  view_definition: string | null;
  partition_key: string | null;
  foreign_server: string | null;
  inherits_from: string | null;
}

export interface ColumnRow {
  relid: Int8;
  position: number;
  name: string;
  q_name: string;
  data_type: string;
  udt_name: string;
  typtype: string;
  typcategory: string;
  type_oid: Int8;
  typmod: number;
  base_type_oid: Int8;
  base_typmod: number;
  base_udt_name: string;
  not_null: boolean;
  default_expr: string | null;
  generation_expr: string | null;
  identity: 'a' | 'd' | null;
  generated: string | null;
  collation: string | null;
  comment: string | null;
}

export interface StatsRow {
  schema: string;
  name: string;
  column: string;
  inherited: boolean;
  null_frac: number | null;
  n_distinct: number | null;
  most_common_vals: unknown[] | null;
  most_common_freqs: number[] | null;
  histogram_bounds: unknown[] | null;
}

export interface ConstraintRow {
  relid: Int8;
  name: string;
  q_name: string;
  type: 'p' | 'u' | 'f' | 'c' | 'x';
  definition: string;
  columns: string[] | null;
  target_oid: Int8 | null;
  target_schema: string | null;
  target_table: string | null;
  target_q_name: string | null;
  target_columns: string[] | null;
  index_oid: Int8 | null;
}

export interface IndexRow {
  relid: Int8;
  name: string;
  definition: string;
  is_unique: boolean;
  is_primary: boolean;
  columns: string[] | null;
  key_count: number;
  partial: boolean;
  owned_by_constraint: boolean;
}

export interface TypeRow {
  oid: Int8;
  schema: string;
  q_schema: string;
  name: string;
  q_name: string;
  kind: string;
  depth: number;
  is_array: boolean;
  extension: string | null;
  extension_schema: string | null;
  enum_labels: string[] | null;
  domain_base: string | null;
  domain_not_null: boolean;
  domain_default: string | null;
  domain_collation: string | null;
  domain_checks: string[] | null;
  composite_attributes: string[] | null;
  range_subtype: string | null;
  deps: Int8[] | null;
}

export interface SequenceRow {
  relid: Int8;
  oid: Int8;
  schema: string;
  q_schema: string;
  name: string;
  q_name: string;
  data_type: string;
  start: string;
  increment: string;
  min: string;
  max: string;
  cache: string;
  cycle: boolean;
  owner_relid: Int8 | null;
  owner_column: string | null;
}

export interface PartitionRow {
  root: Int8;
  oid: Int8;
  parent: Int8;
  level: number;
  is_leaf: boolean;
  schema: string;
  q_schema: string;
  name: string;
  q_name: string;
  bound: string | null;
  partition_key: string | null;
  reltuples: number;
  heap_bytes: Int8;
  total_bytes: Int8;
}

export interface ViewDependencyRow {
  relid: Int8;
  dep_oid: Int8;
  dep_schema: string;
  dep_name: string;
  dep_q_name: string;
}

export interface FunctionRow {
  relid: Int8;
  oid: Int8;
  schema: string;
  q_schema: string;
  name: string;
  kind: string;
  extension: string | null;
  extension_schema: string | null;
  definition: string | null;
}

export interface ListedRelationRow {
  schema: string;
  name: string;
  relkind: string;
  reltuples: number;
  comment: string | null;
}

/** profileSql's rows: k = -1 (rows read), -2 (ranges), else a column's frequent value. */
export interface ProfileRow {
  k: number;
  v: string | null;
  n: number;
  nonnull: number;
  ndistinct: number;
  lo: Array<string | null> | null;
  hi: Array<string | null> | null;
}
