// The two LangChain PGVector tables (spec/vector-store.md): created when missing, used as they are when
// present, and refused clearly when they cannot hold this embedder's vectors.
import type pg from 'pg';
import { COLLECTIONS, collectionUuid } from './documents.ts';
import { errorMessage, VectorStoreError } from './errors.ts';
import { withTransaction } from '../postgres/connect.ts';

export const COLLECTION_TABLE = 'langchain_pg_collection';
export const EMBEDDING_TABLE = 'langchain_pg_embedding';

export type Queryable = pg.Pool | pg.PoolClient;

/** Serialises schema changes, loads' collection set-up, truncates and restores across processes. */
export const VECTOR_LOCK_KEY = 727_370_101;

export interface VectorTablesInfo {
  extension: boolean;
  collectionTable: boolean;
  embeddingTable: boolean;
  /** Dimension of the `embedding` column (its type modifier), else of a stored vector; null when unknown. */
  dim: number | null;
}

export async function inspectVectorTables(db: Queryable): Promise<VectorTablesInfo> {
  const { rows } = await db.query<{ ext: boolean; coll: boolean; emb: boolean }>(
    `SELECT EXISTS (SELECT 1 FROM pg_extension WHERE extname = 'vector') AS ext,
            to_regclass('${COLLECTION_TABLE}') IS NOT NULL AS coll,
            to_regclass('${EMBEDDING_TABLE}') IS NOT NULL AS emb`,
  );
  const info: VectorTablesInfo = { extension: rows[0]!.ext, collectionTable: rows[0]!.coll, embeddingTable: rows[0]!.emb, dim: null };
  if (info.embeddingTable) info.dim = await storedDimension(db);
  return info;
}

async function storedDimension(db: Queryable): Promise<number | null> {
  const { rows } = await db.query<{ typmod: number; type: string }>(
    `SELECT a.atttypmod AS typmod, t.typname AS type FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
      WHERE a.attrelid = '${EMBEDDING_TABLE}'::regclass AND a.attname = 'embedding' AND NOT a.attisdropped`,
  );
  const column = rows[0];
  if (!column || column.type !== 'vector') {
    throw new VectorStoreError('VECTOR_SCHEMA_INVALID', `${EMBEDDING_TABLE}.embedding is ${column ? `of type ${column.type}` : 'missing'}, not a pgvector vector column`);
  }
  if (column.typmod > 0) return column.typmod;
  // LangChain creates `vector` without a dimension when none is given (Vanna does so): ask a stored row.
  const stored = await db.query<{ d: number }>(`SELECT vector_dims(embedding) AS d FROM ${EMBEDDING_TABLE} WHERE embedding IS NOT NULL LIMIT 1`);
  return stored.rows[0]?.d ?? null;
}

const REQUIRED_COLUMNS: Record<string, string[]> = {
  [COLLECTION_TABLE]: ['uuid', 'name', 'cmetadata'],
  [EMBEDDING_TABLE]: ['id', 'collection_id', 'embedding', 'document', 'cmetadata'],
};

async function checkColumns(db: Queryable): Promise<void> {
  for (const [table, required] of Object.entries(REQUIRED_COLUMNS)) {
    const { rows } = await db.query<{ attname: string; type: string }>(
      `SELECT attname, format_type(atttypid, atttypmod) AS type FROM pg_attribute WHERE attrelid = $1::regclass AND attnum > 0 AND NOT attisdropped`,
      [table],
    );
    const have = new Map(rows.map((r) => [r.attname, r.type]));
    const missing = required.filter((c) => !have.has(c));
    if (missing.length) {
      throw new VectorStoreError(
        'VECTOR_SCHEMA_INVALID',
        `${table} exists but lacks column(s) ${missing.join(', ')}: it is not the langchain_postgres PGVector schema that Vanna reads (an older langchain_community table?). Rename or drop it, then load again.`,
      );
    }
    if (table === EMBEDDING_TABLE && have.get('cmetadata') !== 'jsonb') {
      throw new VectorStoreError('VECTOR_SCHEMA_INVALID', `${EMBEDDING_TABLE}.cmetadata is ${have.get('cmetadata')}, expected jsonb (langchain_postgres with use_jsonb=True)`);
    }
  }
}

export interface EnsureOptions {
  dim: number;
  /** The embedder's model: refuses a store whose data-pipeline rows were embedded by another model. */
  model?: string;
  /** Collections to make sure of (default: sql, ddl, documentation). */
  collections?: readonly string[];
}

export interface VectorStoreHandle {
  dim: number;
  created: boolean;
  /** collection name → uuid */
  collections: Record<string, string>;
}

/** Creates what is missing (extension, tables, index, collections) and checks what exists. */
export async function ensureVectorStore(pool: pg.Pool, options: EnsureOptions): Promise<VectorStoreHandle> {
  return withTransaction(pool, async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [VECTOR_LOCK_KEY]);
    return ensureInTransaction(client, options);
  });
}

