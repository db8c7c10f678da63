// Vector store routes: retrieval check (search), backup (+ truncate), restore list, restore, stats.
// Backups are named by task_id + timestamp, never by a path: they are read only from `vector_bak/` folders
// inside the output directory (a task's, or the global `<output dir>/vector_bak`).
import fsp from 'node:fs/promises';
import path from 'node:path';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { App } from '../app.ts';
import { AppError, appError } from '../errors.ts';
import { t, type Lang } from '../messages.ts';
import type { Embedder } from '../embed/types.ts';
import type { Database } from '../postgres/connect.ts';
import { TASK_ID_PATTERN } from '../tasks/workspace.ts';
import { taskIdSchema } from './schemas.ts';
import { checkRealDirectory } from '../files.ts';
import { BACKUP_DIR_NAME, backupVectorTables, listBackups, restoreVectorTables, STAMP_PATTERN, verifyBackup, type BackupEntry } from '../vector/backup.ts';
import { COLLECTIONS, parseQuestionSqlDocument, SEARCHABLE_COLLECTIONS } from '../vector/documents.ts';
import { errorMessage, VectorStoreError } from '../vector/errors.ts';
import { EVALUABLE_COLLECTIONS, evaluateStore, MAX_EVAL_K, MAX_EVAL_QUESTIONS, MAX_EVAL_TABLES_PER_QUESTION, UnknownTablesError, type EvalResult } from '../vector/evaluate.ts';
import { checkEmbedderModel, EMBEDDING_TABLE } from '../vector/schema.ts';
import { searchCollections, vectorStats, type SearchHit } from '../vector/store.ts';
import { sendOk } from './envelope.ts';


const searchBody = z
  .object({
    question: z.string().trim().min(1).max(4000),
    k: z.number().int().min(1).max(100).default(5),
    collections: z.array(z.enum(SEARCHABLE_COLLECTIONS)).min(1).max(4).default([...COLLECTIONS]),
  })
  .strict();

/** The retrieval self-test's input (HTTP body, and the CLI's --file). */
export const evaluateBody = z
  .object({
    questions: z
      .array(
        z
          .object({
            question: z.string().trim().min(1).max(4000),
            tables: z.array(z.string().trim().min(1).max(300)).min(1).max(MAX_EVAL_TABLES_PER_QUESTION),
          })
          .strict(),
      )
      .min(1)
      .max(MAX_EVAL_QUESTIONS),
    k: z.number().int().min(1).max(MAX_EVAL_K).default(5),
    collections: z.array(z.enum(EVALUABLE_COLLECTIONS)).min(1).max(EVALUABLE_COLLECTIONS.length).default(['ddl']),
  })
  .strict();
export type EvaluateBody = z.infer<typeof evaluateBody>;

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


/** Unknown or ambiguous needed tables → 400 naming them and the tables the store knows. */
export function unknownTablesError(error: UnknownTablesError): AppError {
  const listed = error.unknown.slice(0, 20);
  const known = error.known.slice(0, 50).join(', ') + (error.known.length > 50 ? ` … (${error.known.length})` : '');
  const each = (lang: Lang) =>
    listed
      .map((u) => t(u.reason === 'ambiguous' ? 'err.vector_ambiguous_table' : 'err.vector_unknown_table', lang, { question: u.question + 1, table: u.table, candidates: u.candidates?.join(', ') }))
      .join(t('err.vector_list_separator', lang));
  return appError('VALIDATION_ERROR', {
    key: 'err.vector_unknown_tables',
    params: { tables: { zh: each('zh'), en: each('en') }, known },
    invalidParams: ['questions[].tables'],
  });
}

/** The answer of vector/evaluate (and the CLI's --json). */
export function presentEvaluation(result: EvalResult, embedder: { model: string; dim: number }) {
  const round4 = (n: number) => Math.round(n * 1e4) / 1e4;
  return {
    embedding_model: embedder.model,
    embedding_dim: embedder.dim,
    k: result.summary.k,
    collections: result.summary.collections,
    summary: { ...result.summary, recall: round4(result.summary.recall), mean_question_recall: round4(result.summary.mean_question_recall) },
    results: result.results.map((r) => ({ ...r, recall: round4(r.recall) })),
    misses: result.results.filter((r) => r.missed.length).map((r) => ({ question: r.question, missed: r.missed, retrieved: r.retrieved })),
  };
}

