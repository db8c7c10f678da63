// The vector store's administration (guide §2.4 and the vector routes): search as a Vanna app retrieves,
// the retrieval self-test, stats, backup / truncate, the list of backups, restore. One vector database
// pool and one embedder per process, opened on first use (a failed opening is retried next time).
// HTTP and the CLI call it; what it answers is the routes' `data`.
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import type { Settings } from '../config.ts';
import type { Embedder } from '../embed/types.ts';
import { AppError, appError } from '../errors.ts';
import { checkRealDirectory } from '../files.ts';
import type { SystemLog } from '../logs/system-log.ts';
import { t, type Lang } from '../messages.ts';
import type { StepServices } from '../pipeline/context.ts';
import type { Database } from '../postgres/connect.ts';
import { BACKUP_DIR_NAME, backupVectorTables, listBackups, restoreVectorTables, verifyBackup, type BackupEntry } from '../vector/backup.ts';
import { parseQuestionSqlDocument, type SearchableCollection } from '../vector/documents.ts';
import { errorMessage, VectorStoreError } from '../vector/errors.ts';
import { EVALUABLE_COLLECTIONS, evaluateStore, MAX_EVAL_K, MAX_EVAL_QUESTIONS, MAX_EVAL_TABLES_PER_QUESTION, UnknownTablesError, type EvalResult } from '../vector/evaluate.ts';
import { checkEmbedderModel, EMBEDDING_TABLE } from '../vector/schema.ts';
import { searchCollections, vectorStats, type SearchHit } from '../vector/store.ts';
import type { TaskService } from './service.ts';
import { TASK_ID_PATTERN } from './workspace.ts';

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

export interface BackupRequest {
  taskId: string | null;
  truncate: boolean;
}

export interface RestoreRequest {
  taskId: string | null;
  timestamp: string;
  truncateBeforeRestore: boolean;
  backupBeforeRestore: boolean;
}

export class VectorAdmin {
  private db: Promise<Database> | undefined;
  private embedder: Promise<Embedder> | undefined;
  private readonly globalDir: string;

  constructor(
    private readonly settings: Settings,
    private readonly services: Pick<StepServices, 'openVectorDatabase' | 'createEmbedder'>,
    private readonly tasks: Pick<TaskService, 'getTask' | 'taskDir'>,
    private readonly systemLog: Pick<SystemLog, 'write'>,
  ) {
    this.globalDir = path.join(settings.outputDir, BACKUP_DIR_NAME);
  }

  /** The top k of each collection for a question, embedded as an app reading the store would. */
  async search(question: string, k: number, collections: SearchableCollection[]) {
    const started = Date.now();
    const e = await this.getEmbedder();
    let vector: number[];
    try {
      [vector] = (await e.embed([question])) as [number[]];
    } catch (error) {
      throw appError('EMBEDDING_FAILED', { params: { reason: errorMessage(error) }, cause: error });
    }
    let hits: Record<string, SearchHit[]>;
    try {
      hits = await searchCollections((await this.vectorDb()).pool, vector, collections, k);
    } catch (error) {
      throw toAppError(error, 'VECTOR_STORE_ERROR');
    }
    const results = Object.fromEntries(Object.entries(hits).map(([collection, list]) => [collection, list.map((hit, i) => presentHit(hit, i + 1))]));
    return { question, k, collections, embedding_model: e.model, embedding_dim: e.dim, results, took_ms: Date.now() - started };
  }

  /** The retrieval self-test: recall@k of the tables each question needs. */
  async evaluate({ questions, k, collections }: EvaluateBody) {
    const started = Date.now();
    const e = await this.getEmbedder();
    let result: EvalResult;
    try {
      const pool = (await this.vectorDb()).pool;
      // Vectors of another model cannot be compared with this embedder's: the recall would mean nothing.
      await checkEmbedderModel(pool, e.model).catch((error) => {
        if (error instanceof VectorStoreError && error.code === 'VECTOR_EMBEDDER_MISMATCH') throw error;
      });
      result = await evaluateStore(pool, e, questions, { k, collections });
    } catch (error) {
      if (error instanceof UnknownTablesError) throw unknownTablesError(error);
      throw toAppError(error, 'VECTOR_STORE_ERROR');
    }
    return { ...presentEvaluation(result, e), took_ms: Date.now() - started };
  }

  async stats() {
    try {
      const database = await this.vectorDb();
      const stats = await vectorStats(database.pool);
      const loaded = stats.models.filter((m) => m.model !== null);
      const { embedding } = this.settings;
      return {
        vector_store: database.label,
        configured_embedder: { kind: embedding.kind, model: embedding.model, dim: embedding.dim },
        // What the stored vectors were embedded with: an app must embed its questions with the same.
        embedding_model: loaded.length === 1 ? loaded[0]!.model : loaded.length ? loaded.map((m) => m.model).join(', ') : null,
        embedding_dim: stats.dim,
        ...stats,
      };
    } catch (error) {
      throw toAppError(error, 'VECTOR_STORE_ERROR');
    }
  }

