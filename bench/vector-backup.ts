// vector-backup: memory of a vector table backup stays flat whatever the table size.
// langchain_pg_embedding is filled with 100,000 rows (realistic documents and cmetadata; dimension 384 on
// PostgreSQL, 128 on PGlite, whose fill runs in WASM), then backed up (COPY … TO as CSV, hashed on the way)
// in a FRESH child process that only opens the database and backs up, while its RSS is sampled every 20 ms.
// A fresh process matters for embedded PGlite: its engine lives in this process, so a baseline taken after
// the fill would hide what a backup on a freshly opened store costs. Target: RSS growth during the backup
// < 100 MB. The same is measured at 10,000 rows to show that growth does not follow size. The restore time
// of the 100,000 rows on PostgreSQL is reported for information.
// Run: npx tsx bench/vector-backup.ts [--only postgres|pglite]
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
const TARGET_MB = 100;
const MB = 1024 * 1024;

interface Measurement {
  rows: number;
  ms: number;
  bytes: number;
  rss_growth_mb: number;
  heap_growth_mb: number;
  array_buffers_growth_mb: number;
  baseline_rss_mb: number;
}

/** Child mode: open `url`, back up into `dir`, print one JSON line with the measurement. */
async function measureInThisProcess(url: string, dir: string): Promise<void> {
  // A full GC before the baseline, so that start-up garbage is not counted as headroom.
  v8.setFlagsFromString('--expose-gc');
  const gc = vm.runInNewContext('gc') as () => void;
  const db = await connect(url);
  try {
    await db.pool.query('SELECT 1');
    gc();
    await new Promise((r) => setTimeout(r, 200));
    const base = process.memoryUsage();
    const peak = { rss: base.rss, heapUsed: base.heapUsed, arrayBuffers: base.arrayBuffers };
    const timer = setInterval(() => {
      const m = process.memoryUsage();
      for (const k of ['rss', 'heapUsed', 'arrayBuffers'] as const) peak[k] = Math.max(peak[k], m[k]);
    }, 20);
    const started = Date.now();
    const result = await backupVectorTables(db.pool, dir, {});
    const ms = Date.now() - started;
    clearInterval(timer);
    const end = process.memoryUsage();
    for (const k of ['rss', 'heapUsed', 'arrayBuffers'] as const) peak[k] = Math.max(peak[k], end[k]);
    const measurement: Measurement = {
      rows: result.rows.langchain_pg_embedding,
      ms,
      bytes: result.manifest!.tables.reduce((s, t) => s + t.bytes, 0),
      rss_growth_mb: round((peak.rss - base.rss) / MB, 1),
      heap_growth_mb: round((peak.heapUsed - base.heapUsed) / MB, 1),
      array_buffers_growth_mb: round((peak.arrayBuffers - base.arrayBuffers) / MB, 1),
      baseline_rss_mb: round(base.rss / MB, 0),
    };
    console.log(JSON.stringify({ measurement, timestamp: result.timestamp }));
  } finally {
    await db.close();
  }
}

function measureInChild(url: string, dir: string): Measurement & { timestamp: string } {
  const self = fileURLToPath(import.meta.url);
  const out = execFileSync(process.execPath, ['--import', 'tsx', self, '--measure', url, dir], { encoding: 'utf8', maxBuffer: 1 << 20 });
  const line = out.trim().split('\n').at(-1)!;
  const parsed = JSON.parse(line) as { measurement: Measurement; timestamp: string };
  const m = parsed.measurement;
  console.log(
    `  ${m.rows} rows: backup ${m.ms} ms; growth (MB) rss ${m.rss_growth_mb}, heapUsed ${m.heap_growth_mb}, arrayBuffers ${m.array_buffers_growth_mb}`,
  );
  return { ...m, timestamp: parsed.timestamp };
}

