// The catalog queries, named and fixed (style of supabase postgres-meta): each reads one aspect for ALL
// requested relations at once (`$1::oid[]`), so reading 10 or 2,000 tables costs the same number of
// round trips. They run inside one READ ONLY transaction with `search_path = pg_catalog, pg_temp`, so
// every expression the server prints (defaults, checks, view bodies, types, index and constraint
// definitions) is schema-qualified and can be replayed in another database. Identifiers come with
// their `quote_ident` form from the server itself: that is the authoritative quoting for keywords,
// mixed case, spaces and non-ASCII names. Works on PostgreSQL 12+ (tested on 15 and on PGlite's 18).
// None of them locks a user relation (no pg_relation_size, no pg_partition_tree): sizes come from
// pg_class.relpages, partition trees from pg_inherits, so thousands of tables fit in one transaction.

/** Server facts and the caller's search path (read before search_path is pinned). */
export const SERVER_INFO_SQL = /* sql */ `
SELECT current_database() AS database,
       current_setting('server_version') AS server_version,
       current_setting('server_version_num')::int AS server_version_num,
       current_schemas(false)::text[] AS search_path,
       current_setting('block_size')::int AS block_size`;

/** Makes every printed expression schema-qualified for the rest of the transaction. */
export const PIN_SEARCH_PATH_SQL = `SET LOCAL search_path = pg_catalog, pg_temp`;

/**
 * Resolves requested names to relations. Params: $1 int[] request index, $2 int[] candidate priority,
 * $3 text[] schema (NULL: look along $5), $4 text[] relation name, $5 text[] search path.
 * A partition resolves to its root partitioned table (partitions are folded into their parent).
 * One row per resolved request; unresolved requests have no row.
 */
export const RESOLVE_RELATIONS_SQL = /* sql */ `
WITH req AS (
  SELECT * FROM unnest($1::int[], $2::int[], $3::text[], $4::text[]) AS r(ord, priority, schema_name, rel_name)
), path AS (
  SELECT p.nspname, p.pos FROM unnest($5::text[]) WITH ORDINALITY AS p(nspname, pos)
), hit AS (
  SELECT DISTINCT ON (req.ord) req.ord, c.oid AS requested_oid,
         CASE WHEN c.relispartition THEN pg_partition_root(c.oid) ELSE c.oid END AS oid
  FROM req
  JOIN pg_class c ON c.relname = req.rel_name AND c.relkind IN ('r', 'v', 'm', 'p', 'f')
  JOIN pg_namespace n ON n.oid = c.relnamespace
  LEFT JOIN path ON path.nspname = n.nspname
  WHERE req.schema_name = n.nspname OR (req.schema_name IS NULL AND path.pos IS NOT NULL)
  ORDER BY req.ord, req.priority, path.pos
)
SELECT hit.ord, hit.requested_oid::int8 AS requested_oid, c.oid::int8 AS oid,
       n.nspname AS schema, c.relname AS name, quote_ident(n.nspname) AS q_schema, quote_ident(c.relname) AS q_name,
       c.relkind::text AS relkind, c.reltuples::float8 AS reltuples,
       (c.relpages::int8 * current_setting('block_size')::int8) AS heap_bytes,
       ((c.relpages::int8
         + coalesce((SELECT sum(ic.relpages) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid), 0)
         + coalesce((SELECT t.relpages FROM pg_class t WHERE t.oid = c.reltoastrelid), 0)) * current_setting('block_size')::int8)::int8 AS total_bytes,
       obj_description(c.oid, 'pg_class') AS comment,
       (has_schema_privilege(n.oid, 'USAGE') AND has_table_privilege(c.oid, 'SELECT')) AS readable,
       CASE WHEN c.relkind IN ('v', 'm') THEN pg_get_viewdef(c.oid, true) END AS view_definition,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       CASE WHEN c.relkind = 'f' THEN (SELECT s.srvname FROM pg_foreign_table ft JOIN pg_foreign_server s ON s.oid = ft.ftserver WHERE ft.ftrelid = c.oid) END AS foreign_server,
       (SELECT pn.nspname || '.' || pc.relname FROM pg_inherits i JOIN pg_class pc ON pc.oid = i.inhparent
          JOIN pg_namespace pn ON pn.oid = pc.relnamespace WHERE i.inhrelid = c.oid ORDER BY i.inhseqno LIMIT 1) AS inherits_from
FROM hit
JOIN pg_class c ON c.oid = hit.oid
JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY hit.ord`;

