// Backup, truncate and restore of the vector tables (guide §2.4, §8.2; spec/vector-store.md).
//
// Backup: one snapshot (REPEATABLE READ) of both tables, written by PostgreSQL itself as CSV (COPY … TO,
// see postgres/copy.ts: header row, cmetadata as JSON text, vectors in pgvector's text form, NULL as an
// empty unquoted field and '' as ""), hashed while written, then a manifest (row counts, sizes, sha256,
// dimension, models). No row becomes a JS object, so memory stays flat whatever the table size. Files are
// written under a temporary name and renamed once complete; the manifest is written last, so a backup
// without a manifest is not a backup.
//
// Truncate empties langchain_pg_embedding only, inside the backup's own transaction, after the files and the
// manifest are on disk, with writers locked out from before the snapshot: the backup holds exactly the rows
// that the truncate removes. A failed backup rolls back and deletes nothing.
//
// Restore reads a backup by its directory and timestamp, verifies the manifest (names, sizes, sha256, row
// counts) before touching the database, then loads in one transaction (re-checking the hash of what it
// actually read before COMMIT): all rows or none.
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { parse, type CastingContext } from 'csv-parse';
import type pg from 'pg';
import { z } from 'zod';
import { appendNoFollow, checkRealDirectory } from '../files.ts';
import { copyTableToCsv } from '../postgres/copy.ts';
import { localIso, localStamp, localTimestamp } from '../time.ts';
import { errorMessage, VectorStoreError } from './errors.ts';
import { COLLECTION_TABLE, EMBEDDING_TABLE, ensureInTransaction, inspectVectorTables, VECTOR_LOCK_KEY } from './schema.ts';

export const BACKUP_DIR_NAME = 'vector_bak';
export const BACKUP_LOG_FILE = 'vector_backup_log.txt';
export const STAMP_PATTERN = /^\d{8}_\d{6}(?:_\d{1,3})?$/;
const RESTORE_BATCH = 1000;

export type VectorTable = typeof COLLECTION_TABLE | typeof EMBEDDING_TABLE;

// Physical order on purpose: a sequential scan reads a large table through a small ring buffer (an ORDER BY
// would sort, spilling to temporary files, which embedded PGlite cannot create, or walk the index and fill
// the buffer cache, which in embedded mode lives in this process). A cast keeps the column's name, so the
// CSV header is exactly `columns`.
const COLUMNS: Record<VectorTable, { columns: string[]; selectList: string }> = {
  [COLLECTION_TABLE]: { columns: ['uuid', 'name', 'cmetadata'], selectList: 'uuid::text, name, cmetadata::text' },
  [EMBEDDING_TABLE]: {
    columns: ['id', 'collection_id', 'embedding', 'document', 'cmetadata'],
    selectList: 'id, collection_id::text, embedding::text, document, cmetadata::text',
  },
};

export const backupFileName = (table: VectorTable, stamp: string) => `${table}_${stamp}.csv`;
export const manifestFileName = (stamp: string) => `vector_backup_manifest_${stamp}.json`;
const MANIFEST_PATTERN = /^vector_backup_manifest_(\d{8}_\d{6}(?:_\d{1,3})?)\.json$/;

const manifestSchema = z.object({
  format: z.literal('data-pipeline-vector-backup'),
  version: z.literal(1),
  timestamp: z.string().regex(STAMP_PATTERN),
  created_at: z.string(),
  task_id: z.string().nullable(),
  source: z.string(),
  embedding: z.object({ dim: z.number().int().positive().nullable(), models: z.array(z.string()), configured_model: z.string().nullable() }),
  tables: z
    .array(
      z.object({
        table: z.enum([COLLECTION_TABLE, EMBEDDING_TABLE]),
        file: z.string(),
        columns: z.array(z.string()),
        rows: z.number().int().min(0),
        bytes: z.number().int().min(0),
        sha256: z.string().regex(/^[0-9a-f]{64}$/),
      }),
    )
    .length(2),
  truncated_after_backup: z.boolean(),
});
export type BackupManifest = z.infer<typeof manifestSchema>;

