// Database tools API (guide §6): POST /api/v0/database/tables and /api/v0/database/table/ddl. The work is
// DatabaseTools' (src/tasks/database-tools.ts): this file parses, calls and sends.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { foreignKeyFields, type DatabaseTools } from '../tasks/database-tools.ts';
import { sendOk } from './envelope.ts';
import { okEnvelope } from './schemas.ts';

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

const relationKind = z.string().describe('table, view, materialized_view, partitioned_table or foreign_table');
const tablesData = z.object({
  tables: z.array(z.string()).describe('schema.table'),
  total: z.number().int(),
  schemas: z.array(z.string()),
  table_name_pattern: z.string().nullable(),
  db_connection_info: z.object({ database: z.string().optional() }),
  counts: z.record(z.string(), z.number().int()).describe('per kind: tables, views, materialized_views, partitioned_tables, foreign_tables'),
  table_details: z.array(
    z.object({
      full_name: z.string(),
      schema_name: z.string(),
      table_name: z.string(),
      type: relationKind,
      is_view: z.boolean(),
      estimated_rows: z.number().int().describe('the planner\'s estimate; -1 for a view'),
      comment: z.string().nullable(),
    }),
  ),
});
const commentSource = z.string().nullable().describe('database, llm or offline (the rule-based annotator)');
const tableDdlData = z.object({
  ddl: z.string().optional(),
  md: z.string().optional(),
  table_info: z.object({
    table_name: z.string(),
    schema_name: z.string(),
    full_name: z.string(),
    type: relationKind,
    comment: z.string().nullable(),
    comment_source: commentSource,
    field_count: z.number().int(),
    row_count: z.number().int(),
    row_count_exact: z.boolean(),
    primary_key: z.array(z.string()),
    foreign_keys: z.array(z.object(foreignKeyFields)),
  }),
  fields: z.array(
    z.object({
      column_name: z.string(),
      data_type: z.string(),
      full_type: z.string(),
      max_length: z.number().int().nullable(),
      numeric_precision: z.number().int().nullable(),
      numeric_scale: z.number().int().nullable(),
      is_nullable: z.boolean(),
      is_primary_key: z.boolean(),
      default_value: z.string().nullable(),
      comment: z.string().nullable(),
      comment_source: commentSource,
      enum_values: z.array(z.string()).nullable(),
      sample_values: z.array(z.string()),
    }),
  ),
  generation_info: z.object({
    business_context: z.string().nullable(),
    output_type: z.enum(['ddl', 'md', 'both']),
    has_llm_comments: z.boolean(),
    llm_model: z.string().nullable(),
    database: z.string(),
    server_version: z.string(),
    warnings: z.array(z.string()).optional(),
  }),
});

export function databaseRoutes(tools: DatabaseTools): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/api/v0/database/tables',
      { schema: { tags: ['database'], summary: '获取数据库表列表 (guide §6.1)', body: tablesBody.prefault({}), response: { 200: okEnvelope(tablesData) } } },
      async (request, reply) => {
        const body = request.body;
        const data = await tools.listTables({ dbConnection: body.db_connection, schema: body.schema, tableNamePattern: body.table_name_pattern });
        return sendOk(reply, 200, 'database.tables', data);
      },
    );

    app.post(
      '/api/v0/database/table/ddl',
      { schema: { tags: ['database'], summary: '获取表DDL/MD文档 (guide §6.2)', body: ddlBody, response: { 200: okEnvelope(tableDdlData) } } },
      async (request, reply) => {
        const body = request.body;
        // A client that goes away stops the work (LLM call, profile) it asked for.
        const abort = new AbortController();
        reply.raw.once('close', () => {
          if (!reply.raw.writableFinished) abort.abort('client closed the connection');
        });
        const data = await tools.describeTable({
          table: body.table,
          dbConnection: body.db_connection,
          businessContext: body.business_context,
          type: body.type,
          businessGlossary: body.business_glossary,
          language: request.lang,
          signal: abort.signal,
        });
        return sendOk(reply, 200, 'database.table_ddl', data);
      },
    );
  };
}