function toAppError(error: unknown, fallback: 'VECTOR_BACKUP_FAILED' | 'VECTOR_RESTORE_FAILED' | 'VECTOR_STORE_ERROR'): AppError {
  if (error instanceof AppError) return error;
  const code = error instanceof VectorStoreError ? error.code : fallback;
  return new AppError(code, { params: { reason: errorMessage(error) }, cause: error });
}

export function vectorRoutes(app: App): FastifyPluginAsyncZod {
  const { settings, service, systemLog } = app;
  const outputDir = settings.outputDir;
  const globalDir = path.join(outputDir, BACKUP_DIR_NAME);
  let db: Promise<Database> | undefined;
  let embedder: Promise<Embedder> | undefined;
  const vectorDb = () => {
    db ??= app.services.openVectorDatabase();
    db.catch(() => (db = undefined));
    return db;
  };
  const getEmbedder = () => {
    embedder ??= app.services.createEmbedder();
    embedder.catch(() => (embedder = undefined));
    return embedder;
  };
  const backupDirOf = async (id: string | null | undefined): Promise<string> => {
    if (!id) return globalDir;
    await service.getTask(id); // 404 TASK_NOT_FOUND
    await checkRealDirectory(service.taskDir(id)); // a task directory that is a link: refused (400)
    return path.join(service.taskDir(id), BACKUP_DIR_NAME);
  };
  const relative = (dir: string) => path.relative(outputDir, dir).split(path.sep).join('/');

  return async (server) => {
    server.addHook('onClose', async () => {
      if (db) await (await db.catch(() => undefined))?.close();
    });

    server.post('/api/v0/data_pipeline/vector/search', { schema: { tags: ['vector'], summary: '向量检索测试 (as a Vanna app retrieves)', body: searchBody } }, async (request, reply) => {
      const { question, k, collections } = request.body;
      const started = Date.now();
      let e: Embedder;
      try {
        e = await getEmbedder();
      } catch (error) {
        throw appError('EMBEDDER_UNAVAILABLE', { params: { reason: errorMessage(error) }, cause: error });
      }
      let vector: number[];
      try {
        [vector] = (await e.embed([question])) as [number[]];
      } catch (error) {
        throw appError('EMBEDDING_FAILED', { params: { reason: errorMessage(error) }, cause: error });
      }
      let hits: Record<string, SearchHit[]>;
      try {
        hits = await searchCollections((await vectorDb()).pool, vector, collections, k);
      } catch (error) {
        throw toAppError(error, 'VECTOR_STORE_ERROR');
      }
      const results = Object.fromEntries(
        Object.entries(hits).map(([collection, list]) => [collection, list.map((hit, i) => presentHit(hit, i + 1))]),
      );
      return sendOk(reply, 200, 'vector.search', {
        question,
        k,
        collections,
        embedding_model: e.model,
        embedding_dim: e.dim,
        results,
        took_ms: Date.now() - started,
      });
    });

    server.post(
      '/api/v0/data_pipeline/vector/evaluate',
      { schema: { tags: ['vector'], summary: '检索自测: recall@k of the needed tables (held-out questions)', body: evaluateBody } },
      async (request, reply) => {
        const { questions, k, collections } = request.body;
        const started = Date.now();
        let e: Embedder;
        try {
          e = await getEmbedder();
        } catch (error) {
          throw appError('EMBEDDER_UNAVAILABLE', { params: { reason: errorMessage(error) }, cause: error });
        }
        let result: EvalResult;
        try {
          const pool = (await vectorDb()).pool;
          // Vectors of another model cannot be compared with this embedder's: the recall would mean nothing.
          await checkEmbedderModel(pool, e.model).catch((error) => {
            if (error instanceof VectorStoreError && error.code === 'VECTOR_EMBEDDER_MISMATCH') throw error;
          });
          result = await evaluateStore(pool, e, questions, { k, collections });
        } catch (error) {
          if (error instanceof UnknownTablesError) throw unknownTablesError(error);
          throw toAppError(error, 'VECTOR_STORE_ERROR');
        }
        return sendOk(reply, 200, 'vector.evaluate', { ...presentEvaluation(result, e), took_ms: Date.now() - started });
      },
    );

    server.get('/api/v0/data_pipeline/vector/stats', { schema: { tags: ['vector'], summary: '向量库统计' } }, async (_request, reply) => {
      try {
        const database = await vectorDb();
        const stats = await vectorStats(database.pool);
        const loaded = stats.models.filter((m) => m.model !== null);
        return sendOk(reply, 200, 'vector.stats', {
          vector_store: database.label,
          configured_embedder: { kind: settings.embedding.kind, model: settings.embedding.model, dim: settings.embedding.dim },
          // What the stored vectors were embedded with: an app must embed its questions with the same.
          embedding_model: loaded.length === 1 ? loaded[0]!.model : loaded.length ? loaded.map((m) => m.model).join(', ') : null,
          embedding_dim: stats.dim,
          ...stats,
        });
      } catch (error) {
        throw toAppError(error, 'VECTOR_STORE_ERROR');
      }
    });

    server.post('/api/v0/data_pipeline/vector/backup', { schema: { tags: ['vector'], summary: 'Vector表备份 / 清空 (guide §2.4)', body: backupBody.prefault({}) } }, async (request, reply) => {
      const body = request.body;
      if (!body.backup_vector_tables && !body.truncate_vector_tables) {
        throw appError('VALIDATION_ERROR', { key: 'err.vector_nothing_to_do', invalidParams: ['backup_vector_tables'] });
      }
      const dir = await backupDirOf(body.task_id);
      const truncate = body.truncate_vector_tables;
      let result;
      try {
        const database = await vectorDb();
        result = await backupVectorTables(database.pool, dir, {
          taskId: body.task_id ?? null,
          source: database.label,
          configuredModel: settings.embedding.model,
          truncate,
        });
      } catch (error) {
        throw toAppError(error, 'VECTOR_BACKUP_FAILED');
      }
      systemLog.write('INFO', 'VectorBackup', `vector backup ${result.timestamp ?? '(skipped)'} → ${relative(dir)}${result.truncated ? ', truncated langchain_pg_embedding' : ''}`);
      return sendOk(reply, 200, 'vector.backup_done', {
        task_id: body.task_id ?? null,
        backup_performed: result.performed,
        truncate_performed: result.truncated,
        ...(result.skippedReason ? { skipped_reason: result.skippedReason } : {}),
        timestamp: result.timestamp,
        backup_directory: relative(dir),
        files: (result.manifest?.tables ?? []).map((t) => ({ file_name: t.file, table: t.table, rows: t.rows, size: t.bytes, sha256: t.sha256 })),
        manifest_file: result.files.at(-1) ?? null,
        rows: result.rows,
        duration_ms: result.durationMs,
      });
    });

    server.get('/api/v0/data_pipeline/vector/restore/list', { schema: { tags: ['vector'], summary: '可恢复的Vector表备份', querystring: listQuery } }, async (request, reply) => {
      const { task_id, global_only } = request.query;
      const locations: Array<{ type: 'global' | 'task'; task_id: string | null; relative_path: string; backups: BackupEntry[] }> = [];
      if (!task_id) {
        const backups = await listBackups(globalDir);
        if (backups.length) locations.push({ type: 'global', task_id: null, relative_path: relative(globalDir), backups });
      }
      if (!global_only) {
        const ids = task_id ? [task_id] : await taskDirsWithBackups(outputDir);
        for (const id of ids) {
          const dir = path.join(outputDir, id, BACKUP_DIR_NAME);
          const stat = await fsp.lstat(dir).catch(() => undefined);
          if (!stat?.isDirectory()) continue;
          const backups = await listBackups(dir);
          if (backups.length) locations.push({ type: 'task', task_id: id, relative_path: relative(dir), backups });
        }
      }
      const all = locations.flatMap((l) => l.backups);
      return sendOk(reply, 200, 'vector.restore_list', {
        backup_locations: locations,
        summary: {
          total_locations: locations.length,
          total_backups: all.length,
          restorable_backups: all.filter((b) => b.restorable).length,
          latest_backup: all.map((b) => b.timestamp).sort().at(-1) ?? null,
        },
      });
    });

    server.post('/api/v0/data_pipeline/vector/restore', { schema: { tags: ['vector'], summary: '恢复Vector表备份 (one transaction)', body: restoreBody } }, async (request, reply) => {
      const body = request.body;
      const dir = body.task_id ? path.join(service.taskDir(body.task_id), BACKUP_DIR_NAME) : globalDir;
      let verified;
      try {
        verified = await verifyBackup(outputDir, dir, body.timestamp);
      } catch (error) {
        throw toAppError(error, 'VECTOR_RESTORE_FAILED');
      }
      const database = await vectorDb().catch((error) => {
        throw toAppError(error, 'VECTOR_RESTORE_FAILED');
      });
      let safety: { timestamp: string | null; directory: string; rows: number } | null = null;
      try {
        if (body.truncate_before_restore && body.backup_before_restore) {
          const current = await backupVectorTables(database.pool, globalDir, { source: database.label, configuredModel: settings.embedding.model });
          if (current.performed) safety = { timestamp: current.timestamp, directory: relative(globalDir), rows: current.rows[EMBEDDING_TABLE] };
        }
      } catch (error) {
        throw toAppError(error, 'VECTOR_BACKUP_FAILED');
      }
      let result;
      try {
        result = await restoreVectorTables(database.pool, verified, { truncateBeforeRestore: body.truncate_before_restore, fallbackDim: settings.embedding.dim });
      } catch (error) {
        throw toAppError(error, 'VECTOR_RESTORE_FAILED');
      }
      systemLog.write('INFO', 'VectorRestore', `vector restore ${body.timestamp} from ${relative(dir)}: ${result.embeddings.restored} rows`);
      return sendOk(reply, 200, 'vector.restored', {
        restore_performed: true,
        task_id: body.task_id ?? null,
        timestamp: body.timestamp,
        backup_directory: relative(dir),
        truncate_performed: result.truncated,
        safety_backup: safety,
        restore_results: {
          langchain_pg_collection: { rows_restored: result.collections.restored, rows_existing: result.collections.existing },
          langchain_pg_embedding: { rows_restored: result.embeddings.restored, rows_skipped_existing: result.embeddings.skipped_existing },
        },
        manifest: { embedding_dim: verified.manifest.embedding.dim, embedding_models: verified.manifest.embedding.models, created_at: verified.manifest.created_at },
        duration_ms: result.durationMs,
      });
    });
  };
}

