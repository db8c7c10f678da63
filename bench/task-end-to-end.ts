// Benchmark: a whole task, all four steps, through the HTTP API of a real server (in this process, with
// its workers), offline (rule-based annotator and generator, hashing embedder), on the local PostgreSQL:
// the demo database and a generated schema of 500 tables with relationships (100 dimensions, 400 facts
// referencing two of them each, no declared foreign keys beyond every fourth one).
// Targets: the 500-table task completes in ≤ 60 s, and the process's peak RSS stays ≤ 1 GB (as ratios to
// those bounds ≤ 1). Informational: wall time and counters per step, the demo task's times.
// Run: npx tsx bench/task-end-to-end.ts [--tables 500] [--step ddl_generation]   (writes bench/results/task-end-to-end.json)
import pg from 'pg';
import { seedDemoDatabase, DEMO_TABLES } from '../demo/highway-db.ts';
import { createApp } from '../src/app.ts';
import { loadSettings } from '../src/config.ts';
import { buildServer } from '../src/http/server.ts';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { createBenchDatabase, makeTempDir, printTable, round, runCleanups, startWatchdog, writeResults } from './lib/harness.ts';

startWatchdog(230);
const tablesArg = process.argv.includes('--tables') ? Number(process.argv[process.argv.indexOf('--tables') + 1]) : 500;
const TABLES = Number.isInteger(tablesArg) && tablesArg >= 10 ? tablesArg : 500;
/** `--step ddl_generation` runs that step alone (informational; the targets are for the whole task). */
const ONLY_STEP = process.argv.includes('--step') ? process.argv[process.argv.indexOf('--step') + 1] : undefined;
const WALL_TARGET_S = 60;
const RSS_TARGET_MB = 1024;

async function generatedSchema(url: string, tables: number): Promise<string[]> {
  const dims = Math.max(2, Math.round(tables / 5));
  const facts = tables - dims;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const sql: string[] = [];
    for (let d = 1; d <= dims; d++) {
      sql.push(`CREATE TABLE dim_${d} (dim_${d}_id int PRIMARY KEY, name text, category text, created_at timestamp)`);
      sql.push(`INSERT INTO dim_${d} SELECT g, 'item ' || g, (ARRAY['a','b','c','d'])[1 + g % 4], timestamp '2023-01-01' + g * interval '1 day' FROM generate_series(1, 50) g`);
    }
    for (let f = 1; f <= facts; f++) {
      const a = 1 + (f % dims);
      let b = 1 + ((f * 7) % dims);
      if (b === a) b = 1 + (b % dims);
      const declared = f % 4 === 0 ? ` REFERENCES dim_${a}` : '';
      sql.push(
        `CREATE TABLE fact_${f} (fact_${f}_id int PRIMARY KEY, dim_${a}_id int${declared}, dim_${b}_id int, amount numeric(12,2), quantity int, unit_price numeric(10,2), event_date date, status text, load_ts timestamp)`,
      );
      sql.push(
        `INSERT INTO fact_${f} SELECT g, 1 + g % 50, 1 + (g * 3) % 50, (g * 37) % 1000, 1 + g % 9, 5 + g % 40, date '2024-01-01' + g % 300, (ARRAY['open','closed','void'])[1 + g % 3], timestamp '2025-01-01' + (g % 30) * interval '1 second' FROM generate_series(1, 200) g`,
      );
    }
    for (let i = 0; i < sql.length; i += 200) await client.query(sql.slice(i, i + 200).join(';\n'));
    await client.query('ANALYZE');
  } finally {
    await client.end();
  }
  return [...Array.from({ length: dims }, (_, i) => `dim_${i + 1}`), ...Array.from({ length: facts }, (_, i) => `fact_${i + 1}`)];
}

async function call(url: string, method: string, json?: unknown): Promise<any> {
  const response = await fetch(url, { method, headers: json ? { 'content-type': 'application/json' } : {}, body: json ? JSON.stringify(json) : undefined });
  const body = await response.json();
  if (response.status >= 300) throw new Error(`${method} ${url} → ${response.status}: ${JSON.stringify(body).slice(0, 300)}`);
  return body.data;
}

interface TaskRun {
  name: string;
  tables: number;
  wallS: number;
  steps: Array<{ step: string; seconds: number; counters: Record<string, number> }>;
}

