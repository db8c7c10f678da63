// Review before training (the dashboard's pairs view, and scripts): list the pairs with their validation
// and lint findings, preview a result, edit (re-validated), reject / restore, add. Routes parse, call the
// review service (tasks/pair-review.ts) and answer.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { MAX_QUESTION_CHARS, MAX_SQL_CHARS, type PairReview } from '../tasks/pair-review.ts';
import { sendOk } from './envelope.ts';
import { okEnvelope, taskIdParams } from './schemas.ts';

const pairParams = taskIdParams.extend({
  pair_id: z.string().regex(/^(\d{1,6}|added-\d{1,6})$/, 'a pair index (0, 1, …) or added-<n>'),
});

const listQuery = z
  .object({
    status: z.enum(['valid', 'repaired', 'empty', 'invalid', 'pending', 'unvalidated', 'rejected', 'edited', 'added', 'kept']).optional(),
    finding: z.string().regex(/^[a-z_]{1,60}$/, 'a lint rule name, or any').optional(),
    table: z.string().min(1).max(300).optional(),
    complexity: z.string().min(1).max(60).optional(),
    q: z.string().min(1).max(500).optional(),
    limit: z.coerce.number().int().min(1).max(1000).default(100),
    offset: z.coerce.number().int().min(0).max(1_000_000).default(0),
  })
  .strict();

const question = z.string().trim().min(1).max(MAX_QUESTION_CHARS);
const sql = z.string().trim().min(1).max(MAX_SQL_CHARS);
const editBody = z
  .object({ question: question.optional(), sql: sql.optional() })
  .strict()
  .refine((b) => b.question !== undefined || b.sql !== undefined, { message: 'question or sql is required', path: ['question'] });
const addBody = z.object({ question, sql }).strict();
const rejectBody = z.object({ reason: z.string().trim().min(1).max(1000).optional() }).strict();

const reviewedText = z.object({ question: z.string(), sql: z.string() });
const lintFinding = z.object({
  rule: z.string(),
  severity: z.enum(['error', 'warning']),
  message: z.string(),
  columns: z.array(z.string()).describe('table.column of the columns at fault'),
  nearest: z.array(z.string()).optional().describe('literal_not_in_data: the nearest values that occur'),
});
const reviewedPair = z.object({
  pair_id: z.string().describe('<n> for a generated pair (its index in the pair file), added-<n> for one added by hand'),
  question: z.string(),
  sql: z.string(),
  original: reviewedText.nullable().describe('the generated text, when the pair was edited'),
  theme: z.string().nullable(),
  tables: z.array(z.string()),
  complexity: z.string().nullable(),
  validation: z
    .object({
      status: z.string().describe('valid, repaired, empty, invalid or pending'),
      kept: z.boolean(),
      drop_reason: z.string().nullable(),
      lint: z.array(lintFinding),
      meaning_check: z.object({ verdict: z.string(), back_translation: z.string().nullable(), reason: z.string().nullable() }).nullable(),
    })
    .nullable()
    .describe('null before sql_validation ran on the pair file'),
  review: z.object({
    rejected: z.boolean(),
    edited: z.boolean(),
    added: z.boolean(),
    reason: z.string().nullable(),
    history: z.array(z.object({ at: z.string(), action: z.enum(['edit', 'reject', 'restore', 'add']), before: reviewedText.optional(), after: reviewedText.optional(), reason: z.string().optional() })),
  }),
});
const reviewCounts = z.object({ total: z.number().int(), kept: z.number().int(), rejected: z.number().int(), edited: z.number().int(), added: z.number().int(), with_findings: z.number().int() });
const listData = z.object({ task_id: z.string(), pair_file: z.string(), counts: reviewCounts, total: z.number().int().describe('pairs matching the filter'), pairs: z.array(reviewedPair) });
const previewData = z.object({
  pair_id: z.string(),
  sql: z.string(),
  columns: z.array(z.string()),
  rows: z.array(z.array(z.string().nullable())).describe('the first rows, each value as text (timestamps in ISO 8601)'),
  truncated: z.boolean(),
});

