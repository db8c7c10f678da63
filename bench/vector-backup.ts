// vector-backup: memory of a vector table backup stays flat whatever the table size.
// langchain_pg_embedding is filled with 100,000 rows (dimension 384, realistic documents and cmetadata),
// then backed up (server-side cursor → csv-stringify → file, hashed on the way) while the process RSS is
// sampled every 20 ms. Target: RSS growth during the backup < 100 MB. The same is measured for 10,000 rows
// to show that growth does not follow size. Restore time of the 100,000 rows is reported for information.
// Run: npx tsx bench/vector-backup.ts [--only postgres|pglite]
import fs from 'node:fs';
import path from 'node:path';
import v8 from 'node:v8';
import vm from 'node:vm';
import { connect, type Database } from '../src/postgres/connect.ts';
import { backupVectorTables, restoreVectorTables, verifyBackup } from '../src/vector/backup.ts';
import { ensureVectorStore } from '../src/vector/schema.ts';
import { codeVersion, createBenchDatabase, makeTempDir, printTable, round, runCleanups, startWatchdog, writeResults } from './lib/harness.ts';

const ROWS = Number(process.env.BENCH_ROWS ?? 100_000);
const SMALL = Math.round(ROWS / 10);
const DIM = Number(process.env.BENCH_DIM ?? 384);
/** Embedded PGlite computes the fill in WASM (slow): a narrower vector keeps the run inside its bound. */
const PGLITE_DIM = Number(process.env.BENCH_PGLITE_DIM ?? 128);
// A full GC before each baseline, so that garbage left by the fill is not counted as headroom.
v8.setFlagsFromString('--expose-gc');
const gc = vm.runInNewContext('gc') as () => void;
const TARGET_MB = 100;
const MB = 1024 * 1024;

startWatchdog(230);
const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;

async function fill(db: Database, collection: string, from: number, to: number, DIM: number) {
  for (let start = from; start <= to; start += 10_000) {
    const end = Math.min(to, start + 9_999);
    await db.pool.query(
      `INSERT INTO langchain_pg_embedding (id, collection_id, embedding, document, cmetadata)
       SELECT md5(g::text)::uuid::text || '-sql', $1::uuid,
              ARRAY(SELECT sin(g * i + 0.5) FROM generate_series(1, ${DIM}) AS i)::float8[]::vector,
              json_build_object('question', '服务区' || (g % 97) || '在2024年的第' || g || '项营业指标是多少？',
                                'sql', 'SELECT sum(pay_sum) FROM bss_business_day_data WHERE service_no = ''H' || g || '''')::text,
              jsonb_build_object('id', md5(g::text)::uuid::text || '-sql', 'source', 'data-pipeline', 'task_id', 'task_bench', 'db_name', 'highway_db',
                                 'file', 'qs_highway_db_20250101_000000_pair.json', 'kind', 'question_sql', 'embedding_model', 'hashing-zh-v1',
                                 'embedding_dim', ${DIM}, 'created_at', '2025-01-01T00:00:00.000Z')
         FROM generate_series($2::int, $3::int) AS g`,
      [collection, start, end],
    );
  }
}

async function measuredBackup(db: Database, dir: string) {
  gc();
  await new Promise((r) => setTimeout(r, 200));
  const baseline = process.memoryUsage().rss;
  const base = process.memoryUsage();
  let peak = baseline;
  const peaks = { heapUsed: 0, external: 0, arrayBuffers: 0 };
  const timer = setInterval(() => {
    const m = process.memoryUsage();
    peak = Math.max(peak, m.rss);
    for (const k of ['heapUsed', 'external', 'arrayBuffers'] as const) peaks[k] = Math.max(peaks[k], m[k] - base[k]);
  }, 20);
  const started = Date.now();
  const result = await backupVectorTables(db.pool, dir, {});
  const ms = Date.now() - started;
  clearInterval(timer);
  peak = Math.max(peak, process.memoryUsage().rss);
  const bytes = result.manifest!.tables.reduce((s, t) => s + t.bytes, 0);
  console.log(`  memory growth during backup (MB): rss ${((peak - baseline) / MB).toFixed(1)}, heapUsed ${(peaks.heapUsed / MB).toFixed(1)}, external ${(peaks.external / MB).toFixed(1)}, arrayBuffers ${(peaks.arrayBuffers / MB).toFixed(1)}`);
  return { result, ms, growthMb: (peak - baseline) / MB, baselineMb: baseline / MB, bytes };
}