async function runTask(api: string, name: string, dbUrl: string, tables: string[]): Promise<TaskRun> {
  const started = performance.now();
  const task = await call(`${api}/tasks`, 'POST', { db_connection: dbUrl, task_name: name });
  await call(`${api}/tasks/${task.task_id}/table-list`, 'POST', { table_names: tables });
  await call(`${api}/tasks/${task.task_id}/execute`, 'POST', ONLY_STEP ? { execution_mode: 'step', step_name: ONLY_STEP } : { execution_mode: 'complete' });
  for (;;) {
    const status = await call(`${api}/tasks/${task.task_id}`, 'GET');
    if (['completed', 'partial_completed', 'failed', 'cancelled'].includes(status.status)) {
      if (!['completed', 'partial_completed'].includes(status.status)) throw new Error(`${name}: ${status.status}: ${JSON.stringify(status.steps.map((s: any) => [s.step_name, s.error_code, s.error_message]))}`);
      return {
        name,
        tables: tables.length,
        wallS: (performance.now() - started) / 1000,
        steps: status.steps.filter((s: any) => s.started_at && s.completed_at).map((s: any) => ({ step: s.step_name, seconds: (Date.parse(s.completed_at) - Date.parse(s.started_at)) / 1000, counters: s.counters ?? {} })),
      };
    }
    await new Promise((r) => setTimeout(r, 200));
  }
}

try {
  const store = await createBenchDatabase();
  const demo = await createBenchDatabase();
  const big = await createBenchDatabase();
  const { dir } = makeTempDir('dp-bench-e2e-');
  const seedPool = new pg.Pool({ connectionString: demo.url, max: 2 });
  await seedDemoDatabase(seedPool, {});
  await seedPool.end();
  const setupStarted = performance.now();
  const names = await generatedSchema(big.url, TABLES);
  console.log(`setup: demo seeded; ${TABLES} tables generated in ${round((performance.now() - setupStarted) / 1000, 1)} s`);

  const settings = loadSettings(
    {
      DATA_PIPELINE_STORE_URL: store.url,
      DATA_PIPELINE_OUTPUT_DIR: path.join(dir, 'training_data'),
      DATA_PIPELINE_LOG_DIR: path.join(dir, 'logs'),
      DATA_PIPELINE_INPUT_DIR: dir,
      DATA_PIPELINE_VECTOR_URL: store.url,
    },
    dir,
  );
  const app = await createApp(settings);
  const server = await buildServer(app);
  await app.startWorkers();
  await server.listen({ host: '127.0.0.1', port: 0 });
  const api = `http://127.0.0.1:${(server.server.address() as AddressInfo).port}/api/v0/data_pipeline`;
  const runs: TaskRun[] = [];
  try {
    runs.push(await runTask(api, 'demo', demo.url, [...DEMO_TABLES]));
    runs.push(await runTask(api, `generated-${TABLES}`, big.url, names));
  } finally {
    await server.close();
    await app.close();
  }
  const peakRssMb = process.resourceUsage().maxRSS / 1024;

  for (const run of runs) {
    console.log(`\n${run.name}: ${run.tables} tables, ${round(run.wallS, 1)} s`);
    printTable(
      ['step', 's', 'counters'],
      run.steps.map((s) => [s.step, round(s.seconds, 2), Object.entries(s.counters).filter(([k]) => /tables|pairs|valid|rows|inferred|probes|discovery_ms|catalog|glossary/.test(k)).map(([k, v]) => `${k}=${v}`).join(' ')]),
    );
  }
  const bigRun = runs[1]!;
  const wallRatio = bigRun.wallS / WALL_TARGET_S;
  const rssRatio = peakRssMb / RSS_TARGET_MB;
  console.log(`\n${bigRun.name}: wall ${round(bigRun.wallS, 1)} s / ${WALL_TARGET_S} s = ${round(wallRatio, 3)}; peak RSS ${round(peakRssMb, 0)} MB / ${RSS_TARGET_MB} MB = ${round(rssRatio, 3)} (target ≤ 1 each)`);
  const pass = wallRatio <= 1 && rssRatio <= 1;
  console.log(pass ? 'PASS' : 'MISS');
  const file = writeResults('task-end-to-end', { runs, peak_rss_mb: peakRssMb, worst_ratio: Math.max(wallRatio, rssRatio), pass });
  console.log(`results: ${file}`);
  await runCleanups();
  process.exit(pass ? 0 : 1);
} catch (error) {
  console.error(error);
  await runCleanups();
  process.exit(2);
}