const tally = { pairs: z.number().int().min(0), kept: z.number().int().min(0).describe('not rejected and kept by validation: what training_load loads') };
const statsData = z.object({
  task_id: z.string(),
  pair_file: z.string(),
  funnel: z
    .object({
      report_file: z.string(),
      stages: z.array(z.object({ stage: z.string().describe('generated, parsed, explain_valid, lint_clean, repaired, deduplicated, kept, … as the report names them'), pairs: z.number().int().min(0) })),
    })
    .nullable()
    .describe('sql_validation funnel of this pair file; null before sql_validation ran on it'),
  counts: reviewCounts,
  complexity: z.array(z.object({ complexity: z.string().nullable().describe('null: pairs without a level (added by hand, or whose SQL was edited)'), ...tally })),
  tables: z.array(z.object({ table: z.string().describe('schema.table'), ...tally })).describe("the task's tables (schema.json) with zeros, then any other table a pair uses"),
});

export function pairRoutes(review: PairReview): FastifyPluginAsyncZod {
  return async (app) => {
    const base = '/api/v0/data_pipeline/tasks/:task_id/pairs';
    app.get(base, { schema: { tags: ['pairs'], summary: '问答对列表（验证结果、语义检查发现、审阅状态；可筛选）', params: taskIdParams, querystring: listQuery, response: { 200: okEnvelope(listData) } } }, async (request, reply) =>
      sendOk(reply, 200, 'pairs.list', { task_id: request.params.task_id, ...(await review.list(request.params.task_id, request.query)) }),
    );
    app.get(
      `${base}/stats`,
      { schema: { tags: ['pairs'], summary: '问答对统计：验证漏斗、复杂度分布、每张表的问答对数（看板图表）', params: taskIdParams, response: { 200: okEnvelope(statsData) } } },
      async (request, reply) => sendOk(reply, 200, 'pairs.stats', await review.stats(request.params.task_id)),
    );
    app.post(base, { schema: { tags: ['pairs'], summary: '手工添加问答对（先经解析、EXPLAIN 与语义检查）', params: taskIdParams, body: addBody, response: { 201: okEnvelope(reviewedPair) } } }, async (request, reply) =>
      sendOk(reply, 201, 'pairs.saved', await review.add(request.params.task_id, request.body)),
    );
    app.post(`${base}/:pair_id/preview`, { schema: { tags: ['pairs'], summary: '预览问答对结果的前若干行（只读、有界）', params: pairParams, response: { 200: okEnvelope(previewData) } } }, async (request, reply) =>
      sendOk(reply, 200, 'pairs.preview', await review.preview(request.params.task_id, request.params.pair_id)),
    );
    app.patch(`${base}/:pair_id`, { schema: { tags: ['pairs'], summary: '修改问题或 SQL（保存前重新验证）', params: pairParams, body: editBody, response: { 200: okEnvelope(reviewedPair) } } }, async (request, reply) =>
      sendOk(reply, 200, 'pairs.saved', await review.edit(request.params.task_id, request.params.pair_id, request.body)),
    );
    app.post(`${base}/:pair_id/reject`, { schema: { tags: ['pairs'], summary: '拒绝问答对（不加载到向量库）', params: pairParams, body: rejectBody.prefault({}), response: { 200: okEnvelope(reviewedPair) } } }, async (request, reply) =>
      sendOk(reply, 200, 'pairs.saved', await review.setRejected(request.params.task_id, request.params.pair_id, true, request.body.reason)),
    );
    app.post(`${base}/:pair_id/restore`, { schema: { tags: ['pairs'], summary: '恢复被拒绝的问答对', params: pairParams, response: { 200: okEnvelope(reviewedPair) } } }, async (request, reply) =>
      sendOk(reply, 200, 'pairs.saved', await review.setRejected(request.params.task_id, request.params.pair_id, false, undefined)),
    );
  };
}
