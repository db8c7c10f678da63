// Which functions a query may call, for sql_validation's safety rules:
//   denied   — functions with effects outside the query (sleeping, signalling backends, changing settings,
//              sequences, locks, large objects, server files, other connections, running SQL text): a
//              query calling one is refused before it reaches the database.
//   allowed  — built-in, side-effect-free functions (aggregates, window, date/time, string, math, casts,
//              JSON, arrays): a query whose functions and operators are all allowed may be executed
//              (bounded) for the row check.
//   unknown  — anything else (user functions, extensions, other schemas): EXPLAIN only, never executed.
// Names are matched lower-cased; a `pg_catalog.` prefix is ignored; any other schema makes a function
// unknown unless its bare name is denied (a denied name is denied in every schema).

const ALLOWED = new Set(
  `
  count sum avg min max stddev stddev_pop stddev_samp variance var_pop var_samp array_agg string_agg
  bool_and bool_or every bit_and bit_or bit_xor json_agg jsonb_agg json_object_agg jsonb_object_agg
  json_agg_strict jsonb_agg_strict json_object_agg_strict jsonb_object_agg_strict json_objectagg json_arrayagg
  percentile_cont percentile_disc mode corr covar_pop covar_samp regr_avgx regr_avgy regr_count
  regr_intercept regr_r2 regr_slope regr_sxx regr_sxy regr_syy any_value range_agg range_intersect_agg xmlagg
  row_number rank dense_rank percent_rank cume_dist ntile lag lead first_value last_value nth_value
  now date_trunc date_part extract age to_char to_date to_timestamp to_number make_date make_time
  make_timestamp make_timestamptz make_interval justify_days justify_hours justify_interval clock_timestamp
  statement_timestamp transaction_timestamp timeofday isfinite date_bin timezone date_add date_subtract
  overlaps
  length char_length character_length octet_length bit_length lower upper initcap trim btrim ltrim rtrim
  substring substr left right lpad rpad concat concat_ws replace translate position strpos split_part
  reverse repeat format md5 sha224 sha256 sha384 sha512 encode decode regexp_replace regexp_match
  regexp_matches regexp_split_to_array regexp_split_to_table regexp_count regexp_instr regexp_like
  regexp_substr starts_with string_to_array string_to_table array_to_string quote_ident quote_literal
  quote_nullable ascii chr to_hex to_bin to_oct unistr normalize overlay convert_from convert_to text
  similar_to_escape similar_escape casefold
  abs ceil ceiling floor round trunc sign sqrt cbrt power pow exp ln log log10 mod div pi degrees radians
  sin cos tan cot asin acos atan atan2 sind cosd tand cotd asind acosd atand atan2d sinh cosh tanh asinh
  acosh atanh width_bucket random random_normal gcd lcm factorial scale min_scale trim_scale erf erfc
  int2 int4 int8 integer bigint smallint numeric decimal float4 float8 real bool boolean varchar bpchar char
  date time timetz timestamp timestamptz interval money name
  num_nulls num_nonnulls coalesce nullif greatest least pg_typeof
  json_build_object jsonb_build_object json_build_array jsonb_build_array to_json to_jsonb json_object
  jsonb_object json_extract_path jsonb_extract_path json_extract_path_text jsonb_extract_path_text
  json_array_length jsonb_array_length json_each jsonb_each json_each_text jsonb_each_text
  json_array_elements jsonb_array_elements json_array_elements_text jsonb_array_elements_text
  json_object_keys jsonb_object_keys json_typeof jsonb_typeof jsonb_pretty jsonb_set jsonb_set_lax
  jsonb_insert jsonb_strip_nulls json_strip_nulls jsonb_path_query jsonb_path_query_array
  jsonb_path_query_first jsonb_path_exists jsonb_path_match row_to_json array_to_json json_populate_record
  jsonb_populate_record json_to_record jsonb_to_record json_to_recordset jsonb_to_recordset
  array_length array_upper array_lower array_ndims cardinality unnest array_append array_prepend array_cat
  array_position array_positions array_remove array_replace array_dims array_fill array_reverse array_sample
  array_shuffle array_sort trim_array generate_series generate_subscripts
  int4range int8range numrange tsrange tstzrange daterange isempty lower_inc upper_inc lower_inf upper_inf
  range_merge multirange
  gen_random_uuid uuidv4 uuidv7 current_database current_schema current_schemas version
  to_tsvector to_tsquery plainto_tsquery phraseto_tsquery websearch_to_tsquery ts_rank ts_rank_cd ts_headline
  `
    .split(/\s+/)
    .filter(Boolean),
);

