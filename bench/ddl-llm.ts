// Benchmark: ddl_generation (step 1, whole step: catalog, profiles, inference, one LLM call per table,
// files) on 64 tables without comments, with the real OpenAI-compatible client against the fake server
// at a fixed 300 ms latency and LLM concurrency 8. The ideal is calls × latency / concurrency; the
// database work must overlap the LLM calls for the step to come close to it.
// Target, as a ratio in one run: wall time ≤ 1.25 × ideal.
// Run: npx tsx bench/ddl-llm.ts   (writes bench/results/ddl-llm.json)
import fs from 'node:fs';
import path from 'node:path';
import { createLlmClient } from '../src/llm/client.ts';
import { runDdlGeneration } from '../src/pipeline/ddl/index.ts';
import { connect } from '../src/postgres/connect.ts';
import { jsonReply, startFakeOpenAI } from '../test/helpers/fake-openai.ts';
import { stepContext } from '../test/fixtures/test-schema.ts';
import { createBenchDatabase, makeTempDir, median, onCleanup, printTable, round, runCleanups, startWatchdog, writeResults } from './lib/harness.ts';

const TABLES = 64;
const LATENCY_MS = 300;
const CONCURRENCY = 8;
const ROUNDS = 3;
const TARGET = 1.25;

startWatchdog(175);

async function main() {
  const bench = await createBenchDatabase();
  const db = await connect(bench.url, { max: 4 });
  onCleanup(() => db.close());
  await db.pool.query(`
    DO $$ BEGIN
      FOR i IN 1..${TABLES} LOOP
        EXECUTE format('CREATE TABLE public.item_%s (id integer PRIMARY KEY, owner_id integer, code varchar(32), name varchar(100),
          status varchar(20), amount numeric(12,2), qty integer, created_at timestamp, updated_by varchar(50), note text)', i);
        EXECUTE format('INSERT INTO public.item_%s SELECT g, g %% 40, ''C'' || g, ''name '' || g, (ARRAY[''new'',''done''])[1 + g %% 2],
          g * 1.5, g %% 9, TIMESTAMP ''2024-01-01'' + g * INTERVAL ''1 hour'', ''u'' || (g %% 3), NULL FROM generate_series(1, 300) g', i);
      END LOOP;
    END $$;
    ANALYZE;`);

  const fake = await startFakeOpenAI({
    latencyMs: LATENCY_MS,
    handler: (request) => {
      const prompt = request.messages.find((m) => m.role === 'user')?.content ?? '';
      const wanted = (/以下字段的注释: (.+)$/m.exec(prompt)?.[1] ?? '').split(', ').filter(Boolean);
      return jsonReply({ table_comment: '条目表', columns: Object.fromEntries(wanted.map((c) => [c, `${c} 的含义`])) });
    },
  });
  onCleanup(() => fake.close());
  const tmp = makeTempDir('bench-ddl-llm-');
  const names = Array.from({ length: TABLES }, (_, i) => `item_${i + 1}`);

  const runs: Array<{ wall_ms: number; calls: number; ideal_ms: number; ratio: number; max_in_flight: number }> = [];
  for (let r = 0; r < ROUNDS; r++) {
    fake.reset();
    const dir = path.join(tmp.dir, `task${r}`);
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'table_list.txt'), `${names.join('\n')}\n`);
    const llm = createLlmClient({ baseUrl: fake.baseUrl, apiKey: undefined, model: 'fake', temperature: 0, timeoutMs: 30_000, concurrency: CONCURRENCY, maxRetries: 0, jsonMode: true });
    const ctx = stepContext({ dir, db, llm });
    const t0 = performance.now();
    const result = await runDdlGeneration(ctx);
    const wall = performance.now() - t0;
    const calls = fake.chatRequests().length;
    const ideal = (calls * LATENCY_MS) / CONCURRENCY;
    if (result.counters?.comments_llm !== TABLES * 11) throw new Error(`expected ${TABLES * 11} LLM comments, got ${result.counters?.comments_llm}`);
    runs.push({ wall_ms: round(wall, 0), calls, ideal_ms: ideal, ratio: round(wall / ideal), max_in_flight: fake.maxInFlight });
  }
  const ratio = median(runs.map((x) => x.ratio));
  const pass = ratio <= TARGET;
  printTable(
    ['run', 'calls', 'max in flight', 'wall ms', 'ideal ms', 'wall / ideal'],
    runs.map((x, i) => [i + 1, x.calls, x.max_in_flight, x.wall_ms, x.ideal_ms, x.ratio]),
  );
  console.log(`\nmedian wall / ideal = ${ratio} (target ≤ ${TARGET})`);
  console.log(pass ? 'PASS' : 'MISS');
  const file = writeResults('ddl-llm', {
    tables: TABLES,
    latency_ms: LATENCY_MS,
    concurrency: CONCURRENCY,
    runs,
    median_ratio: ratio,
    worst_ratio: ratio,
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
