// training_load on both vector databases (PostgreSQL + pgvector, embedded PGlite), from a task directory
// laid out per the shared contract (pipeline/artifacts.ts): schema.json, .ddl, _detail.md, the validated
// pair file named by sql_validation_result.json. Then through the real server: a complete run whose steps
// 1–3 are stand-ins that write those files, the search route, and the vector backup/restore routes.
import assert from 'node:assert/strict';
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadSettings, type Settings } from '../../src/config.ts';
import { HashingEmbedder } from '../../src/embed/hashing.ts';
import type { Embedder } from '../../src/embed/types.ts';
import { SCHEMA_FILE, VALIDATION_RESULT_FILE, type SchemaFile, type TableInfo, type ValidationResultFile } from '../../src/pipeline/artifacts.ts';
import { StepError, type PipelineStep, type TaskParameters } from '../../src/pipeline/context.ts';
import { fakeStepContext } from '../helpers/step-context.ts';
import { runTrainingLoad, trainingLoadStep } from '../../src/pipeline/load/index.ts';
import { StepRegistry } from '../../src/pipeline/registry.ts';
import type { StepName } from '../../src/pipeline/steps.ts';
import { connect, type Database } from '../../src/postgres/connect.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, makeTempDir, startTestServer, waitForStatus, type TestServer } from '../helpers/server.ts';

const DIM = 256;

// ------------------------------------------------------------------------------------------- fixtures

const TABLES = [
  {
    name: 'bss_company',
    comment: '公司信息表',
    ddl: `-- 中文名: 公司信息表\nCREATE TABLE bss_company (\n  id varchar(32) NOT NULL, -- 主键ID\n  company_name varchar(255), -- 公司名称\n  company_no varchar(255), -- 公司编码\n  PRIMARY KEY (id)\n);`,
    detail: `## bss_company（公司信息表）\nbss_company 表存储高速公路运营分公司的基本信息。\n字段列表：\n- id (varchar(32)) - 主键ID\n- company_name (varchar(255)) - 公司名称 [示例: 上饶分公司, 宜春分公司]\n- company_no (varchar(255)) - 公司编码 [示例: H01, H02]\n`,
  },
  {
    name: 'bss_service_area',
    comment: '服务区信息表',
    ddl: `-- 中文名: 服务区信息表\nCREATE TABLE bss_service_area (\n  id varchar(32) NOT NULL, -- 主键ID\n  service_area_name varchar(255), -- 服务区名称\n  service_area_no varchar(255), -- 服务区编码\n  company_id varchar(32), -- 所属公司ID\n  service_state varchar(50), -- 服务区状态\n  PRIMARY KEY (id)\n);`,
    detail: `## bss_service_area（服务区信息表）\nbss_service_area 表存储服务区的名称、编码、所属公司和运营状态。\n字段列表：\n- service_area_name (varchar(255)) - 服务区名称 [示例: 南昌南服务区]\n- service_state (varchar(50)) - 服务区状态 [示例: 开放, 关闭]\n`,
  },
  {
    name: 'bss_business_day_data',
    comment: '营业日数据表',
    ddl: `-- 中文名: 营业日数据表\nCREATE TABLE bss_business_day_data (\n  id varchar(32) NOT NULL, -- 主键ID\n  oper_date date, -- 统计日期\n  service_no varchar(255), -- 服务区编码\n  service_name varchar(255), -- 服务区名称\n  wx numeric(19,4), -- 微信支付金额\n  zfb numeric(19,4), -- 支付宝支付金额\n  pay_sum numeric(19,4), -- 支付总额\n  order_sum integer, -- 订单总数\n  PRIMARY KEY (id)\n);`,
    detail: `## bss_business_day_data（营业日数据表）\n记录每个服务区每天的营业收入，按支付方式拆分。\n字段列表：\n- oper_date (date) - 统计日期\n- wx (numeric(19,4)) - 微信支付金额\n- pay_sum (numeric(19,4)) - 支付总额\n`,
  },
];