const results: any[] = [];
try {
  for (const store of ['postgres', 'pglite'] as const) {
    if (only && only !== store) continue;
    const { dir } = makeTempDir('dp-bench-backup-');
    let db: Database;
    if (store === 'postgres') {
      const bench = await createBenchDatabase();
      db = await connect(bench.url);
    } else {
      db = await connect(`pglite://${path.join(dir, 'pg')}`);
    }
    const dim = store === 'pglite' ? PGLITE_DIM : DIM;
    try {
      const { collections } = await ensureVectorStore(db.pool, { dim });
      const fillStarted = Date.now();
      await fill(db, collections.sql!, 1, SMALL, dim);
      const small = await measuredBackup(db, path.join(dir, 'out', 'small', 'vector_bak'));
      await fill(db, collections.sql!, SMALL + 1, ROWS, dim);
      const fillMs = Date.now() - fillStarted;
      const big = await measuredBackup(db, path.join(dir, 'out', 'big', 'vector_bak'));
      if (big.result.rows.langchain_pg_embedding !== ROWS) throw new Error(`backed up ${big.result.rows.langchain_pg_embedding} rows, expected ${ROWS}`);
      let restoreMs: number | null = null;
      if (store === 'postgres') {
        const verified = await verifyBackup(path.join(dir, 'out'), path.join(dir, 'out', 'big', 'vector_bak'), big.result.timestamp!);
        const started = Date.now();
        await restoreVectorTables(db.pool, verified, { truncateBeforeRestore: true });
        restoreMs = Date.now() - started;
      }
      results.push({
        store,
        dim,
        fill_ms: fillMs,
        small: { rows: SMALL, csv_mb: round(small.bytes / MB, 1), backup_ms: small.ms, rss_growth_mb: round(small.growthMb, 1) },
        big: { rows: ROWS, csv_mb: round(big.bytes / MB, 1), backup_ms: big.ms, rss_growth_mb: round(big.growthMb, 1), baseline_rss_mb: round(big.baselineMb, 0) },
        restore_ms: restoreMs,
        pass: big.growthMb < TARGET_MB,
      });
    } finally {
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  printTable(
    ['store', 'rows', 'dim', 'CSV MB', 'backup s', 'RSS growth MB', `rows (1/10)`, 'RSS growth MB (1/10)', 'restore s'],
    results.map((r) => [r.store, r.big.rows, r.dim, r.big.csv_mb, round(r.big.backup_ms / 1000, 1), r.big.rss_growth_mb, r.small.rows, r.small.rss_growth_mb, r.restore_ms === null ? '-' : round(r.restore_ms / 1000, 1)]),
  );
  const worst = Math.max(...results.map((r) => r.big.rss_growth_mb));
  const pass = results.every((r) => r.pass);
  console.log(`${pass ? 'PASS' : 'MISS'}: worst RSS growth ${worst} MB for ${ROWS} rows (target < ${TARGET_MB} MB)`);
  writeResults('vector-backup', {
    benchmark: 'vector-backup',
    date: new Date().toISOString(),
    node: process.version,
    ...codeVersion(),
    results,
    worst_rss_growth_mb: worst,
    target_mb: TARGET_MB,
    pass,
  });
  process.exitCode = pass ? 0 : 1;
} catch (error) {
  console.error(error);
  process.exitCode = 2;
} finally {
  await runCleanups();
}
