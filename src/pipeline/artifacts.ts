// The files through which the four steps meet in the task directory: their names and shapes. This is
// the only thing steps share; none imports another step. A step reads them through readArtifact with the
// zod schema below, so a corrupt or foreign file fails the step with a code and the file name. The schemas
// are loose (unknown fields are kept): a newer writer may add fields without breaking an older reader.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { ErrorCode } from '../errors.ts';
import type { Lang } from '../messages.ts';
import { StepError } from './context.ts';

/** The task's table list (written by the task service, read by ddl_generation). */
export const TABLE_LIST_FILE = 'table_list.txt';

// ------------------------------------------------------------------------------------ ddl_generation

export const SCHEMA_FILE = 'schema.json';
/** One line per table, in dependency order (execute the .ddl files in this order into an empty database):
 * `<full_name> -> <table>.ddl, <table>_detail.md`; lines starting with `#` are comments. File names:
 * `<table>` for schema public, `<schema>__<table>` otherwise, when every part is lower-case letters (any
 * script), digits and single `_`; anything else is made safe (other characters → `_`) and suffixed with
 * `-<8 hex of sha1(full_name)>`, so names are unique, stable across runs, and case-insensitive-FS safe. */
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
  /** Generation expression of a generated column (`(qty * price)`), else null. */
  generated: string | null;
  /** 'stored' or 'virtual' (PostgreSQL 18) for generated columns. */
  generated_kind?: 'stored' | 'virtual';
  /** Compact SQL type as written in the .ddl and .md, e.g. `varchar(32)`, `timestamptz`. */
  display_type?: string;
  is_primary_key: boolean;
  comment: string | null;
  comment_source: CommentSource | null;
  stats: ColumnStats | null;
  /** A few distinct sample values as text (bounded, never the whole table). */
  sample_values: string[];
  /** Set when the column has few distinct values (≤ the enum threshold): values by frequency. */
  enum_values: string[] | null;
  /** Numbers, dates and times: smallest and largest value (pg_stats and the bounded sample; `exact` when
   * the sample read the whole table). */
  range?: ValueRange | null;
  /** Share of NULLs (pg_stats, else the bounded sample). */
  null_share?: number | null;
  /** Share of distinct values among the sampled non-null values (1 = all distinct). */
  distinct_share?: number | null;
  /** Set when some sampled values were longer than the profile reads: those are never shown as literals. */
  long_values?: boolean;
  /** What the column is to an analyst; decides how queries may use it (../spec/pair-quality.md). */
  role?: ColumnRole;
  /** Why the role was chosen, e.g. ["primary key"], ["name word price", "type numeric"]. */
  role_evidence?: string[];
}

export const COLUMN_ROLES = [
  'identifier',
  'foreign_key',
  'code',
  'label',
  'additive_measure',
  'non_additive_measure',
  'business_time',
  'technical_time',
  'flag',
  'soft_delete',
  'text',
  'contact',
  'other',
] as const;
export type ColumnRole = (typeof COLUMN_ROLES)[number];

export interface ValueRange {
  min: string;
  max: string;
  source: 'stats' | 'sample' | 'exact';
}

/** The business noun for one row of a table (客户 / customer), and where it came from. */
export interface EntityName {
  zh: string;
  en: string;
  source: 'db' | 'glossary' | 'llm' | 'offline';
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
  /** For inferred keys: the value-overlap check (distinct sampled source values found in the target). */
  overlap?: { matched: number; sampled: number };
  /** Where the relationship comes from: the catalog, join discovery, or the user (`relationships`). */
  origin?: 'declared' | 'inferred' | 'user';
  /** For inferred keys: the discovery rule, containment, target uniqueness, sample size. */
  discovery?: RelationshipEvidence;
}

export const DISCOVERY_RULES = ['key_suffix', 'same_name', 'prefixed_name', 'flat_compound', 'role_name', 'llm'] as const;
export type DiscoveryRule = (typeof DISCOVERY_RULES)[number];

export interface RelationshipEvidence {
  rule: DiscoveryRule;
  /** Share of the sampled distinct child values found in the target (0–1). */
  containment: number;
  /** How the target column is known to be unique: a key or unique constraint, or all distinct in the data. */
  target_unique: 'key' | 'data';
  sampled: number;
}

/** A relationship the user declares or vetoes (task parameter `relationships`, or relationships.json). */
export interface UserRelationship {
  from: string;
  to: string;
  /** false vetoes a relationship (declared FKs stay in the .ddl, but are not used for joins). */
  enabled?: boolean;
}

