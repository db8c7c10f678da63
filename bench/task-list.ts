// Benchmark: task listing must not slow down as the store grows.
// GET /tasks?limit=50 and POST /tasks/query (status / task_name / db_name filters) against a store of
// 100,000 tasks vs one of 1,000 tasks (the newest 1,000 of the same data), both open at once, requests
// interleaved small/big so that machine noise hits both alike.
// Target: median latency with 100k tasks ≤ 3× the median with 1k tasks, for every case.
// Stores: real PostgreSQL (required) and the embedded PGlite store.
// Run: npx tsx bench/task-list.ts [--only postgres|pglite]   (writes bench/results/task-list.json)
import path from 'node:path';
import { parseArgs } from 'node:util';
import type pg from 'pg';
import { checkFill, fillTasks } from './lib/fill-tasks.ts';
import {
  API,
  closeClientSockets,
  codeVersion,
  createBenchDatabase,
  makeTempDir,
  median,
  percentile,
  printTable,
  requestJson,
  round,
  runCleanups,
  startOurServer,
  startWatchdog,
  writeResults,
  type OurServer,
} from './lib/harness.ts';

const SMALL = 1_000;
const BIG = 100_000;
const ITERATIONS = 200;
const WARMUP = 20;
/** Per case and store pair: a slow case yields fewer samples, not a long run. */
const CASE_BUDGET_MS = 20_000;
const TARGET_RATIO = 3;
const WATCHDOG_SECONDS = 175;
/** PGlite is skipped (and said so) when PostgreSQL left less than this much of the bound. */
const PGLITE_MIN_SECONDS_LEFT = 100;

interface Case {
  name: string;
  method: 'GET' | 'POST';
  path: string;
  body?: Record<string, unknown>;
  /** Rows the response's total must equal, from the store, to check the answer. */
  expectedTotal: (pool: pg.Pool) => Promise<number>;
  totalOf: (body: any) => number;
  rowsOf: (body: any) => number;
}

const countWhere = (where: string, values: unknown[] = []) => async (pool: pg.Pool) =>
  Number((await pool.query<{ n: string }>(`SELECT count(*) AS n FROM data_pipeline.tasks t ${where}`, values)).rows[0]!.n);

const CASES: Case[] = [
  {
    name: 'GET /tasks?limit=50',
    method: 'GET',
    path: `${API}/tasks?limit=50`,
    expectedTotal: countWhere(''),
    totalOf: (b) => b.data.total,
    rowsOf: (b) => b.data.tasks.length,
  },
  {
    name: 'query status=completed',
    method: 'POST',
    path: `${API}/tasks/query`,
    body: { page: 1, page_size: 20, status: 'completed' },
    expectedTotal: countWhere(`WHERE status = 'completed'`),
    totalOf: (b) => b.data.pagination.total,
    rowsOf: (b) => b.data.tasks.length,
  },
  {
    name: 'query task_name=highway',
    method: 'POST',
    path: `${API}/tasks/query`,
    body: { task_name: 'highway', page: 1, page_size: 20 },
    expectedTotal: countWhere(`WHERE task_name ILIKE '%highway%'`),
    totalOf: (b) => b.data.pagination.total,
    rowsOf: (b) => b.data.tasks.length,
  },
  {
    name: 'query db_name page 3',
    method: 'POST',
    path: `${API}/tasks/query`,
    body: { db_name: 'highway_db', page: 3 },
    expectedTotal: countWhere(`WHERE db_name = 'highway_db'`),
    totalOf: (b) => b.data.pagination.total,
    rowsOf: (b) => b.data.tasks.length,
  },
];

interface Timing {
  n: number;
  median_ms: number;
  p90_ms: number;
  min_ms: number;
}

interface PlanSummary {
  sql: string;
  planning_ms: number;
  execution_ms: number;
  top_node: string;
  plan?: string;
}

interface CaseResult {
  case: string;
  request: { method: string; path: string; body?: unknown };
  total: { small: number; big: number };
  rows_returned: number;
  response_bytes: { small: number; big: number };
  small: Timing;
  big: Timing;
  ratio: number;
  pass: boolean;
  /** EXPLAIN ANALYZE of the statements the store ran for this request, on each store. */
  explain: { small: PlanSummary[]; big: PlanSummary[] };
}

interface BackendResult {
  store: 'postgres' | 'pglite';
  fill_seconds: number;
  statuses_big: Record<string, number>;
  cases: CaseResult[];
  worst_ratio: number;
  pass: boolean;
}

function timing(samples: number[]): Timing {
  return { n: samples.length, median_ms: round(median(samples)), p90_ms: round(percentile(samples, 0.9)), min_ms: round(Math.min(...samples)) };
}

async function timedRequest(server: OurServer, c: Case): Promise<{ ms: number; body: any; bytes: number }> {
  const t0 = performance.now();
  const res = await requestJson(server.baseUrl, c.method, c.path, c.body);
  const ms = performance.now() - t0;
  if (res.status !== 200) throw new Error(`${c.name}: HTTP ${res.status} ${JSON.stringify(res.body).slice(0, 300)}`);
  return { ms, body: res.body, bytes: res.bytes };
}