/**
 * Columns of the relations with their exact types, defaults, identity/generation and comments. $1 oid[].
 */
export const COLUMNS_SQL = /* sql */ `
SELECT a.attrelid::int8 AS relid, a.attnum::int AS position, a.attname AS name, quote_ident(a.attname) AS q_name,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       t.typname AS udt_name, t.typtype::text AS typtype, t.typcategory::text AS typcategory,
       a.atttypid::int8 AS type_oid, a.atttypmod AS typmod,
       CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END::int8 AS base_type_oid,
       CASE WHEN t.typtype = 'd' THEN t.typtypmod ELSE a.atttypmod END AS base_typmod,
       bt.typname AS base_udt_name,
       a.attndims AS dims, a.attnotnull AS not_null,
       CASE WHEN a.attgenerated = '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS default_expr,
       CASE WHEN a.attgenerated <> '' THEN pg_get_expr(ad.adbin, ad.adrelid) END AS generation_expr,
       NULLIF(a.attidentity::text, '') AS identity, NULLIF(a.attgenerated::text, '') AS generated,
       CASE WHEN a.attcollation <> 0 AND a.attcollation <> t.typcollation
            THEN quote_ident(cn.nspname) || '.' || quote_ident(co.collname) END AS collation,
       col_description(a.attrelid, a.attnum) AS comment
FROM pg_attribute a
JOIN pg_type t ON t.oid = a.atttypid
JOIN pg_type bt ON bt.oid = CASE WHEN t.typtype = 'd' THEN t.typbasetype ELSE a.atttypid END
LEFT JOIN pg_attrdef ad ON ad.adrelid = a.attrelid AND ad.adnum = a.attnum
LEFT JOIN pg_collation co ON co.oid = a.attcollation
LEFT JOIN pg_namespace cn ON cn.oid = co.collnamespace
WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
ORDER BY a.attrelid, a.attnum`;

/**
 * Planner statistics of the relations' columns (pg_stats: the rows this role may see; `inherited` rows
 * are the ones of partitioned parents). pg_stats is a view over every column of the database: the name
 * array is pushed down to an index scan of pg_class, and rows of same-named tables in other schemas are
 * dropped by the caller. $1 text[] relation names.
 */
export const STATS_SQL = /* sql */ `
SELECT s.schemaname AS schema, s.tablename AS name, s.attname AS column, s.inherited,
       s.null_frac::float8 AS null_frac, s.n_distinct::float8 AS n_distinct,
       s.most_common_vals::text::text[] AS most_common_vals, s.most_common_freqs::float8[] AS most_common_freqs,
       s.histogram_bounds::text::text[] AS histogram_bounds
FROM pg_stats s
WHERE s.tablename = ANY ($1::text[])`;

/**
 * Primary keys, unique, check, exclusion and foreign-key constraints with their column names (in key
 * order), FK targets, and the server's own definition text (schema-qualified). $1 oid[].
 * NOT NULL constraints (PostgreSQL 18 catalogs them) are column properties and are left out.
 */
