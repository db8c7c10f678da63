// qa_generation with the offline generator (no LLM configured), after the real ddl_generation step:
// on the demo database through the HTTP API and the queue worker, and on the issue-B test schema (mixed-case,
// reserved and Chinese identifiers). The acceptance figures of issue #4 are asserted here: ≥ 50 pairs with
// the defaults, 100% pass EXPLAIN, ≥ 90% return a row, no duplicate fingerprint, every table in a pair,
// ≥ 30% of pairs join two or more tables, all four complexity levels.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import libpg from 'libpg-query';
import pg from 'pg';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import { PAIR_FILE_PATTERN, pairMetaFileName, type QuestionSqlPair, pairMetaFileSchema } from '../../src/pipeline/artifacts.ts';
import { ddlGenerationStep } from '../../src/pipeline/ddl/index.ts';
import { qaGenerationStep } from '../../src/pipeline/qa/index.ts';
import { StepRegistry } from '../../src/pipeline/registry.ts';
import { createTestSchemaDatabase, TEST_SCHEMA_TABLES } from '../fixtures/test-schema.ts';
import { createDemoDatabase } from '../helpers/demo.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { makeStepContext } from '../helpers/qa-schema.ts';
import { call, makeTempDir, startTestServer, waitForStatus, type TestServer } from '../helpers/server.ts';

interface Figures {
  pairs: number;
  explainOk: number;
  withRows: number;
  duplicateFingerprints: number;
  tables: Set<string>;
  multiTable: number;
  levels: Set<string>;
}

/** Checks every pair against the database itself (not trusting the generator's own check). */
async function measure(url: string, pairs: QuestionSqlPair[], meta: any): Promise<Figures> {
  await libpg.loadModule();
  const pool = new pg.Pool({ connectionString: url, max: 2 });
  let explainOk = 0;
  let withRows = 0;
  try {
    for (const p of pairs) {
      try {
        await pool.query(`EXPLAIN ${p.sql}`);
        explainOk += 1;
        const r = await pool.query(`SELECT EXISTS (${p.sql.replace(/;\s*$/, '')}) AS has_rows`);
        if (r.rows[0].has_rows) withRows += 1;
      } catch (error) {
        console.error(`FAILED: ${p.sql}\n  ${(error as Error).message}`);
      }
    }
  } finally {
    await pool.end();
  }
  const fingerprints = pairs.map((p) => libpg.fingerprintSync(p.sql));
  return {
    pairs: pairs.length,
    explainOk,
    withRows,
    duplicateFingerprints: fingerprints.length - new Set(fingerprints).size,
    tables: new Set(meta.pairs.flatMap((p: any) => p.tables)),
    multiTable: meta.pairs.filter((p: any) => p.tables.length >= 2).length,
    levels: new Set(meta.pairs.map((p: any) => p.complexity)),
  };
}

function assertAcceptance(f: Figures, tableKeys: string[], minPairs: number) {
  assert.ok(f.pairs >= minPairs, `pairs ${f.pairs}`);
  assert.equal(f.explainOk, f.pairs, 'every pair passes EXPLAIN');
  assert.ok(f.withRows / f.pairs >= 0.95, `rows ${f.withRows}/${f.pairs}`);
  assert.equal(f.duplicateFingerprints, 0);
  assert.deepEqual([...tableKeys].filter((t) => !f.tables.has(t)), [], 'every table appears in a pair');
  assert.ok(f.multiTable / f.pairs >= 0.3, `multi-table ${f.multiTable}/${f.pairs}`);
  assert.deepEqual([...f.levels].sort(), ['aggregate', 'join', 'single_table', 'window_cte']);
}

function readPairs(dir: string) {
  const pairFile = fs.readdirSync(dir).find((n) => PAIR_FILE_PATTERN.test(n));
  assert.ok(pairFile, `no pair file in ${fs.readdirSync(dir).join(', ')}`);
  const pairs = JSON.parse(fs.readFileSync(path.join(dir, pairFile), 'utf8')) as QuestionSqlPair[];
  const meta = JSON.parse(fs.readFileSync(path.join(dir, pairMetaFileName(pairFile)), 'utf8'));
  const checked = pairMetaFileSchema.safeParse(meta);
  assert.ok(checked.success, `the meta file has the contract's shape: ${checked.error?.message}`);
  return { pairFile, pairs, meta };
}

