// Database tools API (guide §6): list tables, and the DDL / markdown of one table — the same catalog
// reader, profile, annotator and renderers as ddl_generation. `db_connection` defaults to the configured
// business database (the embedded demo is created on first use). Only postgresql:// URLs, or the
// embedded demo database's own pglite:// URL, are accepted. An unreachable database answers
// DATABASE_CONNECTION_ERROR within 10 s, with the masked URL and the reason.
import path from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { Settings } from '../config.ts';
import { appError, databaseConnectionError, invalidDbConnection } from '../errors.ts';
import { checkClientDatabaseUrl } from '../tasks/service.ts';
import type { ColumnInfo } from '../pipeline/artifacts.ts';
import { StepError, type StepLogger, type StepServices } from '../pipeline/context.ts';
import { parseGlossary } from '../text/glossary.ts';
import { generateSchema } from '../pipeline/ddl/generate.ts';
import { compactType } from '../pipeline/ddl/model.ts';
import { renderTables } from '../pipeline/ddl/write.ts';
import { listRelations, parseTableName, TableNameError, type CatalogKind } from '../postgres/catalog/index.ts';
import type { Database } from '../postgres/connect.ts';
import { databaseNameOf, databaseUrlKind } from '../postgres/connection-string.ts';
import { sendOk } from './envelope.ts';

/** How long a database may take to answer its first query before DATABASE_CONNECTION_ERROR. */
export const CONNECT_TIMEOUT_MS = 8_000;

const dbConnection = z.string().trim().min(1).max(2048).optional();

const tablesBody = z
  .object({
    db_connection: dbConnection,
    schema: z.string().max(2000).optional(),
    table_name_pattern: z.string().max(256).optional(),
  })
  .strict();

const ddlBody = z
  .object({
    table: z.string().trim().min(1).max(300),
    db_connection: dbConnection,
    business_context: z.string().max(10_000).optional(),
    type: z.enum(['ddl', 'md', 'both']).default('ddl'),
    business_glossary: z.union([z.string().max(100_000), z.record(z.string(), z.string())]).optional(),
  })
  .strict();

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

export interface DatabaseRouteDeps {
  settings: Settings;
  services: Pick<StepServices, 'openBusinessDatabase' | 'createLlm'>;
}

export function databaseRoutes({ settings, services }: DatabaseRouteDeps): FastifyPluginAsyncZod {
  return async (app) => {
    const isDefault = (url: string) => {
      if (url === settings.businessDbUrl) return true;
      if (databaseUrlKind(url) !== 'pglite' || databaseUrlKind(settings.businessDbUrl) !== 'pglite') return false;
      const dir = (u: string) => path.resolve(settings.cwd, u.replace(/^pglite:\/\//i, ''));
      return dir(url) === dir(settings.businessDbUrl);
    };

    /** Opens the database, checks it answers, runs fn, closes it. The embedded default stays open for its
     * idle period after the request (connect.ts), so the next request does not reopen it. */
    const withDatabase = async <T>(given: string | undefined, fn: (db: Database, url: string) => Promise<T>): Promise<T> => {
      const url = given ?? settings.businessDbUrl;
      const shared = isDefault(url);
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
          opening = services.openBusinessDatabase(settings.businessDbUrl);
          db = await opening;
          await deadline(db.pool.query('SELECT 1'));
        } else {
          opening = services.openBusinessDatabase(url);
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
    };

    app.post(
      '/api/v0/database/tables',
      { schema: { tags: ['database'], summary: '获取数据库表列表 (guide §6.1)', body: tablesBody.prefault({}) } },
      async (request, reply) => {
        const body = request.body;
        const schemas = [...new Set((body.schema ?? '').split(/[,，]/).map((s) => s.trim().replace(/^"(.+)"$/, '$1')).filter(Boolean))];
        if (!schemas.length) schemas.push('public');
        const pattern = body.table_name_pattern?.trim() || undefined;
        return withDatabase(body.db_connection, async (db, url) => {
          const relations = await listRelations(db, { schemas, pattern });
          const counts: Record<string, number> = { tables: 0, views: 0, materialized_views: 0, partitioned_tables: 0, foreign_tables: 0 };
          for (const r of relations) counts[COUNT_KEYS[r.kind]] = (counts[COUNT_KEYS[r.kind]] ?? 0) + 1;
          const database = (await db.pool.query<{ d: string }>('SELECT current_database() AS d')).rows[0]?.d;
          return sendOk(reply, 200, 'database.tables', {
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
          });
        });
      },
    );

    app.post(
      '/api/v0/database/table/ddl',
      { schema: { tags: ['database'], summary: '获取表DDL/MD文档 (guide §6.2)', body: ddlBody } },
      async (request, reply) => {
        const body = request.body;
        try {
          parseTableName(body.table);
        } catch (error) {
          if (error instanceof TableNameError) {
            throw appError('VALIDATION_ERROR', { key: 'err.invalid_table_name', params: { table: body.table, reason: error.message }, invalidParams: ['table'] });
          }
          throw error;
        }
        const language = request.lang;
        const llm = services.createLlm(() => undefined);
        // A client that goes away stops the work (LLM call, profile) it asked for.
        const abort = new AbortController();
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) abort.abort('client closed the connection');
        });
        return withDatabase(body.db_connection, async (db, url) => {
          let result;
          try {
            result = await generateSchema({
              db,
              names: [body.table],
              language,
              businessContext: body.business_context?.trim() || null,
              glossary: parseGlossary(body.business_glossary),
              llm,
              inferRelations: false,
              continueOnError: true,
              log: silentLog,
              signal: abort.signal,
            });
          } catch (error) {
            if (error instanceof StepError && error.code === 'TABLES_NOT_FOUND') {
              throw appError('TABLE_NOT_FOUND', { params: { table: body.table }, invalidParams: ['table'] });
            }
            throw error;
          }
          const generated = result.tables[0];
          if (!generated) {
            const failure = result.failures.find((f) => f.code !== 'LLM_ERROR');
            if (!failure || failure.code === 'TABLE_NOT_FOUND' || failure.code === 'TABLE_NOT_READABLE') {
              throw appError('TABLE_NOT_FOUND', { params: { table: body.table }, invalidParams: ['table'] });
            }
            throw appError('DDL_GENERATION_FAILED', { params: { reason: failure.message } });
          }
          const [rendered] = renderTables([generated], language);
          const info = generated.info;
          const llmWarnings = result.failures.filter((f) => f.code === 'LLM_ERROR').map((f) => `LLM_ERROR: ${f.message}`);
          const hasLlm = [info, ...info.columns].some((x) => x.comment_source === 'llm');
          return sendOk(reply, 200, 'database.table_ddl', {
            ...(body.type !== 'md' ? { ddl: rendered!.ddl } : {}),
            ...(body.type !== 'ddl' ? { md: rendered!.md } : {}),
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
              business_context: body.business_context ?? null,
              output_type: body.type,
              has_llm_comments: hasLlm,
              llm_model: hasLlm ? llm?.model ?? null : null,
              database: databaseNameOf(url) ?? result.catalog.database,
              server_version: result.catalog.serverVersion,
              ...(llmWarnings.length ? { warnings: llmWarnings } : {}),
            },
          });
        });
      },
    );
  };
}