/** Task directories (by valid id, real directories, no symlinks) that hold a vector_bak folder. */
async function taskDirsWithBackups(outputDir: string): Promise<string[]> {
  const entries = await fsp.readdir(outputDir, { withFileTypes: true }).catch(() => []);
  const ids: string[] = [];
  for (const entry of entries) {
    if (!entry.isDirectory() || entry.name === BACKUP_DIR_NAME || !TASK_ID_PATTERN.test(entry.name)) continue;
    if (await fsp.lstat(path.join(outputDir, entry.name, BACKUP_DIR_NAME)).then((s) => s.isDirectory(), () => false)) ids.push(entry.name);
  }
  return ids.sort().reverse();
}

function presentHit(hit: SearchHit, rank: number) {
  const base = { rank, id: hit.id, score: round(hit.score), distance: round(hit.distance) };
  const meta = hit.cmetadata ?? {};
  if (hit.collection === 'sql' || hit.collection === 'error_sql') {
    return {
      ...base,
      ...parseQuestionSqlDocument(hit.document), // null parts for another format: shown as its document
      document: hit.document,
      metadata: meta,
    };
  }
  return { ...base, table: typeof meta.table === 'string' ? meta.table : null, document: hit.document, metadata: meta };
}

function round(n: number): number {
  return Math.round(n * 1e6) / 1e6;
}