export const RELATIONSHIPS_FILE = 'relationships.json';
/** Name words that no glossary could translate, with the columns that use them (ddl_generation). */
export const GLOSSARY_TODO_FILE = 'glossary_todo.json';

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
  /** pg_class.reltuples (summed over partitions); for never-analyzed tables and views, from the bounded sample. */
  estimated_rows: number;
  /** True when estimated_rows is an exact count (the bounded sample read the whole relation). */
  rows_exact?: boolean;
  size_bytes: number | null;
  columns: ColumnInfo[];
  primary_key: string[];
  unique_constraints: string[][];
  foreign_keys: ForeignKeyInfo[];
  indexes: IndexInfo[];
  /** CHECK and EXCLUDE constraints as the server prints them. */
  check_constraints?: Array<{ name: string; definition: string }>;
  /** Views and materialized views: the SELECT (schema-qualified). */
  view_definition?: string;
  /** Partitioned tables: `RANGE (happened_on)` and the partitions (folded into this entry). */
  partition_key?: string;
  partitions?: Array<{ full_name: string; bound: string }>;
  /** Tables of this run whose .ddl must run first (declared FK targets, tables a view reads). */
  depends_on?: string[];
  /** File names (relative to the task directory) of this table's outputs. */
  files: { ddl: string; detail: string };
  /** The business noun of one row; questions use it, never the label column's word. */
  entity?: EntityName;
  /** An inheritance child: `schema.name` of its parent (later steps query the parent). */
  partition_of?: string;
  /** How the comments were made when an LLM is configured: `offline` when this table's LLM call failed. */
  annotation?: 'llm' | 'offline';
}

export interface SchemaFile {
  version: 1;
  generated_at: string;
  database: { name: string; server_version: string };
  business_context: string | null;
  language: Lang;
  /** In dependency order, as filename_mapping.txt lists them. */
  tables: TableInfo[];
  /** Requested tables that were left out (continue_on_error), with why. */
  failed_tables?: Array<{ name: string; code: string; message: string }>;
  /** The LLM model that wrote `llm` comments; null when offline. */
  llm_model?: string | null;
}

const commentSource = z.enum(['db', 'llm', 'offline']).nullable();
const entitySchema = z.looseObject({ zh: z.string(), en: z.string(), source: z.enum(['db', 'glossary', 'llm', 'offline']).catch('offline') });
const rangeSchema = z.looseObject({ min: z.string(), max: z.string(), source: z.enum(['stats', 'sample', 'exact']) });

const columnSchema = z.looseObject({
  name: z.string(),
  position: z.number(),
  data_type: z.string(),
  udt_name: z.string(),
  max_length: z.number().nullable(),
  numeric_precision: z.number().nullable(),
  numeric_scale: z.number().nullable(),
  nullable: z.boolean(),
  default: z.string().nullable(),
  identity: z.enum(['always', 'by_default']).nullable(),
  generated: z.string().nullable(),
  generated_kind: z.enum(['stored', 'virtual']).optional(),
  display_type: z.string().optional(),
  is_primary_key: z.boolean(),
  comment: z.string().nullable(),
  comment_source: commentSource,
  stats: z
    .looseObject({ null_frac: z.number().nullable(), n_distinct: z.number().nullable(), most_common_vals: z.array(z.string()).nullable() })
    .nullable(),
  sample_values: z.array(z.string()),
  enum_values: z.array(z.string()).nullable(),
  range: rangeSchema.nullable().optional(),
  null_share: z.number().nullable().optional(),
  distinct_share: z.number().nullable().optional(),
  long_values: z.boolean().optional(),
  role: z.enum(COLUMN_ROLES).optional(),
  role_evidence: z.array(z.string()).optional(),
});

/** A foreign key's fields, as schema.json holds them and as the API describes a table's keys. */
export const foreignKeyFields = {
  name: z.string().nullable(),
  columns: z.array(z.string()),
  target_schema: z.string(),
  target_table: z.string(),
  target_columns: z.array(z.string()),
  inferred: z.boolean().describe('false: declared in the catalog'),
  evidence: z.string().optional(),
  overlap: z.object({ matched: z.number(), sampled: z.number() }).optional(),
  origin: z.enum(['declared', 'inferred', 'user']).optional(),
  discovery: z.object({ rule: z.enum(DISCOVERY_RULES), containment: z.number(), target_unique: z.enum(['key', 'data']), sampled: z.number() }).optional(),
};

