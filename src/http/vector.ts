// Vector store API: search, the retrieval self-test, stats, backup / truncate (guide §2.4), the list of
// backups, restore. The work is VectorAdmin's (src/tasks/vector-admin.ts): this file parses, calls and sends.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { appError } from '../errors.ts';
import { evaluateBody, type VectorAdmin } from '../tasks/vector-admin.ts';
import { STAMP_PATTERN } from '../vector/backup.ts';
import { COLLECTIONS, SEARCHABLE_COLLECTIONS } from '../vector/documents.ts';
import { sendOk } from './envelope.ts';
import { taskIdSchema } from './schemas.ts';

const searchBody = z
  .object({
    question: z.string().trim().min(1).max(4000),
    k: z.number().int().min(1).max(100).default(5),
    collections: z.array(z.enum(SEARCHABLE_COLLECTIONS)).min(1).max(4).default([...COLLECTIONS]),
  })
  .strict();

const backupBody = z
  .object({
    task_id: taskIdSchema.optional().nullable(),
    backup_vector_tables: z.boolean().default(true),
    truncate_vector_tables: z.boolean().default(false),
  })
  .strict();

const listQuery = z.object({
  task_id: taskIdSchema.optional(),
  global_only: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
});

const restoreBody = z
  .object({
    task_id: taskIdSchema.optional().nullable(),
    timestamp: z.string().regex(STAMP_PATTERN, 'expected YYYYMMDD_HHMMSS (as listed by /vector/restore/list)'),
    truncate_before_restore: z.boolean().default(false),
    /** Before a truncating restore, back up what is there now (to the global vector_bak). */
    backup_before_restore: z.boolean().default(true),
  })
  .strict();


export function vectorRoutes(admin: VectorAdmin): FastifyPluginAsyncZod {
  return async (server) => {
    server.addHook('onClose', async () => admin.close());

    server.post('/api/v0/data_pipeline/vector/search', { schema: { tags: ['vector'], summary: '向量检索测试 (as a Vanna app retrieves)', body: searchBody } }, async (request, reply) => {
      const { question, k, collections } = request.body;
      return sendOk(reply, 200, 'vector.search', await admin.search(question, k, collections));
    });

    server.post(
      '/api/v0/data_pipeline/vector/evaluate',
      { schema: { tags: ['vector'], summary: '检索自测: recall@k of the needed tables (held-out questions)', body: evaluateBody } },
      async (request, reply) => sendOk(reply, 200, 'vector.evaluate', await admin.evaluate(request.body)),
    );

    server.get('/api/v0/data_pipeline/vector/stats', { schema: { tags: ['vector'], summary: '向量库统计' } }, async (_request, reply) =>
      sendOk(reply, 200, 'vector.stats', await admin.stats()),
    );

    server.post('/api/v0/data_pipeline/vector/backup', { schema: { tags: ['vector'], summary: 'Vector表备份 / 清空 (guide §2.4)', body: backupBody.prefault({}) } }, async (request, reply) => {
      const body = request.body;
      if (!body.backup_vector_tables && !body.truncate_vector_tables) {
        throw appError('VALIDATION_ERROR', { key: 'err.vector_nothing_to_do', invalidParams: ['backup_vector_tables'] });
      }
      return sendOk(reply, 200, 'vector.backup_done', await admin.backup({ taskId: body.task_id ?? null, truncate: body.truncate_vector_tables }));
    });

    server.get('/api/v0/data_pipeline/vector/restore/list', { schema: { tags: ['vector'], summary: '可恢复的Vector表备份', querystring: listQuery } }, async (request, reply) => {
      const { task_id, global_only } = request.query;
      return sendOk(reply, 200, 'vector.restore_list', await admin.listBackups({ taskId: task_id, globalOnly: global_only }));
    });

    server.post('/api/v0/data_pipeline/vector/restore', { schema: { tags: ['vector'], summary: '恢复Vector表备份 (one transaction)', body: restoreBody } }, async (request, reply) => {
      const body = request.body;
      const data = await admin.restore({
        taskId: body.task_id ?? null,
        timestamp: body.timestamp,
        truncateBeforeRestore: body.truncate_before_restore,
        backupBeforeRestore: body.backup_before_restore,
      });
      return sendOk(reply, 200, 'vector.restored', data);
    });
  };
}
