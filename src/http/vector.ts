// Vector store API: search, the retrieval self-test, stats, backup / truncate (guide §2.4), the list of
// backups, restore. The work is VectorAdmin's (src/tasks/vector-admin.ts): this file parses, calls and sends.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { appError } from '../errors.ts';
import { evaluateBody, type VectorAdmin } from '../tasks/vector-admin.ts';
import { STAMP_PATTERN } from '../vector/backup.ts';
import { COLLECTIONS, SEARCHABLE_COLLECTIONS } from '../vector/documents.ts';
import { sendOk } from './envelope.ts';
import { okEnvelope, taskIdSchema } from './schemas.ts';

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


const embeddingModel = { embedding_model: z.string(), embedding_dim: z.number().int() };
const hit = z.object({
  rank: z.number().int(),
  id: z.string(),
  score: z.number().describe('cosine similarity (1 - distance)'),
  distance: z.number().describe('cosine distance, what LangChain orders by'),
  question: z.string().nullable().optional().describe('sql / error_sql documents: the pair\'s question'),
  sql: z.string().nullable().optional(),
  table: z.string().nullable().optional().describe('ddl / documentation documents: schema.table'),
  document: z.string(),
  metadata: z.record(z.string(), z.unknown()),
});
const searchData = z.object({
  question: z.string(),
  k: z.number().int(),
  collections: z.array(z.enum(SEARCHABLE_COLLECTIONS)),
  ...embeddingModel,
  results: z.record(z.string(), z.array(hit)).describe('per collection, nearest first'),
  took_ms: z.number(),
});
const questionResult = z.object({
  question: z.string(),
  tables: z.array(z.string()),
  found: z.array(z.string()),
  missed: z.array(z.string()),
  recall: z.number(),
  retrieved: z.record(z.string(), z.array(z.string())).describe('tables of the top-k documents, nearest first, per collection'),
});
const evaluateData = z.object({
  ...embeddingModel,
  k: z.number().int(),
  collections: z.array(z.string()),
  summary: z.object({
    k: z.number().int(),
    collections: z.array(z.string()),
    questions: z.number().int(),
    recall: z.number().describe('share of all needed tables found in the top k'),
    mean_question_recall: z.number(),
    complete: z.number().int().describe('questions that found every table they need'),
    tables_needed: z.number().int(),
    tables_found: z.number().int(),
  }),
  results: z.array(questionResult),
  misses: z.array(z.object({ question: z.string(), missed: z.array(z.string()), retrieved: z.record(z.string(), z.array(z.string())) })),
  took_ms: z.number(),
});
const statsData = z.object({
  vector_store: z.string(),
  configured_embedder: z.object({ kind: z.string(), model: z.string(), dim: z.number().int() }),
  embedding_model: z.string().nullable().describe('what the stored vectors were embedded with: an app must embed its questions with the same'),
  embedding_dim: z.number().int().nullable(),
  exists: z.boolean(),
  dim: z.number().int().nullable(),
  total: z.number().int(),
  collections: z.array(z.object({ name: z.string(), uuid: z.string(), rows: z.number().int() })),
  models: z.array(z.object({ model: z.string().nullable(), rows: z.number().int() })),
});
const tableRows = z.record(z.string(), z.number().int()).describe('rows per table: langchain_pg_collection, langchain_pg_embedding');
const backupData = z.object({
  task_id: z.string().nullable(),
  backup_performed: z.boolean(),
  truncate_performed: z.boolean(),
  skipped_reason: z.string().optional(),
  timestamp: z.string().nullable(),
  backup_directory: z.string().describe('relative to the output directory'),
  files: z.array(z.object({ file_name: z.string(), table: z.string(), rows: z.number().int(), size: z.number().int(), sha256: z.string() })),
  manifest_file: z.string().nullable(),
  rows: tableRows,
  duration_ms: z.number(),
});
const backupEntry = z.object({
  timestamp: z.string(),
  created_at: z.string().nullable(),
  task_id: z.string().nullable(),
  restorable: z.boolean().describe('a manifest exists and parses'),
  problem: z.string().optional(),
  embedding_dim: z.number().int().nullable(),
  embedding_models: z.array(z.string()),
  truncated_after_backup: z.boolean(),
  files: z.array(z.object({ table: z.string(), file: z.string(), rows: z.number().int().nullable(), bytes: z.number().int() })),
  total_rows: z.number().int().nullable(),
  total_bytes: z.number().int(),
  has_log: z.boolean(),
});
const restoreListData = z.object({
  backup_locations: z.array(z.object({ type: z.enum(['global', 'task']), task_id: z.string().nullable(), relative_path: z.string(), backups: z.array(backupEntry) })),
  summary: z.object({ total_locations: z.number().int(), total_backups: z.number().int(), restorable_backups: z.number().int(), latest_backup: z.string().nullable() }),
});
const restoreData = z.object({
  restore_performed: z.literal(true),
  task_id: z.string().nullable(),
  timestamp: z.string(),
  backup_directory: z.string(),
  truncate_performed: z.boolean(),
  safety_backup: z.object({ timestamp: z.string().nullable(), directory: z.string(), rows: z.number().int() }).nullable().describe('what was there before a truncating restore, backed up to the global vector_bak'),
  restore_results: z.object({
    langchain_pg_collection: z.object({ rows_restored: z.number().int(), rows_existing: z.number().int() }),
    langchain_pg_embedding: z.object({ rows_restored: z.number().int(), rows_skipped_existing: z.number().int() }),
  }),
  manifest: z.object({ embedding_dim: z.number().int().nullable(), embedding_models: z.array(z.string()), created_at: z.string() }),
  duration_ms: z.number(),
});

