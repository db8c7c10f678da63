// Database tools API (guide §6): POST /api/v0/database/tables and /api/v0/database/table/ddl. The work is
// DatabaseTools' (src/tasks/database-tools.ts): this file parses, calls and sends.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { DatabaseTools } from '../tasks/database-tools.ts';
import { sendOk } from './envelope.ts';

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

export function databaseRoutes(tools: DatabaseTools): FastifyPluginAsyncZod {
  return async (app) => {
    app.post(
      '/api/v0/database/tables',
      { schema: { tags: ['database'], summary: '获取数据库表列表 (guide §6.1)', body: tablesBody.prefault({}) } },
      async (request, reply) => {
        const body = request.body;
        const data = await tools.listTables({ dbConnection: body.db_connection, schema: body.schema, tableNamePattern: body.table_name_pattern });
        return sendOk(reply, 200, 'database.tables', data);
      },
    );

    app.post(
      '/api/v0/database/table/ddl',
      { schema: { tags: ['database'], summary: '获取表DDL/MD文档 (guide §6.2)', body: ddlBody } },
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
