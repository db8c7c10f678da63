// Writing and reading rows: idempotent batched upsert (one statement per batch), nearest-neighbour search
// the way LangChain's PGVector does it for Vanna (cosine distance within one collection), and counts.
import type pg from 'pg';
import { SEARCHABLE_COLLECTIONS } from './documents.ts';
import { VectorStoreError } from './errors.ts';
import { COLLECTION_TABLE, EMBEDDING_TABLE, inspectVectorTables, type Queryable } from './schema.ts';

export interface VectorRow {
  id: string;
  /** uuid of the row's collection */
  collectionId: string;
  document: string;
  embedding: number[];
  cmetadata: Record<string, unknown>;
}

/** pgvector's text form. */
export function vectorLiteral(v: readonly number[]): string {
  return `[${v.join(',')}]`;
}

/** The ids among `ids` that are already stored (one round trip). */
export async function existingIds(db: Queryable, ids: string[]): Promise<Set<string>> {
  if (!ids.length) return new Set();
  const { rows } = await db.query<{ id: string }>(`SELECT id FROM ${EMBEDDING_TABLE} WHERE id = ANY($1::varchar[])`, [ids]);
  return new Set(rows.map((r) => r.id));
}

/**
 * Inserts rows in one statement; a row whose id exists is left as it is. Returns the ids actually inserted.
 * Arrays of parameters (unnest) keep it one short statement whatever the batch size.
 */
/** Deletes rows by id (the deterministic ids of pairs a review removed); returns how many went. */
export async function deleteRows(db: Queryable, ids: string[]): Promise<number> {
  if (!ids.length) return 0;
  const result = await db.query(`DELETE FROM ${EMBEDDING_TABLE} WHERE id = ANY ($1::varchar[])`, [ids]);
  return result.rowCount ?? 0;
}

export async function insertRows(db: Queryable, rows: VectorRow[]): Promise<Set<string>> {
  if (!rows.length) return new Set();
  const result = await db.query<{ id: string }>(
    `INSERT INTO ${EMBEDDING_TABLE} (id, collection_id, embedding, document, cmetadata)
     SELECT t.id, t.collection_id, t.embedding::vector, t.document, t.cmetadata::jsonb
       FROM unnest($1::varchar[], $2::uuid[], $3::text[], $4::varchar[], $5::text[]) AS t(id, collection_id, embedding, document, cmetadata)
     ON CONFLICT (id) DO NOTHING
     RETURNING id`,
    [
      rows.map((r) => r.id),
      rows.map((r) => r.collectionId),
      rows.map((r) => vectorLiteral(r.embedding)),
      rows.map((r) => r.document),
      rows.map((r) => JSON.stringify(r.cmetadata)),
    ],
  );
  return new Set(result.rows.map((r) => r.id));
}

export interface SearchHit {
  id: string;
  collection: string;
  document: string;
  /** Cosine distance (what LangChain orders by); smaller is nearer. */
  distance: number;
  /** 1 - distance: cosine similarity. */
  score: number;
  cmetadata: Record<string, unknown> | null;
}

/** The k nearest rows of each collection, as Vanna retrieves them (one similarity search per collection). */
export async function searchCollections(
  db: Queryable,
  queryVector: number[],
  collections: readonly string[],
  k: number,
): Promise<Record<string, SearchHit[]>> {
  const info = await inspectVectorTables(db);
  const out: Record<string, SearchHit[]> = Object.fromEntries(collections.map((c) => [c, [] as SearchHit[]]));
  if (!info.collectionTable || !info.embeddingTable) return out;
  if (info.dim !== null && info.dim !== queryVector.length) {
    throw new VectorStoreError(
      'VECTOR_DIMENSION_MISMATCH',
      `${EMBEDDING_TABLE} holds vectors of dimension ${info.dim}, but the configured embedder gives ${queryVector.length}`,
    );
  }
  const literal = vectorLiteral(queryVector);
  for (const collection of collections) {
    const { rows } = await db.query<{ id: string; document: string; cmetadata: Record<string, unknown> | null; distance: number }>(
      `SELECT e.id, e.document, e.cmetadata, (e.embedding <=> $1::vector)::float8 AS distance
         FROM ${EMBEDDING_TABLE} e JOIN ${COLLECTION_TABLE} c ON c.uuid = e.collection_id
        WHERE c.name = $2 AND e.embedding IS NOT NULL
        ORDER BY e.embedding <=> $1::vector
        LIMIT $3`,
      [literal, collection, k],
    );
    out[collection] = rows.map((r) => ({
      id: r.id,
      collection,
      document: r.document,
      distance: r.distance,
      score: Number.isFinite(r.distance) ? 1 - r.distance : 0,
      cmetadata: r.cmetadata,
    }));
  }
  return out;
}

export interface VectorStats {
  exists: boolean;
  dim: number | null;
  total: number;
  collections: Array<{ name: string; uuid: string; rows: number }>;
  /** Rows by embedding_model (data-pipeline rows; others under null). */
  models: Array<{ model: string | null; rows: number }>;
}

export async function vectorStats(db: pg.Pool): Promise<VectorStats> {
  const info = await inspectVectorTables(db);
  if (!info.collectionTable || !info.embeddingTable) return { exists: false, dim: null, total: 0, collections: [], models: [] };
  const collections = await db.query<{ name: string; uuid: string; rows: string }>(
    `SELECT c.name, c.uuid::text AS uuid, count(e.id) AS rows
       FROM ${COLLECTION_TABLE} c LEFT JOIN ${EMBEDDING_TABLE} e ON e.collection_id = c.uuid
      GROUP BY c.name, c.uuid ORDER BY c.name`,
  );
  const models = await db.query<{ model: string | null; rows: string }>(
    `SELECT cmetadata->>'embedding_model' AS model, count(*) AS rows FROM ${EMBEDDING_TABLE} GROUP BY 1 ORDER BY 2 DESC`,
  );
  const total = await db.query<{ n: string }>(`SELECT count(*) AS n FROM ${EMBEDDING_TABLE}`);
  return {
    exists: true,
    dim: info.dim,
    total: Number(total.rows[0]!.n),
    collections: collections.rows.map((r) => ({ name: r.name, uuid: r.uuid, rows: Number(r.rows) })),
    models: models.rows.map((r) => ({ model: r.model, rows: Number(r.rows) })),
  };
}