const DENIED_EXACT = new Set(
  `
  pg_sleep pg_sleep_for pg_sleep_until pg_terminate_backend pg_cancel_backend pg_signal_backend pg_reload_conf
  pg_rotate_logfile pg_promote pg_switch_wal pg_create_restore_point set_config setseed nextval setval currval
  lastval pg_read_file pg_read_binary_file pg_ls_dir pg_stat_file pg_file_write pg_file_rename pg_file_unlink
  pg_file_sync pg_logdir_ls pg_notify pg_log_backend_memory_contexts pg_import_system_collations txid_current
  pg_current_xact_id pg_export_snapshot pg_start_backup pg_stop_backup pg_backup_start pg_backup_stop
  pg_stat_clear_snapshot pg_prewarm pg_current_logfile loread lowrite http copy
  `
    .split(/\s+/)
    .filter(Boolean),
);

const DENIED_PREFIXES = [
  'dblink',
  'lo_',
  'pg_sleep',
  'pg_advisory',
  'pg_try_advisory',
  'pg_ls_',
  'pg_read_',
  'pg_file_',
  'pg_stat_reset',
  'pg_create_',
  'pg_drop_',
  'pg_copy_',
  'pg_replication_',
  'pg_logical_',
  'pg_wal_',
  'pg_terminate',
  'pg_cancel',
  'pg_reload',
  'pg_backup',
  'pg_import',
  'pg_sequence_',
  'pg_background',
  'query_to_xml',
  'cursor_to_xml',
  'table_to_xml',
  'schema_to_xml',
  'database_to_xml',
  'http_',
];

/** Operators of the built-in types whose functions are side-effect free (names as analyzeSql lists them). */
const ALLOWED_OPERATORS = new Set([
  ...'= <> != < > <= >= + - * / % ^ || ~ ~* !~ !~* ~~ ~~* !~~ !~~* @> <@ && -> ->> #> #>> ? ?| ?& @? @@ # |/ ||/ @ & | << >> <<| |>> &< &> -|- !'.split(' '),
  ...['like', 'ilike', 'not like', 'not ilike', 'similar to', 'between', 'in', 'is distinct from', 'nullif'],
]);

export type FunctionVerdict = 'allowed' | 'denied' | 'unknown';

function bare(name: string): { schema: string | undefined; name: string } {
  const lower = name.toLowerCase();
  const dot = lower.lastIndexOf('.');
  return dot < 0 ? { schema: undefined, name: lower } : { schema: lower.slice(0, dot), name: lower.slice(dot + 1) };
}

export function functionVerdict(qualifiedName: string): FunctionVerdict {
  const { schema, name } = bare(qualifiedName);
  if (DENIED_EXACT.has(name) || DENIED_PREFIXES.some((p) => name.startsWith(p))) return 'denied';
  if (schema !== undefined && schema !== 'pg_catalog') return 'unknown';
  return ALLOWED.has(name) ? 'allowed' : 'unknown';
}

export function operatorAllowed(op: string): boolean {
  const name = op.toLowerCase();
  if (name.includes('.')) return name.startsWith('pg_catalog.') && ALLOWED_OPERATORS.has(name.slice('pg_catalog.'.length));
  return ALLOWED_OPERATORS.has(name);
}

export interface FunctionSafety {
  /** Functions that must never run: the query is refused. */
  denied: string[];
  /** Functions not on the allow-list: the query is checked by EXPLAIN only. */
  unknown: string[];
  /** Operators not on the allow-list (user-defined operators may call anything): EXPLAIN only. */
  unknownOperators: string[];
  /** True when the query may be executed for the row check. */
  executable: boolean;
}

export function functionSafety(functions: readonly string[], operators: readonly string[] = []): FunctionSafety {
  const denied: string[] = [];
  const unknown: string[] = [];
  for (const f of functions) {
    const verdict = functionVerdict(f);
    if (verdict === 'denied') denied.push(f);
    else if (verdict === 'unknown') unknown.push(f);
  }
  const unknownOperators = operators.filter((op) => !operatorAllowed(op));
  return { denied, unknown, unknownOperators, executable: denied.length === 0 && unknown.length === 0 && unknownOperators.length === 0 };
}