export interface BackupOptions {
  taskId?: string | null;
  /** Masked label of the database, recorded in the manifest. */
  source?: string;
  /** The embedder configured at backup time (recorded; the rows' own models are recorded too). */
  configuredModel?: string | null;
  /** Empty langchain_pg_embedding in the same transaction, once the backup is complete. */
  truncate?: boolean;
  now?: Date;
  /** Called with the bytes of langchain_pg_embedding written so far (for progress). */
  onBytes?: (bytes: number) => void;
}

export interface BackupResult {
  performed: boolean;
  /** Why nothing was backed up (no vector tables yet). */
  skippedReason?: string;
  truncated: boolean;
  directory: string;
  timestamp: string | null;
  manifest: BackupManifest | null;
  files: string[];
  rows: Record<VectorTable, number>;
  durationMs: number;
}

/** Backs up both tables into `dir` (created if missing); with `truncate`, then empties the embedding table. */
export async function backupVectorTables(pool: pg.Pool, dir: string, options: BackupOptions = {}): Promise<BackupResult> {
  const started = Date.now();
  const now = options.now ?? new Date();
  const rows = { [COLLECTION_TABLE]: 0, [EMBEDDING_TABLE]: 0 } as Record<VectorTable, number>;
  const base = { directory: dir, rows, truncated: false } as const;
  try {
    await fsp.mkdir(dir, { recursive: true });
    await checkRealDirectory(dir);
  } catch (error) {
    throw new VectorStoreError('VECTOR_BACKUP_FAILED', `cannot create the backup directory ${dir}: ${errorMessage(error)}`, { cause: error });
  }

  let info;
  try {
    info = await inspectVectorTables(pool);
  } catch (error) {
    throw new VectorStoreError('VECTOR_BACKUP_FAILED', `cannot read the vector store: ${errorMessage(error)}`, { cause: error });
  }
  if (!info.collectionTable || !info.embeddingTable) {
    const reason = `${!info.collectionTable ? COLLECTION_TABLE : EMBEDDING_TABLE} does not exist yet: nothing to back up or truncate`;
    await appendLog(dir, `${localTimestamp(now)} [INFO] backup skipped: ${reason}`);
    return { ...base, performed: false, skippedReason: reason, timestamp: null, manifest: null, files: [], durationMs: Date.now() - started };
  }

  const stamp = await claimStamp(dir, localStamp(now));
  const written: string[] = [];
  const releaseStamp = () => fsp.rmdir(claimPath(dir, stamp)).catch(() => undefined);
  const client = await pool.connect();
  let manifest: BackupManifest | undefined;
  let phase: 'backup' | 'truncate' = 'backup';
  try {
    await client.query(`BEGIN ISOLATION LEVEL REPEATABLE READ${options.truncate ? '' : ' READ ONLY'}`);
    // Lock out writers before the snapshot is taken (the first query after LOCK): the backup then holds
    // exactly the rows the truncate removes. Readers (Vanna apps) are not blocked until the TRUNCATE.
    if (options.truncate) await client.query(`LOCK TABLE ${EMBEDDING_TABLE} IN SHARE MODE`);
    const tables: BackupManifest['tables'] = [];
    for (const table of [COLLECTION_TABLE, EMBEDDING_TABLE] as const) {
      const file = backupFileName(table, stamp);
      const target = path.join(dir, file);
      const tmp = `${target}.partial`;
      written.push(tmp);
      const out = await copyTableToFile(pool, client, table, tmp, (bytes) => {
        if (table === EMBEDDING_TABLE) options.onBytes?.(bytes);
      });
      rows[table] = out.rows;
      await fsp.rename(tmp, target);
      written.push(target);
      tables.push({ table, file, columns: COLUMNS[table].columns, rows: out.rows, bytes: out.bytes, sha256: out.sha256 });
    }
    const models = await client.query<{ m: string }>(
      `SELECT DISTINCT cmetadata->>'embedding_model' AS m FROM ${EMBEDDING_TABLE} WHERE cmetadata->>'embedding_model' IS NOT NULL ORDER BY 1`,
    );
    manifest = {
      format: 'data-pipeline-vector-backup',
      version: 1,
      timestamp: stamp,
      created_at: localIso(now),
      task_id: options.taskId ?? null,
      source: options.source ?? '',
      embedding: { dim: info.dim, models: models.rows.map((r) => r.m), configured_model: options.configuredModel ?? null },
      tables,
      truncated_after_backup: Boolean(options.truncate),
    };
    const manifestPath = path.join(dir, manifestFileName(stamp));
    await writeDurably(manifestPath, `${JSON.stringify(manifest, null, 2)}\n`);
    written.push(manifestPath);
    if (options.truncate) {
      phase = 'truncate';
      await client.query(`TRUNCATE ${EMBEDDING_TABLE}`);
    }
    await client.query('COMMIT');
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    client.release();
    if (phase === 'backup') {
      // An incomplete backup must not look like one.
      await Promise.all(written.map((f) => fsp.rm(f, { force: true })));
      await releaseStamp();
      await appendLog(dir, `${localTimestamp(new Date())} [ERROR] backup ${stamp} failed, nothing was truncated: ${errorMessage(error)}`);
      throw new VectorStoreError('VECTOR_BACKUP_FAILED', `vector table backup failed (nothing was truncated): ${errorMessage(error)}`, { cause: error });
    }
    await releaseStamp();
    await appendLog(dir, `${localTimestamp(new Date())} [ERROR] truncate of ${EMBEDDING_TABLE} after backup ${stamp} failed (the backup is complete): ${errorMessage(error)}`);
    throw new VectorStoreError('VECTOR_TRUNCATE_FAILED', `truncating ${EMBEDDING_TABLE} failed (the backup ${stamp} is complete): ${errorMessage(error)}`, { cause: error });
  }
  client.release();
  await releaseStamp();
  const durationMs = Date.now() - started;
  const sizes = manifest.tables.map((t) => `${t.table} ${t.rows} rows (${t.bytes} bytes)`).join(', ');
  await appendLog(
    dir,
    `${localTimestamp(new Date())} [INFO] backup ${stamp}: ${sizes} in ${(durationMs / 1000).toFixed(1)}s` +
      (options.truncate ? `; then truncated ${EMBEDDING_TABLE} (${rows[EMBEDDING_TABLE]} rows)` : ''),
  );
  return {
    ...base,
    performed: true,
    truncated: Boolean(options.truncate),
    timestamp: stamp,
    manifest,
    files: [...manifest.tables.map((t) => t.file), manifestFileName(stamp)],
    durationMs,
  };
}

