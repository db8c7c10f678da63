// The vector store on both databases it runs on: real PostgreSQL 15 with pgvector, and embedded PGlite.
// Tables created when missing and used as they are when present; dimension and embedder checks;
// idempotent upserts; search; backup → truncate → restore round trip on 20,000 rows (checksums);
// tampered or foreign backups refused with nothing changed; a failed backup truncates nothing.
import assert from 'node:assert/strict';
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { connect, embeddedEngine, type Database } from '../../src/postgres/connect.ts';
import { backupAndTruncate, backupVectorTables, listBackups, manifestFileName, restoreVectorTables, verifyBackup } from '../../src/vector/backup.ts';
import { documentId, prepareQuestionSql, uuidV5 } from '../../src/vector/documents.ts';
import { VectorStoreError } from '../../src/vector/errors.ts';
import { ensureVectorStore, inspectVectorTables } from '../../src/vector/schema.ts';
import { existingIds, insertRows, searchCollections, vectorStats } from '../../src/vector/store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const DIM = 8;
// Enough rows for many restore batches (1,000 each); the 100,000-row scale is bench/vector-backup.ts's.
const BIG = 20_000;
/** Values a CSV round trip could get wrong: empty vs NULL, quotes, line breaks, COPY's end marker. */
const AWKWARD: Array<[string, string | null, Record<string, unknown> | null]> = [
  ['odd-1-doc', '', { note: 'empty document' }],
  ['odd-2-doc', null, null],
  ['odd-3-doc', 'a,b,"quoted"\nsecond line\r\nthird\ttab', { nested: { list: [1, 'two', null], zh: '中文' } }],
  ['odd-4-doc', '"', { quote: '"', comma: ',' }],
  ['odd-5-doc', ' leading and trailing spaces ', { empty: '' }],
  ['odd-6-doc', 'NULL', { s: 'NULL' }],
  // COPY's end-of-data marker, alone and on a line of its own inside a value.
  ['odd-7-doc', '\\.', { s: '\\.' }],
  ['odd-8-doc', 'before\n\\.\nafter', { s: '\\.\n' }],
];

const isCode = (code: string) => (error: unknown) => error instanceof VectorStoreError && error.code === code;

function unit(seed: number): number[] {
  const v = Array.from({ length: DIM }, (_, i) => Math.sin(seed * (i + 1) + 0.5));
  const n = Math.hypot(...v);
  return v.map((x) => Math.fround(x / n));
}

async function dropTables(db: Database) {
  await db.pool.query('DROP TABLE IF EXISTS langchain_pg_embedding, langchain_pg_collection');
}

/** Content checksum of the embedding table: NULL and '' kept apart, every column, by id. */
async function checksum(db: Database): Promise<{ n: number; md5: string; collections: string }> {
  const { rows } = await db.pool.query<{ n: string; md5: string }>(
    `SELECT count(*) AS n, md5(coalesce(string_agg(id || '|' || coalesce(collection_id::text, '<null>') || '|' || coalesce(embedding::text, '<null>') || '|' ||
            coalesce(document, '<null>') || '|' || coalesce(cmetadata::text, '<null>'), E'\\n' ORDER BY id), '')) AS md5
       FROM langchain_pg_embedding`,
  );
  const c = await db.pool.query<{ s: string }>(`SELECT coalesce(string_agg(uuid::text || ':' || name || ':' || coalesce(cmetadata::text, '<null>'), ',' ORDER BY name), '') AS s FROM langchain_pg_collection`);
  return { n: Number(rows[0]!.n), md5: rows[0]!.md5, collections: c.rows[0]!.s };
}

/** BIG rows server-side (fast), plus a few with every awkward value a CSV can meet. */
async function fillBig(db: Database, collections: Record<string, string>) {
  await db.pool.query(
    `INSERT INTO langchain_pg_embedding (id, collection_id, embedding, document, cmetadata)
     SELECT 'bulk-' || lpad(g::text, 6, '0') || '-sql', $1::uuid,
            ARRAY(SELECT sin(g * i + 0.5) FROM generate_series(1, ${DIM}) AS i)::float8[]::vector,
            json_build_object('question', '问题 ' || g, 'sql', 'SELECT ' || g)::text,
            jsonb_build_object('id', 'bulk-' || lpad(g::text, 6, '0') || '-sql', 'source', 'data-pipeline', 'embedding_model', 'hashing-zh-v1', 'n', g)
       FROM generate_series(1, ${BIG - AWKWARD.length}) AS g`,
    [collections.sql],
  );
  await insertRows(
    db.pool,
    AWKWARD.map(([id, document, meta], i) => ({ id, collectionId: collections.documentation!, document: document as string, embedding: unit(i), cmetadata: meta as Record<string, unknown> })),
  );
  // insertRows stringifies cmetadata: make the NULL one a real NULL.
  await db.pool.query(`UPDATE langchain_pg_embedding SET cmetadata = NULL WHERE id = 'odd-2-doc'`);
}