export const CONSTRAINTS_SQL = /* sql */ `
SELECT con.conrelid::int8 AS relid, con.conname AS name, quote_ident(con.conname) AS q_name, con.contype::text AS type,
       pg_get_constraintdef(con.oid) AS definition,
       ARRAY(SELECT a.attname FROM unnest(con.conkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.conrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
       fc.oid::int8 AS target_oid, fn.nspname AS target_schema, fc.relname AS target_table,
       quote_ident(fn.nspname) || '.' || quote_ident(fc.relname) AS target_q_name,
       ARRAY(SELECT a.attname FROM unnest(con.confkey) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = con.confrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS target_columns,
       con.conindid::int8 AS index_oid
FROM pg_constraint con
LEFT JOIN pg_class fc ON fc.oid = con.confrelid
LEFT JOIN pg_namespace fn ON fn.oid = fc.relnamespace
WHERE con.conrelid = ANY ($1::oid[]) AND con.contype IN ('p', 'u', 'f', 'c', 'x') AND con.conparentid = 0
ORDER BY con.conrelid, array_position(ARRAY['p', 'u', 'x', 'c', 'f'], con.contype::text), con.conname`;

/** Indexes with their definition, key column names and whether a constraint owns them. $1 oid[]. */
export const INDEXES_SQL = /* sql */ `
SELECT i.indrelid::int8 AS relid, ic.relname AS name, pg_get_indexdef(i.indexrelid) AS definition,
       i.indisunique AS is_unique, i.indisprimary AS is_primary,
       ARRAY(SELECT a.attname FROM unnest(i.indkey::int2[]) WITH ORDINALITY AS k(attnum, ord)
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum ORDER BY k.ord)::text[] AS columns,
       i.indnkeyatts::int AS key_count, (i.indpred IS NOT NULL) AS partial,
       EXISTS (SELECT 1 FROM pg_constraint con WHERE con.conindid = i.indexrelid AND con.conrelid = i.indrelid
                                                  AND con.contype IN ('p', 'u', 'x')) AS owned_by_constraint
FROM pg_index i
JOIN pg_class ic ON ic.oid = i.indexrelid
WHERE i.indrelid = ANY ($1::oid[])
ORDER BY i.indrelid, ic.relname`;

/**
 * User-defined types the relations' columns need, transitively (arrays → element, domains → base,
 * composites → attribute types, ranges → subtype), with what it takes to recreate them: enum labels,
 * domain base/default/NOT NULL/checks, composite attributes, range subtype, or the extension that owns
 * the type. `deps` are the direct user-type dependencies (for ordering). $1 oid[].
 */
