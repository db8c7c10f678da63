// Step 4, training_load: loads this task's outputs into the Vanna-compatible vector store, idempotently.
//   (optional) backup → truncate (task flags; guide §2.4) → ensure tables, dimension and embedder checks →
//   per chunk of a few hundred items: which ids exist (1 round trip) → embed the missing ones in batches →
//   insert them (1 round trip, ON CONFLICT DO NOTHING) → report added / unchanged / failed per collection.
// A run in which any row failed ends as failed (TRAINING_LOAD_INCOMPLETE) after loading all the others.
import path from 'node:path';
import { localIso, localStamp } from '../../time.ts';
import { COLLECTIONS, type CollectionName } from '../../vector/documents.ts';
import { BACKUP_DIR_NAME, backupVectorTables } from '../../vector/backup.ts';
import { VectorStoreError } from '../../vector/errors.ts';
import { ensureVectorStore } from '../../vector/schema.ts';
import { deleteRows, existingIds, insertRows, type VectorRow } from '../../vector/store.ts';
import { StepCancelledError, StepError, stepError, type PipelineStep, type StepContext, type StepResult } from '../context.ts';
import { collectInputs, type LoadItem } from './inputs.ts';
import { writeFileAtomic } from '../../files.ts';

/** Items per round trip (existence check, then insert). */
export const LOAD_CHUNK = 500;

export interface CollectionCounts {
  added: number;
  unchanged: number;
  failed: number;
  duplicates: number;
}

export interface LoadReport {
  task_id: string;
  generated_at: string;
  /** The model the stored vectors come from: an app reading the store must embed its questions with it. */
  embedding: { model: string; dim: number; guidance: { zh: string; en: string } };
  vector_store: string;
  pair_file: string | null;
  pair_source: 'validated' | 'generated' | null;
  /** What pair_review.json changed: pairs rejected, edited, added, and the rows removed from the store. */
  review: { rejected: number; edited: number; added: number; rows_removed: number } | null;
  backup: { performed: boolean; truncated: boolean; timestamp: string | null; directory: string | null; rows: number; skipped_reason?: string } | null;
  collections: Record<CollectionName, CollectionCounts>;
  totals: CollectionCounts;
  failures: Array<{ collection: string; kind: string; file: string; table?: string; index?: number; error: string }>;
  duration_ms: number;
}

export const trainingLoadStep: PipelineStep = {
  name: 'training_load',
  run: runTrainingLoad,
};

function emptyCounts(): CollectionCounts {
  return { added: 0, unchanged: 0, failed: 0, duplicates: 0 };
}

function vectorError(error: unknown, fallbackCode: 'VECTOR_BACKUP_FAILED' | 'VECTOR_STORE_ERROR'): never {
  if (error instanceof StepError || error instanceof StepCancelledError) throw error;
  if (error instanceof VectorStoreError) throw new StepError(error.code, undefined, { reason: error.message });
  throw new StepError(fallbackCode, undefined, { reason: error instanceof Error ? error.message : String(error) });
}

