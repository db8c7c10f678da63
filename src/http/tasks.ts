// Task management routes (guide §3) plus cancel and delete (api-decisions.md).
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { appError } from '../errors.ts';
import { EXECUTION_MODES, TASK_STATUSES, stepParameterFields, STEP_NAMES } from '../tasks/model.ts';
import type { TaskService } from '../tasks/service.ts';
import { t } from '../messages.ts';
import { sendOk } from './envelope.ts';
import type { StatusCache } from './status-cache.ts';
import { presentTaskListItem, presentTaskStatus, taskListItemSchema, taskStatusSchema } from './presenters.ts';
import { okEnvelope, paginationSchema, taskIdParams, timeBound } from './schemas.ts';
import { parseTimeBound } from '../time.ts';

const optionalText = (max: number) => z.string().max(max).optional();
const flag = z.boolean().optional();

/** The guide's fields (§3.1) and every step's parameters; unknown names are refused. */
export const createTaskBody = z
  .object({
    table_list_file: z.string().min(1).max(1024).optional(),
    business_context: optionalText(10_000),
    db_name: z.string().min(1).max(128).optional(),
    db_connection: z.string().min(1).max(2048).optional(),
    task_name: optionalText(200),
    created_by: optionalText(128),
    enable_sql_validation: flag,
    enable_llm_repair: flag,
    modify_original_file: flag,
    enable_training_data_load: flag,
    backup_vector_tables: flag,
    truncate_vector_tables: flag,
    // The steps' own parameters (README "Task parameters"), declared in their folders, one schema.
    ...stepParameterFields,
  })
  .strict();

export const executeBody = z
  .object({
    execution_mode: z.enum(EXECUTION_MODES).default('complete'),
    step_name: z.enum(STEP_NAMES).optional().nullable().transform((v) => v ?? undefined),
    backup_vector_tables: flag,
    truncate_vector_tables: flag,
  })
  .strict();

const listQuery = z.object({
  limit: z.coerce.number().int().min(1).max(1000).default(50),
  offset: z.coerce.number().int().min(0).max(10_000_000).default(0),
  status: z.enum(TASK_STATUSES).optional(),
});

const queryBody = z
  .object({
    page: z.number().int().min(1).max(1_000_000).default(1),
    page_size: z.number().int().min(1).max(1000).default(20),
    status: z.enum(TASK_STATUSES).optional(),
    task_name: z.string().max(200).optional(),
    created_by: z.string().max(128).optional(),
    db_name: z.string().max(128).optional(),
    created_time_start: timeBound.optional(),
    created_time_end: timeBound.optional(),
  })
  .strict();

const deleteQuery = z.object({
  force: z.enum(['true', 'false']).default('false').transform((v) => v === 'true'),
  delete_files: z.enum(['true', 'false']).default('true').transform((v) => v === 'true'),
});

const batchDeleteBody = z
  .object({
    task_ids: z.array(z.string()).min(1).max(1000),
    force: z.boolean().default(false),
    delete_files: z.boolean().default(true),
  })
  .strict();

const createdData = z.object({
  task_id: z.string(),
  task_name: z.string().nullable(),
  status: z.enum(TASK_STATUSES),
  created_at: z.string(),
  has_table_list: z.boolean(),
  table_count: z.number().int().nullable(),
});
const queryData = z.object({ tasks: z.array(taskListItemSchema), pagination: paginationSchema, query_time: z.string().describe('seconds, e.g. 0.012s') });
const listData = z.object({ tasks: z.array(taskListItemSchema), total: z.number().int(), limit: z.number().int(), offset: z.number().int() });
const batchDeletedData = z.object({ deleted: z.array(z.string()), not_found: z.array(z.string()), running: z.array(z.string()), deleted_count: z.number().int() });
const executeData = z.object({
  task_id: z.string(),
  execution_mode: z.enum(EXECUTION_MODES),
  step_name: z.enum(STEP_NAMES).nullable(),
  status: z.literal('in_progress'),
  message: z.string(),
});
const cancelData = z.object({ task_id: z.string(), status: z.enum(TASK_STATUSES), cancel_requested: z.boolean() });
const deletedData = z.object({ task_id: z.string(), deleted: z.literal(true), files_deleted: z.boolean() });