const PAIRS = [
  { question: '统计每个服务区2024年的微信支付总金额', sql: "SELECT service_name, SUM(wx) AS wx_total FROM bss_business_day_data WHERE oper_date >= '2024-01-01' AND oper_date < '2025-01-01' GROUP BY service_name ORDER BY wx_total DESC;" },
  { question: '哪个服务区的订单总数最多？', sql: 'SELECT service_name, SUM(order_sum) AS orders FROM bss_business_day_data GROUP BY service_name ORDER BY orders DESC LIMIT 1;' },
  { question: '列出所有处于关闭状态的服务区名称', sql: "SELECT service_area_name FROM bss_service_area WHERE service_state = '关闭' AND delete_ts IS NULL;" },
  { question: '每个公司下有多少个服务区？', sql: 'SELECT c.company_name, COUNT(s.id) AS areas FROM bss_company c LEFT JOIN bss_service_area s ON s.company_id = c.id GROUP BY c.company_name;' },
  { question: '上饶分公司的公司编码是什么', sql: "SELECT company_no FROM bss_company WHERE company_name = '上饶分公司';" },
  { question: '2024年3月支付宝支付金额最高的一天是哪天', sql: "SELECT oper_date, SUM(zfb) AS total FROM bss_business_day_data WHERE oper_date BETWEEN '2024-03-01' AND '2024-03-31' GROUP BY oper_date ORDER BY total DESC LIMIT 1;" },
  { question: '南昌南服务区的平均日营业额', sql: "SELECT AVG(pay_sum) FROM bss_business_day_data WHERE service_name = '南昌南服务区';" },
  { question: 'Which service areas are open?', sql: "SELECT service_area_name FROM bss_service_area WHERE service_state = '开放';" },
  { question: '统计各服务区支付总额并按降序排列', sql: 'SELECT service_name, SUM(pay_sum) AS total FROM bss_business_day_data GROUP BY service_name ORDER BY total DESC;' },
  { question: '查询 "引号" 与反斜杠 \\ 的处理', sql: "SELECT 'a\\b' AS x, '\"q\"' AS y;" },
];
/** Generated but rejected by validation: in the pair file, not in the validated file. */
const INVALID_PAIRS = [
  { question: '查询不存在的表', sql: 'SELECT * FROM no_such_table;' },
  { question: '语法错误的查询', sql: 'SELEC 1' },
];
const STAMP = '20250627_143052';
const PAIR_FILE = `qs_highway_db_${STAMP}_pair.json`;
const VALIDATED_FILE = `qs_highway_db_${STAMP}_pair_validated.json`;
const BUSINESS_DOC = '=== 数据库业务范围 ===\n当前数据库存储的是高速公路服务区的经营数据，包括公司、服务区、营业日数据。\n';

function tableInfo(t: (typeof TABLES)[number]): TableInfo {
  return {
    schema: 'public',
    name: t.name,
    full_name: `public.${t.name}`,
    kind: 'table',
    comment: t.comment,
    comment_source: 'db',
    estimated_rows: 100,
    size_bytes: null,
    columns: [],
    primary_key: ['id'],
    unique_constraints: [],
    foreign_keys: [],
    indexes: [],
    files: { ddl: `${t.name}.ddl`, detail: `${t.name}_detail.md` },
  };
}