const foreignKeySchema = z.looseObject(foreignKeyFields);

const tableSchema = z.looseObject({
  schema: z.string(),
  name: z.string(),
  full_name: z.string(),
  kind: z.enum(['table', 'view', 'materialized_view', 'partitioned_table', 'foreign_table']),
  comment: z.string().nullable(),
  comment_source: commentSource,
  estimated_rows: z.number(),
  rows_exact: z.boolean().optional(),
  size_bytes: z.number().nullable(),
  columns: z.array(columnSchema),
  primary_key: z.array(z.string()),
  unique_constraints: z.array(z.array(z.string())),
  foreign_keys: z.array(foreignKeySchema),
  indexes: z.array(z.looseObject({ name: z.string(), definition: z.string(), is_unique: z.boolean(), is_primary: z.boolean() })),
  check_constraints: z.array(z.looseObject({ name: z.string(), definition: z.string() })).optional(),
  view_definition: z.string().optional(),
  partition_key: z.string().optional(),
  partitions: z.array(z.looseObject({ full_name: z.string(), bound: z.string() })).optional(),
  depends_on: z.array(z.string()).optional(),
  files: z.looseObject({ ddl: z.string(), detail: z.string() }),
  entity: entitySchema.optional(),
  partition_of: z.string().optional(),
  annotation: z.enum(['llm', 'offline']).optional(),
});

export const schemaFileSchema = z.looseObject({
  version: z.literal(1),
  generated_at: z.string(),
  database: z.looseObject({ name: z.string(), server_version: z.string() }),
  business_context: z.string().nullable(),
  language: z.enum(['zh', 'en']),
  tables: z.array(tableSchema),
  failed_tables: z.array(z.looseObject({ name: z.string(), code: z.string(), message: z.string() })).optional(),
  llm_model: z.string().nullable().optional(),
});

// The compiler checks the contract both ways round: what a writer's type allows, the reader's schema
// accepts (below), and what the schema lets through has the writer's type (readSchemaFile's return type).
type Known<T> = { [K in keyof T as string extends K ? never : K]: KnownValue<T[K]> };
type KnownValue<V> = V extends readonly (infer E)[] ? KnownValue<E>[] : V extends object ? Known<V> : V;
type Accepts<Schema extends z.ZodType, Written> = Known<Written> extends Known<z.input<Schema>> ? true : false;
export const SCHEMA_FILE_CONTRACT: Accepts<typeof schemaFileSchema, SchemaFile> = true;

// ------------------------------------------------------------------------------------- qa_generation

/** `qs_<db_name>_<YYYYMMDD_HHMMSS>_pair.json`: an array of {question, sql}, what Vanna users expect. */
export const PAIR_FILE_PATTERN = /^qs_(.+)_(\d{8}_\d{6})_pair\.json$/;

export interface QuestionSqlPair {
  question: string;
  sql: string;
}

/** A pair file: a JSON array. Its entries are checked one by one (questionSqlPairSchema): a malformed entry
 * is that pair's failure (sql_validation: invalid, training_load: a failed row), not the whole file's. */
export const pairFileSchema = z.array(z.unknown());
export const questionSqlPairSchema = z.looseObject({ question: z.string().trim().min(1), sql: z.string() });

/** The pair file's sidecar (qa_generation): how the pairs were made, and each pair with its extra fields. */
export const pairMetaFileSchema = z.looseObject({
  pair_file: z.string(),
  version: z.literal(1),
  generated_at: z.string(),
  generator: z.enum(['llm', 'offline']),
  model: z.string().nullable(),
  language: z.enum(['zh', 'en']),
  seed: z.number().nullable(),
  db_name: z.string(),
  business_context: z.string().nullable(),
  requested: z.looseObject({ theme_count: z.number(), questions_per_theme: z.number(), pairs: z.number() }),
  pairs: z.array(z.looseObject({ index: z.number(), question: z.string(), sql: z.string() })),
});

/**
 * pair_review.json: the curation of a task's pairs before training (the dashboard's pairs view and the
 * pairs API write it; training_load reads it). Keys of `pairs` are indices in the pair file; every change
 * is recorded with when, what, and before → after. It applies to the pair file it names only.
 */
export const PAIR_REVIEW_FILE = 'pair_review.json';

