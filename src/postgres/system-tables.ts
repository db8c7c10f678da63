// Which of a list of table names resolve, in the business database's own search path, to a table of
// PostgreSQL's catalogs (pg_catalog is searched first even when unnamed: `pg_authid` is pg_catalog.pg_authid).
import type { Database } from './connect.ts';

export async function systemCatalogTables(db: Database, tables: string[]): Promise<string[]> {
  // Every table of pg_catalog is named pg_*, and information_schema is not on the default search path
  // (qualified names are refused before this, by name): only such names need asking the database.
  tables = tables.filter((name) => /^"?pg_/i.test(name.trim()));
  if (!tables.length) return [];
  const { rows } = await db.pool.query<{ name: string }>(
    `SELECT t.name FROM unnest($1::text[]) AS t(name)
       JOIN pg_class c ON c.oid = to_regclass(t.name)
       JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname IN ('pg_catalog', 'information_schema', 'pg_toast')`,
    [tables],
  );
  return rows.map((r) => r.name);
}
