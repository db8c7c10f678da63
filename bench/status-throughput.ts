// Benchmark: GET /api/v0/data_pipeline/tasks/{id} throughput of our real server against a bare Fastify
// route returning the same JSON body (constant), both in this process, loaded from a child process.
// Target: ours ≥ 0.5 × bare, for both stores (embedded PGlite and real PostgreSQL).
// Rounds alternate bare, ours, bare, ours ... so that machine noise hits both; medians are compared.
// Run: npx tsx bench/status-throughput.ts   (writes bench/results/status-throughput.json)
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import Fastify from 'fastify';
import type { LoadResult } from './load.ts';
import {
  API,
  closeClientSockets,
  codeVersion,
  createBenchDatabase,
  makeTempDir,
  median,
  onCleanup,
  printTable,
  requestJson,
  round,
  runCleanups,
  runLoad,
  startOurServer,
  startWatchdog,
  storeLabel,
  withCpu,
  writeResults,
} from './lib/harness.ts';

const REQUESTS = Number(process.env.BENCH_REQUESTS ?? 20_000);
const CONCURRENCY = Number(process.env.BENCH_CONCURRENCY ?? 32);
const WARMUP = Number(process.env.BENCH_WARMUP ?? 2_000);
const ROUNDS = 3;
/** Per load run (warm-up and measured phase each): a slow server yields fewer requests, not a long run. */
const MAX_SECONDS_PER_RUN = 12;
const TARGET_RATIO = 0.5;
const WATCHDOG_SECONDS = 175;

interface CpuPerRequest {
  server: number;
  postgres: number;
  client: number;
}

type Run = LoadResult & { cpu_us_per_request: CpuPerRequest };

interface StoreResult {
  store: 'pglite' | 'postgres';
  task_id: string;
  response_bytes: { ours: number; bare: number };
  rounds: Array<{ round: number; bare: Run; ours: Run }>;
  median_rps: { bare: number; ours: number };
  median_p50_ms: { bare: number; ours: number };
  median_p99_ms: { bare: number; ours: number };
  /** Median CPU per request: this server process, the store's PostgreSQL backends, the load generator. */
  median_cpu_us_per_request: { bare: CpuPerRequest; ours: CpuPerRequest };
  ratio: number;
  round_ratios: number[];
  /** bare / ours CPU per request (server + postgres + client): the same comparison, far less sensitive to
   * other load on the machine than req/s. Informational; the target is on req/s. */
  cpu_cost_ratio: number;
  pass: boolean;
}

async function measureStore(storeUrl: (dir: string) => Promise<string>): Promise<StoreResult> {
  const tmp = makeTempDir('bench-status-');
  const url = await storeUrl(tmp.dir);
  const store = storeLabel(url);
  const started = Date.now();
  const ours = await startOurServer(url, tmp.dir);
  console.log(`\n[${store}] server up in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  const created = await requestJson(ours.baseUrl, 'POST', `${API}/tasks`, {
    task_name: 'highway status benchmark',
    db_name: 'highway_db',
    business_context: '高速公路服务区管理系统',
    created_by: 'bench',
  });
  if (created.status !== 201) throw new Error(`create task: HTTP ${created.status} ${JSON.stringify(created.body)}`);
  const taskId: string = created.body.data.task_id;
  const statusPath = `${API}/tasks/${taskId}`;
  const sample = await requestJson(ours.baseUrl, 'GET', statusPath);
  if (sample.status !== 200) throw new Error(`status: HTTP ${sample.status}`);

  // The bare route: same path shape, same JSON object (serialized per request, as ours is), no store.
  const constant = sample.body;
  const bare = Fastify({ logger: false });
  bare.get('/api/v0/data_pipeline/tasks/:task_id', async () => constant);
  await bare.listen({ host: '127.0.0.1', port: 0 });
  const closeBare = onCleanup(() => bare.close());
  const bareUrl = `http://127.0.0.1:${(bare.server.address() as AddressInfo).port}${statusPath}`;
  const bareSample = await requestJson(bareUrl, 'GET', statusPath);
  console.log(`[${store}] task ${taskId}; response ${sample.bytes} B (ours) vs ${bareSample.bytes} B (bare)`);

  const pool = ours.app.storeDb.kind === 'postgres' ? ours.app.storeDb.pool : undefined;
  const load = async (target: string): Promise<Run> => {
    const { result, serverCpu, postgresCpu } = await withCpu(pool, () =>
      runLoad({ url: target, requests: REQUESTS, concurrency: CONCURRENCY, warmup: WARMUP, maxSeconds: MAX_SECONDS_PER_RUN }),
    );
    // The server also answered the child's warm-up requests during the window.
    const served = result.completed + WARMUP;
    return {
      ...result,
      cpu_us_per_request: {
        server: Math.round((serverCpu * 1e6) / served),
        postgres: Math.round((postgresCpu * 1e6) / served),
        client: result.client_cpu_us_per_request,
      },
    };
  };
  const rounds: StoreResult['rounds'] = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const b = await load(bareUrl);
    const o = await load(ours.baseUrl + statusPath);
    rounds.push({ round, bare: b, ours: o });
    const note = (r: Run) => (r.time_limited ? ` (time-limited: ${r.completed} requests)` : '') + (r.ok !== r.completed ? ` (${r.completed - r.ok} failed)` : '');
    console.log(`[${store}] round ${round}: bare ${b.rps.toFixed(0)} req/s${note(b)}, ours ${o.rps.toFixed(0)} req/s${note(o)}, ratio ${(o.rps / b.rps).toFixed(2)}`);
  }

  await closeBare();
  await ours.close();
  await tmp.remove();

  const allOk = rounds.every((r) => r.bare.ok === r.bare.completed && r.ours.ok === r.ours.completed && r.ours.completed > 0);
  const medianRps = { bare: median(rounds.map((r) => r.bare.rps)), ours: median(rounds.map((r) => r.ours.rps)) };
  const ratio = round(medianRps.ours / medianRps.bare, 3);
  return {
    store,
    task_id: taskId,
    response_bytes: { ours: sample.bytes, bare: bareSample.bytes },
    rounds,
    median_rps: medianRps,
    median_p50_ms: { bare: median(rounds.map((r) => r.bare.latency_ms.p50)), ours: median(rounds.map((r) => r.ours.latency_ms.p50)) },
    median_p99_ms: { bare: median(rounds.map((r) => r.bare.latency_ms.p99)), ours: median(rounds.map((r) => r.ours.latency_ms.p99)) },
    median_cpu_us_per_request: { bare: medianCpu(rounds.map((r) => r.bare)), ours: medianCpu(rounds.map((r) => r.ours)) },
    ratio,
    round_ratios: rounds.map((r) => round(r.ours.rps / r.bare.rps, 3)),
    cpu_cost_ratio: round(cpuCost(medianCpu(rounds.map((r) => r.bare))) / cpuCost(medianCpu(rounds.map((r) => r.ours))), 3),
    pass: allOk && ratio >= TARGET_RATIO,
  };
}