export const TYPES_SQL = /* sql */ `
WITH RECURSIVE used(oid, depth) AS (
  SELECT DISTINCT a.atttypid, 0 FROM pg_attribute a
  WHERE a.attrelid = ANY ($1::oid[]) AND a.attnum > 0 AND NOT a.attisdropped
  UNION
  SELECT d.dep, u.depth + 1
  FROM used u
  JOIN pg_type t ON t.oid = u.oid
  CROSS JOIN LATERAL (
    SELECT t.typelem AS dep WHERE t.typelem <> 0 AND EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND e.typarray = t.oid)
    UNION ALL SELECT t.typbasetype WHERE t.typtype = 'd'
    UNION ALL SELECT a.atttypid FROM pg_attribute a
              WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
    UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE t.typtype = 'r' AND r.rngtypid = t.oid
  ) d
  WHERE u.depth < 16 AND t.typnamespace <> 'pg_catalog'::regnamespace
), used_types AS (
  SELECT oid, max(depth) AS depth FROM used GROUP BY oid
)
SELECT t.oid::int8 AS oid, n.nspname AS schema, quote_ident(n.nspname) AS q_schema, t.typname AS name,
       quote_ident(n.nspname) || '.' || quote_ident(t.typname) AS q_name,
       t.typtype::text AS kind, u.depth,
       (t.typelem <> 0 AND EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND e.typarray = t.oid)) AS is_array,
       (SELECT x.extname FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
         WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.refclassid = 'pg_extension'::regclass
           AND d.deptype = 'e' LIMIT 1) AS extension,
       (SELECT quote_ident(xn.nspname) FROM pg_depend d JOIN pg_extension x ON x.oid = d.refobjid
          JOIN pg_namespace xn ON xn.oid = x.extnamespace
         WHERE d.classid = 'pg_type'::regclass AND d.objid = t.oid AND d.refclassid = 'pg_extension'::regclass
           AND d.deptype = 'e' LIMIT 1) AS extension_schema,
       CASE WHEN t.typtype = 'e' THEN ARRAY(SELECT e.enumlabel::text FROM pg_enum e WHERE e.enumtypid = t.oid ORDER BY e.enumsortorder) END AS enum_labels,
       CASE WHEN t.typtype = 'd' THEN format_type(t.typbasetype, t.typtypmod) END AS domain_base,
       t.typnotnull AS domain_not_null,
       CASE WHEN t.typtype = 'd' THEN pg_get_expr(t.typdefaultbin, 0) END AS domain_default,
       CASE WHEN t.typtype = 'd' AND t.typcollation <> 0 AND t.typcollation <> bt.typcollation
            THEN (SELECT quote_ident(cn.nspname) || '.' || quote_ident(co.collname) FROM pg_collation co
                    JOIN pg_namespace cn ON cn.oid = co.collnamespace WHERE co.oid = t.typcollation) END AS domain_collation,
       CASE WHEN t.typtype = 'd' THEN ARRAY(SELECT quote_ident(c.conname) || ' ' || pg_get_constraintdef(c.oid)
                                             FROM pg_constraint c WHERE c.contypid = t.oid AND c.contype = 'c' ORDER BY c.conname) END AS domain_checks,
       CASE WHEN t.typtype = 'c' THEN ARRAY(SELECT quote_ident(a.attname) || ' ' || format_type(a.atttypid, a.atttypmod)
                                             FROM pg_attribute a WHERE a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
                                             ORDER BY a.attnum) END AS composite_attributes,
       CASE WHEN t.typtype = 'r' THEN (SELECT format_type(r.rngsubtype, NULL) FROM pg_range r WHERE r.rngtypid = t.oid) END AS range_subtype,
       ARRAY(
         SELECT DISTINCT d.dep FROM (
           SELECT t.typelem AS dep WHERE t.typelem <> 0 AND EXISTS (SELECT 1 FROM pg_type e WHERE e.oid = t.typelem AND e.typarray = t.oid)
           UNION ALL SELECT t.typbasetype WHERE t.typtype = 'd'
           UNION ALL SELECT a.atttypid FROM pg_attribute a
                     WHERE t.typtype = 'c' AND a.attrelid = t.typrelid AND a.attnum > 0 AND NOT a.attisdropped
           UNION ALL SELECT r.rngsubtype FROM pg_range r WHERE t.typtype = 'r' AND r.rngtypid = t.oid
         ) d
       )::int8[] AS deps
FROM used_types u
JOIN pg_type t ON t.oid = u.oid
JOIN pg_namespace n ON n.oid = t.typnamespace
LEFT JOIN pg_type bt ON bt.oid = t.typbasetype
LEFT JOIN pg_class tc ON tc.oid = t.typrelid
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND (t.typtype IN ('e', 'd', 'r', 'b') OR (t.typtype = 'c' AND tc.relkind = 'c'))
ORDER BY u.depth DESC, n.nspname, t.typname`;

/**
 * Sequences the relations' column defaults call (serial columns and explicit nextval defaults), with
 * their parameters and the column that owns each (OWNED BY). Identity sequences are implied by the
 * identity column and are not listed. $1 oid[].
 */
