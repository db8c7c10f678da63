// Database tools (guide §6): list a database's tables, and the DDL / markdown of one table — the same
// catalog reader, profile, annotator and renderers as ddl_generation. `dbConnection` defaults to the
// configured business database (the embedded demo is created on first use). Only postgresql:// URLs, or
// the embedded demo database's own pglite:// URL, are accepted. An unreachable database answers
// DATABASE_CONNECTION_ERROR within CONNECT_TIMEOUT_MS, with the masked URL and the reason.
// What it answers is the guide's `data` of each route: the route only parses, calls and sends.
import path from 'node:path';
import type { Settings } from '../config.ts';
import { appError, databaseConnectionError, invalidDbConnection } from '../errors.ts';
import type { Lang } from '../messages.ts';
import type { ColumnInfo } from '../pipeline/artifacts.ts';
import { StepError, type StepLogger, type StepServices } from '../pipeline/context.ts';
import { generateSchema } from '../pipeline/ddl/generate.ts';
import { compactType } from '../pipeline/ddl/model.ts';
import { renderTables } from '../pipeline/ddl/write.ts';
import { listRelations, parseTableName, TableNameError, type CatalogKind } from '../postgres/catalog/index.ts';
import type { Database } from '../postgres/connect.ts';
import { databaseNameOf, databaseUrlKind } from '../postgres/connection-string.ts';
import { parseGlossary } from '../text/glossary.ts';
import { checkClientDatabaseUrl } from './service.ts';

/** A foreign key's fields: the response schema of a described table answers them as schema.json holds them. */
export { foreignKeyFields } from '../pipeline/artifacts.ts';

/** How long a database may take to answer its first query before DATABASE_CONNECTION_ERROR. */
export const CONNECT_TIMEOUT_MS = 8_000;

export interface TableListQuery {
  dbConnection?: string;
  /** The guide's comma-separated schema list (either comma, names may be quoted); default public. */
  schema?: string;
  tableNamePattern?: string;
}

export interface TableDescribeQuery {
  table: string;
  dbConnection?: string;
  businessContext?: string;
  type: 'ddl' | 'md' | 'both';
  businessGlossary?: string | Record<string, string>;
  language: Lang;
  /** Aborts the work (LLM call, profile) when the client goes away. */
  signal: AbortSignal;
}

const COUNT_KEYS: Record<CatalogKind, string> = {
  table: 'tables',
  view: 'views',
  materialized_view: 'materialized_views',
  partitioned_table: 'partitioned_tables',
  foreign_table: 'foreign_tables',
};

const silentLog: StepLogger = { debug: () => undefined, info: () => undefined, warn: () => undefined, error: () => undefined };

/** Short type of the guide's `fields[].data_type`: `varchar`, `numeric`, `timestamp`, `text[]`. */
function shortType(column: ColumnInfo): string {
  return compactType(column.data_type).replace(/\([^)]*\)/g, '').replace(/^public\./, '');
}

export class DatabaseTools {
  constructor(
    private readonly settings: Settings,
    private readonly services: Pick<StepServices, 'openBusinessDatabase' | 'createLlm'>,
  ) {}

  /** Guide §6.1's data: the tables, views … of the given schemas, with counts per kind. */
  async listTables(query: TableListQuery) {
    const schemas = [...new Set((query.schema ?? '').split(/[,，]/).map((s) => s.trim().replace(/^"(.+)"$/, '$1')).filter(Boolean))];
    if (!schemas.length) schemas.push('public');
    const pattern = query.tableNamePattern?.trim() || undefined;
    return this.withDatabase(query.dbConnection, async (db, url) => {
      const relations = await listRelations(db, { schemas, pattern });
      const counts: Record<string, number> = { tables: 0, views: 0, materialized_views: 0, partitioned_tables: 0, foreign_tables: 0 };
      for (const r of relations) counts[COUNT_KEYS[r.kind]] = (counts[COUNT_KEYS[r.kind]] ?? 0) + 1;
      const database = (await db.pool.query<{ d: string }>('SELECT current_database() AS d')).rows[0]?.d;
      return {
        tables: relations.map((r) => `${r.schema}.${r.name}`),
        total: relations.length,
        schemas,
        table_name_pattern: pattern ?? null,
        db_connection_info: { database: databaseNameOf(url) ?? database },
        counts,
        table_details: relations.map((r) => ({
          full_name: `${r.schema}.${r.name}`,
          schema_name: r.schema,
          table_name: r.name,
          type: r.kind,
          is_view: r.kind === 'view' || r.kind === 'materialized_view',
          estimated_rows: r.estimatedRows,
          comment: r.comment,
        })),
      };
    });
  }