/** Empties langchain_pg_embedding only after a backup of it succeeded: the two in one transaction. */
export function backupAndTruncate(pool: pg.Pool, dir: string, options: Omit<BackupOptions, 'truncate'> = {}): Promise<BackupResult> {
  return backupVectorTables(pool, dir, { ...options, truncate: true });
}

/** `.claim_<stamp>`: made with mkdir, which only one process can do, so two backups started in the same
 * second never share a stamp (and the loser's cleanup never removes the winner's files). */
function claimPath(dir: string, stamp: string): string {
  return path.join(dir, `.claim_${stamp}`);
}

async function claimStamp(dir: string, stamp: string): Promise<string> {
  for (let n = 1; n < 1000; n += 1) {
    const candidate = n === 1 ? stamp : `${stamp}_${n}`;
    try {
      await fsp.mkdir(claimPath(dir, candidate));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'EEXIST') continue;
      throw new VectorStoreError('VECTOR_BACKUP_FAILED', `cannot claim backup timestamp ${candidate}: ${errorMessage(error)}`, { cause: error });
    }
    const taken = await Promise.all(
      [manifestFileName(candidate), backupFileName(COLLECTION_TABLE, candidate), backupFileName(EMBEDDING_TABLE, candidate)].map((f) =>
        fsp.lstat(path.join(dir, f)).then(() => true, () => false),
      ),
    );
    if (!taken.some(Boolean)) return candidate;
    await fsp.rmdir(claimPath(dir, candidate)).catch(() => undefined);
  }
  throw new VectorStoreError('VECTOR_BACKUP_FAILED', `too many backups with timestamp ${stamp} in ${dir}`);
}

function hashingTap(hash: ReturnType<typeof createHash>, counter: { bytes: number }): Transform {
  return new Transform({
    transform(chunk: Buffer, _encoding, callback) {
      hash.update(chunk);
      counter.bytes += chunk.length;
      callback(null, chunk);
    },
  });
}