async function fill(db: Database, collection: string, from: number, to: number, dim: number) {
  for (let start = from; start <= to; start += 10_000) {
    const end = Math.min(to, start + 9_999);
    await db.pool.query(
      `INSERT INTO langchain_pg_embedding (id, collection_id, embedding, document, cmetadata)
       SELECT md5(g::text)::uuid::text || '-sql', $1::uuid,
              ARRAY(SELECT sin(g * i + 0.5) FROM generate_series(1, ${dim}) AS i)::float8[]::vector,
              json_build_object('question', '服务区' || (g % 97) || '在2024年的第' || g || '项营业指标是多少？',
                                'sql', 'SELECT sum(pay_sum) FROM bss_business_day_data WHERE service_no = ''H' || g || '''')::text,
              jsonb_build_object('id', md5(g::text)::uuid::text || '-sql', 'source', 'data-pipeline', 'task_id', 'task_bench', 'db_name', 'highway_db',
                                 'file', 'qs_highway_db_20250101_000000_pair.json', 'kind', 'question_sql', 'embedding_model', 'hashing-zh-v1',
                                 'embedding_dim', ${dim}, 'created_at', '2025-01-01T00:00:00.000Z')
         FROM generate_series($2::int, $3::int) AS g`,
      [collection, start, end],
    );
  }
}

/** Fills up to `rows` (from `from`), closing the database so that the child opens it alone (PGlite: one process per directory). */
async function fillTo(url: string, from: number, rows: number, dim: number): Promise<number> {
  const db = await connect(url);
  try {
    const started = Date.now();
    const { collections } = await ensureVectorStore(db.pool, { dim });
    await fill(db, collections.sql!, from, rows, dim);
    return Date.now() - started;
  } finally {
    await db.close();
  }
}

async function main() {
  startWatchdog(280);
  const only = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
  const results: any[] = [];
  for (const store of ['postgres', 'pglite'] as const) {
    if (only && only !== store) continue;
    const { dir } = makeTempDir('dp-bench-backup-');
    const url = store === 'postgres' ? (await createBenchDatabase()).url : `pglite://${path.join(dir, 'pg')}`;
    const dim = store === 'pglite' ? PGLITE_DIM : DIM;
    try {
      console.log(`${store}:`);
      let fillMs = await fillTo(url, 1, SMALL, dim);
      const small = measureInChild(url, path.join(dir, 'out', 'small', 'vector_bak'));
      fillMs += await fillTo(url, SMALL + 1, ROWS, dim);
      const big = measureInChild(url, path.join(dir, 'out', 'big', 'vector_bak'));
      if (big.rows !== ROWS) throw new Error(`backed up ${big.rows} rows, expected ${ROWS}`);
      let restoreMs: number | null = null;
      if (store === 'postgres') {
        const db = await connect(url);
        try {
          const verified = await verifyBackup(path.join(dir, 'out'), path.join(dir, 'out', 'big', 'vector_bak'), big.timestamp);
          const started = Date.now();
          await restoreVectorTables(db.pool, verified, { truncateBeforeRestore: true });
          restoreMs = Date.now() - started;
        } finally {
          await db.close();
        }
      }
      results.push({
        store,
        dim,
        fill_ms: fillMs,
        small: { ...small, csv_mb: round(small.bytes / MB, 1) },
        big: { ...big, csv_mb: round(big.bytes / MB, 1) },
        restore_ms: restoreMs,
        pass: big.rss_growth_mb < TARGET_MB,
      });
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  }
  printTable(
    ['store', 'rows', 'dim', 'CSV MB', 'backup s', 'RSS growth MB', 'rows (1/10)', 'RSS growth MB (1/10)', 'restore s'],
    results.map((r) => [r.store, r.big.rows, r.dim, r.big.csv_mb, round(r.big.ms / 1000, 1), r.big.rss_growth_mb, r.small.rows, r.small.rss_growth_mb, r.restore_ms === null ? '-' : round(r.restore_ms / 1000, 1)]),
  );
  const worst = Math.max(...results.map((r) => r.big.rss_growth_mb));
  const pass = results.every((r) => r.pass);
  console.log(`${pass ? 'PASS' : 'MISS'}: worst RSS growth ${worst} MB for ${ROWS} rows, each backup in a fresh process (target < ${TARGET_MB} MB)`);
  writeResults('vector-backup', { benchmark: 'vector-backup', date: new Date().toISOString(), node: process.version, ...codeVersion(), results, worst_rss_growth_mb: worst, target_mb: TARGET_MB, pass });
  process.exitCode = pass ? 0 : 1;
}

if (process.argv[2] === '--measure') {
  await measureInThisProcess(process.argv[3]!, process.argv[4]!);
} else {
  try {
    await main();
  } catch (error) {
    console.error(error);
    process.exitCode = 2;
  } finally {
    await runCleanups();
  }
}