/** The files steps 1–3 leave in a task directory (ddl_generation, qa_generation, sql_validation). */
function writeTaskFiles(dir: string, options: { pairs?: unknown[]; validated?: unknown[]; validation?: boolean; businessDoc?: boolean } = {}) {
  fs.mkdirSync(dir, { recursive: true });
  for (const t of TABLES) {
    fs.writeFileSync(path.join(dir, `${t.name}.ddl`), t.ddl);
    fs.writeFileSync(path.join(dir, `${t.name}_detail.md`), t.detail);
  }
  const schema: SchemaFile = {
    version: 1,
    generated_at: '2025-06-27T14:31:00',
    database: { name: 'highway_db', server_version: '15.0' },
    business_context: '高速公路服务区管理系统',
    language: 'zh',
    tables: TABLES.map(tableInfo),
  };
  fs.writeFileSync(path.join(dir, SCHEMA_FILE), JSON.stringify(schema, null, 2));
  if (options.businessDoc !== false) fs.writeFileSync(path.join(dir, 'db_query_decision_prompt.txt'), BUSINESS_DOC);
  fs.writeFileSync(path.join(dir, PAIR_FILE), JSON.stringify(options.pairs ?? [...PAIRS, ...INVALID_PAIRS], null, 2));
  if (options.validation !== false) {
    fs.writeFileSync(path.join(dir, VALIDATED_FILE), JSON.stringify(options.validated ?? PAIRS, null, 2));
    const result: ValidationResultFile = {
      pair_file: PAIR_FILE,
      validated_file: VALIDATED_FILE,
      report_file: `sql_validation_${STAMP}_report.json`,
      summary_file: `sql_validation_${STAMP}_summary.txt`,
      total: PAIRS.length + INVALID_PAIRS.length,
      valid: PAIRS.length,
      repaired: 0,
      invalid: INVALID_PAIRS.length,
      empty: 0,
      generated_at: '2025-06-27T14:40:00',
    };
    fs.writeFileSync(path.join(dir, VALIDATION_RESULT_FILE), JSON.stringify(result, null, 2));
  }
}

// ------------------------------------------------------------------------------- a hand-made context

function makeContext(dir: string, settings: Settings, db: () => Promise<Database>, embedder: Embedder, params: Partial<TaskParameters> = {}, taskId = 'task_20250627_143052') {
  const ctx = fakeStepContext({
    step: 'training_load',
    dir,
    taskId,
    settings,
    embedder,
    vectorDatabase: db,
    parameters: { db_name: 'highway_db', modify_original_file: false, ...params },
  });
  return { ctx, counters: ctx.counters, progress: ctx.progressLog };
}

async function collectionRows(db: Database, collection: string) {
  const { rows } = await db.pool.query<{ id: string; document: string; cmetadata: Record<string, any> }>(
    `SELECT e.id, e.document, e.cmetadata FROM langchain_pg_embedding e JOIN langchain_pg_collection c ON c.uuid = e.collection_id WHERE c.name = $1 ORDER BY e.id`,
    [collection],
  );
  return rows;
}

const PROVENANCE = ['id', 'source', 'task_id', 'db_name', 'file', 'kind', 'embedding_model', 'embedding_dim', 'created_at'];

function hasPython(): boolean {
  return spawnSync('python3', ['--version']).status === 0;
}

// ---------------------------------------------------------------------------------------- the step