/** COPYs one table into `file` (created, never overwritten), hashing the bytes on the way; fsynced. */
async function copyTableToFile(
  pool: pg.Pool,
  client: pg.PoolClient,
  table: VectorTable,
  file: string,
  onBytes: (bytes: number) => void,
): Promise<{ rows: number; bytes: number; sha256: string }> {
  const hash = createHash('sha256');
  let bytes = 0;
  const fh = await fsp.open(file, 'wx');
  try {
    const rows = await copyTableToCsv(pool, client, { table, selectList: COLUMNS[table].selectList }, async (chunk) => {
      hash.update(chunk);
      for (let offset = 0; offset < chunk.byteLength; ) offset += (await fh.write(chunk, offset)).bytesWritten;
      bytes += chunk.byteLength;
      onBytes(bytes);
    });
    await fh.sync();
    return { rows, bytes, sha256: hash.digest('hex') };
  } finally {
    await fh.close();
  }
}

async function writeDurably(file: string, text: string): Promise<void> {
  const fh = await fsp.open(file, 'wx');
  try {
    await fh.writeFile(text, 'utf8');
    await fh.sync();
  } finally {
    await fh.close();
  }
}

async function appendLog(dir: string, line: string): Promise<void> {
  await appendNoFollow(path.join(dir, BACKUP_LOG_FILE), `${line}\n`).catch(() => undefined);
}

// ------------------------------------------------------------------------------------------------ list

export interface BackupEntry {
  timestamp: string;
  created_at: string | null;
  task_id: string | null;
  /** True when a manifest exists and parses: only such backups can be restored. */
  restorable: boolean;
  problem?: string;
  embedding_dim: number | null;
  embedding_models: string[];
  truncated_after_backup: boolean;
  files: Array<{ table: string; file: string; rows: number | null; bytes: number }>;
  total_rows: number | null;
  total_bytes: number;
  has_log: boolean;
}

/** The backups in one vector_bak directory, newest first (legacy CSV pairs without a manifest included, not restorable). */
export async function listBackups(dir: string): Promise<BackupEntry[]> {
  const names = await fsp.readdir(dir).catch(() => [] as string[]);
  const hasLog = names.includes(BACKUP_LOG_FILE);
  const stamps = new Set<string>();
  for (const name of names) {
    const m = MANIFEST_PATTERN.exec(name) ?? /^langchain_pg_(?:collection|embedding)_(\d{8}_\d{6}(?:_\d{1,3})?)\.csv$/.exec(name);
    if (m) stamps.add(m[1]!);
  }
  const entries: BackupEntry[] = [];
  for (const stamp of stamps) {
    let manifest: BackupManifest | undefined;
    let problem: string | undefined;
    if (names.includes(manifestFileName(stamp))) {
      try {
        manifest = await readManifest(dir, stamp);
      } catch (error) {
        problem = errorMessage(error);
      }
    } else {
      problem = 'no manifest (incomplete or foreign backup)';
    }
    const files: BackupEntry['files'] = [];
    for (const table of [COLLECTION_TABLE, EMBEDDING_TABLE] as const) {
      const file = backupFileName(table, stamp);
      const stat = await fsp.lstat(path.join(dir, file)).catch(() => undefined);
      if (!stat) continue;
      files.push({ table, file, rows: manifest?.tables.find((t) => t.table === table)?.rows ?? null, bytes: stat.size });
    }
    entries.push({
      timestamp: stamp,
      created_at: manifest?.created_at ?? null,
      task_id: manifest?.task_id ?? null,
      restorable: Boolean(manifest) && files.length === 2,
      ...(problem ? { problem } : {}),
      embedding_dim: manifest?.embedding.dim ?? null,
      embedding_models: manifest?.embedding.models ?? [],
      truncated_after_backup: manifest?.truncated_after_backup ?? false,
      files,
      total_rows: manifest ? manifest.tables.reduce((s, t) => s + t.rows, 0) : null,
      total_bytes: files.reduce((s, f) => s + f.bytes, 0),
      has_log: hasLog,
    });
  }
  return entries.sort((a, b) => b.timestamp.localeCompare(a.timestamp, 'en', { numeric: true }));
}

