// Log routes (guide §5).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { LOG_LEVELS } from '../logs/format.ts';
import { LOG_SORT_FIELDS, LOG_SORT_ORDERS } from '../logs/reader.ts';
import { STEP_NAMES } from '../tasks/model.ts';
import type { TaskService } from '../tasks/service.ts';
import { sendOk } from './envelope.ts';
import { okEnvelope, paginationSchema, taskIdParams, timeBound } from './schemas.ts';

const level = z
  .string()
  .transform((v) => v.trim().toUpperCase())
  .transform((v) => (v === 'WARN' ? 'WARNING' : v))
  .pipe(z.enum(LOG_LEVELS));

const logsQuery = z.object({
  limit: z.coerce.number().int().min(1).max(10_000).default(100),
  level: level.optional(),
});

const logQueryBody = z
  .object({
    page: z.number().int().min(1).max(1_000_000).default(1),
    page_size: z.number().int().min(1).max(1000).default(50),
    level: level.optional(),
    start_time: timeBound.optional(),
    end_time: timeBound.optional(),
    keyword: z.string().max(500).optional(),
    logger_name: z.string().max(200).optional(),
    step_name: z.enum(STEP_NAMES).optional(),
    sort_by: z.enum(LOG_SORT_FIELDS).default('timestamp'),
    sort_order: z.enum(LOG_SORT_ORDERS).default('desc'),
  })
  .strict();

const logEntry = z.object({
  timestamp: z.string().describe('YYYY-MM-DD HH:MM:SS, server local time, as written'),
  level: z.string(),
  logger: z.string(),
  step: z.string().optional().describe('the step the entry belongs to, when its logger or a [step_name] prefix tells'),
  message: z.string(),
  line_number: z.number().int().optional(),
});
const logsData = z.object({
  task_id: z.string(),
  logs: z.array(logEntry),
  total: z.number().int(),
  source: z.literal('file'),
  log_file: z.string(),
  log_offset: z.number().int().describe('pass it to /events?log_offset= to follow the log from where this answer ends'),
});
const logQueryData = z.object({
  task_id: z.string(),
  logs: z.array(logEntry),
  pagination: paginationSchema,
  log_file_info: z.object({ exists: z.boolean(), file_path: z.string(), file_size: z.number().int(), last_modified: z.string().nullable() }),
  query_time: z.string(),
});

export function logRoutes(service: TaskService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/api/v0/data_pipeline/tasks/:task_id/logs', { schema: { tags: ['logs'], summary: '获取任务日志 (guide §5.1)', params: taskIdParams, querystring: logsQuery, response: { 200: okEnvelope(logsData) } } }, async (request, reply) => {
      const { entries, total, file, endOffset } = await service.tailLogs(request.params.task_id, request.query.limit, request.query.level);
      // log_offset: pass it to /events?log_offset= to follow the log from exactly where this answer ends.
      return sendOk(reply, 200, 'logs.list', { task_id: request.params.task_id, logs: entries, total, source: 'file', log_file: file, log_offset: endOffset });
    });

    app.post(
      '/api/v0/data_pipeline/tasks/:task_id/logs/query',
      { schema: { tags: ['logs'], summary: '高级日志查询 (guide §5.2)', params: taskIdParams, body: logQueryBody.prefault({}), response: { 200: okEnvelope(logQueryData) } } },
      async (request, reply) => {
        const started = process.hrtime.bigint();
        const { result, info } = await service.queryLogs(request.params.task_id, request.body);
        return sendOk(reply, 200, 'logs.query', {
          task_id: request.params.task_id,
          logs: result.entries,
          pagination: {
            page: result.page,
            page_size: result.page_size,
            total: result.total,
            total_pages: result.total_pages,
            has_next: result.has_next,
            has_prev: result.has_prev,
          },
          log_file_info: info,
          query_time: `${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(3)}s`,
        });
      },
    );
  };
}