for (const backend of ['postgres', 'pglite'] as const) {
  describe(`training_load on ${backend}`, { timeout: 300_000 }, () => {
    let testDb: TestDatabase | undefined;
    let db: Database;
    let root: string;
    let settings: Settings;
    let embedder: Embedder;
    const openDb = async () => db;

    before(async () => {
      root = makeTempDir(`dp-load-${backend}-`);
      let url: string;
      if (backend === 'postgres') {
        testDb = await createTestDatabase('dp_load');
        url = testDb.url;
      } else {
        url = `pglite://${path.join(root, 'vector')}`;
      }
      db = await connect(url);
      settings = loadSettings({ DATA_PIPELINE_VECTOR_URL: url, DATA_PIPELINE_EMBEDDING_DIM: String(DIM), DATA_PIPELINE_OUTPUT_DIR: path.join(root, 'out') }, root);
      embedder = await HashingEmbedder.create(DIM);
    });
    after(async () => {
      await db.close();
      await testDb?.drop();
      fs.rmSync(root, { recursive: true, force: true });
    });

    test('loads one row per DDL file, per detail doc (+ the business doc), per validated pair; re-load adds 0', async () => {
      const dir = path.join(root, 'out', 'task_a');
      writeTaskFiles(dir);
      const h = makeContext(dir, settings, openDb, embedder);
      const result = await runTrainingLoad(h.ctx);
      assert.equal(result.counters!.ddl_added, 3);
      assert.equal(result.counters!.documentation_added, 4);
      assert.equal(result.counters!.sql_added, PAIRS.length);
      assert.equal(result.counters!.rows_failed, 0);
      assert.equal(result.counters!.pairs_loaded, PAIRS.length);
      assert.deepEqual(h.progress.at(-1), { done: 17, total: 17, unit: 'items' });
      assert.equal((await collectionRows(db, 'ddl')).length, 3);
      const docs = await collectionRows(db, 'documentation');
      assert.equal(docs.filter((r) => r.cmetadata.kind === 'table_detail').length, 3);
      assert.equal(docs.filter((r) => r.cmetadata.kind === 'business_doc').length, 1);
      assert.equal((await collectionRows(db, 'sql')).length, PAIRS.length);

      const again = makeContext(dir, settings, openDb, embedder, {}, 'task_other');
      const second = await runTrainingLoad(again.ctx);
      assert.equal(second.counters!.rows_added, 0);
      assert.equal(second.counters!.rows_unchanged, 17);
      assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM langchain_pg_embedding')).rows[0].n, 17);
      const reports = fs.readdirSync(dir).filter((f) => /^training_load_.*_report\.json$/.test(f));
      assert.ok(reports.length >= 1);
      const report = JSON.parse(fs.readFileSync(path.join(dir, reports.sort().at(-1)!), 'utf8'));
      assert.equal(report.pair_file, VALIDATED_FILE);
      assert.equal(report.pair_source, 'validated');
    });

    test('every row carries the provenance fields; ids are <uuid>-<suffix> and cmetadata.id = id', async () => {
      for (const [collection, suffix] of [['sql', '-sql'], ['ddl', '-ddl'], ['documentation', '-doc']] as const) {
        for (const row of await collectionRows(db, collection)) {
          for (const key of PROVENANCE) assert.ok(key in row.cmetadata, `${collection} row lacks ${key}`);
          assert.equal(row.cmetadata.id, row.id);
          assert.equal(row.cmetadata.source, 'data-pipeline');
          assert.equal(row.cmetadata.task_id, 'task_20250627_143052'); // the first load; a re-load changes nothing
          assert.equal(row.cmetadata.db_name, 'highway_db');
          assert.equal(row.cmetadata.embedding_model, 'hashing-zh-v4');
          assert.equal(row.cmetadata.embedding_dim, DIM);
          assert.ok(row.id.endsWith(suffix));
          if (collection !== 'sql' && row.cmetadata.kind !== 'business_doc') assert.match(row.cmetadata.table, /^public\.bss_/);
        }
      }
      const ddl = await collectionRows(db, 'ddl');
      assert.deepEqual(ddl.map((r) => r.cmetadata.file).sort(), TABLES.map((t) => `${t.name}.ddl`).sort());
      assert.ok(ddl.every((r) => r.document.includes('CREATE TABLE')));
    });

    test('read back the way Vanna does: sql documents are {question, sql} (json.loads and ast.literal_eval)', async () => {
      const rows = await collectionRows(db, 'sql');
      const parsed = rows.map((r) => JSON.parse(r.document));
      for (const p of parsed) assert.deepEqual(Object.keys(p), ['question', 'sql']);
      assert.deepEqual(parsed.map((p) => p.question).sort(), PAIRS.map((p) => p.question).sort());
      assert.ok(rows.some((r) => r.document.includes('微信支付')), 'non-ASCII kept as is');
      if (!hasPython()) return;
      const script = 'import ast, json, sys\nfor line in sys.stdin:\n    d = ast.literal_eval(json.loads(line))\n    assert isinstance(d, dict) and set(d) == {"question", "sql"}\n    print(json.dumps(d, ensure_ascii=False))\n';
      const out = execFileSync('python3', ['-c', script], { input: rows.map((r) => JSON.stringify(r.document)).join('\n') + '\n', encoding: 'utf8' });
      const viaPython = out.trim().split('\n').map((l) => JSON.parse(l));
      assert.deepEqual(viaPython, parsed);
    });

    test('with validation disabled the newest pair file is loaded as generated', async () => {
      const dir = path.join(root, 'out', 'task_b');
      writeTaskFiles(dir, { validation: false });
      const result = await runTrainingLoad(makeContext(dir, settings, openDb, embedder, { enable_sql_validation: false }, 'task_b').ctx);
      assert.equal(result.counters!.sql_added, INVALID_PAIRS.length);
      assert.equal(result.counters!.sql_unchanged, PAIRS.length);
    });

    test('validation enabled but its result missing: fails before touching the store (even with truncate)', async () => {
      const dir = path.join(root, 'out', 'task_c');
      writeTaskFiles(dir, { validation: false });
      const before = (await db.pool.query('SELECT count(*)::int AS n FROM langchain_pg_embedding')).rows[0].n;
      await assert.rejects(
        runTrainingLoad(makeContext(dir, settings, openDb, embedder, { truncate_vector_tables: true, backup_vector_tables: true }, 'task_c').ctx),
        (e: unknown) => e instanceof StepError && e.code === 'TRAINING_INPUT_MISSING' && /sql_validation/.test(e.message),
      );
      assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM langchain_pg_embedding')).rows[0].n, before);
      assert.equal(fs.existsSync(path.join(dir, 'vector_bak')), false);
    });

    test('rows that fail are counted per collection, the others load, and the run is not a success', async () => {
      const dir = path.join(root, 'out', 'task_d');
      const pairs = [...PAIRS, { question: '新问题：公司总数', sql: 'SELECT count(*) FROM bss_company;' }, { question: '没有SQL的问题' }, { sql: 'SELECT 2' }, 'not an object'];
      writeTaskFiles(dir, { validated: pairs });
      fs.rmSync(path.join(dir, 'bss_company_detail.md'));
      const h = makeContext(dir, settings, openDb, embedder, {}, 'task_d');
      await assert.rejects(runTrainingLoad(h.ctx), (e: unknown) => e instanceof StepError && e.code === 'TRAINING_LOAD_INCOMPLETE' && /4 row\(s\)/.test(e.message));
      assert.equal(h.counters.sql_added, 1);
      assert.equal(h.counters.sql_failed, 3);
      assert.equal(h.counters.documentation_failed, 1);
      assert.equal(h.counters.rows_failed, 4);
      const report = JSON.parse(fs.readFileSync(path.join(dir, fs.readdirSync(dir).find((f) => /^training_load_.*_report\.json$/.test(f))!), 'utf8'));
      assert.equal(report.failures.length, 4);
      assert.ok(report.failures.some((f: any) => f.file === 'bss_company_detail.md' && /not found/.test(f.error)));
    });

    test('a schema.json that points outside the task directory loads nothing from there', async () => {
      const dir = path.join(root, 'out', 'task_e');
      writeTaskFiles(dir);
      const schema = JSON.parse(fs.readFileSync(path.join(dir, SCHEMA_FILE), 'utf8'));
      schema.tables[0].files.ddl = '../task_a/bss_company.ddl';
      schema.tables[1].files.ddl = '/etc/passwd';
      fs.writeFileSync(path.join(dir, SCHEMA_FILE), JSON.stringify(schema));
      const h = makeContext(dir, settings, openDb, embedder, {}, 'task_e');
      await assert.rejects(runTrainingLoad(h.ctx), (e: unknown) => e instanceof StepError && e.code === 'TRAINING_LOAD_INCOMPLETE');
      assert.equal(h.counters.ddl_failed, 2);
    });

    test('truncate_vector_tables: backup to vector_bak/, then only this run\'s rows remain', async () => {
      const dir = path.join(root, 'out', 'task_f');
      writeTaskFiles(dir, { validated: PAIRS.slice(0, 4), businessDoc: false });
      const before = (await db.pool.query('SELECT count(*)::int AS n FROM langchain_pg_embedding')).rows[0].n;
      assert.ok(before > 10);
      const h = makeContext(dir, settings, openDb, embedder, { truncate_vector_tables: true, backup_vector_tables: true }, 'task_f');
      const result = await runTrainingLoad(h.ctx);
      assert.equal(result.counters!.rows_added, 3 + 3 + 4);
      assert.equal(h.counters.backup_rows, before);
      assert.equal(h.counters.truncated_rows, before);
      assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM langchain_pg_embedding')).rows[0].n, 10);
      const bak = fs.readdirSync(path.join(dir, 'vector_bak')).sort();
      assert.equal(bak.length, 4);
      assert.ok(bak.some((f) => /^langchain_pg_embedding_\d{8}_\d{6}\.csv$/.test(f)));
      assert.ok(bak.some((f) => /^vector_backup_manifest_\d{8}_\d{6}\.json$/.test(f)));
      assert.ok(bak.includes('vector_backup_log.txt'));
    });

    test('an embedder of another dimension or model is refused; nothing is written', async () => {
      const dir = path.join(root, 'out', 'task_g');
      writeTaskFiles(dir);
      await assert.rejects(
        runTrainingLoad(makeContext(dir, settings, openDb, await HashingEmbedder.create(64), {}, 'task_g').ctx),
        (e: unknown) => e instanceof StepError && e.code === 'VECTOR_DIMENSION_MISMATCH',
      );
      await assert.rejects(
        runTrainingLoad(makeContext(dir, settings, openDb, await HashingEmbedder.create(DIM, 'hashing-zh-v1'), {}, 'task_g').ctx),
        (e: unknown) => e instanceof StepError && e.code === 'VECTOR_EMBEDDER_MISMATCH',
      );
      assert.equal((await db.pool.query('SELECT count(*)::int AS n FROM langchain_pg_embedding')).rows[0].n, 10);
    });
  });
}

