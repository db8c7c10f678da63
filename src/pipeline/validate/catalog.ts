// What sql_validation knows about the schema, for repairs: tables, columns, types, comments and enum
// values. Read from ddl_generation's schema.json; when that file is absent (the step re-run alone on a
// pair file brought from elsewhere), a minimal catalog is read from the database (columns and types of
// the user tables, in a READ ONLY transaction).
import { readSchemaFile, type SchemaFile } from '../artifacts.ts';
import type { Database } from '../../postgres/connect.ts';

export interface CatalogColumn {
  name: string;
  type: string;
  nullable: boolean;
  comment: string | null;
  enumValues: string[] | null;
  /** The ddl step's column role and value range (schema.json), when it wrote them. */
  role?: string;
  range?: { min: string; max: string } | null;
}

export interface CatalogTable {
  schema: string;
  name: string;
  comment: string | null;
  columns: CatalogColumn[];
  primaryKey: string[];
  foreignKeys: Array<{ columns: string[]; target: string; targetColumns: string[] }>;
}

export class Catalog {
  readonly source: 'schema.json' | 'database' | 'none';
  readonly tables: CatalogTable[];

  constructor(tables: CatalogTable[], source: Catalog['source']) {
    this.tables = tables;
    this.source = source;
  }

  /** Tables a (possibly qualified) name may mean: exact first, else case-insensitive. */
  findTables(name: string): CatalogTable[] {
    const parts = name.split('.');
    const rel = parts.at(-1)!;
    const schema = parts.length > 1 ? parts.at(-2) : undefined;
    const matches = (exact: boolean) =>
      this.tables.filter((t) => {
        const eq = (a: string, b: string) => (exact ? a === b : a.toLowerCase() === b.toLowerCase());
        return eq(t.name, rel) && (schema === undefined || eq(t.schema, schema));
      });
    const exact = matches(true);
    if (exact.length) return schema === undefined ? preferPublic(exact) : exact;
    const loose = matches(false);
    return schema === undefined ? preferPublic(loose) : loose;
  }

  /** The table a relation reference resolves to (unqualified names: `public` first, as with the default search_path). */
  resolve(qualified: string): CatalogTable | undefined {
    const found = this.findTables(qualified).filter((t) => {
      const parts = qualified.split('.');
      return t.name === parts.at(-1) && (parts.length === 1 || t.schema === parts.at(-2));
    });
    return found.length === 1 ? found[0] : preferPublic(found)[0];
  }

  /** Tables named in a text (whole-word, case-insensitive): for prompts when the SQL does not parse. */
  tablesMentioned(text: string): CatalogTable[] {
    const lower = text.toLowerCase();
    return this.tables.filter((t) => new RegExp(`(^|[^\\p{L}\\p{N}_])${escapeRegExp(t.name.toLowerCase())}($|[^\\p{L}\\p{N}_])`, 'u').test(lower));
  }
}

