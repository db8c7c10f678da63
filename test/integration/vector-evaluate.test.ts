// POST /vector/evaluate and `data-pipeline vector evaluate` on a real server and the local PostgreSQL +
// pgvector: recall@k per question and overall with the misses, Chinese questions over English-named
// tables (hashing-zh-v4, the default), and every invalid input a 4xx naming the parameter.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { HashingEmbedder, HASHING_MODEL } from '../../src/embed/hashing.ts';
import { connect, type Database } from '../../src/postgres/connect.ts';
import { prepareDocument } from '../../src/vector/documents.ts';
import { ensureVectorStore } from '../../src/vector/schema.ts';
import { insertRows } from '../../src/vector/store.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, makeTempDir, startTestServer, testEnv, type TestServer } from '../helpers/server.ts';

const DIM = 256;
const TABLES: Record<string, string> = {
  'public.author': 'CREATE TABLE author (aid integer PRIMARY KEY, authorname varchar(120), homepage varchar(200));',
  'public.paper': 'CREATE TABLE paper (pid integer PRIMARY KEY, title varchar(400), abstract text, pubyear smallint);',
  'public.venue': 'CREATE TABLE venue (vid integer PRIMARY KEY, venuename varchar(200), venuetype varchar(20));',
  'public.writes': 'CREATE TABLE writes (aid integer, pid integer, authororder smallint);',
  'sales.orders': 'CREATE TABLE sales.orders (order_id integer PRIMARY KEY, total_amount numeric);',
  'archive.orders': 'CREATE TABLE archive.orders (order_id integer PRIMARY KEY, total_amount numeric);',
};

async function seed(db: Database, model: string, tables: Record<string, string>): Promise<void> {
  const embedder = await HashingEmbedder.create(DIM, HASHING_MODEL);
  const { collections } = await ensureVectorStore(db.pool, { dim: DIM, model });
  const docs = Object.entries(tables).map(([table, ddl]) => ({ table, doc: prepareDocument('ddl', ddl) }));
  const vectors = await embedder.embed(docs.map((d) => d.doc.document));
  await insertRows(
    db.pool,
    docs.map((d, i) => ({
      id: d.doc.id,
      collectionId: collections.ddl!,
      document: d.doc.document,
      embedding: vectors[i]!,
      cmetadata: { id: d.doc.id, source: 'data-pipeline', task_id: 'task_20250101_000000', table: d.table, kind: 'ddl', embedding_model: model, embedding_dim: DIM },
    })),
  );
}

