// File management and table-list routes (guide §4).
import fs from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { AppError, appError } from '../errors.ts';
import type { TaskService } from '../tasks/service.ts';
import { TABLE_LIST_FILE } from '../tasks/service.ts';
import { humanSize } from '../tasks/workspace.ts';
import { localIso } from '../time.ts';
import { sendOk } from './envelope.ts';
import { okEnvelope, taskIdParams } from './schemas.ts';

const tableListBody = z
  .object({
    table_names: z.array(z.string().max(300)).min(1).max(10_000).optional(),
    tables: z.union([z.array(z.string().max(300)).min(1).max(10_000), z.string().min(1).max(1_000_000)]).optional(),
    business_context: z.string().max(10_000).optional(),
  })
  .strict()
  .refine((b) => b.table_names !== undefined || b.tables !== undefined, { message: 'table_names is required', path: ['table_names'] });

const CONTENT_TYPES: Record<string, string> = {
  json: 'application/json; charset=utf-8',
  log: 'text/plain; charset=utf-8',
  txt: 'text/plain; charset=utf-8',
  ddl: 'application/sql; charset=utf-8',
  sql: 'application/sql; charset=utf-8',
  md: 'text/markdown; charset=utf-8',
  csv: 'text/csv; charset=utf-8',
};

const fileItem = z.object({
  file_name: z.string().describe('path relative to the task directory, / separated'),
  file_type: z.string(),
  file_size: z.number().int(),
  file_size_human: z.string(),
  created_at: z.string(),
  is_primary: z.boolean(),
  description: z.string(),
  download_url: z.string(),
});
const filesData = z.object({ task_id: z.string(), files: z.array(fileItem), total_files: z.number().int(), total_size: z.number().int(), total_size_human: z.string() });
const uploadedData = z.object({
  task_id: z.string(),
  file_name: z.string(),
  original_file_name: z.string(),
  file_size: z.number().int(),
  file_path: z.string(),
  table_count: z.number().int(),
  tables: z.array(z.string()),
  uploaded_at: z.string().nullable(),
});
const tableListInfoData = z.object({
  task_id: z.string(),
  has_table_list: z.boolean(),
  file_name: z.string().nullable(),
  file_size: z.number().int(),
  file_size_human: z.string(),
  file_path: z.string().nullable(),
  table_count: z.number().int(),
  tables: z.array(z.string()),
  uploaded_at: z.string().nullable(),
});
const tableListCreatedData = z.object({
  task_id: z.string(),
  file_name: z.string(),
  file_size: z.number().int(),
  file_path: z.string(),
  table_count: z.number().int(),
  tables: z.array(z.string()),
  business_context: z.string().nullable(),
  created_at: z.string().nullable(),
});
/** A download is the file's bytes, not JSON (Content-Type by extension, as an attachment). */
const fileBytes = z.string().meta({ format: 'binary', description: "the file's bytes (Content-Disposition: attachment)" });

