// The retrieval self-test: for held-out questions, each with the tables it needs, does each needed
// table's document land in the top k of what an app would retrieve (one similarity search per
// collection, as Vanna does)? recall@k per question and overall, plus the misses. Works against the
// store (vector/evaluate, the CLI) and against documents in memory (bench/retrieval.ts).
import type pg from 'pg';
import type { Embedder } from '../embed/types.ts';
import { VectorStoreError } from './errors.ts';
import { COLLECTION_TABLE, EMBEDDING_TABLE, inspectVectorTables, type Queryable } from './schema.ts';
import { searchCollections } from './store.ts';

/** Collections whose documents belong to one table (cmetadata.table): the ones a table recall means something for. */
export const EVALUABLE_COLLECTIONS = ['ddl', 'documentation'] as const;
export type EvaluableCollection = (typeof EVALUABLE_COLLECTIONS)[number];

export const MAX_EVAL_QUESTIONS = 1000;
export const MAX_EVAL_TABLES_PER_QUESTION = 50;
export const MAX_EVAL_K = 100;

export interface EvalQuestion {
  question: string;
  tables: string[];
}

export interface QuestionResult {
  question: string;
  /** The needed tables, as the store names them (schema.table). */
  tables: string[];
  found: string[];
  missed: string[];
  recall: number;
  /** Tables of the top-k documents, nearest first, per collection. */
  retrieved: Record<string, string[]>;
}

export interface EvalSummary {
  k: number;
  collections: string[];
  questions: number;
  /** Share of all needed tables found (what the issue's table reports). */
  recall: number;
  /** Mean of the per-question recalls. */
  mean_question_recall: number;
  /** Questions that found every table they need. */
  complete: number;
  tables_needed: number;
  tables_found: number;
}

export interface EvalResult {
  summary: EvalSummary;
  results: QuestionResult[];
}

/** A needed table that the store does not know, or names ambiguously. */
export class UnknownTablesError extends Error {
  constructor(
    readonly unknown: Array<{ question: number; table: string; reason: 'unknown' | 'ambiguous'; candidates?: string[] }>,
    readonly known: string[],
  ) {
    super(`unknown table(s): ${unknown.map((u) => `${u.table} (question ${u.question + 1}${u.reason === 'ambiguous' ? `, ambiguous: ${u.candidates!.join(', ')}` : ''})`).join('; ')}`);
    this.name = 'UnknownTablesError';
  }
}

/**
 * Names as users write them → the store's full names: exact `schema.table`, else a table name that one
 * stored table has (exactly, else ignoring case).
 */
export function resolveTables(questions: EvalQuestion[], known: readonly string[]): string[][] {
  const exact = new Set(known);
  const byName = new Map<string, string[]>();
  const byLowerName = new Map<string, string[]>();
  for (const full of known) {
    const bare = full.includes('.') ? full.slice(full.indexOf('.') + 1) : full;
    for (const [map, key] of [[byName, bare], [byLowerName, bare.toLowerCase()], [byLowerName, full.toLowerCase()]] as const) {
      const list = map.get(key) ?? [];
      if (!list.includes(full)) list.push(full);
      map.set(key, list);
    }
  }
  const problems: UnknownTablesError['unknown'] = [];
  const resolved = questions.map((q, index) =>
    [...new Set(q.tables.map((name) => {
      if (exact.has(name)) return name;
      const candidates = byName.get(name) ?? byLowerName.get(name.toLowerCase()) ?? [];
      if (candidates.length === 1) return candidates[0]!;
      problems.push({ question: index, table: name, reason: candidates.length ? 'ambiguous' : 'unknown', ...(candidates.length ? { candidates } : {}) });
      return name;
    }))],
  );
  if (problems.length) throw new UnknownTablesError(problems, [...known].sort());
  return resolved;
}

/** recall of one question from the tables its searches returned. */
export function scoreQuestion(question: string, tables: string[], retrieved: Record<string, string[]>): QuestionResult {
  const seen = new Set(Object.values(retrieved).flat());
  const found = tables.filter((t) => seen.has(t));
  const missed = tables.filter((t) => !seen.has(t));
  return { question, tables, found, missed, recall: tables.length ? found.length / tables.length : 1, retrieved };
}