const cpuCost = (c: CpuPerRequest) => c.server + c.postgres + c.client;

function medianCpu(runs: Run[]): CpuPerRequest {
  return {
    server: median(runs.map((r) => r.cpu_us_per_request.server)),
    postgres: median(runs.map((r) => r.cpu_us_per_request.postgres)),
    client: median(runs.map((r) => r.cpu_us_per_request.client)),
  };
}

async function main(): Promise<void> {
  startWatchdog(WATCHDOG_SECONDS);
  const stores: Array<(dir: string) => Promise<string>> = [
    async (dir) => `pglite://${path.join(dir, 'store')}`,
    async () => (await createBenchDatabase()).url,
  ];
  const results: StoreResult[] = [];
  try {
    for (const store of stores) results.push(await measureStore(store));
  } finally {
    closeClientSockets();
    await runCleanups();
  }

  console.log(`\nGET ${API}/tasks/{id}: ${REQUESTS} requests, concurrency ${CONCURRENCY}, ${WARMUP} warm-up, median of ${ROUNDS} alternating rounds`);
  printTable(
    ['store', 'bare req/s', 'ours req/s', 'ours/bare', 'per-round ratios', 'p50 ms bare/ours', 'p99 ms bare/ours', 'result'],
    results.map((r) => [
      r.store,
      r.median_rps.bare.toFixed(0),
      r.median_rps.ours.toFixed(0),
      r.ratio.toFixed(2),
      r.round_ratios.map((x) => x.toFixed(2)).join(' '),
      `${r.median_p50_ms.bare.toFixed(2)} / ${r.median_p50_ms.ours.toFixed(2)}`,
      `${r.median_p99_ms.bare.toFixed(2)} / ${r.median_p99_ms.ours.toFixed(2)}`,
      r.pass ? 'PASS' : 'MISS',
    ]),
  );
  console.log('\nCPU per request (µs, median; server = this process incl. in-process PGlite; postgres = the store database\'s backends):');
  printTable(
    ['store', 'bare server', 'ours server', 'ours postgres', 'client bare / ours', 'bare/ours CPU cost'],
    results.map((r) => [
      r.store,
      r.median_cpu_us_per_request.bare.server,
      r.median_cpu_us_per_request.ours.server,
      r.store === 'postgres' ? r.median_cpu_us_per_request.ours.postgres : '(in server)',
      `${r.median_cpu_us_per_request.bare.client} / ${r.median_cpu_us_per_request.ours.client}`,
      r.cpu_cost_ratio.toFixed(2),
    ]),
  );
  const pass = results.every((r) => r.pass);
  const worst = Math.min(...results.map((r) => r.ratio));
  console.log(`\nworst ours/bare: ${worst.toFixed(2)} (target ≥ ${TARGET_RATIO}) → ${pass ? 'PASS' : 'MISS'}`);
  const file = writeResults('status-throughput', {
    benchmark: 'status-throughput',
    date: new Date().toISOString(),
    node: process.version,
    code: codeVersion(),
    cpus: (await import('node:os')).cpus().length,
    requests: REQUESTS,
    concurrency: CONCURRENCY,
    warmup_requests: WARMUP,
    rounds: ROUNDS,
    max_seconds_per_run: MAX_SECONDS_PER_RUN,
    target_ratio: TARGET_RATIO,
    stores: results,
    worst_ratio: worst,
    pass,
  });
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
