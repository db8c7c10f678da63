// ddl_generation end to end on the local PostgreSQL 15, offline annotator: the test schema (every
// identifier form and catalog feature) and the demo database. Every .ddl replays into an empty database
// in filename_mapping.txt order and recreates the same columns, keys, checks, indexes, partitions and
// comments; the markdown lists every column; declared keys keep their targets; inferred joins of the
// demo are found; no comment lands on the wrong column; a re-run replaces files in place.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { runDdlGeneration } from '../../src/pipeline/ddl/index.ts';
import type { SchemaFile, TableInfo } from '../../src/pipeline/artifacts.ts';
import { StepCancelledError, StepError } from '../../src/pipeline/context.ts';
import { readCatalog } from '../../src/postgres/catalog/index.ts';
import { connect, type Database } from '../../src/postgres/connect.ts';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import { createDemoDatabase } from '../helpers/demo.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { DEMO_RELATIONSHIPS } from '../helpers/qa-schema.ts';
import {
  commentSignature,
  createTestSchemaDatabase,
  executeDdlFiles,
  stepContext,
  structureSignature,
  TEST_SCHEMA_TABLES,
} from '../fixtures/test-schema.ts';

function taskDir(tables: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-ddl-'));
  fs.writeFileSync(path.join(dir, 'table_list.txt'), `${tables.join('\n')}\n`);
  return dir;
}

function readSchema(dir: string): SchemaFile {
  return JSON.parse(fs.readFileSync(path.join(dir, 'schema.json'), 'utf8')) as SchemaFile;
}

function table(schema: SchemaFile, fullName: string): TableInfo {
  const t = schema.tables.find((x) => x.full_name === fullName);
  assert.ok(t, `schema.json has ${fullName}`);
  return t;
}

/** Replays the run's .ddl files into a fresh database and compares the catalog of both. */
async function assertReplays(dir: string, source: Database, names: string[]): Promise<void> {
  const scratch = await createTestDatabase('dp_ddl_replay');
  const replayDb = await connect(scratch.url, { max: 2 });
  try {
    const order = await executeDdlFiles(dir, scratch.url);
    const schema = readSchema(dir);
    assert.deepEqual(order, schema.tables.map((t) => t.files.ddl), 'mapping order = schema.json order');
    const before = await readCatalog(source, names);
    const after = await readCatalog(replayDb, names);
    assert.deepEqual(after.missing, [], 'every relation exists after the replay');
    assert.equal(after.relations.length, before.relations.length);
    for (const original of before.relations) {
      const replayed = after.relations.find((r) => r.schema === original.schema && r.name === original.name);
      assert.ok(replayed, `${original.schema}.${original.name} replayed`);
      assert.deepEqual(structureSignature(replayed), structureSignature(original), `${original.schema}.${original.name}: same structure`);
      // Comments: the database's own, plus the generated ones, each on its own column.
      const info = table(schema, `${original.schema}.${original.name}`);
      const expected = { table: info.comment, columns: Object.fromEntries(info.columns.map((c) => [c.name, c.comment])) };
      assert.deepEqual(commentSignature(replayed), expected, `${info.full_name}: comments as in schema.json`);
      for (const column of original.columns) {
        const c = info.columns.find((x) => x.name === column.name)!;
        if (column.comment) {
          assert.equal(c.comment, column.comment, `${info.full_name}.${column.name}: database comment kept`);
          assert.equal(c.comment_source, 'db');
        } else {
          assert.ok(c.comment, `${info.full_name}.${column.name} has a comment`);
          assert.equal(c.comment_source, 'offline');
        }
      }
    }
  } finally {
    await replayDb.close();
    await scratch.drop();
  }
}

function assertMarkdownListsEveryColumn(dir: string, schema: SchemaFile): void {
  for (const t of schema.tables) {
    const md = fs.readFileSync(path.join(dir, t.files.detail), 'utf8');
    for (const c of t.columns) assert.ok(md.includes(`\n- ${c.name} (`), `${t.files.detail} lists ${c.name}`);
  }
}