export function summarise(results: QuestionResult[], k: number, collections: readonly string[]): EvalSummary {
  const needed = results.reduce((n, r) => n + r.tables.length, 0);
  const found = results.reduce((n, r) => n + r.found.length, 0);
  return {
    k,
    collections: [...collections],
    questions: results.length,
    recall: needed ? found / needed : 0,
    mean_question_recall: results.length ? results.reduce((s, r) => s + r.recall, 0) / results.length : 0,
    complete: results.filter((r) => r.missed.length === 0).length,
    tables_needed: needed,
    tables_found: found,
  };
}

/** The tables (cmetadata.table) that have documents in the given collections of the store. */
export async function storedTables(db: Queryable, collections: readonly string[]): Promise<string[]> {
  const info = await inspectVectorTables(db);
  if (!info.collectionTable || !info.embeddingTable) return [];
  const { rows } = await db.query<{ t: string }>(
    `SELECT DISTINCT e.cmetadata->>'table' AS t
       FROM ${EMBEDDING_TABLE} e JOIN ${COLLECTION_TABLE} c ON c.uuid = e.collection_id
      WHERE c.name = ANY($1::varchar[]) AND e.cmetadata ? 'table'`,
    [collections],
  );
  return rows.map((r) => r.t).filter((t): t is string => typeof t === 'string').sort();
}

/** Embeds in batches of this many questions. */
const EMBED_BATCH = 64;

/** Runs the self-test against the store, the way an app retrieves (one search per collection). */
export async function evaluateStore(
  db: pg.Pool,
  embedder: Embedder,
  questions: EvalQuestion[],
  options: { k: number; collections: readonly EvaluableCollection[] },
): Promise<EvalResult> {
  const known = await storedTables(db, options.collections);
  if (!known.length) {
    throw new VectorStoreError('VECTOR_STORE_EMPTY', `the vector store has no documents of a table in ${options.collections.join(', ')}: load a task first`);
  }
  const tables = resolveTables(questions, known);
  const results: QuestionResult[] = [];
  for (let start = 0; start < questions.length; start += EMBED_BATCH) {
    const batch = questions.slice(start, start + EMBED_BATCH);
    const vectors = await embedder.embed(batch.map((q) => q.question));
    for (let i = 0; i < batch.length; i += 1) {
      const hits = await searchCollections(db, vectors[i]!, options.collections, options.k);
      const retrieved = Object.fromEntries(
        Object.entries(hits).map(([collection, list]) => [collection, list.map((h) => (typeof h.cmetadata?.table === 'string' ? h.cmetadata.table : '')).filter(Boolean)]),
      );
      results.push(scoreQuestion(batch[i]!.question, tables[start + i]!, retrieved));
    }
  }
  return { summary: summarise(results, options.k, options.collections), results };
}

/** A document in memory with its vector (bench/retrieval.ts). */
export interface MemoryDocument {
  collection: string;
  table: string;
  vector: number[];
}

function cosineDistance(a: number[], b: number[]): number {
  let dot = 0;
  let na = 0;
  let nb = 0;
  for (let i = 0; i < a.length; i += 1) {
    dot += a[i]! * b[i]!;
    na += a[i]! * a[i]!;
    nb += b[i]! * b[i]!;
  }
  return 1 - dot / (Math.sqrt(na) * Math.sqrt(nb) || 1);
}

/** The same self-test over documents in memory: exact cosine search, as pgvector does without an index. */
export async function evaluateMemory(
  documents: MemoryDocument[],
  embedder: Embedder,
  questions: EvalQuestion[],
  options: { k: number; collections: readonly string[] },
): Promise<EvalResult> {
  const known = [...new Set(documents.filter((d) => options.collections.includes(d.collection)).map((d) => d.table))];
  const tables = resolveTables(questions, known);
  const vectors = await embedder.embed(questions.map((q) => q.question));
  const results = questions.map((q, i) => {
    const retrieved: Record<string, string[]> = {};
    for (const collection of options.collections) {
      retrieved[collection] = documents
        .filter((d) => d.collection === collection)
        .map((d) => ({ table: d.table, distance: cosineDistance(vectors[i]!, d.vector) }))
        .sort((a, b) => a.distance - b.distance)
        .slice(0, options.k)
        .map((d) => d.table);
    }
    return scoreQuestion(q.question, tables[i]!, retrieved);
  });
  return { summary: summarise(results, options.k, options.collections), results };
}

/** Expected recall of a uniformly random pick of k of the n tables: each needed table is in it with probability k/n. */
export function randomPickRecall(tableCount: number, k: number): number {
  return tableCount ? Math.min(k, tableCount) / tableCount : 0;
}
