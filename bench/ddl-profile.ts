// Benchmark: profiling (samples, value frequencies, enum detection input) of a 5,000,000-row table vs a
// 5,000-row table with the same columns, on the local PostgreSQL. The big table is read through
// TABLESAMPLE SYSTEM (a fraction of its pages), never counted or scanned whole.
// Target, as a ratio in one run: median profile time(5M rows) < 2 × median profile time(5k rows).
// Rounds alternate small, big, small, big … so that machine noise hits both.
// Run: npx tsx bench/ddl-profile.ts   (writes bench/results/ddl-profile.json)
import { profileRelation, readCatalog } from '../src/postgres/catalog/index.ts';
import { connect } from '../src/postgres/connect.ts';
import { createBenchDatabase, median, onCleanup, printTable, round, runCleanups, startWatchdog, writeResults } from './lib/harness.ts';

const BIG = Number(process.env.BENCH_BIG_ROWS ?? 5_000_000);
const SMALL = 5_000;
const ROUNDS = 7;
const TARGET = 2;

startWatchdog(175);

function fill(table: string, rows: number): string {
  return `CREATE TABLE public.${table} (
      id bigint PRIMARY KEY, company_id varchar(32), status varchar(20), amount numeric(19,4), qty integer,
      created_at timestamp, note text, flag boolean);
    INSERT INTO public.${table}
    SELECT g, md5((g % 50)::text), (ARRAY['open', 'closed', 'pending'])[1 + g % 3], (g % 10000) / 100.0, g % 17,
           TIMESTAMP '2024-01-01' + g * INTERVAL '1 second', 'note ' || (g % 977), g % 2 = 0
    FROM generate_series(1, ${rows}) AS g;
    ANALYZE public.${table};`;
}

async function main() {
  const bench = await createBenchDatabase();
  const db = await connect(bench.url, { max: 2 });
  onCleanup(() => db.close());
  const started = Date.now();
  await db.pool.query(fill('small_t', SMALL));
  await db.pool.query(fill('big_t', BIG));
  const setupSeconds = (Date.now() - started) / 1000;
  console.log(`setup: ${BIG.toLocaleString()} + ${SMALL.toLocaleString()} rows in ${setupSeconds.toFixed(1)} s`);

  const catalog = await readCatalog(db, ['small_t', 'big_t']);
  const [small, big] = catalog.relations;
  const times = { small: [] as number[], big: [] as number[] };
  let bigPlan;
  let bigRows = 0;
  for (let r = 0; r < ROUNDS + 1; r++) {
    for (const [label, relation] of [['small', small!], ['big', big!]] as const) {
      const t0 = performance.now();
      const profile = await profileRelation(db, relation, catalog.blockSize);
      const ms = performance.now() - t0;
      if (r === 0) continue; // warm-up round
      times[label].push(ms);
      if (label === 'big') {
        bigPlan = profile.plan;
        bigRows = profile.rows;
      }
    }
  }
  const smallMs = median(times.small);
  const bigMs = median(times.big);
  const ratio = bigMs / smallMs;
  const pass = ratio < TARGET;
  printTable(
    ['table', 'rows', 'plan', 'median ms'],
    [
      ['small_t', SMALL, 'limit 5000', round(smallMs, 1)],
      ['big_t', BIG, `${bigPlan!.method} ${bigPlan!.percent ?? ''}% (${bigRows} rows read)`, round(bigMs, 1)],
    ],
  );
  console.log(`\nbig / small = ${round(ratio)} (target < ${TARGET})`);
  console.log(pass ? 'PASS' : 'MISS');
  const file = writeResults('ddl-profile', {
    rows: { small: SMALL, big: BIG },
    setup_seconds: setupSeconds,
    big_plan: bigPlan,
    big_rows_read: bigRows,
    ms: { small: times.small.map((x) => round(x, 1)), big: times.big.map((x) => round(x, 1)) },
    median_ms: { small: round(smallMs, 1), big: round(bigMs, 1) },
    ratio: round(ratio),
    worst_ratio: round(ratio),
    target_ratio: TARGET,
    pass,
  });
  console.log(`results: ${file}`);
  return pass;
}

main()
  .then(async (pass) => {
    await runCleanups();
    process.exit(pass ? 0 : 1);
  })
  .catch(async (error) => {
    console.error(error);
    await runCleanups();
    process.exit(2);
  });