for (const backend of ['postgres', 'pglite'] as const) {
  describe(`vector store on ${backend}`, { timeout: 600_000 }, () => {
    let testDb: TestDatabase | undefined;
    let db: Database;
    let root: string;

    before(async () => {
      root = fs.mkdtempSync(path.join(os.tmpdir(), `dp-vec-${backend}-`));
      if (backend === 'postgres') {
        testDb = await createTestDatabase('dp_vec');
        db = await connect(testDb.url);
      } else {
        db = await connect(`pglite://${path.join(root, 'pg')}`);
      }
    });
    after(async () => {
      await db.close();
      await testDb?.drop();
      fs.rmSync(root, { recursive: true, force: true });
    });

    test('creates the extension, tables, index and the three collections when missing; idempotent', async () => {
      await dropTables(db);
      const first = await ensureVectorStore(db.pool, { dim: DIM, model: 'm1' });
      assert.equal(first.created, true);
      assert.deepEqual(Object.keys(first.collections).sort(), ['ddl', 'documentation', 'sql']);
      const second = await ensureVectorStore(db.pool, { dim: DIM, model: 'm1' });
      assert.equal(second.created, false);
      assert.deepEqual(second.collections, first.collections);
      const info = await inspectVectorTables(db.pool);
      assert.deepEqual(info, { extension: true, collectionTable: true, embeddingTable: true, dim: DIM });
      const idx = await db.pool.query(`SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_cmetadata_gin'`);
      assert.match(idx.rows[0].indexdef, /gin \(cmetadata jsonb_path_ops\)/);
    });

    test('a store of another dimension is refused clearly', async () => {
      await assert.rejects(ensureVectorStore(db.pool, { dim: DIM * 2 }), (e: unknown) => isCode('VECTOR_DIMENSION_MISMATCH')(e) && /dimension 8.*gives 16/.test((e as Error).message));
    });

    test('existing LangChain tables (Vanna: vector without dimension, random ids) are used as they are', async () => {
      await dropTables(db);
      const vannaSql = randomUUID();
      await db.pool.query(`CREATE TABLE langchain_pg_collection (uuid uuid PRIMARY KEY, name varchar NOT NULL UNIQUE, cmetadata json)`);
      await db.pool.query(
        `CREATE TABLE langchain_pg_embedding (id varchar PRIMARY KEY, collection_id uuid REFERENCES langchain_pg_collection(uuid) ON DELETE CASCADE,
           embedding vector, document varchar, cmetadata jsonb)`,
      );
      await db.pool.query(`INSERT INTO langchain_pg_collection VALUES ($1, 'sql', NULL)`, [vannaSql]);
      const vannaId = `${randomUUID()}-sql`;
      await db.pool.query(`INSERT INTO langchain_pg_embedding VALUES ($1, $2, $3::vector, $4, $5)`, [
        vannaId,
        vannaSql,
        `[${unit(99).join(',')}]`,
        JSON.stringify({ question: 'Vanna 自己训练的问题', sql: 'SELECT 1' }),
        JSON.stringify({ id: vannaId }),
      ]);
      const handle = await ensureVectorStore(db.pool, { dim: DIM, model: 'm1' });
      assert.equal(handle.created, false);
      assert.equal(handle.collections.sql, vannaSql); // the existing collection is reused
      assert.equal((await inspectVectorTables(db.pool)).dim, DIM); // from a stored row
      await assert.rejects(ensureVectorStore(db.pool, { dim: 4 }), isCode('VECTOR_DIMENSION_MISMATCH'));
      const rows = await db.pool.query(`SELECT id FROM langchain_pg_embedding`);
      assert.deepEqual(rows.rows.map((r) => r.id), [vannaId]);
    });

    test('an old langchain_community table (no id column) is refused with an explanation', async () => {
      await dropTables(db);
      await db.pool.query(`CREATE TABLE langchain_pg_collection (uuid uuid PRIMARY KEY, name varchar, cmetadata json)`);
      await db.pool.query(`CREATE TABLE langchain_pg_embedding (uuid uuid PRIMARY KEY, collection_id uuid, embedding vector(8), document varchar, cmetadata json, custom_id varchar)`);
      await assert.rejects(ensureVectorStore(db.pool, { dim: DIM }), (e: unknown) => isCode('VECTOR_SCHEMA_INVALID')(e) && /lacks column\(s\) id/.test((e as Error).message));
      await dropTables(db);
    });

    test('deterministic ids: the same item twice is one row; another embedder model is refused', async () => {
      await dropTables(db);
      const { collections } = await ensureVectorStore(db.pool, { dim: DIM, model: 'm1' });
      const a = prepareQuestionSql('  各服务区的营业额？ ', 'SELECT 1\r\n');
      const b = prepareQuestionSql('各服务区的营业额？', 'SELECT 1');
      assert.equal(a.id, b.id);
      assert.match(a.id, /^[0-9a-f]{8}-[0-9a-f]{4}-5[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}-sql$/);
      assert.equal(documentId('ddl', 'x'), `${uuidV5('ddl\nx')}-ddl`);
      const row = { id: a.id, collectionId: collections.sql!, document: a.document, embedding: unit(1), cmetadata: { id: a.id, source: 'data-pipeline', embedding_model: 'm1' } };
      assert.equal((await insertRows(db.pool, [row])).size, 1);
      assert.equal((await insertRows(db.pool, [row, { ...row }])).size, 0);
      assert.deepEqual([...(await existingIds(db.pool, [a.id, 'nope']))], [a.id]);
      await assert.rejects(ensureVectorStore(db.pool, { dim: DIM, model: 'm2' }), (e: unknown) => isCode('VECTOR_EMBEDDER_MISMATCH')(e) && /m1/.test((e as Error).message));
      await ensureVectorStore(db.pool, { dim: DIM, model: 'm1' });
    });

    test('search: nearest first within each collection, cosine distance, scores', async () => {
      await dropTables(db);
      const { collections } = await ensureVectorStore(db.pool, { dim: DIM });
      await insertRows(
        db.pool,
        [1, 2, 3, 4].map((seed) => ({ id: `r${seed}-sql`, collectionId: collections.sql!, document: `doc ${seed}`, embedding: unit(seed), cmetadata: { id: `r${seed}-sql` } })),
      );
      const hits = await searchCollections(db.pool, unit(3), ['sql', 'ddl'], 2);
      assert.equal(hits.sql!.length, 2);
      assert.equal(hits.sql![0]!.id, 'r3-sql');
      assert.ok(Math.abs(hits.sql![0]!.score - 1) < 1e-5);
      assert.ok(hits.sql![0]!.distance <= hits.sql![1]!.distance);
      assert.deepEqual(hits.ddl, []);
      await assert.rejects(searchCollections(db.pool, [1, 0], ['sql'], 1), isCode('VECTOR_DIMENSION_MISMATCH'));
      const stats = await vectorStats(db.pool);
      assert.equal(stats.total, 4);
      assert.equal(stats.collections.find((c) => c.name === 'sql')!.rows, 4);
    });

    test(`backup → truncate → restore of ${BIG.toLocaleString('en')} rows gives identical rows (checksums)`, async () => {
      await dropTables(db);
      const { collections } = await ensureVectorStore(db.pool, { dim: DIM });
      await fillBig(db, collections);
      const before = await checksum(db);
      assert.equal(before.n, BIG);
      const dir = path.join(root, 'out', 'task_1', 'vector_bak');

      const started = Date.now();
      const backup = await backupAndTruncate(db.pool, dir, { taskId: 'task_1', source: db.label, configuredModel: 'hashing-zh-v1' });
      const backupMs = Date.now() - started;
      assert.equal(backup.performed, true);
      assert.equal(backup.truncated, true);
      assert.equal(backup.rows.langchain_pg_embedding, BIG);
      const files = fs.readdirSync(dir).sort();
      assert.deepEqual(files, [
        `langchain_pg_collection_${backup.timestamp}.csv`,
        `langchain_pg_embedding_${backup.timestamp}.csv`,
        manifestFileName(backup.timestamp!),
        'vector_backup_log.txt',
      ].sort());
      const manifest = JSON.parse(fs.readFileSync(path.join(dir, manifestFileName(backup.timestamp!)), 'utf8'));
      assert.equal(manifest.embedding.dim, DIM);
      assert.deepEqual(manifest.embedding.models, ['hashing-zh-v1']);
      assert.equal(manifest.tables[1].rows, BIG);
      assert.match(fs.readFileSync(path.join(dir, 'vector_backup_log.txt'), 'utf8'), new RegExp(`truncated langchain_pg_embedding \\(${BIG} rows\\)`));
      const csvHead = fs.readFileSync(path.join(dir, `langchain_pg_embedding_${backup.timestamp}.csv`), 'utf8').slice(0, 300);
      assert.match(csvHead, /^id,collection_id,embedding,document,cmetadata\n/);

      // Truncated: embeddings gone, collections kept.
      assert.equal((await checksum(db)).n, 0);
      assert.equal((await checksum(db)).collections, before.collections);

      const verified = await verifyBackup(path.join(root, 'out'), dir, backup.timestamp!);
      const t0 = Date.now();
      const result = await restoreVectorTables(db.pool, verified);
      const restoreMs = Date.now() - t0;
      assert.equal(result.embeddings.restored, BIG);
      assert.deepEqual(await checksum(db), before);
      console.log(`# ${backend}: backup+truncate ${BIG} rows ${backupMs} ms, restore ${restoreMs} ms`);

      // Restoring again over the same rows changes nothing (ids kept); with truncate_before_restore too.
      const again = await restoreVectorTables(db.pool, verified);
      assert.equal(again.embeddings.restored, 0);
      assert.equal(again.embeddings.skipped_existing, BIG);
      await restoreVectorTables(db.pool, verified, { truncateBeforeRestore: true });
      assert.deepEqual(await checksum(db), before);

      // Into an empty database (tables dropped): created with the backup's dimension and collection uuids.
      await dropTables(db);
      await restoreVectorTables(db.pool, verified);
      assert.deepEqual(await checksum(db), before);
      assert.deepEqual((await listBackups(dir)).map((b) => [b.timestamp, b.restorable, b.total_rows]), [[backup.timestamp, true, BIG + 3]]);
    });

    test('a tampered file, a forged manifest or a foreign path is refused, and nothing changes', async () => {
      const out = path.join(root, 'out');
      const dir = path.join(out, 'task_1', 'vector_bak');
      const before = await checksum(db);
      const backup = await backupVectorTables(db.pool, dir, {});
      const csv = path.join(dir, `langchain_pg_embedding_${backup.timestamp}.csv`);
      const original = fs.readFileSync(csv);

      // One byte changed, same size.
      const tampered = Buffer.from(original);
      const at = tampered.indexOf('问题 5');
      tampered.write('问题 6', at);
      fs.writeFileSync(csv, tampered);
      await assert.rejects(verifyBackup(out, dir, backup.timestamp!), (e: unknown) => isCode('VECTOR_BACKUP_INVALID')(e) && /checksum/.test((e as Error).message));
      fs.writeFileSync(csv, original);
      await verifyBackup(out, dir, backup.timestamp!);

      // A manifest that points elsewhere.
      const manifestPath = path.join(dir, manifestFileName(backup.timestamp!));
      const manifest = JSON.parse(fs.readFileSync(manifestPath, 'utf8'));
      const forged = structuredClone(manifest);
      forged.tables[1].file = '../../other/langchain_pg_embedding.csv';
      fs.writeFileSync(manifestPath, JSON.stringify(forged));
      await assert.rejects(verifyBackup(out, dir, backup.timestamp!), (e: unknown) => isCode('VECTOR_BACKUP_INVALID')(e) && /names file/.test((e as Error).message));
      fs.writeFileSync(manifestPath, JSON.stringify(manifest));

      // Directories outside the data directory, through a symlink, or a bad timestamp.
      const outside = path.join(root, 'elsewhere', 'vector_bak');
      fs.mkdirSync(path.dirname(outside), { recursive: true });
      fs.cpSync(dir, outside, { recursive: true });
      await assert.rejects(verifyBackup(out, outside, backup.timestamp!), (e: unknown) => isCode('VECTOR_BACKUP_INVALID')(e) && /outside the data directory/.test((e as Error).message));
      fs.symlinkSync(path.dirname(outside), path.join(out, 'task_link'));
      await assert.rejects(verifyBackup(out, path.join(out, 'task_link', 'vector_bak'), backup.timestamp!), isCode('VECTOR_BACKUP_INVALID'));
      await assert.rejects(verifyBackup(out, dir, '../../etc'), isCode('VECTOR_BACKUP_INVALID'));
      await assert.rejects(verifyBackup(out, dir, '20000101_000000'), isCode('VECTOR_BACKUP_NOT_FOUND'));

      // A consistent but broken backup (bad vector near the end, checksums recomputed): refused by the
      // verification, before anything is written; and were it restored, one transaction, nothing changes.
      const lines = original.toString('utf8').split('\n');
      const victim = lines.length - 10;
      lines[victim] = lines[victim]!.replace(/"\[[^\]]*\]"|\[[^\]]*\]/, '"[oops]"');
      const broken = Buffer.from(lines.join('\n'));
      fs.writeFileSync(csv, broken);
      const { createHash } = await import('node:crypto');
      const rewritten = structuredClone(manifest);
      rewritten.tables[1].bytes = broken.length;
      rewritten.tables[1].sha256 = createHash('sha256').update(broken).digest('hex');
      fs.writeFileSync(manifestPath, JSON.stringify(rewritten));
      await assert.rejects(verifyBackup(out, dir, backup.timestamp!), isCode('VECTOR_BACKUP_INVALID'));
      await assert.rejects(restoreVectorTables(db.pool, { dir, manifest: rewritten }, { truncateBeforeRestore: true }), isCode('VECTOR_RESTORE_FAILED'));
      assert.deepEqual(await checksum(db), before);
    });

    test('a failed backup truncates nothing and leaves no half backup behind', async () => {
      const before = await checksum(db);
      assert.ok(before.n > 0);
      // The backup directory cannot be created.
      const blocked = path.join(root, 'blocked');
      fs.writeFileSync(blocked, 'a file where the folder should be');
      await assert.rejects(backupAndTruncate(db.pool, path.join(blocked, 'vector_bak')), isCode('VECTOR_BACKUP_FAILED'));
      assert.deepEqual(await checksum(db), before);
      // The backup fails half-way through streaming the embedding table.
      const dir = path.join(root, 'out', 'task_2', 'vector_bak');
      await assert.rejects(
        backupAndTruncate(db.pool, dir, {
          onBytes: (n) => {
            if (n >= 1_000_000) throw new Error('disk full (simulated)');
          },
        }),
        (e: unknown) => isCode('VECTOR_BACKUP_FAILED')(e) && /nothing was truncated.*disk full/.test((e as Error).message),
      );
      assert.deepEqual(await checksum(db), before);
      assert.deepEqual(fs.readdirSync(dir), ['vector_backup_log.txt']);
      assert.match(fs.readFileSync(path.join(dir, 'vector_backup_log.txt'), 'utf8'), /\[ERROR\] backup .* failed, nothing was truncated/);
      assert.deepEqual(await listBackups(dir), []);
    });

    test('a COPY that failed earlier in this process leaves nothing in the next backup', { skip: backend !== 'pglite' }, async () => {
      await dropTables(db);
      const { collections } = await ensureVectorStore(db.pool, { dim: DIM });
      await insertRows(db.pool, [1, 2, 3].map((seed) => ({ id: `l${seed}-sql`, collectionId: collections.sql!, document: `doc ${seed}`, embedding: unit(seed), cmetadata: { id: `l${seed}-sql` } })));
      const engine = embeddedEngine(db.pool)!;
      // PGlite keeps what a failed COPY wrote to /dev/blob for the next one.
      await assert.rejects(engine.query(`COPY (SELECT 1 / (5 - g) FROM generate_series(1, 10000) AS g) TO '/dev/blob' WITH (FORMAT csv)`), /division by zero/);
      const before = await checksum(db);
      const dir = path.join(root, 'out', 'task_leftover', 'vector_bak');
      const backup = await backupVectorTables(db.pool, dir, {});
      const collectionCsv = fs.readFileSync(path.join(dir, `langchain_pg_collection_${backup.timestamp}.csv`), 'utf8');
      assert.match(collectionCsv, /^uuid,name,cmetadata\n/);
      const verified = await verifyBackup(path.join(root, 'out'), dir, backup.timestamp!);
      await restoreVectorTables(db.pool, verified, { truncateBeforeRestore: true });
      assert.deepEqual(await checksum(db), before);
    });

    test('no vector tables yet: backup and truncate are skipped, with the reason', async () => {
      await dropTables(db);
      const result = await backupAndTruncate(db.pool, path.join(root, 'out', 'task_3', 'vector_bak'));
      assert.equal(result.performed, false);
      assert.match(result.skippedReason!, /does not exist yet/);
    });
  });
}