describe('vector/evaluate', () => {
  let database: TestDatabase;
  let server: TestServer;
  let db: Database;
  let url: string;

  before(async () => {
    database = await createTestDatabase('dp_eval');
    server = await startTestServer({ storeUrl: database.url, workers: false, env: { DATA_PIPELINE_EMBEDDING_DIM: String(DIM) } });
    url = `${server.api}/vector/evaluate`;
    db = await connect(database.url, { max: 2 });
  });

  after(async () => {
    await db?.close();
    await server?.close();
    await database?.drop();
  });

  test('an empty store is a 409 that says to load first', async () => {
    const r = await call(url, { method: 'POST', json: { questions: [{ question: '论文', tables: ['paper'] }] } });
    assert.equal(r.status, 409);
    assert.equal(r.body.error.code, 'VECTOR_STORE_EMPTY');
  });

  test('recall@k per question and overall, with the misses; Chinese questions find English-named tables', async () => {
    await seed(db, HASHING_MODEL, TABLES);
    const r = await call(url, {
      method: 'POST',
      headers: { 'Accept-Language': 'en' },
      json: {
        k: 1,
        questions: [
          { question: '每篇论文的标题和摘要', tables: ['paper'] },
          { question: '作者的个人主页', tables: ['public.author'] },
          // Two tables cannot both be the single nearest document: recall 0.5 at most, one miss listed.
          { question: '每位作者写了多少篇论文？', tables: ['author', 'writes'] },
        ],
      },
    });
    assert.equal(r.status, 200, r.text);
    const data = r.body.data;
    assert.equal(data.embedding_model, HASHING_MODEL);
    assert.equal(data.embedding_dim, DIM);
    assert.equal(data.k, 1);
    assert.deepEqual(data.collections, ['ddl']);
    assert.deepEqual(data.results[0].found, ['public.paper']);
    assert.deepEqual(data.results[1].found, ['public.author']);
    assert.equal(data.results[0].recall, 1);
    assert.deepEqual(data.results[0].retrieved.ddl, ['public.paper']);
    assert.ok(data.results[2].recall <= 0.5);
    assert.equal(data.results[2].missed.length, 2 - data.results[2].found.length);
    assert.equal(data.summary.tables_needed, 4);
    assert.equal(data.summary.questions, 3);
    assert.equal(data.summary.recall, Math.round((data.summary.tables_found / 4) * 1e4) / 1e4);
    assert.deepEqual(
      data.misses.map((m: { question: string }) => m.question),
      data.results.filter((x: { missed: string[] }) => x.missed.length).map((x: { question: string }) => x.question),
    );
  });

  test('unknown and ambiguous tables are a 400 naming them and the loaded tables', async () => {
    const r = await call(url, { method: 'POST', headers: { 'Accept-Language': 'en' }, json: { questions: [{ question: 'x', tables: ['paper', 'no_such_table'] }, { question: 'y', tables: ['orders'] }] } });
    assert.equal(r.status, 400);
    assert.equal(r.body.error.code, 'VALIDATION_ERROR');
    assert.deepEqual(r.body.error.invalid_params, ['questions[].tables']);
    assert.match(r.text, /no_such_table \(question 1\)/);
    assert.match(r.text, /orders \(question 2; ambiguous: archive\.orders, sales\.orders/);
    assert.match(r.text, /public\.paper/);
    const zh = await call(url, { method: 'POST', json: { questions: [{ question: 'x', tables: ['no_such_table'] }] } });
    assert.equal(zh.status, 400);
    assert.match(zh.text, /第 1 题的 no_such_table/);
  });

  for (const [name, body, param] of [
    ['no questions', { questions: [] }, 'questions'],
    ['questions missing', {}, 'questions'],
    ['a question with no tables', { questions: [{ question: '论文', tables: [] }] }, 'tables'],
    ['an empty question', { questions: [{ question: '  ', tables: ['paper'] }] }, 'question'],
    ['too many questions', { questions: Array.from({ length: 1001 }, (_, i) => ({ question: `q${i}`, tables: ['paper'] })) }, 'questions'],
    ['too many tables in a question', { questions: [{ question: 'q', tables: Array.from({ length: 51 }, (_, i) => `t${i}`) }] }, 'tables'],
    ['k of 0', { k: 0, questions: [{ question: 'q', tables: ['paper'] }] }, 'k'],
    ['k of 101', { k: 101, questions: [{ question: 'q', tables: ['paper'] }] }, 'k'],
    ['k not an integer', { k: 2.5, questions: [{ question: 'q', tables: ['paper'] }] }, 'k'],
    ['a collection without tables', { collections: ['sql'], questions: [{ question: 'q', tables: ['paper'] }] }, 'collections'],
    ['an unknown field', { questions: [{ question: 'q', tables: ['paper'] }], top: 3 }, 'top'],
  ] as const) {
    test(`${name} → 400 naming ${param}`, async () => {
      const r = await call(url, { method: 'POST', json: body });
      assert.equal(r.status, 400, r.text);
      assert.equal(r.body.error.code, 'VALIDATION_ERROR');
      assert.ok(r.text.includes(param), `${r.text} names ${param}`);
    });
  }

  test('a store embedded with another model is a 409 that says what to re-load', async () => {
    const other = await createTestDatabase('dp_eval_v1');
    const otherDb = await connect(other.url, { max: 2 });
    const otherServer = await startTestServer({ storeUrl: other.url, workers: false, env: { DATA_PIPELINE_EMBEDDING_DIM: String(DIM) } });
    try {
      await seed(otherDb, 'hashing-zh-v1', { 'public.paper': TABLES['public.paper']! });
      const r = await call(`${otherServer.api}/vector/evaluate`, { method: 'POST', headers: { 'Accept-Language': 'en' }, json: { questions: [{ question: 'papers', tables: ['paper'] }] } });
      assert.equal(r.status, 409);
      assert.equal(r.body.error.code, 'VECTOR_EMBEDDER_MISMATCH');
      assert.match(r.text, /hashing-zh-v1 \(1 rows, tasks task_20250101_000000\)/);
      assert.match(r.text, /truncate_vector_tables/);
    } finally {
      await otherServer.close();
      await otherDb.close();
      await other.drop();
    }
  });

  test('the CLI runs the same self-test from a file (fixture format), and --min-recall sets the exit code', () => {
    const dir = makeTempDir('dp-eval-cli-');
    const file = path.join(dir, 'q.json');
    fs.writeFileSync(file, JSON.stringify({ schema: 'x', note: 'ignored', questions: [{ question: '论文的标题', tables: ['paper'] }, { question: '每位作者写了多少篇论文？', tables: ['author', 'writes'] }] }));
    const env = { ...process.env, ...testEnv(dir, database.url, { DATA_PIPELINE_EMBEDDING_DIM: String(DIM) }) };
    const run = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'src/main.ts', 'vector', 'evaluate', '--file', file, '--lang', 'en', ...args], { env, encoding: 'utf8', timeout: 60_000 });
    const ok = run('--k', '5');
    assert.equal(ok.status, 0, ok.stderr);
    assert.match(ok.stdout, /recall@5: 1 \(3\/3 needed tables\)/);
    assert.match(ok.stdout, /embedding model: hashing-zh-v4/);
    const strict = run('--k', '1', '--min-recall', '1', '--json');
    assert.equal(strict.status, 1, strict.stderr);
    assert.equal(JSON.parse(strict.stdout).k, 1);
    const bad = run('--k', '500');
    assert.equal(bad.status, 2);
    assert.match(bad.stderr, /k/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