const reviewedText = z.object({ question: z.string(), sql: z.string() });
const reviewChangeSchema = z.object({
  at: z.string(),
  action: z.enum(['edit', 'reject', 'restore', 'add']),
  before: reviewedText.optional(),
  after: reviewedText.optional(),
  reason: z.string().optional(),
});
const rejectedSchema = z.object({ at: z.string(), reason: z.string().nullable() });
export const pairReviewFileSchema = z.object({
  version: z.literal(1),
  pair_file: z.string(),
  pairs: z.record(
    z.string().regex(/^\d+$/),
    // `tables`: what the edited SQL reads (the generated pair's own list describes the SQL it replaced).
    z.object({ rejected: rejectedSchema.optional(), edit: reviewedText.optional(), tables: z.array(z.string()).optional(), history: z.array(reviewChangeSchema) }),
  ),
  added: z.array(
    z.object({ question: z.string(), sql: z.string(), tables: z.array(z.string()), lint: z.array(z.looseObject({ rule: z.string(), severity: z.string(), message: z.string() })), rejected: rejectedSchema.optional(), history: z.array(reviewChangeSchema) }),
  ),
});
export type PairReviewFile = z.infer<typeof pairReviewFileSchema>;
export type ReviewChange = z.infer<typeof reviewChangeSchema>;

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

export const validationResultFileSchema = z.looseObject({
  pair_file: z.string(),
  validated_file: z.string().min(1),
  report_file: z.string(),
  summary_file: z.string(),
  total: z.number(),
  valid: z.number(),
  repaired: z.number(),
  invalid: z.number(),
  empty: z.number(),
  generated_at: z.string(),
});
export const VALIDATION_RESULT_CONTRACT: Accepts<typeof validationResultFileSchema, ValidationResultFile> = true;

// ------------------------------------------------------------------------------------------ reading

/** A file named by a contract (or a listing of the task directory): relative, inside the directory, a
 * regular file (never a symlink). Undefined when it does not exist; throws when it is not such a file. */
export async function resolveArtifactPath(dir: string, file: unknown): Promise<string | undefined> {
  if (typeof file !== 'string' || file === '') throw new Error('no file name');
  if (path.isAbsolute(file) || file.split(/[\\/]/).some((s) => s === '..')) throw new Error(`${JSON.stringify(file)} is not a path inside the task directory`);
  const full = path.resolve(dir, file);
  const rel = path.relative(dir, full);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) throw new Error(`${JSON.stringify(file)} is not a path inside the task directory`);
  const stat = await fs.lstat(full).catch((error: NodeJS.ErrnoException) => {
    if (error.code === 'ENOENT') return undefined;
    throw error;
  });
  if (!stat) return undefined;
  if (!stat.isFile()) throw new Error(`${file} is not a regular file`);
  return full;
}

/** A contract file of the task directory, checked against its schema; undefined when it does not exist.
 * Anything else (unreadable, not JSON, not the expected shape) throws StepError(`code`) naming the file
 * and the first field at fault. */
export async function readArtifact<S extends z.ZodType>(dir: string, name: string, schema: S, code: ErrorCode): Promise<z.output<S> | undefined> {
  let text: string;
  try {
    const file = await resolveArtifactPath(dir, name);
    if (!file) return undefined;
    text = await fs.readFile(file, 'utf8');
  } catch (error) {
    throw new StepError(code, 'step.file_unreadable', { file: name, reason: (error as Error).message });
  }
  let value: unknown;
  try {
    value = JSON.parse(text.replace(/^\uFEFF/, ''));
  } catch (error) {
    // Not the parser's message: it quotes the file's first bytes, which need not be ours to show.
    const at = /position (\d+)/.exec((error as Error).message)?.[1];
    throw at ? new StepError(code, 'step.file_not_json_at', { file: name, position: at }) : new StepError(code, 'step.file_not_json', { file: name });
  }
  const parsed = schema.safeParse(value);
  if (parsed.success) return parsed.data;
  const issue = parsed.error.issues[0]!;
  const where = issue.path.length ? issue.path.join('.') : '(top level)';
  throw new StepError(code, 'step.file_shape', { file: name, where, reason: issue.message });
}

export async function readSchemaFile(dir: string, code: ErrorCode): Promise<SchemaFile | undefined> {
  return readArtifact(dir, SCHEMA_FILE, schemaFileSchema, code);
}

export async function readValidationResult(dir: string, code: ErrorCode): Promise<ValidationResultFile | undefined> {
  return readArtifact(dir, VALIDATION_RESULT_FILE, validationResultFileSchema, code);
}