export function vectorRoutes(admin: VectorAdmin): FastifyPluginAsyncZod {
  return async (server) => {
    server.addHook('onClose', async () => admin.close());

    server.post('/api/v0/data_pipeline/vector/search', { schema: { tags: ['vector'], summary: '向量检索测试 (as a Vanna app retrieves)', body: searchBody, response: { 200: okEnvelope(searchData) } } }, async (request, reply) => {
      const { question, k, collections } = request.body;
      return sendOk(reply, 200, 'vector.search', await admin.search(question, k, collections));
    });

    server.post(
      '/api/v0/data_pipeline/vector/evaluate',
      { schema: { tags: ['vector'], summary: '检索自测: recall@k of the needed tables (held-out questions)', body: evaluateBody, response: { 200: okEnvelope(evaluateData) } } },
      async (request, reply) => sendOk(reply, 200, 'vector.evaluate', await admin.evaluate(request.body)),
    );

    server.get('/api/v0/data_pipeline/vector/stats', { schema: { tags: ['vector'], summary: '向量库统计', response: { 200: okEnvelope(statsData) } } }, async (_request, reply) =>
      sendOk(reply, 200, 'vector.stats', await admin.stats()),
    );

    server.post('/api/v0/data_pipeline/vector/backup', { schema: { tags: ['vector'], summary: 'Vector表备份 / 清空 (guide §2.4)', body: backupBody.prefault({}), response: { 200: okEnvelope(backupData) } } }, async (request, reply) => {
      const body = request.body;
      if (!body.backup_vector_tables && !body.truncate_vector_tables) {
        throw appError('VALIDATION_ERROR', { key: 'err.vector_nothing_to_do', invalidParams: ['backup_vector_tables'] });
      }
      return sendOk(reply, 200, 'vector.backup_done', await admin.backup({ taskId: body.task_id ?? null, truncate: body.truncate_vector_tables }));
    });

    server.get('/api/v0/data_pipeline/vector/restore/list', { schema: { tags: ['vector'], summary: '可恢复的Vector表备份', querystring: listQuery, response: { 200: okEnvelope(restoreListData) } } }, async (request, reply) => {
      const { task_id, global_only } = request.query;
      return sendOk(reply, 200, 'vector.restore_list', await admin.listBackups({ taskId: task_id, globalOnly: global_only }));
    });

    server.post('/api/v0/data_pipeline/vector/restore', { schema: { tags: ['vector'], summary: '恢复Vector表备份 (one transaction)', body: restoreBody, response: { 200: okEnvelope(restoreData) } } }, async (request, reply) => {
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
