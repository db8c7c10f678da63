// The files through which the four steps meet in the task directory: their names and shapes. This is
// the only thing steps share; none imports another step.
import fs from 'node:fs/promises';
import path from 'node:path';

// ------------------------------------------------------------------------------------ ddl_generation

export const SCHEMA_FILE = 'schema.json';
export const FILENAME_MAPPING_FILE = 'filename_mapping.txt';

export type CommentSource = 'db' | 'llm' | 'offline';
export type RelationKind = 'table' | 'view' | 'materialized_view' | 'partitioned_table' | 'foreign_table';

export interface ColumnStats {
  null_frac: number | null;
  /** pg_stats semantics: > 0 absolute count, < 0 fraction of rows (negated). */
  n_distinct: number | null;
  most_common_vals: string[] | null;
}

export interface ColumnInfo {
  name: string;
  position: number;
  /** Exact type as format_type() prints it, e.g. `character varying(32)`, `numeric(19,4)`. */
  data_type: string;
  /** Short type name without modifiers, e.g. `varchar`, `numeric`, `int4`, `_text` for arrays. */
  udt_name: string;
  max_length: number | null;
  numeric_precision: number | null;
  numeric_scale: number | null;
  nullable: boolean;
  default: string | null;
  identity: 'always' | 'by_default' | null;
  generated: string | null;
  is_primary_key: boolean;
  comment: string | null;
  comment_source: CommentSource | null;
  stats: ColumnStats | null;
  /** A few distinct sample values as text (bounded, never the whole table). */
  sample_values: string[];
  /** Set when the column has few distinct values (≤ the enum threshold): values by frequency. */
  enum_values: string[] | null;
}

export interface ForeignKeyInfo {
  name: string | null;
  columns: string[];
  target_schema: string;
  target_table: string;
  target_columns: string[];
  /** false: declared in the catalog; true: inferred from names and confirmed by a value-overlap check. */
  inferred: boolean;
  /** For inferred keys: how it was found, e.g. "name company_id → bss_company.id; 48/48 sampled values match". */
  evidence?: string;
}

export interface IndexInfo {
  name: string;
  definition: string;
  is_unique: boolean;
  is_primary: boolean;
}

export interface TableInfo {
  schema: string;
  name: string;
  /** `schema.name`, unquoted, as users write it. */
  full_name: string;
  kind: RelationKind;
  comment: string | null;
  comment_source: CommentSource | null;
  estimated_rows: number;
  size_bytes: number | null;
  columns: ColumnInfo[];
  primary_key: string[];
  unique_constraints: string[][];
  foreign_keys: ForeignKeyInfo[];
  indexes: IndexInfo[];
  /** File names (relative to the task directory) of this table's outputs. */
  files: { ddl: string; detail: string };
}

export interface SchemaFile {
  version: 1;
  generated_at: string;
  database: { name: string; server_version: string };
  business_context: string | null;
  language: 'zh' | 'en';
  tables: TableInfo[];
}

// ------------------------------------------------------------------------------------- qa_generation

/** `qs_<db_name>_<YYYYMMDD_HHMMSS>_pair.json`: an array of {question, sql}, what Vanna users expect. */
export const PAIR_FILE_PATTERN = /^qs_(.+)_(\d{8}_\d{6})_pair\.json$/;

export interface QuestionSqlPair {
  question: string;
  sql: string;
}

export function pairFileName(dbName: string, stamp: string): string {
  return `qs_${dbName.replace(/[^\p{L}\p{N}_-]+/gu, '_')}_${stamp}_pair.json`;
}

/** Extra per-pair fields live in a sidecar so the pair file stays plain. */
export function pairMetaFileName(pairFile: string): string {
  return pairFile.replace(/\.json$/, '.meta.json');
}

/** sql_validation's output when the original file is kept (modify_original_file=false). */
export function validatedPairFileName(pairFile: string): string {
  return pairFile.replace(/_pair\.json$/, '_pair_validated.json');
}

/** The newest pair file of a task directory (by the timestamp in its name). */
export async function latestPairFile(dir: string): Promise<string | undefined> {
  const names = (await fs.readdir(dir).catch(() => [] as string[])).filter((n) => PAIR_FILE_PATTERN.test(n));
  names.sort((a, b) => PAIR_FILE_PATTERN.exec(a)![2]!.localeCompare(PAIR_FILE_PATTERN.exec(b)![2]!) || a.localeCompare(b));
  return names.at(-1);
}

// ------------------------------------------------------------------------------------ sql_validation

/** Written by sql_validation after every run: which file holds the pairs that passed. training_load
 * loads exactly that file; without it (validation disabled) it loads the latest pair file as generated. */
export const VALIDATION_RESULT_FILE = 'sql_validation_result.json';

export interface ValidationResultFile {
  pair_file: string;
  validated_file: string;
  report_file: string;
  summary_file: string;
  total: number;
  valid: number;
  repaired: number;
  invalid: number;
  empty: number;
  generated_at: string;
}

export async function readJsonFile<T>(dir: string, name: string): Promise<T | undefined> {
  try {
    return JSON.parse(await fs.readFile(path.join(dir, name), 'utf8')) as T;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}