// ------------------------------------------------------------------------------ through the server

/** Stand-ins for steps 1–3 that leave the contract files; step 4 is the real one. */
function standInRegistry(): StepRegistry {
  const registry = new StepRegistry();
  const write: Record<Exclude<StepName, 'training_load'>, PipelineStep> = {
    ddl_generation: { name: 'ddl_generation', run: async (ctx) => writeTaskFiles(ctx.workspaceDir, { validation: false }) },
    qa_generation: { name: 'qa_generation', run: async () => undefined },
    sql_validation: { name: 'sql_validation', run: async (ctx) => writeTaskFiles(ctx.workspaceDir) },
  };
  for (const step of Object.values(write)) registry.register(step);
  return registry.register(trainingLoadStep);
}

describe('training_load and the vector routes through the real server', { timeout: 300_000 }, () => {
  let store: TestDatabase;
  let server: TestServer;
  let taskId: string;

  before(async () => {
    store = await createTestDatabase('dp_load_http');
    server = await startTestServer({ storeUrl: store.url, registry: standInRegistry(), env: { DATA_PIPELINE_EMBEDDING_DIM: String(DIM) } });
  });
  after(async () => {
    await server.close();
    await store.drop();
    fs.rmSync(server.dir, { recursive: true, force: true });
  });

  test('a complete run loads the rows; the status shows the counters', async () => {
    const created = await call(`${server.api}/tasks`, { method: 'POST', json: { db_name: 'highway_db', task_name: 'load test' } });
    assert.equal(created.status, 201);
    taskId = created.body.data.task_id;
    await call(`${server.api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: TABLES.map((t) => t.name) } });
    const exec = await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'complete', backup_vector_tables: true } });
    assert.equal(exec.status, 202, JSON.stringify(exec.body));
    const status = await waitForStatus(server.api, taskId, ['completed', 'failed'], 60_000);
    assert.equal(status.status, 'completed', JSON.stringify(status.steps));
    const files = await call(`${server.api}/tasks/${taskId}/files`);
    assert.ok(files.body.data.files.some((f: any) => /^training_load_.*_report\.json$/.test(f.file_name)));
    const again = await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: 'training_load' } });
    assert.equal(again.status, 202);
    await waitForStatus(server.api, taskId, ['completed', 'partial_completed', 'failed'], 60_000);
    const stats = await call(`${server.api}/vector/stats`);
    assert.equal(stats.status, 200);
    assert.equal(stats.body.data.total, 3 + 4 + PAIRS.length);
    assert.deepEqual(Object.fromEntries(stats.body.data.collections.map((c: any) => [c.name, c.rows])), { ddl: 3, documentation: 4, sql: PAIRS.length });
  });

  test('search: a question from the pair file ranks its own pair first, in every case', async () => {
    for (const pair of PAIRS) {
      const res = await call(`${server.api}/vector/search`, { method: 'POST', json: { question: pair.question, k: 3 } });
      assert.equal(res.status, 200);
      const top = res.body.data.results.sql[0];
      assert.equal(top.question, pair.question);
      assert.equal(top.sql, pair.sql);
      assert.equal(top.rank, 1);
      assert.ok(top.score > res.body.data.results.sql[1].score);
      assert.ok(res.body.data.results.ddl.length > 0 && res.body.data.results.documentation.length > 0);
    }
    const ddlOnly = await call(`${server.api}/vector/search`, { method: 'POST', json: { question: '服务区状态字段', k: 1, collections: ['ddl'] } });
    assert.deepEqual(Object.keys(ddlOnly.body.data.results), ['ddl']);
    assert.equal(ddlOnly.body.data.results.ddl[0].table, 'public.bss_service_area');
    for (const bad of [{}, { question: '' }, { question: 'x', k: 0 }, { question: 'x', k: 'many' }, { question: 'x', collections: ['users'] }, { question: 'x', extra: 1 }]) {
      const res = await call(`${server.api}/vector/search`, { method: 'POST', json: bad });
      assert.equal(res.status, 400, JSON.stringify(bad));
      assert.equal(res.body.error.code, 'VALIDATION_ERROR');
    }
  });

  test('backup (+ truncate), list and restore through the routes; bad names and paths refused', async () => {
    const backup = await call(`${server.api}/vector/backup`, { method: 'POST', json: { task_id: taskId, truncate_vector_tables: true } });
    assert.equal(backup.status, 200, backup.text);
    assert.equal(backup.body.data.backup_performed, true);
    assert.equal(backup.body.data.truncate_performed, true);
    assert.equal(backup.body.data.backup_directory, `${taskId}/vector_bak`);
    const stamp = backup.body.data.timestamp;
    assert.equal((await call(`${server.api}/vector/stats`)).body.data.total, 0);

    const list = await call(`${server.api}/vector/restore/list`);
    assert.equal(list.status, 200);
    const location = list.body.data.backup_locations.find((l: any) => l.task_id === taskId);
    assert.ok(location.backups.some((b: any) => b.timestamp === stamp && b.restorable));
    // The backup's files are downloadable task files.
    const files = await call(`${server.api}/tasks/${taskId}/files`);
    assert.ok(files.body.data.files.some((f: any) => f.file_name === `vector_bak/langchain_pg_embedding_${stamp}.csv`));

    for (const [body, status, code] of [
      [{ task_id: '../etc', timestamp: stamp }, 400, 'VALIDATION_ERROR'],
      [{ task_id: taskId, timestamp: '../../x' }, 400, 'VALIDATION_ERROR'],
      [{ backup_path: '/etc', timestamp: stamp }, 400, 'VALIDATION_ERROR'],
      [{ task_id: taskId, timestamp: '20000101_000000' }, 404, 'VECTOR_BACKUP_NOT_FOUND'],
      [{ task_id: 'task_nope', timestamp: stamp }, 404, 'VECTOR_BACKUP_NOT_FOUND'],
    ] as const) {
      const res = await call(`${server.api}/vector/restore`, { method: 'POST', json: body });
      assert.equal(res.status, status, `${JSON.stringify(body)} → ${res.text}`);
      assert.equal(res.body.error.code, code);
    }

    // Tampered: refused, nothing changes.
    const csv = path.join(server.app.settings.outputDir, taskId, 'vector_bak', `langchain_pg_embedding_${stamp}.csv`);
    const original = fs.readFileSync(csv);
    fs.writeFileSync(csv, Buffer.concat([original, Buffer.from('x')]));
    const refused = await call(`${server.api}/vector/restore`, { method: 'POST', json: { task_id: taskId, timestamp: stamp } });
    assert.equal(refused.status, 400);
    assert.equal(refused.body.error.code, 'VECTOR_BACKUP_INVALID');
    assert.equal((await call(`${server.api}/vector/stats`)).body.data.total, 0);
    fs.writeFileSync(csv, original);

    const restored = await call(`${server.api}/vector/restore`, { method: 'POST', json: { task_id: taskId, timestamp: stamp, truncate_before_restore: true } });
    assert.equal(restored.status, 200, restored.text);
    assert.equal(restored.body.data.restore_results.langchain_pg_embedding.rows_restored, 3 + 4 + PAIRS.length);
    assert.equal(restored.body.data.safety_backup.rows, 0);
    assert.equal((await call(`${server.api}/vector/stats`)).body.data.total, 3 + 4 + PAIRS.length);

    // Global backups (no task) go to <output dir>/vector_bak.
    const global = await call(`${server.api}/vector/backup`, { method: 'POST', json: {} });
    assert.equal(global.status, 200);
    assert.equal(global.body.data.backup_directory, 'vector_bak');
    const unknownTask = await call(`${server.api}/vector/backup`, { method: 'POST', json: { task_id: 'task_19990101_000000' } });
    assert.equal(unknownTask.status, 404);
    assert.equal(unknownTask.body.error.code, 'TASK_NOT_FOUND');
    const globalList = await call(`${server.api}/vector/restore/list?global_only=true`);
    assert.deepEqual(globalList.body.data.backup_locations.map((l: any) => l.type), ['global']);
  });

  test('a failed backup through the route answers VECTOR_BACKUP_FAILED and truncates nothing', async () => {
    const bak = path.join(server.app.settings.outputDir, taskId, 'vector_bak');
    fs.renameSync(bak, `${bak}.moved`);
    fs.writeFileSync(bak, 'not a directory');
    try {
      const res = await call(`${server.api}/vector/backup`, { method: 'POST', json: { task_id: taskId, truncate_vector_tables: true } });
      assert.equal(res.status, 500);
      assert.equal(res.body.error.code, 'VECTOR_BACKUP_FAILED');
      assert.equal((await call(`${server.api}/vector/stats`)).body.data.total, 3 + 4 + PAIRS.length);
      // And as a task flag: the step fails with the same code, nothing truncated.
      await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: 'training_load', truncate_vector_tables: true } });
      const status = await waitForStatus(server.api, taskId, ['failed', 'completed', 'partial_completed'], 60_000);
      assert.equal(status.status, 'failed');
      const step = status.steps.find((s: any) => s.step_name === 'training_load');
      assert.match(JSON.stringify(step), /VECTOR_BACKUP_FAILED/);
      assert.equal((await call(`${server.api}/vector/stats`)).body.data.total, 3 + 4 + PAIRS.length);
    } finally {
      fs.rmSync(bak, { force: true });
      fs.renameSync(`${bak}.moved`, bak);
    }
  });
});

void os;
