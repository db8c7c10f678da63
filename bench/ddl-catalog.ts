// Benchmark: the catalog reader of ddl_generation. One database with 2,000 tables × 21 columns (keys,
// foreign keys, indexes, comments, pg_stats); the catalog of 10 of them and of all 2,000 is read.
// Every table but the first also has an undeclared reference `t<k>_id` to another table, for join
// discovery to find by name and confirm by a containment query.
// Targets, as ratios in one run: round trips(2,000 tables) / round trips(10 tables) = 1, the wall time of
// reading 2,000 tables ≤ 3 s (ratio to 3 s ≤ 1), and join discovery in the whole step on the 2,000 tables
// (its containment queries counted and timed) ≤ 2 × the catalog read of the 2,000 tables. The whole step
// (profiles, inference, 4,000 files) is timed too, for information.
// Run: npx tsx bench/ddl-catalog.ts   (writes bench/results/ddl-catalog.json)
import fs from 'node:fs';
import path from 'node:path';
import { runDdlGeneration } from '../src/pipeline/ddl/index.ts';
import { readCatalog } from '../src/postgres/catalog/index.ts';
import { connect } from '../src/postgres/connect.ts';
import { stepContext } from '../test/fixtures/test-schema.ts';
import { createBenchDatabase, makeTempDir, median, onCleanup, printTable, round, runCleanups, startWatchdog, writeResults } from './lib/harness.ts';

const TABLES = Number(process.env.BENCH_TABLES ?? 2000);
const SMALL = 10;
const ROUNDS = 3;
const WALL_BUDGET_MS = 3000;
/** Join discovery on all tables, as a multiple of reading their catalog. */
const DISCOVERY_TARGET = 2;

startWatchdog(175);

const COLUMNS = [
  'id integer PRIMARY KEY',
  'parent_id integer',
  'code varchar(32) NOT NULL',
  'name varchar(255)',
  'status varchar(20) DEFAULT \'new\'',
  'amount numeric(19,4)',
  'qty integer',
  'price numeric(10,2)',
  'created_at timestamp DEFAULT now()',
  'updated_at timestamptz',
  'deleted_at timestamptz',
  'created_by varchar(50)',
  'flag boolean DEFAULT false',
  'note text',
  'tags text[]',
  'payload jsonb',
  'ratio double precision',
  'day date',
  'ref_no varchar(64)',
  'version integer NOT NULL DEFAULT 1',
];

/** The table t<i> refers to (undeclared) through its column t<k>_id: another table, spread over all. */
const REFERENCED_SQL = `(CASE WHEN i = 1 THEN ${TABLES} ELSE 1 + (i * 7) % (i - 1) END)`;