export function taskRoutes(service: TaskService, statusCache: StatusCache): FastifyPluginAsyncZod {
  return async (app) => {
    const withDirs = async <T extends { task_id: string }>(tasks: T[]) =>
      Promise.all(tasks.map(async (task) => ({ task, dir: await service.directoryExists(task.task_id) })));

    app.post('/api/v0/data_pipeline/tasks', { schema: { tags: ['tasks'], summary: '创建任务 (guide §3.1)', body: createTaskBody.prefault({}), response: { 201: okEnvelope(createdData) } } }, async (request, reply) => {
      const task = await service.createTask(request.body);
      return sendOk(reply, 201, 'task.created', {
        task_id: task.task_id,
        task_name: task.task_name,
        status: task.status,
        created_at: presentTaskStatus(task, true).created_at,
        has_table_list: task.table_list_at !== null,
        table_count: task.table_count,
      });
    });

    app.post('/api/v0/data_pipeline/tasks/query', { schema: { tags: ['tasks'], summary: '高级任务查询 (guide §3.5)', body: queryBody.prefault({}), response: { 200: okEnvelope(queryData) } } }, async (request, reply) => {
      const started = process.hrtime.bigint();
      const body = request.body;
      const filter = {
        status: body.status,
        task_name: body.task_name || undefined,
        created_by: body.created_by || undefined,
        db_name: body.db_name || undefined,
        created_from: body.created_time_start ? parseTimeBound(body.created_time_start, 'start')! : undefined,
        created_to: body.created_time_end ? parseTimeBound(body.created_time_end, 'end')! : undefined,
      };
      const { tasks, total } = await service.list(filter, body.page_size, (body.page - 1) * body.page_size);
      const totalPages = Math.ceil(total / body.page_size);
      return sendOk(reply, 200, 'task.query', {
        tasks: (await withDirs(tasks)).map(({ task, dir }) => presentTaskListItem(task, dir)),
        pagination: { page: body.page, page_size: body.page_size, total, total_pages: totalPages, has_next: body.page < totalPages, has_prev: body.page > 1 },
        query_time: `${(Number(process.hrtime.bigint() - started) / 1e9).toFixed(3)}s`,
      });
    });

    app.get('/api/v0/data_pipeline/tasks', { schema: { tags: ['tasks'], summary: '获取任务列表 (guide §3.4)', querystring: listQuery, response: { 200: okEnvelope(listData) } } }, async (request, reply) => {
      const { limit, offset, status } = request.query;
      const { tasks, total } = await service.list({ status }, limit, offset);
      return sendOk(reply, 200, 'task.list', {
        tasks: (await withDirs(tasks)).map(({ task, dir }) => presentTaskListItem(task, dir)),
        total,
        limit,
        offset,
      });
    });

    app.post('/api/v0/data_pipeline/tasks/delete', { schema: { tags: ['tasks'], summary: '批量删除任务', body: batchDeleteBody, response: { 200: okEnvelope(batchDeletedData) } } }, async (request, reply) => {
      const { task_ids, force, delete_files } = request.body;
      const result = await service.deleteTasks([...new Set(task_ids)], { force, deleteFiles: delete_files });
      return sendOk(reply, 200, 'task.batch_deleted', {
        deleted: result.deleted,
        not_found: result.missing,
        running: result.running,
        deleted_count: result.deleted.length,
      });
    });

    app.get('/api/v0/data_pipeline/tasks/:task_id', { schema: { tags: ['tasks'], summary: '获取任务状态 (guide §3.3)', params: taskIdParams, response: { 200: okEnvelope(taskStatusSchema) } } }, async (request, reply) => {
      const taskId = request.params.task_id;
      reply.type('application/json; charset=utf-8');
      // The body is JSON already (built once per change, guide §3.3 polling): Fastify sends a string as it
      // is, so the response schema documents it and presentTaskStatus's `satisfies` keeps it true.
      const sendJson = (json: string) => reply.send(json as never);
      const cached = statusCache.get(taskId, request.lang);
      if (cached) return sendJson(cached);
      const version = statusCache.version(taskId);
      const task = await service.getTask(taskId);
      const body = JSON.stringify({
        success: true,
        code: 200,
        message: t('task.status', request.lang),
        data: presentTaskStatus(task, await service.directoryExists(task.task_id)),
      });
      statusCache.set(taskId, request.lang, body, version);
      return sendJson(body);
    });

    app.post(
      '/api/v0/data_pipeline/tasks/:task_id/execute',
      {
        schema: { tags: ['tasks'], summary: '执行任务 (guide §3.2)', params: taskIdParams, body: executeBody.prefault({}), response: { 202: okEnvelope(executeData) } },
        config: { errorCodes: { execution_mode: 'INVALID_EXECUTION_MODE', step_name: 'INVALID_STEP_NAME' } },
      },
      async (request, reply) => {
        const body = request.body;
        await service.execute(request.params.task_id, body);
        return sendOk(reply, 202, 'task.execute_started', {
          task_id: request.params.task_id,
          execution_mode: body.execution_mode,
          step_name: body.execution_mode === 'step' ? body.step_name ?? null : null,
          status: 'in_progress',
          message: t('task.execute_background', request.lang),
        });
      },
    );

    app.post('/api/v0/data_pipeline/tasks/:task_id/cancel', { schema: { tags: ['tasks'], summary: '取消任务', params: taskIdParams, response: { 200: okEnvelope(cancelData) } } }, async (request, reply) => {
      const { task, immediate } = await service.cancel(request.params.task_id);
      return sendOk(reply, 200, immediate ? 'task.cancelled' : 'task.cancel_requested', {
        task_id: task.task_id,
        status: task.status,
        cancel_requested: !immediate,
      });
    });

    app.delete('/api/v0/data_pipeline/tasks/:task_id', { schema: { tags: ['tasks'], summary: '删除任务', params: taskIdParams, querystring: deleteQuery, response: { 200: okEnvelope(deletedData) } } }, async (request, reply) => {
      const taskId = request.params.task_id;
      const result = await service.deleteTasks([taskId], { force: request.query.force, deleteFiles: request.query.delete_files });
      if (result.missing.length) throw appError('TASK_NOT_FOUND', { params: { task_id: taskId } });
      if (result.running.length) throw appError('TASK_ALREADY_RUNNING', { key: 'err.task_running_delete', params: { task_id: taskId } });
      return sendOk(reply, 200, 'task.deleted', { task_id: taskId, deleted: true, files_deleted: request.query.delete_files });
    });
  };
}