  /** Backs the vector tables up (to the task's vector_bak, or the global one), then truncates if asked. */
  async backup({ taskId, truncate }: BackupRequest) {
    const dir = await this.backupDirOf(taskId);
    let result;
    try {
      const database = await this.vectorDb();
      result = await backupVectorTables(database.pool, dir, { taskId, source: database.label, configuredModel: this.settings.embedding.model, truncate });
    } catch (error) {
      throw toAppError(error, 'VECTOR_BACKUP_FAILED');
    }
    this.systemLog.write('INFO', 'VectorBackup', `vector backup ${result.timestamp ?? '(skipped)'} → ${this.relative(dir)}${result.truncated ? ', truncated langchain_pg_embedding' : ''}`);
    return {
      task_id: taskId,
      backup_performed: result.performed,
      truncate_performed: result.truncated,
      ...(result.skippedReason ? { skipped_reason: result.skippedReason } : {}),
      timestamp: result.timestamp,
      backup_directory: this.relative(dir),
      files: (result.manifest?.tables ?? []).map((t) => ({ file_name: t.file, table: t.table, rows: t.rows, size: t.bytes, sha256: t.sha256 })),
      manifest_file: result.files.at(-1) ?? null,
      rows: result.rows,
      duration_ms: result.durationMs,
    };
  }

  /** The backups that can be restored: the global folder's and each task's. */
  async listBackups({ taskId, globalOnly }: { taskId?: string; globalOnly: boolean }) {
    const { outputDir } = this.settings;
    const locations: Array<{ type: 'global' | 'task'; task_id: string | null; relative_path: string; backups: BackupEntry[] }> = [];
    if (!taskId) {
      const backups = await listBackups(this.globalDir);
      if (backups.length) locations.push({ type: 'global', task_id: null, relative_path: this.relative(this.globalDir), backups });
    }
    if (!globalOnly) {
      const ids = taskId ? [taskId] : await taskDirsWithBackups(outputDir);
      for (const id of ids) {
        const dir = path.join(outputDir, id, BACKUP_DIR_NAME);
        const stat = await fsp.lstat(dir).catch(() => undefined);
        if (!stat?.isDirectory()) continue;
        const backups = await listBackups(dir);
        if (backups.length) locations.push({ type: 'task', task_id: id, relative_path: this.relative(dir), backups });
      }
    }
    const all = locations.flatMap((l) => l.backups);
    return {
      backup_locations: locations,
      summary: {
        total_locations: locations.length,
        total_backups: all.length,
        restorable_backups: all.filter((b) => b.restorable).length,
        latest_backup: all.map((b) => b.timestamp).sort().at(-1) ?? null,
      },
    };
  }

  /** Restores a verified backup in one transaction; before a truncating restore, backs up what is there. */
  async restore(request: RestoreRequest) {
    const dir = request.taskId ? path.join(this.tasks.taskDir(request.taskId), BACKUP_DIR_NAME) : this.globalDir;
    let verified;
    try {
      verified = await verifyBackup(this.settings.outputDir, dir, request.timestamp);
    } catch (error) {
      throw toAppError(error, 'VECTOR_RESTORE_FAILED');
    }
    const database = await this.vectorDb().catch((error) => {
      throw toAppError(error, 'VECTOR_RESTORE_FAILED');
    });
    let safety: { timestamp: string | null; directory: string; rows: number } | null = null;
    try {
      if (request.truncateBeforeRestore && request.backupBeforeRestore) {
        const current = await backupVectorTables(database.pool, this.globalDir, { source: database.label, configuredModel: this.settings.embedding.model });
        if (current.performed) safety = { timestamp: current.timestamp, directory: this.relative(this.globalDir), rows: current.rows[EMBEDDING_TABLE] };
      }
    } catch (error) {
      throw toAppError(error, 'VECTOR_BACKUP_FAILED');
    }
    let result;
    try {
      result = await restoreVectorTables(database.pool, verified, { truncateBeforeRestore: request.truncateBeforeRestore, fallbackDim: this.settings.embedding.dim });
    } catch (error) {
      throw toAppError(error, 'VECTOR_RESTORE_FAILED');
    }
    this.systemLog.write('INFO', 'VectorRestore', `vector restore ${request.timestamp} from ${this.relative(dir)}: ${result.embeddings.restored} rows`);
    return {
      restore_performed: true as const,
      task_id: request.taskId,
      timestamp: request.timestamp,
      backup_directory: this.relative(dir),
      truncate_performed: result.truncated,
      safety_backup: safety,
      restore_results: {
        langchain_pg_collection: { rows_restored: result.collections.restored, rows_existing: result.collections.existing },
        langchain_pg_embedding: { rows_restored: result.embeddings.restored, rows_skipped_existing: result.embeddings.skipped_existing },
      },
      manifest: { embedding_dim: verified.manifest.embedding.dim, embedding_models: verified.manifest.embedding.models, created_at: verified.manifest.created_at },
      duration_ms: result.durationMs,
    };
  }

  /** Closes the vector database pool if one was opened. */
  async close(): Promise<void> {
    const db = this.db;
    this.db = undefined;
    if (db) await (await db.catch(() => undefined))?.close();
  }

  private vectorDb(): Promise<Database> {
    const opening = (this.db ??= this.services.openVectorDatabase());
    opening.catch(() => {
      if (this.db === opening) this.db = undefined;
    });
    return opening;
  }

  private async getEmbedder(): Promise<Embedder> {
    const creating = (this.embedder ??= this.services.createEmbedder());
    creating.catch(() => {
      if (this.embedder === creating) this.embedder = undefined;
    });
    try {
      return await creating;
    } catch (error) {
      throw appError('EMBEDDER_UNAVAILABLE', { params: { reason: errorMessage(error) }, cause: error });
    }
  }

  private async backupDirOf(id: string | null): Promise<string> {
    if (!id) return this.globalDir;
    await this.tasks.getTask(id); // 404 TASK_NOT_FOUND
    await checkRealDirectory(this.tasks.taskDir(id)); // a task directory that is a link: refused (400)
    return path.join(this.tasks.taskDir(id), BACKUP_DIR_NAME);
  }

  private relative(dir: string): string {
    return path.relative(this.settings.outputDir, dir).split(path.sep).join('/');
  }
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