async function main() {
  const bench = await createBenchDatabase();
  const db = await connect(bench.url, { max: 4 });
  onCleanup(() => db.close());
  const setupStarted = Date.now();
  // In batches: one transaction cannot hold the locks of thousands of new tables.
  for (let from = 1; from <= TABLES; from += 100) {
    const to = Math.min(TABLES, from + 99);
    await db.pool.query(`
    DO $$ BEGIN
      FOR i IN ${from}..${to} LOOP
        EXECUTE format('CREATE TABLE public.t%s (${COLUMNS.join(', ').replace(/'/g, "''")}, t%s_id integer, UNIQUE (code)%s)', i, ${REFERENCED_SQL},
          CASE WHEN i > 1 THEN format(', CONSTRAINT t%s_parent_fk FOREIGN KEY (parent_id) REFERENCES public.t%s (id)', i, i - 1) ELSE '' END);
        EXECUTE format('CREATE INDEX t%s_day_idx ON public.t%s (day)', i, i);
        EXECUTE format('COMMENT ON TABLE public.t%s IS %L', i, '表 ' || i);
        EXECUTE format('COMMENT ON COLUMN public.t%s.code IS %L', i, '编码');
        EXECUTE format('INSERT INTO public.t%s (id, code, name, status, qty, day, t%s_id) SELECT g, %L || g, %L || g, (ARRAY[''new'',''done''])[1 + g %% 2], g %% 5, DATE ''2024-01-01'' + g, 1 + g %% 20 FROM generate_series(1, 20) g', i, ${REFERENCED_SQL}, 'C', 'N');
      END LOOP;
    END $$;`);
  }
  await db.pool.query('ANALYZE');
  const setupSeconds = (Date.now() - setupStarted) / 1000;
  console.log(`setup: ${TABLES} tables × ${COLUMNS.length + 1} columns in ${setupSeconds.toFixed(1)} s`);

  const names = Array.from({ length: TABLES }, (_, i) => `t${i + 1}`);
  const measure = async (list: string[]) => {
    const runs = [];
    for (let r = 0; r < ROUNDS; r++) runs.push(await readCatalog(db, list));
    const last = runs.at(-1)!;
    assertComplete(last.relations.length === list.length, `${list.length} relations read`);
    return {
      tables: list.length,
      columns: last.relations.reduce((n, rel) => n + rel.columns.length, 0),
      round_trips: last.stats.roundTrips,
      ms: runs.map((x) => x.stats.ms),
      median_ms: median(runs.map((x) => x.stats.ms)),
    };
  };
  const small = await measure(names.slice(0, SMALL));
  const large = await measure(names);

  // The whole step on all tables, offline (information only).
  const tmp = makeTempDir('bench-ddl-');
  const dir = path.join(tmp.dir, 'task');
  fs.mkdirSync(dir);
  fs.writeFileSync(path.join(dir, 'table_list.txt'), `${names.join('\n')}\n`);
  const stepStarted = Date.now();
  const result = await runDdlGeneration(stepContext({ dir, db }));
  const stepMs = Date.now() - stepStarted;

  const roundTripRatio = large.round_trips / small.round_trips;
  const wallRatio = large.median_ms / WALL_BUDGET_MS;
  const discovery = { probes: result.counters?.relationship_probes ?? 0, inferred: result.counters?.inferred_relationships ?? 0, ms: result.counters?.relationship_discovery_ms ?? 0 };
  const discoveryRatio = discovery.ms / large.median_ms;
  // Discovery must have had work to do: nearly every table's undeclared reference is probed and found.
  assertComplete(discovery.probes >= TABLES * 0.9 && discovery.inferred >= TABLES * 0.9, `join discovery probed and inferred ≥ 90% of ${TABLES} references (probes ${discovery.probes}, inferred ${discovery.inferred})`);
  const pass = roundTripRatio === 1 && wallRatio <= 1 && discoveryRatio <= DISCOVERY_TARGET;
  printTable(
    ['catalog read', 'tables', 'columns', 'round trips', 'median ms'],
    [
      ['10 tables', small.tables, small.columns, small.round_trips, small.median_ms],
      [`${TABLES} tables`, large.tables, large.columns, large.round_trips, large.median_ms],
    ],
  );
  console.log(`\nround trips ${TABLES}/10 = ${round(roundTripRatio)} (target 1); wall ${large.median_ms} ms / ${WALL_BUDGET_MS} ms = ${round(wallRatio)} (target ≤ 1)`);
  console.log(`whole step on ${TABLES} tables (offline, ${result.counters?.columns} columns, ${TABLES * 2 + 2} files): ${(stepMs / 1000).toFixed(1)} s`);
  console.log(
    `join discovery: ${discovery.probes} containment queries, ${discovery.inferred} inferred relationships, ${discovery.ms} ms = ${round(discoveryRatio)} × the catalog read (target ≤ ${DISCOVERY_TARGET})`,
  );
  console.log(pass ? 'PASS' : 'MISS');
  const file = writeResults('ddl-catalog', {
    tables: TABLES,
    columns_per_table: COLUMNS.length,
    setup_seconds: setupSeconds,
    small,
    large,
    round_trip_ratio: round(roundTripRatio),
    wall_budget_ms: WALL_BUDGET_MS,
    wall_ratio: round(wallRatio),
    step_ms: stepMs,
    step_counters: result.counters,
    join_discovery: { ...discovery, catalog_ms: large.median_ms, ratio_to_catalog: round(discoveryRatio), target_ratio_to_catalog: DISCOVERY_TARGET },
    worst_ratio: round(Math.max(roundTripRatio, wallRatio, discoveryRatio / DISCOVERY_TARGET)),
    target_ratio: 1,
    pass,
  });
  console.log(`results: ${file}`);
  return pass;
}

function assertComplete(ok: boolean, what: string): void {
  if (!ok) throw new Error(`benchmark invariant failed: ${what}`);
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