export async function ensureInTransaction(client: pg.PoolClient, options: EnsureOptions): Promise<VectorStoreHandle> {
  const info = await inspectVectorTables(client);
  if (!info.extension) {
    try {
      await client.query('SAVEPOINT ensure_vector');
      await client.query('CREATE EXTENSION IF NOT EXISTS vector');
      await client.query('RELEASE SAVEPOINT ensure_vector');
    } catch (error) {
      await client.query('ROLLBACK TO SAVEPOINT ensure_vector').catch(() => undefined);
      throw new VectorStoreError(
        'VECTOR_EXTENSION_MISSING',
        `the vector store database has no pgvector extension and it could not be created (${errorMessage(error)}). Install pgvector on the server and run CREATE EXTENSION vector as a superuser.`,
        { cause: error },
      );
    }
  }
  let created = false;
  if (!info.collectionTable) {
    await client.query(`CREATE TABLE ${COLLECTION_TABLE} (uuid uuid PRIMARY KEY, name varchar NOT NULL UNIQUE, cmetadata json)`);
    created = true;
  }
  if (!info.embeddingTable) {
    await client.query(
      `CREATE TABLE ${EMBEDDING_TABLE} (
         id varchar PRIMARY KEY,
         collection_id uuid REFERENCES ${COLLECTION_TABLE}(uuid) ON DELETE CASCADE,
         embedding vector(${Math.trunc(options.dim)}),
         document varchar,
         cmetadata jsonb)`,
    );
    await client.query(`CREATE INDEX IF NOT EXISTS ix_cmetadata_gin ON ${EMBEDDING_TABLE} USING gin (cmetadata jsonb_path_ops)`);
    created = true;
  } else {
    await checkColumns(client);
  }
  const dim = info.embeddingTable ? info.dim : options.dim;
  if (dim !== null && dim !== options.dim) {
    throw new VectorStoreError(
      'VECTOR_DIMENSION_MISMATCH',
      `${EMBEDDING_TABLE} holds vectors of dimension ${dim}, but the configured embedder gives ${options.dim}. ` +
        `Vectors of different embedders cannot be compared: use the embedder the store was loaded with (DATA_PIPELINE_EMBEDDING_DIM=${dim}), ` +
        `or another DATA_PIPELINE_VECTOR_URL.`,
    );
  }
  if (options.model && info.embeddingTable) await checkEmbedderModel(client, options.model);
  const collections = await ensureCollections(client, options.collections ?? COLLECTIONS);
  return { dim: options.dim, created, collections };
}

/** Refuses to mix embedders: any row we loaded with another model (same dimension or not) blocks the load. */
export async function checkEmbedderModel(db: Queryable, model: string): Promise<void> {
  const { rows } = await db.query<{ model: string | null; tasks: string[]; n: string }>(
    `SELECT cmetadata->>'embedding_model' AS model, count(*) AS n,
            (array_agg(DISTINCT cmetadata->>'task_id') FILTER (WHERE cmetadata ? 'task_id'))[1:10] AS tasks
       FROM ${EMBEDDING_TABLE}
      WHERE cmetadata @> '{"source":"data-pipeline"}' AND NOT cmetadata @> $1::jsonb
      GROUP BY 1 ORDER BY 2 DESC LIMIT 3`,
    [JSON.stringify({ embedding_model: model })],
  );
  if (rows.length) {
    const other = rows.map((r) => `${r.model ?? '(unknown model)'} (${r.n} rows${r.tasks?.length ? `, tasks ${r.tasks.join(', ')}` : ''})`).join('; ');
    const stored = rows[0]!.model;
    throw new VectorStoreError(
      'VECTOR_EMBEDDER_MISMATCH',
      `${EMBEDDING_TABLE} already holds rows embedded with ${other}, and the configured embedder is ${model}. ` +
        `Mixed embeddings make similarity search meaningless. Either keep the store's model (DATA_PIPELINE_EMBEDDING_MODEL=${stored ?? '…'}), ` +
        `or re-load those tasks with the new one: run their training_load again with truncate_vector_tables: true (backs the tables up, then empties them), ` +
        `and make the app that reads the store embed its questions with ${model} too.`,
    );
  }
}

async function ensureCollections(client: pg.PoolClient, names: readonly string[]): Promise<Record<string, string>> {
  const found = await client.query<{ uuid: string; name: string }>(`SELECT uuid::text AS uuid, name FROM ${COLLECTION_TABLE} WHERE name = ANY($1::varchar[])`, [names]);
  const result: Record<string, string> = {};
  for (const row of found.rows) result[row.name] ??= row.uuid;
  const missing = names.filter((n) => !(n in result));
  if (missing.length) {
    const inserted = await client.query<{ uuid: string; name: string }>(
      `INSERT INTO ${COLLECTION_TABLE} (uuid, name, cmetadata)
       SELECT t.uuid, t.name, NULL FROM unnest($1::uuid[], $2::varchar[]) AS t(uuid, name)
       ON CONFLICT DO NOTHING RETURNING uuid::text AS uuid, name`,
      [missing.map(collectionUuid), missing],
    );
    for (const row of inserted.rows) result[row.name] = row.uuid;
    const still = missing.filter((n) => !(n in result));
    if (still.length) throw new VectorStoreError('VECTOR_SCHEMA_INVALID', `could not create collection(s) ${still.join(', ')} in ${COLLECTION_TABLE}`);
  }
  return result;
}