async function readManifest(dir: string, stamp: string): Promise<BackupManifest> {
  const file = path.join(dir, manifestFileName(stamp));
  await requireRegularFile(file);
  let parsed: unknown;
  try {
    parsed = JSON.parse(await fsp.readFile(file, 'utf8'));
  } catch (error) {
    throw new VectorStoreError('VECTOR_BACKUP_INVALID', `manifest ${manifestFileName(stamp)} is not valid JSON: ${errorMessage(error)}`);
  }
  const result = manifestSchema.safeParse(parsed);
  if (!result.success) {
    throw new VectorStoreError('VECTOR_BACKUP_INVALID', `manifest ${manifestFileName(stamp)} is malformed: ${result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
  }
  const manifest = result.data;
  if (manifest.timestamp !== stamp) throw new VectorStoreError('VECTOR_BACKUP_INVALID', `manifest ${manifestFileName(stamp)} names timestamp ${manifest.timestamp}`);
  for (const table of [COLLECTION_TABLE, EMBEDDING_TABLE] as const) {
    const entry = manifest.tables.find((t) => t.table === table);
    if (!entry) throw new VectorStoreError('VECTOR_BACKUP_INVALID', `manifest ${manifestFileName(stamp)} has no entry for ${table}`);
    // Only our own file names, in the backup's own directory: a manifest cannot point elsewhere.
    if (entry.file !== backupFileName(table, stamp)) {
      throw new VectorStoreError('VECTOR_BACKUP_INVALID', `manifest ${manifestFileName(stamp)} names file ${JSON.stringify(entry.file)} for ${table}; expected ${backupFileName(table, stamp)}`);
    }
    if (entry.columns.join(',') !== COLUMNS[table].columns.join(',')) {
      throw new VectorStoreError('VECTOR_BACKUP_INVALID', `manifest ${manifestFileName(stamp)}: unexpected columns for ${table}`);
    }
  }
  return manifest;
}

async function requireRegularFile(file: string): Promise<fs.Stats> {
  const stat = await fsp.lstat(file).catch(() => undefined);
  if (!stat) throw new VectorStoreError('VECTOR_BACKUP_NOT_FOUND', `backup file not found: ${path.basename(file)}`);
  if (!stat.isFile()) throw new VectorStoreError('VECTOR_BACKUP_INVALID', `${path.basename(file)} is not a regular file (symbolic links are refused)`);
  return stat;
}

// --------------------------------------------------------------------------------------------- restore

export interface VerifiedBackup {
  dir: string;
  manifest: BackupManifest;
}

/**
 * Checks a backup without touching the database: `dir` must be a real directory inside `root` (no symlink
 * on the way out), the manifest must parse and name our own files, and each file's size and sha256 must
 * match it.
 */
export async function verifyBackup(root: string, dir: string, stamp: string): Promise<VerifiedBackup> {
  if (!STAMP_PATTERN.test(stamp)) throw new VectorStoreError('VECTOR_BACKUP_INVALID', `invalid backup timestamp ${JSON.stringify(stamp)} (expected YYYYMMDD_HHMMSS)`);
  const realRoot = await fsp.realpath(root).catch(() => undefined);
  const realDir = await fsp.realpath(dir).catch(() => undefined);
  if (!realRoot || !realDir) throw new VectorStoreError('VECTOR_BACKUP_NOT_FOUND', `no backup directory ${path.relative(root, dir) || dir}`);
  const rel = path.relative(realRoot, realDir);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) {
    throw new VectorStoreError('VECTOR_BACKUP_INVALID', 'the backup directory lies outside the data directory');
  }
  if (realDir !== path.resolve(dir)) throw new VectorStoreError('VECTOR_BACKUP_INVALID', 'the backup directory path goes through a symbolic link');
  const manifest = await readManifest(realDir, stamp);
  for (const entry of manifest.tables) {
    const stat = await requireRegularFile(path.join(realDir, entry.file));
    if (stat.size !== entry.bytes) {
      throw new VectorStoreError('VECTOR_BACKUP_INVALID', `${entry.file} is ${stat.size} bytes; the manifest says ${entry.bytes}: the backup was modified or is incomplete`);
    }
  }
  // Everything the restore will rely on is checked now, before anything (a safety backup included) is
  // written: checksums, headers, row counts, collection references and vector dimensions.
  const collectionEntry = manifest.tables.find((t) => t.table === COLLECTION_TABLE)!;
  const embeddingEntry = manifest.tables.find((t) => t.table === EMBEDDING_TABLE)!;
  const collections = new Set<string>();
  await checkedCsv(path.join(realDir, collectionEntry.file), collectionEntry, async (row) => {
    if (row[0]) collections.add(row[0]);
  });
  const dim = manifest.embedding.dim;
  await checkedCsv(path.join(realDir, embeddingEntry.file), embeddingEntry, async (row) => {
    if (row[1] !== null && row[1] !== undefined && !collections.has(row[1])) {
      throw new VectorStoreError('VECTOR_BACKUP_INVALID', `an embedding row names collection ${row[1]}, which the backup does not hold`);
    }
    if (dim !== null && dim !== undefined && row[2] && row[2].split(',').length !== dim) {
      throw new VectorStoreError('VECTOR_BACKUP_INVALID', `an embedding row has ${row[2].split(',').length} dimensions; the manifest says ${dim}`);
    }
  });
  return { dir: realDir, manifest };
}

export interface RestoreOptions {
  /** Empty langchain_pg_embedding (in the same transaction) before loading. Default false: rows whose id exists are kept. */
  truncateBeforeRestore?: boolean;
  /** Dimension for tables that have to be created and the backup does not know (empty backup). */
  fallbackDim?: number;
  onRows?: (rows: number) => void;
}

export interface RestoreResult {
  timestamp: string;
  truncated: boolean;
  collections: { restored: number; existing: number };
  embeddings: { restored: number; skipped_existing: number };
  durationMs: number;
}

/** Loads a verified backup in one transaction: all rows or none. */
export async function restoreVectorTables(pool: pg.Pool, backup: VerifiedBackup, options: RestoreOptions = {}): Promise<RestoreResult> {
  const started = Date.now();
  const { manifest, dir } = backup;
  const collectionEntry = manifest.tables.find((t) => t.table === COLLECTION_TABLE)!;
  const embeddingEntry = manifest.tables.find((t) => t.table === EMBEDDING_TABLE)!;
  const dim = manifest.embedding.dim ?? options.fallbackDim;
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    await client.query('SELECT pg_advisory_xact_lock($1)', [VECTOR_LOCK_KEY]);
    if (dim === undefined) {
      const info = await inspectVectorTables(client);
      if (!info.embeddingTable) throw new VectorStoreError('VECTOR_RESTORE_FAILED', 'the backup is empty and the vector tables do not exist: nothing to restore');
    } else {
      await ensureInTransaction(client, { dim, collections: [] });
    }
    if (options.truncateBeforeRestore) await client.query(`TRUNCATE ${EMBEDDING_TABLE}`);

    // Collections: keep existing ones (by name); map the backup's uuids onto the target's.
    const collections = await readCsv(path.join(dir, collectionEntry.file), collectionEntry);
    const backupUuidToName = new Map(collections.rows.map((r) => [r[0]!, r[1]!]));
    const inserted = await client.query<{ n: string }>(
      `WITH ins AS (
         INSERT INTO ${COLLECTION_TABLE} (uuid, name, cmetadata)
         SELECT t.uuid, t.name, t.cmetadata::json FROM unnest($1::uuid[], $2::varchar[], $3::text[]) AS t(uuid, name, cmetadata)
          WHERE NOT EXISTS (SELECT 1 FROM ${COLLECTION_TABLE} c WHERE c.name = t.name)
         ON CONFLICT DO NOTHING RETURNING 1)
       SELECT count(*) AS n FROM ins`,
      [collections.rows.map((r) => r[0]), collections.rows.map((r) => r[1]), collections.rows.map((r) => r[2] ?? null)],
    );
    const target = await client.query<{ uuid: string; name: string }>(`SELECT uuid::text AS uuid, name FROM ${COLLECTION_TABLE} WHERE name = ANY($1::varchar[])`, [
      [...backupUuidToName.values()],
    ]);
    const nameToUuid = new Map(target.rows.map((r) => [r.name, r.uuid]));
    const mapCollection = (backupUuid: string | null): string | null => {
      if (backupUuid === null) return null;
      const name = backupUuidToName.get(backupUuid);
      if (name === undefined) throw new VectorStoreError('VECTOR_BACKUP_INVALID', `an embedding row names collection ${backupUuid}, which the backup does not hold`);
      return nameToUuid.get(name)!;
    };

    // Embeddings: streamed, in batches, each one statement.
    let restored = 0;
    let seen = 0;
    let batch: Array<Array<string | null>> = [];
    const flush = async () => {
      if (!batch.length) return;
      const r = await client.query<{ n: string }>(
        `WITH ins AS (
           INSERT INTO ${EMBEDDING_TABLE} (id, collection_id, embedding, document, cmetadata)
           SELECT t.id, t.collection_id, t.embedding::vector, t.document, t.cmetadata::jsonb
             FROM unnest($1::varchar[], $2::uuid[], $3::text[], $4::varchar[], $5::text[]) AS t(id, collection_id, embedding, document, cmetadata)
           ON CONFLICT (id) DO NOTHING RETURNING 1)
         SELECT count(*) AS n FROM ins`,
        [0, 1, 2, 3, 4].map((i) => batch.map((row) => row[i] ?? null)),
      );
      restored += Number(r.rows[0]!.n);
      seen += batch.length;
      options.onRows?.(seen);
      batch = [];
    };
    await streamCsv(path.join(dir, embeddingEntry.file), embeddingEntry, async (row) => {
      batch.push([row[0]!, mapCollection(row[1] ?? null), row[2] ?? null, row[3] ?? null, row[4] ?? null]);
      if (batch.length >= RESTORE_BATCH) await flush();
    });
    await flush();
    await client.query('COMMIT');
    return {
      timestamp: manifest.timestamp,
      truncated: Boolean(options.truncateBeforeRestore),
      collections: { restored: Number(inserted.rows[0]!.n), existing: collections.rows.length - Number(inserted.rows[0]!.n) },
      embeddings: { restored, skipped_existing: seen - restored },
      durationMs: Date.now() - started,
    };
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    if (error instanceof VectorStoreError) throw error;
    throw new VectorStoreError('VECTOR_RESTORE_FAILED', `restore of backup ${manifest.timestamp} failed, nothing was changed: ${errorMessage(error)}`, { cause: error });
  } finally {
    client.release();
  }
}

type CsvRow = Array<string | null>;

function csvParser() {
  // NULL was written as an empty unquoted field, '' as "".
  return parse({ cast: (value: string, context: CastingContext) => (value === '' && !context.quoting ? null : value) });
}

/** Streams a CSV file's records to `onRow`, re-hashing the bytes actually read; checks them against the manifest entry. */
async function streamCsv(file: string, entry: BackupManifest['tables'][number], onRow: (row: CsvRow) => Promise<void>): Promise<void> {
  const hash = createHash('sha256');
  const counter = { bytes: 0 };
  let rows = 0;
  let header = true;
  await pipeline(fs.createReadStream(file), hashingTap(hash, counter), csvParser(), async (source: AsyncIterable<unknown>) => {
    for await (const record of source) {
      const row = record as CsvRow;
      if (header) {
        header = false;
        if (row.join(',') !== entry.columns.join(',')) throw new VectorStoreError('VECTOR_BACKUP_INVALID', `${entry.file}: unexpected CSV header ${JSON.stringify(row)}`);
        continue;
      }
      if (row.length !== entry.columns.length) throw new VectorStoreError('VECTOR_BACKUP_INVALID', `${entry.file}: a row has ${row.length} fields`);
      rows += 1;
      await onRow(row);
    }
  });
  if (hash.digest('hex') !== entry.sha256 || counter.bytes !== entry.bytes) {
    throw new VectorStoreError('VECTOR_BACKUP_INVALID', `${entry.file} does not match its checksum in the manifest (modified, or changed while being read): nothing was changed`);
  }
  if (rows !== entry.rows) throw new VectorStoreError('VECTOR_BACKUP_INVALID', `${entry.file} holds ${rows} rows; the manifest says ${entry.rows}`);
}

/** streamCsv, with a file that is not CSV at all reported as an invalid backup. */
async function checkedCsv(file: string, entry: BackupManifest['tables'][number], onRow: (row: CsvRow) => Promise<void>): Promise<void> {
  try {
    await streamCsv(file, entry, onRow);
  } catch (error) {
    if (error instanceof VectorStoreError) throw error;
    throw new VectorStoreError('VECTOR_BACKUP_INVALID', `${entry.file} is not a valid backup CSV: ${errorMessage(error)}`, { cause: error });
  }
}

async function readCsv(file: string, entry: BackupManifest['tables'][number]): Promise<{ rows: CsvRow[] }> {
  const rows: CsvRow[] = [];
  await streamCsv(file, entry, async (row) => {
    rows.push(row);
  });
  return { rows };
}