/** Records the SQL the store sends while fn runs (pool.query is wrapped for that moment only). */
async function captureQueries(pool: pg.Pool, fn: () => Promise<unknown>): Promise<Array<{ text: string; values: unknown[] }>> {
  const captured: Array<{ text: string; values: unknown[] }> = [];
  const target = pool as unknown as { query: (...args: unknown[]) => unknown };
  const original = target.query;
  target.query = function (this: unknown, ...args: unknown[]) {
    if (typeof args[0] === 'string') captured.push({ text: args[0], values: (args[1] as unknown[]) ?? [] });
    return original.apply(this, args);
  };
  try {
    await fn();
  } finally {
    target.query = original;
  }
  return captured;
}

async function explain(pool: pg.Pool, statements: Array<{ text: string; values: unknown[] }>, withPlan: boolean): Promise<PlanSummary[]> {
  const out: PlanSummary[] = [];
  for (const { text, values } of statements) {
    const json = await pool.query(`EXPLAIN (ANALYZE, BUFFERS, FORMAT JSON) ${text}`, values);
    const raw = json.rows[0]['QUERY PLAN'];
    const root = (typeof raw === 'string' ? JSON.parse(raw) : raw)[0];
    const summary: PlanSummary = {
      sql: text.replace(/\s+/g, ' ').trim(),
      planning_ms: round(root['Planning Time']),
      execution_ms: round(root['Execution Time']),
      top_node: describeNode(root.Plan),
    };
    if (withPlan) {
      const plan = await pool.query(`EXPLAIN (ANALYZE, BUFFERS) ${text}`, values);
      summary.plan = plan.rows.map((r: Record<string, string>) => r['QUERY PLAN']).join('\n');
    }
    out.push(summary);
  }
  return out;
}

/** The node that reads the table: e.g. "Seq Scan on tasks (rows 30026)". */
function describeNode(node: any): string {
  const scans: string[] = [];
  const walk = (n: any) => {
    if (/Scan/.test(n['Node Type']) && n['Relation Name'] === 'tasks') {
      const removed = n['Rows Removed by Filter'] ? `, ${n['Rows Removed by Filter']} filtered out` : '';
      scans.push(`${n['Node Type']}${n['Index Name'] ? ` using ${n['Index Name']}` : ''} on tasks (rows ${n['Actual Rows'] * (n['Actual Loops'] ?? 1)}${removed})`);
    }
    for (const child of n.Plans ?? []) walk(child);
  };
  walk(node);
  return scans.join('; ') || node['Node Type'];
}

async function measureBackend(kind: 'postgres' | 'pglite'): Promise<BackendResult> {
  const open = async (label: string) => {
    const tmp = makeTempDir(`bench-task-list-${label}-`);
    const url = kind === 'pglite' ? `pglite://${path.join(tmp.dir, 'store')}` : (await createBenchDatabase()).url;
    return startOurServer(url, tmp.dir);
  };
  let t = performance.now();
  const small = await open('1k');
  const big = await open('100k');
  console.log(`\n[${kind}] two stores up in ${((performance.now() - t) / 1000).toFixed(1)} s`);
  const smallPool = small.app.storeDb.pool;
  const bigPool = big.app.storeDb.pool;

  const newest = new Date(Date.now() - 3600_000);
  t = performance.now();
  await fillTasks(smallPool, 1, SMALL, { newest });
  await fillTasks(bigPool, 1, BIG, {
    newest,
    onProgress: (done, total) => {
      if (process.stdout.isTTY) process.stdout.write(`\r[${kind}] filling ${done}/${total}`);
    },
  });
  const fillSeconds = (performance.now() - t) / 1000;
  await checkFill(smallPool, SMALL);
  const statuses = await checkFill(bigPool, BIG);
  console.log(`\r[${kind}] filled ${SMALL} + ${BIG} tasks (×4 steps) in ${fillSeconds.toFixed(1)} s: ${JSON.stringify(statuses)}`);

  const cases: CaseResult[] = [];
  for (const c of CASES) {
    const first = { small: await timedRequest(small, c), big: await timedRequest(big, c) };
    const expected = { small: await c.expectedTotal(smallPool), big: await c.expectedTotal(bigPool) };
    for (const side of ['small', 'big'] as const) {
      const total = c.totalOf(first[side].body);
      if (total !== expected[side]) throw new Error(`${c.name} (${side}): total ${total}, store holds ${expected[side]}`);
    }
    for (let i = 0; i < WARMUP; i++) {
      await timedRequest(small, c);
      await timedRequest(big, c);
    }
    const samples = { small: [] as number[], big: [] as number[] };
    const started = performance.now();
    for (let i = 0; i < ITERATIONS && performance.now() - started < CASE_BUDGET_MS; i++) {
      // ABBA order: neither store always goes first.
      const order = i % 2 === 0 ? (['small', 'big'] as const) : (['big', 'small'] as const);
      for (const side of order) samples[side].push((await timedRequest(side === 'small' ? small : big, c)).ms);
    }
    const result: CaseResult = {
      case: c.name,
      request: { method: c.method, path: c.path, ...(c.body ? { body: c.body } : {}) },
      total: expected,
      rows_returned: c.rowsOf(first.big.body),
      response_bytes: { small: first.small.bytes, big: first.big.bytes },
      small: timing(samples.small),
      big: timing(samples.big),
      ratio: 0,
      pass: false,
      explain: { small: [], big: [] },
    };
    result.ratio = round(result.big.median_ms / result.small.median_ms, 2);
    result.pass = result.ratio <= TARGET_RATIO;
    const statements = {
      small: await captureQueries(smallPool, () => timedRequest(small, c)),
      big: await captureQueries(bigPool, () => timedRequest(big, c)),
    };
    result.explain = { small: await explain(smallPool, statements.small, false), big: await explain(bigPool, statements.big, true) };
    cases.push(result);
    console.log(
      `[${kind}] ${c.name}: 1k ${result.small.median_ms.toFixed(2)} ms, 100k ${result.big.median_ms.toFixed(2)} ms` +
        ` (n=${result.big.n}) → ${result.ratio.toFixed(2)}× ${result.pass ? 'PASS' : 'MISS'}`,
    );
  }

  await small.close();
  await big.close();
  const worst = Math.max(...cases.map((c) => c.ratio));
  return { store: kind, fill_seconds: round(fillSeconds, 1), statuses_big: statuses, cases, worst_ratio: worst, pass: cases.every((c) => c.pass) };
}