export function fileRoutes(service: TaskService, maxUploadBytes: number): FastifyPluginAsyncZod {
  return async (app) => {
    app.get('/api/v0/data_pipeline/tasks/:task_id/files', { schema: { tags: ['files'], summary: '获取任务文件列表 (guide §4.1)', params: taskIdParams, response: { 200: okEnvelope(filesData) } } }, async (request, reply) => {
      const list = await service.files(request.params.task_id, request.lang);
      return sendOk(reply, 200, 'files.list', { task_id: request.params.task_id, ...list });
    });

    app.get(
      '/api/v0/data_pipeline/tasks/:task_id/files/*',
      { schema: { tags: ['files'], summary: '下载文件 (guide §4.2)', params: taskIdParams.extend({ '*': z.string() }), response: { 200: fileBytes } } },
      async (request, reply) => {
        const relative = request.params['*'];
        const file = await service.resolveDownload(request.params.task_id, relative);
        const ext = path.extname(file).slice(1).toLowerCase();
        const baseName = path.basename(file);
        reply.header('Content-Type', CONTENT_TYPES[ext] ?? 'application/octet-stream');
        reply.header('Content-Disposition', `attachment; filename*=UTF-8''${encodeURIComponent(baseName)}`);
        reply.header('X-Content-Type-Options', 'nosniff');
        // A stream is sent as it is (no serializer runs); the schema only documents the bytes.
        return reply.send(fs.createReadStream(file) as never);
      },
    );

    app.post('/api/v0/data_pipeline/tasks/:task_id/upload-table-list', { schema: { tags: ['files'], summary: '上传表清单文件 (guide §4.3)', params: taskIdParams, consumes: ['multipart/form-data'], response: { 200: okEnvelope(uploadedData) } } }, async (request, reply) => {
      const taskId = request.params.task_id;
      await service.getTask(taskId);
      if (!request.isMultipart()) throw appError('VALIDATION_ERROR', { key: 'err.upload_missing_file', missingParams: ['file'] });
      let upload: { name: string; bytes: Buffer } | undefined;
      try {
        for await (const part of request.parts({ limits: { fileSize: maxUploadBytes, files: 1, fields: 10 } })) {
          if (part.type !== 'file') continue;
          if (part.fieldname !== 'file') {
            part.file.resume();
            continue;
          }
          const bytes = await part.toBuffer();
          upload = { name: part.filename, bytes };
        }
      } catch (error) {
        throw malformedMultipart(error);
      }
      if (!upload) throw appError('VALIDATION_ERROR', { key: 'err.upload_missing_file', missingParams: ['file'] });
      const saved = await service.uploadTableList(taskId, upload.name, upload.bytes);
      return sendOk(reply, 200, 'table_list.uploaded', {
        task_id: taskId,
        file_name: TABLE_LIST_FILE,
        original_file_name: upload.name,
        file_size: saved.size,
        file_path: saved.displayPath,
        table_count: saved.tables.length,
        tables: saved.tables,
        uploaded_at: localIso(saved.uploadedAt),
      });
    });

    app.get('/api/v0/data_pipeline/tasks/:task_id/table-list-info', { schema: { tags: ['files'], summary: '获取表清单信息 (guide §4.4)', params: taskIdParams, response: { 200: okEnvelope(tableListInfoData) } } }, async (request, reply) => {
      const info = await service.tableListInfo(request.params.task_id);
      return sendOk(reply, 200, 'table_list.info', {
        task_id: request.params.task_id,
        has_table_list: info.exists,
        file_name: info.exists ? TABLE_LIST_FILE : null,
        file_size: info.exists ? info.size : 0,
        file_size_human: humanSize(info.exists ? info.size : 0),
        file_path: info.exists ? info.displayPath : null,
        table_count: info.exists ? info.tables.length : 0,
        tables: info.exists ? info.tables : [],
        uploaded_at: localIso(info.task.table_list_at),
      });
    });

    app.post('/api/v0/data_pipeline/tasks/:task_id/table-list', { schema: { tags: ['files'], summary: '直接创建表清单 (guide §4.5)', params: taskIdParams, body: tableListBody, response: { 200: okEnvelope(tableListCreatedData) } } }, async (request, reply) => {
      const body = request.body;
      const names = body.table_names ?? (typeof body.tables === 'string' ? body.tables.split(/[,，\n]/) : body.tables!);
      const saved = await service.createTableList(request.params.task_id, names.map((n) => n.trim()).filter(Boolean), body.business_context);
      return sendOk(reply, 200, 'table_list.created', {
        task_id: request.params.task_id,
        file_name: TABLE_LIST_FILE,
        file_size: saved.size,
        file_path: saved.displayPath,
        table_count: saved.tables.length,
        tables: saved.tables,
        business_context: body.business_context ?? null,
        created_at: localIso(saved.uploadedAt),
      });
    });
  };
}

/** What the multipart parser rejects is the client's body: a 400 saying why (size limits stay 413s). */
function malformedMultipart(error: unknown): unknown {
  const code = (error as { code?: string }).code;
  if (error instanceof AppError || code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT') return error;
  const reason = code === 'FST_FIELDS_LIMIT' ? 'more than 10 fields' : (error as Error).message || String(error);
  return appError('VALIDATION_ERROR', { key: 'err.malformed_multipart', params: { reason }, invalidParams: ['file'] });
}