export const SEQUENCES_SQL = /* sql */ `
SELECT DISTINCT ON (ad.adrelid, s.oid)
       ad.adrelid::int8 AS relid, s.oid::int8 AS oid, n.nspname AS schema, quote_ident(n.nspname) AS q_schema, s.relname AS name,
       quote_ident(n.nspname) || '.' || quote_ident(s.relname) AS q_name,
       format_type(sq.seqtypid, NULL) AS data_type, sq.seqstart::text AS start, sq.seqincrement::text AS increment,
       sq.seqmin::text AS min, sq.seqmax::text AS max, sq.seqcache::text AS cache, sq.seqcycle AS cycle,
       own.refobjid::int8 AS owner_relid, oa.attname AS owner_column
FROM pg_attrdef ad
JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid AND d.refclassid = 'pg_class'::regclass
JOIN pg_class s ON s.oid = d.refobjid AND s.relkind = 'S'
JOIN pg_namespace n ON n.oid = s.relnamespace
JOIN pg_sequence sq ON sq.seqrelid = s.oid
LEFT JOIN pg_depend own ON own.classid = 'pg_class'::regclass AND own.objid = s.oid AND own.refclassid = 'pg_class'::regclass
                       AND own.deptype = 'a'
LEFT JOIN pg_attribute oa ON oa.attrelid = own.refobjid AND oa.attnum = own.refobjsubid
WHERE ad.adrelid = ANY ($1::oid[])
ORDER BY ad.adrelid, s.oid`;

/**
 * The partition trees of partitioned relations (from pg_inherits, without locking the partitions):
 * every descendant with its bound, its own partition key (sub-partitioned), row estimate and size
 * estimate (relpages). $1 oid[] (partitioned roots).
 */
export const PARTITIONS_SQL = /* sql */ `
WITH RECURSIVE tree(root, relid, parent, level) AS (
  SELECT r.root, i.inhrelid, i.inhparent, 1 FROM unnest($1::oid[]) AS r(root) JOIN pg_inherits i ON i.inhparent = r.root
  UNION ALL
  SELECT t.root, i.inhrelid, i.inhparent, t.level + 1 FROM tree t JOIN pg_inherits i ON i.inhparent = t.relid WHERE t.level < 32
)
SELECT t.root::int8 AS root, t.relid::int8 AS oid, t.parent::int8 AS parent, t.level, (c.relkind <> 'p') AS is_leaf,
       n.nspname AS schema, quote_ident(n.nspname) AS q_schema, c.relname AS name,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS q_name,
       pg_get_expr(c.relpartbound, c.oid) AS bound,
       CASE WHEN c.relkind = 'p' THEN pg_get_partkeydef(c.oid) END AS partition_key,
       c.reltuples::float8 AS reltuples, (c.relpages::int8 * current_setting('block_size')::int8) AS heap_bytes,
       ((c.relpages::int8
         + coalesce((SELECT sum(ic.relpages) FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = c.oid), 0)
         + coalesce((SELECT x.relpages FROM pg_class x WHERE x.oid = c.reltoastrelid), 0)) * current_setting('block_size')::int8)::int8 AS total_bytes
FROM tree t
JOIN pg_class c ON c.oid = t.relid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relispartition
ORDER BY t.root, t.level, n.nspname, c.relname`;

/**
 * The actual heap size of a relation (and of its partitions), for relations never analyzed (relpages
 * 0): read in the relation's own profile transaction, where it is locked anyway. $1 oid.
 */
export const HEAP_SIZE_SQL = /* sql */ `
WITH RECURSIVE tree(relid) AS (
  SELECT $1::oid
  UNION ALL
  SELECT i.inhrelid FROM tree t JOIN pg_inherits i ON i.inhparent = t.relid
)
SELECT coalesce(sum(pg_relation_size(c.oid)), 0)::int8 AS bytes
FROM tree JOIN pg_class c ON c.oid = tree.relid
WHERE c.relkind IN ('r', 'm')`;

/** Relations each view or materialized view reads (for ordering and guards). $1 oid[]. */
export const VIEW_DEPENDENCIES_SQL = /* sql */ `
SELECT DISTINCT r.ev_class::int8 AS relid, c.oid::int8 AS dep_oid, n.nspname AS dep_schema, c.relname AS dep_name,
       quote_ident(n.nspname) || '.' || quote_ident(c.relname) AS dep_q_name
FROM pg_rewrite r
JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_class'::regclass
JOIN pg_class c ON c.oid = d.refobjid
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE r.ev_class = ANY ($1::oid[]) AND d.refobjid <> r.ev_class AND c.relkind IN ('r', 'v', 'm', 'p', 'f')`;