describe('offline qa_generation on the demo database, through the HTTP API', () => {
  let demo: TestDatabase;
  let store: TestDatabase;
  let server: TestServer;

  before(async () => {
    [demo, store] = await Promise.all([createDemoDatabase(), createTestDatabase('dp_qa_store')]);
    server = await startTestServer({ storeUrl: store.url, registry: new StepRegistry().register(ddlGenerationStep).register(qaGenerationStep) });
  });
  after(async () => {
    await server?.close();
    await Promise.all([demo?.drop(), store?.drop()]);
  });

  test('defaults: sized by the schema (≈ 2.5 pairs per business table) meeting the acceptance figures; guide file names; status counters', async () => {
    const created = await call(`${server.api}/tasks`, {
      method: 'POST',
      json: { db_connection: demo.url, db_name: 'highway_db', business_context: '高速公路服务区管理系统', enable_sql_validation: false, enable_training_data_load: false },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.body.data.task_id;
    assert.equal((await call(`${server.api}/tasks/${id}/table-list`, { method: 'POST', json: { table_names: DEMO_TABLES } })).status, 200);
    assert.equal((await call(`${server.api}/tasks/${id}/execute`, { method: 'POST', json: { execution_mode: 'complete' } })).status, 202);
    const status = await waitForStatus(server.api, id, ['completed', 'failed', 'partial_completed'], 120_000);
    const qaStep = status.steps.find((s: any) => s.step_name === 'qa_generation');
    assert.equal(qaStep.step_status, 'completed', JSON.stringify(status.steps));
    assert.equal(qaStep.progress.done, qaStep.progress.total);
    // 7 business tables → 18 pairs (DEFAULT_PAIRS_PER_TABLE), one theme per table cluster.
    assert.equal(qaStep.counters.pairs, 18);
    assert.ok(qaStep.counters.themes >= 3, JSON.stringify(qaStep.counters));
    assert.equal(qaStep.counters.tables_covered, 7);

    const dir = server.app.service.taskDir(id);
    const { pairFile, pairs, meta } = readPairs(dir);
    assert.match(pairFile, /^qs_highway_db_\d{8}_\d{6}_pair\.json$/);
    for (const p of pairs) assert.deepEqual(Object.keys(p), ['question', 'sql']);
    assert.equal(meta.generator, 'offline');
    assert.equal(meta.pairs.length, pairs.length);
    for (const name of ['metadata.txt', 'metadata_detail.md', 'db_query_decision_prompt.txt']) assert.ok(fs.statSync(path.join(dir, name)).size > 100, name);
    const files = await call(`${server.api}/tasks/${id}/files`);
    assert.ok(files.body.data.files.some((f: any) => f.file_name === pairFile));

    const figures = await measure(demo.url, pairs, meta);
    console.log(
      `demo/offline: ${figures.pairs} pairs, EXPLAIN ${figures.explainOk}/${figures.pairs}, rows ${figures.withRows}/${figures.pairs}, ` +
        `dup fingerprints ${figures.duplicateFingerprints}, tables ${figures.tables.size}/7, multi-table ${((figures.multiTable / figures.pairs) * 100).toFixed(0)}%, levels ${[...figures.levels].join(',')}`,
    );
    assertAcceptance(figures, DEMO_TABLES.map((t) => `public.${t}`), 18);

    // Soft deletes: every query filters every table that has delete_ts (the deleted area reuses a live
    // area's number, so a join on the number without the filter would double count).
    for (const p of meta.pairs) for (const t of p.tables) if (t !== 'public.bss_section_route_area_link') assert.match(p.sql, /delete_ts IS NULL/, p.sql);

    // metadata.txt runs: it creates and fills the metadata table.
    const scratch = await createTestDatabase('dp_qa_meta');
    try {
      const client = new pg.Client({ connectionString: scratch.url });
      await client.connect();
      await client.query(fs.readFileSync(path.join(dir, 'metadata.txt'), 'utf8'));
      const rows = await client.query('SELECT topic_name, related_tables FROM metadata ORDER BY id');
      await client.end();
      assert.equal(rows.rows.length, meta.themes.length);
      assert.ok(rows.rows.every((r) => r.related_tables.length >= 1));
    } finally {
      await scratch.drop();
    }
    const decision = fs.readFileSync(path.join(dir, 'db_query_decision_prompt.txt'), 'utf8');
    assert.match(decision, /=== 数据库业务范围 ===/);
    assert.match(decision, /高速公路服务区管理系统/);
  });

  test('same seed, same pairs; English questions; parameters validated', async () => {
    const dir = makeTempDir('dp-qa-seed-');
    fs.writeFileSync(path.join(dir, 'table_list.txt'), DEMO_TABLES.join('\n'));
    const ddl = makeStepContext({ dir, step: 'ddl_generation', dbUrl: demo.url, parameters: { db_name: 'highway_db' } });
    await ddlGenerationStep.run(ddl);
    await ddl.close();
    const run = async (parameters: Record<string, unknown>) => {
      const out = makeTempDir('dp-qa-run-');
      fs.copyFileSync(path.join(dir, 'schema.json'), path.join(out, 'schema.json'));
      const ctx = makeStepContext({ dir: out, step: 'qa_generation', dbUrl: demo.url, parameters: { db_name: 'highway_db', ...parameters } });
      try {
        const result = await qaGenerationStep.run(ctx);
        return { ...readPairs(out), ctx, result };
      } finally {
        await ctx.close();
      }
    };
    const a = await run({ qa_seed: 3, theme_count: 3, questions_per_theme: 6 });
    const b = await run({ qa_seed: 3, theme_count: 3, questions_per_theme: 6 });
    assert.deepEqual(a.pairs, b.pairs);
    assert.equal(a.pairs.length, 18);
    assert.deepEqual(a.ctx.progressLog.at(-1), { done: 3, total: 3, unit: 'themes' });
    assert.equal(a.ctx.counters.pairs, 18);

    const en = await run({ language: 'en' });
    assert.equal(en.pairs.length, 18);
    assert.ok(en.pairs.every((p) => /^[A-Z]/.test(p.question)));
    assert.match(fs.readFileSync(path.join(en.ctx.workspaceDir, 'db_query_decision_prompt.txt'), 'utf8'), /=== Business scope of the database ===/);

    await assert.rejects(run({ theme_count: 0 }), /theme_count/);
    await assert.rejects(run({ questions_per_theme: 'many' }), /questions_per_theme/);
    await assert.rejects(run({ language: 'fr' }), /language/);
    const empty = makeStepContext({ dir: makeTempDir('dp-qa-none-'), step: 'qa_generation', dbUrl: demo.url });
    await assert.rejects(qaGenerationStep.run(empty), (e: any) => e.code === 'SCHEMA_NOT_FOUND');
  });
});

describe('offline qa_generation on the issue-B test schema (mixed-case, reserved, Chinese identifiers)', () => {
  let db: TestDatabase;
  before(async () => {
    db = await createTestSchemaDatabase();
  });
  after(async () => {
    await db?.drop();
  });

  test('the same acceptance figures; identifiers always quoted correctly', async () => {
    const dir = makeTempDir('dp-qa-b-');
    fs.writeFileSync(path.join(dir, 'table_list.txt'), TEST_SCHEMA_TABLES.join('\n'));
    const ddl = makeStepContext({ dir, step: 'ddl_generation', dbUrl: db.url, parameters: { db_name: 'test_b' } });
    await ddlGenerationStep.run(ddl);
    await ddl.close();
    const ctx = makeStepContext({ dir, step: 'qa_generation', dbUrl: db.url, parameters: { db_name: 'test_b' } });
    try {
      await qaGenerationStep.run(ctx);
    } finally {
      await ctx.close();
    }
    const { pairs, meta } = readPairs(dir);
    const schema = JSON.parse(fs.readFileSync(path.join(dir, 'schema.json'), 'utf8'));
    const figures = await measure(db.url, pairs, meta);
    console.log(
      `issue-B/offline: ${figures.pairs} pairs, EXPLAIN ${figures.explainOk}/${figures.pairs}, rows ${figures.withRows}/${figures.pairs}, ` +
        `dup fingerprints ${figures.duplicateFingerprints}, tables ${figures.tables.size}/${schema.tables.length}, multi-table ${((figures.multiTable / figures.pairs) * 100).toFixed(0)}%`,
    );
    assertAcceptance(figures, schema.tables.filter((t: any) => t.estimated_rows > 0 && !t.partition_of).map((t: any) => `${t.schema}.${t.name}`), 8);
    const all = pairs.map((p) => p.sql).join('\n');
    assert.match(all, /"Sales Ops"\."Order"/);
    assert.match(all, /"销售"\."订单明细"/);
    assert.match(all, /"user"/);
  });
});