function preferPublic(tables: CatalogTable[]): CatalogTable[] {
  if (tables.length <= 1) return tables;
  const pub = tables.filter((t) => t.schema === 'public');
  return pub.length ? pub : tables;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

export function catalogFromSchemaFile(schema: SchemaFile): Catalog {
  return new Catalog(
    schema.tables.map((t) => ({
      schema: t.schema,
      name: t.name,
      comment: t.comment,
      columns: t.columns.map((c) => ({
        name: c.name,
        type: c.display_type ?? c.data_type,
        nullable: c.nullable,
        comment: c.comment,
        enumValues: c.enum_values,
        role: c.role,
        range: c.range ?? null,
      })),
      primaryKey: t.primary_key ?? [],
      foreignKeys: (t.foreign_keys ?? []).map((fk) => ({
        columns: fk.columns,
        target: `${fk.target_schema}.${fk.target_table}`,
        targetColumns: fk.target_columns,
      })),
    })),
    'schema.json',
  );
}

/** Columns of every user table and view (no system schemas), read-only. */
export async function catalogFromDatabase(db: Database): Promise<Catalog> {
  const client = await db.pool.connect();
  try {
    await client.query('BEGIN TRANSACTION READ ONLY');
    const { rows } = await client.query<{
      schema: string;
      table: string;
      table_comment: string | null;
      column: string;
      type: string;
      not_null: boolean;
      comment: string | null;
      pk: boolean;
    }>(`
      SELECT n.nspname AS schema, c.relname AS table, obj_description(c.oid, 'pg_class') AS table_comment,
             a.attname AS column, format_type(a.atttypid, a.atttypmod) AS type, a.attnotnull AS not_null,
             col_description(c.oid, a.attnum) AS comment,
             EXISTS (SELECT 1 FROM pg_index i WHERE i.indrelid = c.oid AND i.indisprimary AND a.attnum = ANY (i.indkey)) AS pk
      FROM pg_class c
      JOIN pg_namespace n ON n.oid = c.relnamespace
      JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
      WHERE c.relkind IN ('r', 'v', 'm', 'p', 'f')
        AND n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
        AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
      ORDER BY n.nspname, c.relname, a.attnum`);
    const byTable = new Map<string, CatalogTable>();
    for (const r of rows) {
      const key = `${r.schema}.${r.table}`;
      let t = byTable.get(key);
      if (!t) {
        t = { schema: r.schema, name: r.table, comment: r.table_comment, columns: [], primaryKey: [], foreignKeys: [] };
        byTable.set(key, t);
      }
      t.columns.push({ name: r.column, type: r.type, nullable: !r.not_null, comment: r.comment, enumValues: null });
      if (r.pk) t.primaryKey.push(r.column);
    }
    return new Catalog([...byTable.values()], 'database');
  } finally {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
  }
}

/** schema.json of the task directory, else (absent, or not a valid schema.json) the database's catalog;
 * an empty catalog when both fail. The catalog only informs repairs, so a bad file does not fail the step. */
export async function loadCatalog(dir: string, db: Database | undefined): Promise<Catalog> {
  const schema = await readSchemaFile(dir, 'SCHEMA_INVALID').catch(() => undefined);
  if (schema) return catalogFromSchemaFile(schema);
  if (db) {
    try {
      return await catalogFromDatabase(db);
    } catch {
      // fall through: repairs simply get no schema
    }
  }
  return new Catalog([], 'none');
}

/** Compact DDL of a table for the repair prompt: types, NOT NULL, primary key, comments, enum values. */
export function renderTableDdl(table: CatalogTable, options: { maxEnumValues?: number } = {}): string {
  const maxEnum = options.maxEnumValues ?? 20;
  const lines = table.columns.map((c, i) => {
    const notes: string[] = [];
    if (c.comment) notes.push(c.comment);
    if (c.role) notes.push(`role: ${c.role}`);
    if (c.range) notes.push(`range: ${c.range.min} .. ${c.range.max}`);
    if (c.enumValues?.length) {
      const shown = c.enumValues.slice(0, maxEnum).map((v) => `'${v.replace(/'/g, "''")}'`).join(', ');
      notes.push(`values: ${shown}${c.enumValues.length > maxEnum ? ', ...' : ''}`);
    }
    const comma = i < table.columns.length - 1 || table.primaryKey.length ? ',' : '';
    return `  ${identifier(c.name)} ${c.type}${c.nullable ? '' : ' NOT NULL'}${comma}${notes.length ? ` -- ${notes.join('; ')}` : ''}`;
  });
  if (table.primaryKey.length) lines.push(`  PRIMARY KEY (${table.primaryKey.map(identifier).join(', ')})`);
  const header = table.comment ? `-- ${table.comment}\n` : '';
  const fks = table.foreignKeys.map(
    (fk) => `-- ${fk.columns.join(', ')} → ${fk.target}(${fk.targetColumns.join(', ')})`,
  );
  return `${header}CREATE TABLE ${identifier(table.schema)}.${identifier(table.name)} (\n${lines.join('\n')}\n);${fks.length ? `\n${fks.join('\n')}` : ''}`;
}

/** An identifier as it must be written: bare when it is a plain lower-case name, else double-quoted. */
export function identifier(name: string): string {
  return /^[a-z_][a-z0-9_$]*$/.test(name) && !RESERVED.has(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

const RESERVED = new Set(
  `all analyse analyze and any array as asc asymmetric both case cast check collate column constraint create
  current_catalog current_date current_role current_time current_timestamp current_user default deferrable desc
  distinct do else end except false fetch for foreign from grant group having in initially intersect into lateral
  leading limit localtime localtimestamp not null offset on only or order placing primary references returning
  select session_user some symmetric system_user table then to trailing true union unique user using variadic when
  where window with`.split(/\s+/),
);