/**
 * Lists relations for the database tools API: schemas and names as LIKE patterns (escape `\`),
 * case-insensitive; partitions are folded into their parent (not listed). $1 text[] schema patterns,
 * $2 text name pattern (NULL: all).
 */
export const LIST_RELATIONS_SQL = /* sql */ `
SELECT n.nspname AS schema, c.relname AS name, c.relkind::text AS relkind,
       CASE WHEN c.relkind = 'p'
            THEN (WITH RECURSIVE tree(relid) AS (SELECT c.oid UNION ALL SELECT i.inhrelid FROM tree t JOIN pg_inherits i ON i.inhparent = t.relid)
                  SELECT coalesce(sum(greatest(pc.reltuples, 0)), 0) FROM tree JOIN pg_class pc ON pc.oid = tree.relid WHERE pc.relkind <> 'p')
            ELSE c.reltuples END::float8 AS reltuples,
       obj_description(c.oid, 'pg_class') AS comment
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f') AND NOT c.relispartition
  AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\\_toast%' AND n.nspname NOT LIKE 'pg\\_temp\\_%'
  AND EXISTS (SELECT 1 FROM unnest($1::text[]) AS s(pattern) WHERE n.nspname ILIKE s.pattern)
  AND ($2::text IS NULL OR c.relname ILIKE $2::text)
ORDER BY n.nspname, c.relname`;

/**
 * User functions the relations need: called by column defaults, generated columns, check constraints
 * or view bodies. Functions of an extension come with CREATE EXTENSION (extension set); others with
 * their full definition (pg_get_functiondef: CREATE OR REPLACE, so repeating it is harmless). $1 oid[].
 */
export const FUNCTIONS_SQL = /* sql */ `
WITH src(relid, fn) AS (
  SELECT ad.adrelid, d.refobjid FROM pg_attrdef ad
  JOIN pg_depend d ON d.classid = 'pg_attrdef'::regclass AND d.objid = ad.oid AND d.refclassid = 'pg_proc'::regclass
  WHERE ad.adrelid = ANY ($1::oid[])
  UNION
  SELECT con.conrelid, d.refobjid FROM pg_constraint con
  JOIN pg_depend d ON d.classid = 'pg_constraint'::regclass AND d.objid = con.oid AND d.refclassid = 'pg_proc'::regclass
  WHERE con.conrelid = ANY ($1::oid[])
  UNION
  SELECT r.ev_class, d.refobjid FROM pg_rewrite r
  JOIN pg_depend d ON d.classid = 'pg_rewrite'::regclass AND d.objid = r.oid AND d.refclassid = 'pg_proc'::regclass
  WHERE r.ev_class = ANY ($1::oid[])
)
SELECT src.relid::int8 AS relid, p.oid::int8 AS oid, n.nspname AS schema, quote_ident(n.nspname) AS q_schema,
       p.proname AS name, p.prokind::text AS kind,
       x.extname AS extension, quote_ident(xn.nspname) AS extension_schema,
       CASE WHEN x.extname IS NULL AND p.prokind IN ('f', 'p') THEN pg_get_functiondef(p.oid) END AS definition
FROM src
JOIN pg_proc p ON p.oid = src.fn
JOIN pg_namespace n ON n.oid = p.pronamespace
LEFT JOIN pg_depend e ON e.classid = 'pg_proc'::regclass AND e.objid = p.oid AND e.refclassid = 'pg_extension'::regclass AND e.deptype = 'e'
LEFT JOIN pg_extension x ON x.oid = e.refobjid
LEFT JOIN pg_namespace xn ON xn.oid = x.extnamespace
WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')
ORDER BY src.relid, p.oid`;