export async function runTrainingLoad(ctx: StepContext): Promise<StepResult> {
  const started = Date.now();
  const log = ctx.log;
  const embedder = await ctx.embedder();
  const db = await ctx.vectorDatabase();
  log.info(`向量库: ${db.label}，嵌入模型: ${embedder.model} (维度 ${embedder.dim})；读取该库的应用须用同一嵌入模型`);

  // 1. Inputs first: a task without its outputs must not get as far as truncating anything.
  const inputs = await collectInputs(ctx.workspaceDir, ctx.params);
  await ctx.checkpoint();

  // 2. Backup / truncate (truncate implies backup; truncate only after a backup that succeeded).
  let backup: LoadReport['backup'] = null;
  const truncate = ctx.params.truncate_vector_tables;
  if (truncate || ctx.params.backup_vector_tables) {
    const dir = path.join(ctx.workspaceDir, BACKUP_DIR_NAME);
    log.info(`🗄️ 备份vector表到 ${BACKUP_DIR_NAME}/${truncate ? '，备份成功后清空 langchain_pg_embedding' : ''}`);
    try {
      const result = await backupVectorTables(db.pool, dir, {
        taskId: ctx.taskId,
        source: db.label,
        configuredModel: embedder.model,
        truncate,
      });
      backup = {
        performed: result.performed,
        truncated: result.truncated,
        timestamp: result.timestamp,
        directory: BACKUP_DIR_NAME,
        rows: result.rows.langchain_pg_embedding,
        ...(result.skippedReason ? { skipped_reason: result.skippedReason } : {}),
      };
      if (result.performed) {
        log.info(
          `✅ vector表备份完成 (${result.timestamp}): langchain_pg_collection ${result.rows.langchain_pg_collection} 行, langchain_pg_embedding ${result.rows.langchain_pg_embedding} 行` +
            (result.truncated ? `；已清空 langchain_pg_embedding` : ''),
        );
      } else {
        log.info(`vector表备份跳过: ${result.skippedReason}`);
      }
      ctx.count({ backup_rows: result.rows.langchain_pg_embedding, truncated_rows: result.truncated ? result.rows.langchain_pg_embedding : 0 });
    } catch (error) {
      vectorError(error, 'VECTOR_BACKUP_FAILED');
    }
    await ctx.checkpoint();
  }

  // 3. Tables, dimension and embedder checks, collections.
  let collections: Record<string, string>;
  try {
    const handle = await ensureVectorStore(db.pool, { dim: embedder.dim, model: embedder.model });
    collections = handle.collections;
    if (handle.created) log.info('已创建向量表 langchain_pg_collection / langchain_pg_embedding');
  } catch (error) {
    vectorError(error, 'VECTOR_STORE_ERROR');
  }

  // 4. Embed and upsert.
  const counts = Object.fromEntries(COLLECTIONS.map((c) => [c, emptyCounts()])) as Record<CollectionName, CollectionCounts>;
  const failures: LoadReport['failures'] = [];
  const fail = (item: LoadItem, error: string) => {
    counts[item.collection].failed += 1;
    failures.push({ collection: item.collection, kind: item.kind, file: item.file, ...(item.table ? { table: item.table } : {}), ...(item.index !== undefined ? { index: item.index } : {}), error });
  };
  const seen = new Set<string>();
  const work: LoadItem[] = [];
  for (const item of inputs.items) {
    if (!item.doc) fail(item, item.error ?? 'unusable item');
    else if (seen.has(item.doc.id)) counts[item.collection].duplicates += 1;
    else {
      seen.add(item.doc.id);
      work.push(item);
    }
  }
  for (const f of failures) log.warn(`⚠️ 无法加载 ${f.file}${f.index !== undefined ? ` #${f.index + 1}` : ''}: ${f.error}`);
  log.info(
    `待加载: ddl ${work.filter((i) => i.collection === 'ddl').length}, documentation ${work.filter((i) => i.collection === 'documentation').length}, ` +
      `sql ${work.filter((i) => i.collection === 'sql').length}${inputs.pairFile ? ` (来自 ${inputs.pairFile})` : ''}`,
  );

  const total = work.length;
  let done = 0;
  ctx.progress(0, total, 'items');
  const createdAt = new Date().toISOString();
  const batchSize = Math.max(1, ctx.settings.embedding.batchSize);
  const countsOf = (item: LoadItem) => counts[item.collection];
  for (let start = 0; start < work.length; start += LOAD_CHUNK) {
    await ctx.checkpoint();
    const chunk = work.slice(start, start + LOAD_CHUNK);
    let present: Set<string>;
    try {
      present = await existingIds(db.pool, chunk.map((i) => i.doc!.id));
    } catch (error) {
      vectorError(error, 'VECTOR_STORE_ERROR');
    }
    const missing = chunk.filter((i) => !present.has(i.doc!.id));
    for (const item of chunk) if (present.has(item.doc!.id)) countsOf(item).unchanged += 1;
    done += chunk.length - missing.length;
    ctx.progress(done, total, 'items');

    const rows: VectorRow[] = [];
    for (let b = 0; b < missing.length; b += batchSize) {
      await ctx.checkpoint();
      const batch = missing.slice(b, b + batchSize);
      let vectors: number[][];
      try {
        vectors = await embedder.embed(batch.map((i) => i.doc!.document), ctx.signal);
      } catch (error) {
        if (ctx.signal.aborted) throw new StepCancelledError(String(ctx.signal.reason));
        ctx.count(flatCounters(counts));
        throw stepError('EMBEDDING_FAILED', 'step.embedding_failed', { model: embedder.model, reason: error instanceof Error ? error.message : String(error) });
      }
      batch.forEach((item, i) => {
        const v = vectors[i];
        if (!v || v.length !== embedder.dim || !v.every(Number.isFinite)) {
          fail(item, `the embedder returned ${v ? `a vector of dimension ${v.length}` : 'no vector'} (expected ${embedder.dim} finite numbers)`);
          return;
        }
        rows.push({
          id: item.doc!.id,
          collectionId: collections[item.collection]!,
          document: item.doc!.document,
          embedding: v,
          cmetadata: {
            id: item.doc!.id,
            source: 'data-pipeline',
            task_id: ctx.taskId,
            db_name: ctx.params.db_name ?? null,
            ...(item.table ? { table: item.table } : {}),
            file: item.file,
            kind: item.kind,
            embedding_model: embedder.model,
            embedding_dim: embedder.dim,
            created_at: createdAt,
          },
        });
      });
      done += batch.length;
      ctx.progress(done, total, 'items');
    }
    let inserted: Set<string>;
    try {
      inserted = await insertRows(db.pool, rows);
    } catch (error) {
      ctx.count(flatCounters(counts));
      vectorError(error, 'VECTOR_STORE_ERROR');
    }
    const byId = new Map(missing.map((i) => [i.doc!.id, i]));
    for (const row of rows) {
      const item = byId.get(row.id)!;
      // Not inserted although it was missing a moment ago: another load wrote the same item meanwhile.
      if (inserted.has(row.id)) countsOf(item).added += 1;
      else countsOf(item).unchanged += 1;
    }
  }

  // 4. Rows of pairs the review rejected or replaced since they were loaded leave the store.
  let removed = 0;
  if (inputs.removedIds.length) {
    try {
      removed = await deleteRows(db.pool, inputs.removedIds);
    } catch (error) {
      ctx.count(flatCounters(counts));
      vectorError(error, 'VECTOR_STORE_ERROR');
    }
    log.info(`审阅: 拒绝 ${inputs.review?.rejected ?? 0}、修改 ${inputs.review?.edited ?? 0}、新增 ${inputs.review?.added ?? 0} 个问答对；从向量库删除 ${removed} 行`);
  }

  const totals = emptyCounts();
  for (const c of Object.values(counts)) for (const k of Object.keys(totals) as Array<keyof CollectionCounts>) totals[k] += c[k];
  const report: LoadReport = {
    task_id: ctx.taskId,
    generated_at: localIso(new Date()),
    embedding: { model: embedder.model, dim: embedder.dim, guidance: embeddingGuidance(embedder.model, embedder.dim) },
    vector_store: db.label,
    pair_file: inputs.pairFile,
    pair_source: inputs.pairSource,
    review: inputs.review ? { ...inputs.review, rows_removed: removed } : null,
    backup,
    collections: counts,
    totals,
    failures,
    duration_ms: Date.now() - started,
  };
  const reportFile = `training_load_${localStamp(new Date())}_report.json`;
  log.info(report.embedding.guidance.zh);
  await writeFileAtomic(path.join(ctx.workspaceDir, reportFile), `${JSON.stringify(report, null, 2)}\n`, { fsync: false });
  for (const c of COLLECTIONS) {
    const n = counts[c];
    log.info(`${c}: 新增 ${n.added}, 未变 ${n.unchanged}, 失败 ${n.failed}${n.duplicates ? `, 重复 ${n.duplicates}` : ''}`);
  }
  const summary = `rows added ${totals.added}, unchanged ${totals.unchanged}, failed ${totals.failed} (report: ${reportFile})`;
  const counters = { ...flatCounters(counts), rows_removed: removed };
  if (totals.failed > 0) {
    ctx.count(counters);
    throw stepError('TRAINING_LOAD_INCOMPLETE', 'step.load_incomplete', { failed: totals.failed, failures: failures.slice(0, 3).map((f) => `${f.file}: ${f.error}`).join('; '), summary });
  }
  return { summary, counters };
}

/** What the load report says about the store's embedding model (README: "Embedding models"). */
export function embeddingGuidance(model: string, dim: number): { zh: string; en: string } {
  const offline = model.startsWith('hashing-');
  return {
    zh:
      `向量库中的向量由 ${model}（维度 ${dim}）生成；读取该库的应用（如 Vanna）必须用同一模型、同一维度嵌入问题，否则检索结果无意义。` +
      (offline ? `${model} 是离线哈希嵌入，只适合演示和检索自测（vector/evaluate），不应与其他应用共用；共用的库请配置多语言嵌入模型（OpenAI 兼容接口上的 bge-m3 等，或两边同一个本地 ONNX 模型目录）。` : ''),
    en:
      `The vectors in the store come from ${model} (dimension ${dim}); an app reading it (such as Vanna) must embed its questions with the same model and dimension, or retrieval means nothing.` +
      (offline ? ` ${model} is the offline hashing embedder: good for the demo and the retrieval self-test (vector/evaluate), not for a store shared with other apps; for that, configure a multilingual embedding model (bge-m3 or similar behind an OpenAI-compatible endpoint, or the same local ONNX model folder on both sides).` : ''),
  };
}

/** Step counters: per collection and totals, plus pairs_loaded (the status API's "loaded"). */
export function flatCounters(counts: Record<CollectionName, CollectionCounts>): Record<string, number> {
  const out: Record<string, number> = { rows_added: 0, rows_unchanged: 0, rows_failed: 0 };
  for (const [name, c] of Object.entries(counts)) {
    out[`${name}_added`] = c.added;
    out[`${name}_unchanged`] = c.unchanged;
    out[`${name}_failed`] = c.failed;
    out.rows_added! += c.added;
    out.rows_unchanged! += c.unchanged;
    out.rows_failed! += c.failed;
  }
  out.pairs_loaded = counts.sql.added + counts.sql.unchanged;
  return out;
}