  /** Guide §6.2's data: one table's DDL and/or markdown, its table info and fields, how they were made. */
  async describeTable(query: TableDescribeQuery) {
    try {
      parseTableName(query.table);
    } catch (error) {
      if (error instanceof TableNameError) {
        throw appError('VALIDATION_ERROR', { key: 'err.invalid_table_name', params: { table: query.table, reason: error.message }, invalidParams: ['table'] });
      }
      throw error;
    }
    const { language } = query;
    const llm = this.services.createLlm(() => undefined);
    return this.withDatabase(query.dbConnection, async (db, url) => {
      let result;
      try {
        result = await generateSchema({
          db,
          names: [query.table],
          language,
          businessContext: query.businessContext?.trim() || null,
          glossary: parseGlossary(query.businessGlossary),
          llm,
          inferRelations: false,
          continueOnError: true,
          log: silentLog,
          signal: query.signal,
        });
      } catch (error) {
        if (error instanceof StepError && error.code === 'TABLES_NOT_FOUND') {
          throw appError('TABLE_NOT_FOUND', { params: { table: query.table }, invalidParams: ['table'] });
        }
        throw error;
      }
      const generated = result.tables[0];
      if (!generated) {
        const failure = result.failures.find((f) => f.code !== 'LLM_ERROR');
        if (!failure || failure.code === 'TABLE_NOT_FOUND' || failure.code === 'TABLE_NOT_READABLE') {
          throw appError('TABLE_NOT_FOUND', { params: { table: query.table }, invalidParams: ['table'] });
        }
        throw appError('DDL_GENERATION_FAILED', { params: { reason: failure.message } });
      }
      const [rendered] = renderTables([generated], language);
      const info = generated.info;
      const llmWarnings = result.failures.filter((f) => f.code === 'LLM_ERROR').map((f) => `LLM_ERROR: ${f.message}`);
      const hasLlm = [info, ...info.columns].some((x) => x.comment_source === 'llm');
      return {
        ...(query.type !== 'md' ? { ddl: rendered!.ddl } : {}),
        ...(query.type !== 'ddl' ? { md: rendered!.md } : {}),
        table_info: {
          table_name: info.name,
          schema_name: info.schema,
          full_name: info.full_name,
          type: info.kind,
          comment: info.comment,
          comment_source: info.comment_source,
          field_count: info.columns.length,
          row_count: info.estimated_rows,
          row_count_exact: info.rows_exact === true,
          primary_key: info.primary_key,
          foreign_keys: info.foreign_keys,
        },
        fields: info.columns.map((c) => ({
          column_name: c.name,
          data_type: shortType(c),
          full_type: c.display_type ?? compactType(c.data_type),
          max_length: c.max_length,
          numeric_precision: c.numeric_precision,
          numeric_scale: c.numeric_scale,
          is_nullable: c.nullable,
          is_primary_key: c.is_primary_key,
          default_value: c.default,
          comment: c.comment,
          comment_source: c.comment_source,
          enum_values: c.enum_values,
          sample_values: c.sample_values,
        })),
        generation_info: {
          business_context: query.businessContext ?? null,
          output_type: query.type,
          has_llm_comments: hasLlm,
          llm_model: hasLlm ? llm?.model ?? null : null,
          database: databaseNameOf(url) ?? result.catalog.database,
          server_version: result.catalog.serverVersion,
          ...(llmWarnings.length ? { warnings: llmWarnings } : {}),
        },
      };
    });
  }

  private isDefault(url: string): boolean {
    const { settings } = this;
    if (url === settings.businessDbUrl) return true;
    if (databaseUrlKind(url) !== 'pglite' || databaseUrlKind(settings.businessDbUrl) !== 'pglite') return false;
    const dir = (u: string) => path.resolve(settings.cwd, u.replace(/^pglite:\/\//i, ''));
    return dir(url) === dir(settings.businessDbUrl);
  }

  /** Opens the database, checks it answers, runs fn, closes it. The embedded default stays open for its
   * idle period after the request (connect.ts), so the next request does not reopen it. */
  private async withDatabase<T>(given: string | undefined, fn: (db: Database, url: string) => Promise<T>): Promise<T> {
    const url = given ?? this.settings.businessDbUrl;
    const shared = this.isDefault(url);
    if (!shared && databaseUrlKind(url) !== 'postgres') throw invalidDbConnection();
    if (!shared) checkClientDatabaseUrl(url);
    let timer: NodeJS.Timeout | undefined;
    const deadline = <V>(work: Promise<V>): Promise<V> =>
      Promise.race([
        work,
        new Promise<never>((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
        }),
      ]);
    let opening: Promise<Database> | undefined;
    let db: Database;
    try {
      if (shared) {
        // The embedded demo may take a while to create on first use: only its answer is timed.
        opening = this.services.openBusinessDatabase(this.settings.businessDbUrl);
        db = await opening;
        await deadline(db.pool.query('SELECT 1'));
      } else {
        opening = this.services.openBusinessDatabase(url);
        db = await deadline(opening.then(async (d) => (await d.pool.query('SELECT 1'), d)));
      }
    } catch (error) {
      // A pool still trying to connect ends once its own connect timeout fires; do not wait for it.
      void opening?.then((d) => d.close()).catch(() => undefined);
      throw databaseConnectionError(url, error);
    } finally {
      clearTimeout(timer);
    }
    try {
      return await fn(db, url);
    } finally {
      void db.close().catch(() => undefined);
    }
  }
}