function printResults(results: BackendResult[]): void {
  console.log(`\nmedian latency over ${ITERATIONS} interleaved sequential requests per store after ${WARMUP} warm-up (client in-process, keep-alive)`);
  printTable(
    ['store', 'case', 'total 1k/100k', '1k median (p90) ms', '100k median (p90) ms', 'ratio', 'result', 'store SQL on 100k: exec ms [scan]'],
    results.flatMap((r) =>
      r.cases.map((c) => [
        r.store,
        c.case,
        `${c.total.small}/${c.total.big}`,
        `${c.small.median_ms.toFixed(2)} (${c.small.p90_ms.toFixed(2)})`,
        `${c.big.median_ms.toFixed(2)} (${c.big.p90_ms.toFixed(2)})`,
        `${c.ratio.toFixed(2)}×`,
        c.pass ? 'PASS' : 'MISS',
        c.explain.big.map((e) => `${e.execution_ms.toFixed(1)} [${e.top_node}]`).join(' + '),
      ]),
    ),
  );
}

async function main(): Promise<void> {
  const { values } = parseArgs({ options: { only: { type: 'string' } } });
  const backends = (['postgres', 'pglite'] as const).filter((b) => !values.only || values.only === b);
  startWatchdog(WATCHDOG_SECONDS);
  const began = performance.now();
  const results: BackendResult[] = [];
  const skipped: Record<string, string> = {};
  const save = () => {
    const pass = results.length > 0 && results.every((r) => r.pass) && results.some((r) => r.store === 'postgres' || values.only === 'pglite');
    return {
      pass,
      file: writeResults('task-list', {
        benchmark: 'task-list',
        date: new Date().toISOString(),
        node: process.version,
        code: codeVersion(),
        small_tasks: SMALL,
        big_tasks: BIG,
        iterations: ITERATIONS,
        warmup: WARMUP,
        target_ratio: TARGET_RATIO,
        stores: results,
        skipped,
        worst_ratio: Math.max(...results.map((r) => r.worst_ratio)),
        pass,
      }),
    };
  };
  try {
    for (const backend of backends) {
      const left = WATCHDOG_SECONDS - (performance.now() - began) / 1000;
      if (backend === 'pglite' && left < PGLITE_MIN_SECONDS_LEFT) {
        skipped.pglite = `skipped: only ${left.toFixed(0)} s left of the ${WATCHDOG_SECONDS} s bound`;
        console.log(`\n[pglite] ${skipped.pglite}`);
        continue;
      }
      results.push(await measureBackend(backend));
      save();
    }
  } finally {
    closeClientSockets();
    await runCleanups();
  }
  printResults(results);
  const { pass, file } = save();
  const worst = Math.max(...results.map((r) => r.worst_ratio));
  console.log(`\nworst ratio 100k/1k: ${worst.toFixed(2)}× (target ≤ ${TARGET_RATIO}×) → ${pass ? 'PASS' : 'MISS'}`);
  for (const r of results) {
    for (const c of r.cases.filter((x) => !x.pass)) {
      const slowest = [...c.explain.big].sort((a, b) => b.execution_ms - a.execution_ms)[0];
      if (slowest) console.log(`  ${r.store} / ${c.case}: slowest store statement ${slowest.execution_ms.toFixed(1)} ms: ${slowest.top_node}\n    ${slowest.sql}`);
    }
  }
  console.log(`results: ${file}`);
  if (!pass) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  console.error(error);
  await runCleanups();
  process.exitCode = 2;
}