describe('ddl_generation on the test schema (PostgreSQL 15, offline)', () => {
  let testDb: TestDatabase;
  let db: Database;
  let dir: string;
  let schema: SchemaFile;

  before(async () => {
    testDb = await createTestSchemaDatabase();
    db = await connect(testDb.url, { max: 4 });
    // Partitions fold into their parent; a duplicate spelling is dropped.
    dir = taskDir([...TEST_SCHEMA_TABLES, 'public.event_log_2024', 'CUSTOMER']);
    const ctx = stepContext({ dir, db });
    const result = await runDdlGeneration(ctx);
    assert.match(result.summary ?? '', /11 个表/);
    assert.deepEqual(ctx.progressLog.at(-1), { done: 11, total: 11, unit: 'tables' });
    assert.ok(ctx.progressLog.every((p) => p.unit === 'tables'));
    schema = readSchema(dir);
  });

  after(async () => {
    await db?.close();
    await testDb?.drop();
  });

  test('schema.json: every relation with its kind; partitions folded into the parent', () => {
    assert.equal(schema.tables.length, 11);
    assert.equal(schema.language, 'zh');
    assert.match(schema.database.server_version, /^1[5-9]/);
    assert.equal(table(schema, 'public.event_log').kind, 'partitioned_table');
    assert.deepEqual(table(schema, 'public.event_log').partitions?.map((p) => p.full_name), ['public.event_log_2024', 'public.event_log_2025']);
    assert.equal(table(schema, 'public.event_log').estimated_rows, 2000);
    assert.equal(table(schema, 'public.customer_orders').kind, 'view');
    assert.equal(table(schema, 'public.daily_events').kind, 'materialized_view');
    assert.ok(!schema.tables.some((t) => t.name === 'event_log_2024'));
  });

  test('columns: exact types, identity, generated, defaults, keys', () => {
    const order = table(schema, 'Sales Ops.Order');
    const col = (name: string) => order.columns.find((c) => c.name === name)!;
    assert.equal(col('id').identity, 'always');
    assert.equal(col('id').is_primary_key, true);
    assert.equal(col('total').generated, '((qty)::numeric * price)');
    assert.equal(col('total').generated_kind, 'stored');
    assert.equal(col('price').data_type, 'numeric(10,2)');
    assert.equal(col('price').numeric_precision, 10);
    assert.equal(col('price').numeric_scale, 2);
    assert.equal(col('status').data_type, 'public.order_status');
    assert.deepEqual(col('status').enum_values, ['new', 'paid', 'shipped', 'cancelled']);
    assert.equal(col('invoice_no').default, "nextval('public.invoice_no_seq'::regclass)");
    assert.equal(col('select').name, 'select');
    const customer = table(schema, 'public.customer');
    assert.equal(customer.columns.find((c) => c.name === 'Full Name')!.max_length, 100);
    assert.equal(customer.columns.find((c) => c.name === 'tags')!.udt_name, '_text');
    assert.deepEqual(customer.unique_constraints, [['email']]);
    assert.deepEqual(table(schema, '销售.订单明细').primary_key, ['订单id', '行号']);
    assert.deepEqual(table(schema, 'public.product').unique_constraints, [['name', 'category']]);
    assert.deepEqual(table(schema, 'public.order_note').columns.find((c) => c.name === 'kind')!.enum_values, ['call', 'mail']);
    assert.equal(table(schema, 'public.order_note').columns.find((c) => c.name === 'note')!.enum_values, null);
  });

  test('declared foreign keys keep their targets; undeclared ones are inferred with evidence', () => {
    const fks = (name: string) => table(schema, name).foreign_keys.map((fk) => `${fk.columns.join(',')}→${fk.target_schema}.${fk.target_table}(${fk.target_columns.join(',')})${fk.inferred ? '?' : ''}`);
    assert.deepEqual(fks('Sales Ops.Order'), ['customer_id→public.customer(customer_id)']);
    assert.deepEqual(fks('销售.订单明细'), ['订单id→Sales Ops.Order(id)']);
    assert.deepEqual(fks('public.employee').sort(), ['department_id→public.department(id)', 'manager_id→public.employee(id)']);
    assert.deepEqual(fks('public.department'), ['head_id→public.employee(id)']);
    assert.deepEqual(fks('public.order_note').sort(), [
      'customer_id→public.customer(customer_id)?',
      'order_id→Sales Ops.Order(id)?',
      'product_code→public.product(product_code)?',
    ]);
    for (const fk of table(schema, 'public.order_note').foreign_keys) {
      assert.equal(fk.inferred, true);
      assert.match(fk.evidence ?? '', /sampled values found/);
      assert.equal(fk.discovery?.containment, 1);
      assert.ok(fk.overlap && fk.overlap.matched === fk.overlap.sampled);
    }
  });

  test('order: dependencies first (FK targets, tables a view reads); a FK cycle is closed by the later file', () => {
    const order = schema.tables.map((t) => t.full_name);
    const before = (a: string, b: string) => assert.ok(order.indexOf(a) < order.indexOf(b), `${a} before ${b}`);
    before('public.customer', 'Sales Ops.Order');
    before('Sales Ops.Order', '销售.订单明细');
    before('public.customer', 'public.customer_orders');
    before('Sales Ops.Order', 'public.customer_orders');
    before('public.event_log', 'public.daily_events');
    const mapping = fs.readFileSync(path.join(dir, 'filename_mapping.txt'), 'utf8');
    const lines = mapping.split('\n').filter((l) => l && !l.startsWith('#'));
    assert.deepEqual(lines.map((l) => l.split(' -> ')[0]), order);
    const later = order.indexOf('public.department') < order.indexOf('public.employee') ? 'employee' : 'department';
    assert.match(fs.readFileSync(path.join(dir, `${later}.ddl`), 'utf8'), /department_head_fk/);
  });

  test('file names: guide naming, safe and unique for any identifier', () => {
    const files = schema.tables.map((t) => t.files.ddl);
    assert.ok(files.includes('customer.ddl'));
    assert.ok(files.includes('销售__订单明细.ddl'));
    assert.ok(files.includes('user.ddl'));
    const order = table(schema, 'Sales Ops.Order').files;
    assert.match(order.ddl, /^Sales_Ops__Order-[0-9a-f]{8}\.ddl$/);
    assert.equal(order.detail, order.ddl.replace(/\.ddl$/, '_detail.md'));
    assert.equal(new Set(files.map((f) => f.toLowerCase())).size, files.length);
  });

  test('markdown lists every column, flags, samples, enum values and relationships', () => {
    assertMarkdownListsEveryColumn(dir, schema);
    const md = fs.readFileSync(path.join(dir, 'order_note_detail.md'), 'utf8');
    assert.match(md, /^## order_note（/);
    assert.match(md, /- id \(integer\) - .* \[主键, 非空, 自增\]/);
    assert.match(md, /- kind \(varchar\(10\)\) - .*\[枚举: call, mail\]/);
    assert.match(md, /customer_id 关联 customer\.customer_id（推断/);
    const order = fs.readFileSync(path.join(dir, table(schema, 'Sales Ops.Order').files.detail), 'utf8');
    assert.match(order, /customer_id 关联 customer\.customer_id（外键 Order_customer_id_fkey）/);
    assert.match(order, /被 销售\.订单明细\.订单id 引用: id/);
  });

  test('every .ddl replays into an empty database and recreates the same structure and comments', async () => {
    await assertReplays(dir, db, TEST_SCHEMA_TABLES);
  });

  test('the .ddl files are plain, repeatable where shared: types, sequences and functions guarded', () => {
    const customer = fs.readFileSync(path.join(dir, 'customer.ddl'), 'utf8');
    assert.match(customer, /^-- 中文名: 客户\n/);
    assert.match(customer, /EXCEPTION WHEN duplicate_object OR duplicate_table THEN NULL;/);
    assert.match(customer, /CREATE SEQUENCE IF NOT EXISTS public\.customer_customer_id_seq/);
    assert.match(customer, /COMMENT ON COLUMN public\.customer\."Full Name" IS '客户全名';\n/);
    assert.match(customer, /COMMENT ON COLUMN public\.customer\."order" IS '[^']+'; -- 注释来源: 离线规则/);
    const note = fs.readFileSync(path.join(dir, 'order_note.ddl'), 'utf8');
    assert.match(note, /CREATE OR REPLACE FUNCTION public\.default_note\(\)/);
    assert.match(note, /-- 推断的关联关系/);
    const order = fs.readFileSync(path.join(dir, table(schema, 'Sales Ops.Order').files.ddl), 'utf8');
    const fkAt = order.indexOf('ALTER TABLE "Sales Ops"."Order" ADD CONSTRAINT "Order_customer_id_fkey"');
    assert.ok(fkAt > order.lastIndexOf('COMMENT ON'), 'foreign keys come last');
  });

  test('a re-run replaces the files in place (no _1 copies) and drops files of tables no longer listed', async () => {
    const before = fs.readdirSync(dir).sort();
    const ddlBefore = fs.readFileSync(path.join(dir, 'customer.ddl'), 'utf8');
    await runDdlGeneration(stepContext({ dir, db }));
    assert.deepEqual(fs.readdirSync(dir).sort(), before);
    assert.equal(fs.readFileSync(path.join(dir, 'customer.ddl'), 'utf8'), ddlBefore);
    assert.ok(!fs.readdirSync(dir).some((f) => /_1\.(ddl|md)$/.test(f)));

    fs.writeFileSync(path.join(dir, 'table_list.txt'), 'customer\nproduct\n');
    await runDdlGeneration(stepContext({ dir, db }));
    const files = fs.readdirSync(dir).filter((f) => /\.(ddl|md)$/.test(f)).sort();
    assert.deepEqual(files, ['customer.ddl', 'customer_detail.md', 'product.ddl', 'product_detail.md']);
  });

  test('missing tables: TABLES_NOT_FOUND listing them; continue_on_error makes it a warning', async () => {
    const missingDir = taskDir(['customer', 'no_such_table', '"Sales Ops".nope']);
    await assert.rejects(runDdlGeneration(stepContext({ dir: missingDir, db })), (error: unknown) => {
      assert.ok(error instanceof StepError);
      assert.equal(error.code, 'TABLES_NOT_FOUND');
      assert.match(error.message, /no_such_table, "Sales Ops"\.nope/);
      return true;
    });
    assert.ok(!fs.existsSync(path.join(missingDir, 'schema.json')));
    const ctx = stepContext({ dir: missingDir, db, parameters: { continue_on_error: true } });
    await runDdlGeneration(ctx);
    const written = readSchema(missingDir);
    assert.deepEqual(written.tables.map((t) => t.full_name), ['public.customer']);
    assert.deepEqual(written.failed_tables?.map((f) => f.name), ['no_such_table', '"Sales Ops".nope']);
    assert.ok(ctx.logs.some((l) => l.level === 'WARNING' && /no_such_table/.test(l.message)));
  });

  test('cancellation stops the step between tables; nothing is written', async () => {
    const cancelDir = taskDir(TEST_SCHEMA_TABLES);
    const abort = new AbortController();
    const ctx = stepContext({ dir: cancelDir, db, signal: abort.signal });
    const report = ctx.progress;
    ctx.progress = (done, total, unit) => {
      report(done, total, unit);
      if (done >= 1) abort.abort('cancelled');
    };
    await assert.rejects(runDdlGeneration(ctx), (error: unknown) => error instanceof StepCancelledError);
    assert.ok(!fs.existsSync(path.join(cancelDir, 'schema.json')));
    assert.ok(ctx.progressLog.at(-1)!.done < TEST_SCHEMA_TABLES.length);
  });

  test('English output when language=en', async () => {
    const enDir = taskDir(['order_note']);
    await runDdlGeneration(stepContext({ dir: enDir, db, parameters: { language: 'en' } }));
    const s = readSchema(enDir);
    assert.equal(s.language, 'en');
    const note = s.tables[0]!;
    assert.equal(note.columns.find((c) => c.name === 'customer_id')!.comment, 'Customer ID');
    const md = fs.readFileSync(path.join(enDir, 'order_note_detail.md'), 'utf8');
    assert.match(md, /Columns:/);
    assert.match(md, /\[PK, NOT NULL, auto-increment\]/);
  });
});

describe('ddl_generation on the demo database (PostgreSQL 15, offline)', () => {
  let demo: TestDatabase;
  let db: Database;
  let dir: string;
  let schema: SchemaFile;

  before(async () => {
    demo = await createDemoDatabase({ days: 60 });
    db = await connect(demo.url, { max: 4 });
    dir = taskDir(DEMO_TABLES);
    await runDdlGeneration(stepContext({ dir, db, parameters: { business_context: '高速公路服务区管理系统', db_name: 'highway_db' } }));
    schema = readSchema(dir);
  });

  after(async () => {
    await db?.close();
    await demo?.drop();
  });

  test('the inferred joins of the demo schema are found, and nothing else', () => {
    const found = schema.tables.flatMap((t) =>
      t.foreign_keys.map((fk) => ({ table: t.name, columns: fk.columns, target: fk.target_table, targetColumns: fk.target_columns, inferred: fk.inferred })),
    );
    assert.ok(found.every((f) => f.inferred));
    const key = (r: { table: string; columns: string[]; target: string; targetColumns: string[] }) => `${r.table}.${r.columns}→${r.target}.${r.targetColumns}`;
    assert.deepEqual(found.map(key).sort(), DEMO_RELATIONSHIPS.map(key).sort());
  });

  test('database comments are kept on their columns; missing ones are filled offline', () => {
    assert.equal(schema.database.name, 'highway_db');
    assert.equal(schema.business_context, '高速公路服务区管理系统');
    const company = table(schema, 'public.bss_company');
    assert.equal(company.comment, '公司信息表（高速公路运营分公司）');
    assert.equal(company.comment_source, 'db');
    assert.equal(company.columns.find((c) => c.name === 'company_name')!.comment, '公司名称');
    const version = company.columns.find((c) => c.name === 'version')!;
    assert.equal(version.comment_source, 'offline');
    assert.equal(version.comment, '版本号');
    const day = table(schema, 'public.bss_business_day_data');
    assert.equal(day.columns.find((c) => c.name === 'wx')!.comment, '微信支付金额');
    assert.equal(day.columns.find((c) => c.name === 'wx_order')!.comment_source, 'offline');
    const area = table(schema, 'public.bss_service_area');
    assert.deepEqual([...(area.columns.find((c) => c.name === 'service_state')!.enum_values ?? [])].sort(), ['上传数据', '关闭', '开放']);
    assert.equal(area.columns.find((c) => c.name === 'service_position')!.comment_source, 'offline');
  });

  test('markdown lists every column; every .ddl replays with the same structure and comments', async () => {
    assertMarkdownListsEveryColumn(dir, schema);
    await assertReplays(dir, db, DEMO_TABLES);
  });

  test('row counts: exact for tables read whole by the bounded profile', async () => {
    const actual = Number((await db.pool.query('SELECT count(*) AS n FROM public.bss_company')).rows[0].n);
    const company = table(schema, 'public.bss_company');
    assert.equal(company.estimated_rows, actual);
    assert.equal(company.rows_exact, true);
  });
});
