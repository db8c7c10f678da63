// The catalog reader on the local PostgreSQL 15: identifiers of every form, relation kinds, partitions
// folded into their parent; a fixed number of round trips whatever the number of tables; the pre-flight
// check (missing and unreadable tables, as a role without privileges); the relation list of the
// database tools API; bounded profiles (TABLESAMPLE for big tables, never a full count).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import {
  listRelations,
  overlapCount,
  preflightTables,
  profileRelation,
  readCatalog,
} from '../../src/postgres/catalog/index.ts';
import { connect, type Database } from '../../src/postgres/connect.ts';
import { ADMIN_URL, needsPostgresServer, type TestDatabase } from '../helpers/postgres.ts';
import { createTestSchemaDatabase, TEST_SCHEMA_TABLES } from '../fixtures/test-schema.ts';

describe('catalog reader (PostgreSQL 15)', () => {
  let testDb: TestDatabase;
  let db: Database;

  before(async () => {
    testDb = await createTestSchemaDatabase();
    db = await connect(testDb.url, { max: 4 });
    // Many small tables for the round-trip check, and two big ones for sampling.
    await db.pool.query(`
      CREATE SCHEMA many;
      DO $$ BEGIN
        FOR i IN 1..200 LOOP
          EXECUTE format('CREATE TABLE many.t%s (id int PRIMARY KEY, a text, b int, c date, d numeric(8,2))', i);
        END LOOP;
      END $$;
      CREATE TABLE public.big (id int, grp int, label text);
      INSERT INTO public.big SELECT g, g % 7, 'label ' || (g % 1000) FROM generate_series(1, 400000) g;
      ANALYZE public.big;
      CREATE TABLE public.big_unanalyzed (id int, txt text);
      INSERT INTO public.big_unanalyzed SELECT g, md5(g::text) FROM generate_series(1, 200000) g;
    `);
  });

  after(async () => {
    await db?.close();
    await testDb?.drop();
  });

  test('resolves every identifier form; partitions fold into their parent; missing names are listed', async () => {
    const catalog = await readCatalog(db, [...TEST_SCHEMA_TABLES, 'event_log_2025', '"Customer"', 'Sales Ops.Order', 'nope', 'a.b.c', '"unterminated']);
    assert.deepEqual(catalog.missing, ['"Customer"', 'nope', 'a.b.c', '"unterminated']);
    assert.deepEqual(catalog.unreadable, []);
    assert.deepEqual(
      catalog.relations.map((r) => `${r.schema}.${r.name}:${r.kind}`),
      [
        'public.customer:table',
        'Sales Ops.Order:table',
        '销售.订单明细:table',
        'public.product:table',
        'public.order_note:table',
        'public.department:table',
        'public.employee:table',
        'public.user:table',
        'public.event_log:partitioned_table',
        'public.customer_orders:view',
        'public.daily_events:materialized_view',
      ],
    );
    assert.deepEqual(catalog.folded, [
      { input: 'event_log_2025', into: 'public.event_log' },
      { input: 'Sales Ops.Order', into: 'Sales Ops.Order' },
    ]);
    const order = catalog.relations[1]!;
    assert.equal(order.qualified, '"Sales Ops"."Order"');
    assert.equal(order.columns.find((c) => c.name === 'select')!.qName, '"select"');
    assert.deepEqual(order.types.map((t) => t.qName), ['public.order_status', '"Sales Ops"."Priority"', 'public.positive_amount']);
    const customer = catalog.relations[0]!;
    assert.deepEqual(customer.types.map((t) => `${t.qName}:${t.kind}`), ['public.email:d', 'public.address:c', 'public.order_status:e']);
    assert.equal(customer.sequences[0]!.ownerColumn, 'customer_id');
    const stats = customer.columns.find((c) => c.name === 'order')!;
    assert.ok(stats.nDistinct !== null && stats.mostCommonVals!.length > 0, 'pg_stats read');
    const eventLog = catalog.relations.find((r) => r.name === 'event_log')!;
    assert.equal(eventLog.partitionKey, 'RANGE (happened_on)');
    assert.equal(eventLog.reltuples, 2000);
    assert.ok(eventLog.heapBytes > 0);
    const view = catalog.relations.find((r) => r.name === 'customer_orders')!;
    assert.deepEqual(view.viewDependencies.map((d) => d.qName).sort(), ['"Sales Ops"."Order"', 'public.customer']);
    assert.deepEqual(catalog.relations.find((r) => r.name === 'order_note')!.functions.map((f) => f.name), ['default_note']);
  });

  test('the number of round trips does not depend on the number of tables', async () => {
    const one = await readCatalog(db, ['customer']);
    const eleven = await readCatalog(db, TEST_SCHEMA_TABLES);
    const many = await readCatalog(db, Array.from({ length: 200 }, (_, i) => `many.t${i + 1}`));
    assert.equal(many.relations.length, 200);
    assert.equal(many.relations.reduce((n, r) => n + r.columns.length, 0), 1000);
    assert.equal(one.stats.roundTrips, eleven.stats.roundTrips);
    assert.equal(one.stats.roundTrips, many.stats.roundTrips);
    assert.ok(one.stats.roundTrips <= 15, `${one.stats.roundTrips} round trips`);
  });

  test('pre-flight: missing and unreadable tables (a role without SELECT)', { skip: needsPostgresServer }, async () => {
    const role = `dp_reader_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: testDb.url });
    await admin.connect();
    try {
      await admin.query(`CREATE ROLE ${role} LOGIN`);
      await admin.query(`GRANT USAGE ON SCHEMA public TO ${role}`);
      await admin.query(`GRANT SELECT ON public.customer TO ${role}`);
      const url = testDb.url.replace('postgres@', `${role}@`);
      const reader = await connect(url, { max: 2 });
      try {
        const result = await preflightTables(reader, ['customer', 'product', 'missing_one', '"Sales Ops"."Order"']);
        assert.deepEqual(result.missing, ['missing_one']);
        assert.deepEqual(result.unreadable, ['product', '"Sales Ops"."Order"']);
      } finally {
        await reader.close();
      }
      assert.deepEqual(await preflightTables(db, ['customer', 'event_log_2024', 'customer_orders']), { missing: [], unreadable: [] });
    } finally {
      await admin.query(`DROP OWNED BY ${role}`).catch(() => undefined);
      await admin.end();
      const cluster = new pg.Client({ connectionString: ADMIN_URL });
      await cluster.connect();
      await cluster.query(`DROP ROLE IF EXISTS ${role}`).catch(() => undefined);
      await cluster.end();
    }
  });

  test('listing: comma-separated schemas, * and ? wildcards, views flagged, partitions folded', async () => {
    const all = await listRelations(db, { schemas: ['public', 'Sales Ops', '销售'] });
    const names = all.map((r) => `${r.schema}.${r.name}`);
    assert.ok(names.includes('Sales Ops.Order'));
    assert.ok(names.includes('销售.订单明细'));
    assert.ok(!names.includes('public.event_log_2024'));
    assert.equal(all.find((r) => r.name === 'customer_orders')!.kind, 'view');
    assert.equal(all.find((r) => r.name === 'event_log')!.kind, 'partitioned_table');
    assert.equal(all.find((r) => r.name === 'event_log')!.estimatedRows, 2000);
    const customers = await listRelations(db, { schemas: ['public'], pattern: 'customer*' });
    assert.deepEqual(customers.map((r) => r.name), ['customer', 'customer_orders']);
    const many = await listRelations(db, { schemas: ['m*'], pattern: 't?' });
    assert.equal(many.length, 9);
    const literal = await listRelations(db, { schemas: ['public'], pattern: 'order_note' });
    assert.deepEqual(literal.map((r) => r.name), ['order_note']);
    assert.deepEqual((await listRelations(db, { schemas: ['public'], pattern: 'order%note' })).length, 0, '% is not a wildcard');
  });

  test('profiles are bounded: big tables through TABLESAMPLE, small ones read whole', async () => {
    const catalog = await readCatalog(db, ['big', 'big_unanalyzed', 'product']);
    const [big, unanalyzed, product] = catalog.relations;
    const p1 = await profileRelation(db, big!, catalog.blockSize, { rowBudget: 2000 });
    assert.equal(p1.plan.method, 'tablesample');
    assert.ok(p1.rows <= 2000 && p1.rows > 100, `${p1.rows} rows sampled`);
    assert.equal(p1.complete, false);
    assert.ok(p1.columns[1]!.distinct <= 7);
    assert.equal(unanalyzed!.reltuples, -1);
    const p2 = await profileRelation(db, unanalyzed!, catalog.blockSize, { rowBudget: 2000 });
    assert.equal(p2.plan.method, 'tablesample', 'size-based estimate when never analyzed');
    const p3 = await profileRelation(db, product!, catalog.blockSize, { rowBudget: 2000 });
    assert.equal(p3.plan.method, 'limit');
    assert.equal(p3.complete, true);
    assert.equal(p3.rows, 30);
  });

  test('overlap probes: an index probe, and a capped scan for big targets without one', async () => {
    const catalog = await readCatalog(db, ['product', 'big']);
    const [product, big] = catalog.relations;
    const code = product!.columns[0]!;
    assert.equal(await overlapCount(db, { qualified: product!.qualified, qColumn: code.qName, dataType: code.dataType }, ['P0001', 'P0002', 'X'], false), 2);
    const grp = big!.columns[1]!;
    assert.equal(await overlapCount(db, { qualified: big!.qualified, qColumn: grp.qName, dataType: grp.dataType }, ['1', '2', '99'], true), 2);
  });
});
