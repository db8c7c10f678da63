// The embedded demo database (spec/demo-database.md): schema fidelity, determinism, naming-convention
// relationships, soft deletes, partial comments. Runs against the local PostgreSQL 15 (a fresh database
// per run, dropped afterwards) and once against an embedded PGlite in a temp directory.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { connect, type Database } from '../../src/postgres/connect.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { DEMO_TABLES, ensureDemoDatabase, isDemoDatabaseSeeded, seedDemoDatabase } from '../../demo/highway-db.ts';


const AUDIT: Array<[string, string]> = [
  ['id', 'varchar(32)'],
  ['version', 'integer'],
  ['create_ts', 'timestamp'],
  ['created_by', 'varchar(50)'],
  ['update_ts', 'timestamp'],
  ['updated_by', 'varchar(50)'],
  ['delete_ts', 'timestamp'],
  ['deleted_by', 'varchar(50)'],
];

/** The spec's tables, columns and types, in declaration order. */
const EXPECTED: Record<string, Array<[string, string]>> = {
  bss_company: [...AUDIT, ['company_name', 'varchar(255)'], ['company_no', 'varchar(255)']],
  bss_service_area: [
    ...AUDIT,
    ['service_area_name', 'varchar(255)'],
    ['service_area_no', 'varchar(255)'],
    ['company_id', 'varchar(32)'],
    ['service_position', 'varchar(255)'],
    ['service_area_type', 'varchar(50)'],
    ['service_state', 'varchar(50)'],
  ],
  bss_section_route: [...AUDIT, ['section_name', 'varchar(255)'], ['route_name', 'varchar(255)'], ['code', 'varchar(255)']],
  bss_section_route_area_link: [
    ['section_route_id', 'varchar(32)'],
    ['service_area_id', 'varchar(32)'],
  ],
  bss_service_area_mapper: [
    ...AUDIT,
    ['service_name', 'varchar(255)'],
    ['service_no', 'varchar(255)'],
    ['service_area_id', 'varchar(32)'],
    ['source_system_type', 'varchar(50)'],
    ['source_type', 'integer'],
  ],
  bss_business_day_data: [
    ...AUDIT,
    ['oper_date', 'date'],
    ['service_no', 'varchar(255)'],
    ['service_name', 'varchar(255)'],
    ['branch_no', 'varchar(255)'],
    ['branch_name', 'varchar(255)'],
    ['wx', 'numeric(19,4)'],
    ['wx_order', 'integer'],
    ['zfb', 'numeric(19,4)'],
    ['zf_order', 'integer'],
    ['rmb', 'numeric(19,4)'],
    ['rmb_order', 'integer'],
    ['xs', 'numeric(19,4)'],
    ['xs_order', 'integer'],
    ['jd', 'numeric(19,4)'],
    ['jd_order', 'integer'],
    ['order_sum', 'integer'],
    ['pay_sum', 'numeric(19,4)'],
    ['source_type', 'integer'],
  ],
  bss_car_day_count: [
    ...AUDIT,
    ['customer_count', 'bigint'],
    ['car_type', 'varchar(100)'],
    ['count_date', 'date'],
    ['service_area_id', 'varchar(32)'],
  ],
};

interface DemoTestDatabase extends TestDatabase {
  db: Database;
}

const created: DemoTestDatabase[] = [];

async function createDatabase(): Promise<DemoTestDatabase> {
  const made = await createTestDatabase('dp_demo_test');
  const entry = { ...made, db: await connect(made.url, { max: 2 }) };
  created.push(entry);
  return entry;
}

async function tableHash(pool: pg.Pool, table: string): Promise<string> {
  const result = await pool.query<{ h: string }>(`SELECT md5(string_agg(t::text, '|' ORDER BY t::text)) AS h FROM public.${table} t`);
  return result.rows[0].h;
}

async function counts(pool: pg.Pool): Promise<Record<string, number>> {
  const out: Record<string, number> = {};
  for (const table of DEMO_TABLES) {
    const result = await pool.query<{ n: string }>(`SELECT count(*) AS n FROM public.${table}`);
    out[table] = Number(result.rows[0].n);
  }
  return out;
}

async function scalar(pool: pg.Pool, sql: string): Promise<number> {
  const result = await pool.query(sql);
  return Number(Object.values(result.rows[0])[0]);
}

describe('demo database (highway_db)', () => {
  let a: DemoTestDatabase;
  let b: DemoTestDatabase;
  let seededCounts: Record<string, number>;
  let seedMs = 0;

  before(async () => {
    a = await createDatabase();
    b = await createDatabase();
    assert.equal(await isDemoDatabaseSeeded(a.db.pool), false);
    const t0 = performance.now();
    seededCounts = (await seedDemoDatabase(a.db.pool)).tables;
    seedMs = performance.now() - t0;
    assert.equal(await ensureDemoDatabase(b.db.pool), true, 'ensureDemoDatabase seeds an empty database');
  });

  after(async () => {
    for (const entry of created) await entry.db.close().catch(() => undefined);
    for (const entry of created) await entry.drop().catch(() => undefined);
  });

  test('reports row counts that match the tables, tens of thousands of business rows', async (t) => {
    t.diagnostic(`seeded PostgreSQL 15 in ${Math.round(seedMs)} ms: ${JSON.stringify(seededCounts)}`);
    assert.deepEqual(Object.keys(seededCounts).sort(), [...DEMO_TABLES].sort());
    assert.deepEqual(seededCounts, await counts(a.db.pool));
    assert.ok(seededCounts.bss_business_day_data >= 20_000, `business rows: ${seededCounts.bss_business_day_data}`);
    assert.ok(seededCounts.bss_car_day_count >= 20_000, `car rows: ${seededCounts.bss_car_day_count}`);
    assert.ok(seededCounts.bss_service_area >= 20, `service areas: ${seededCounts.bss_service_area}`);
    assert.ok(seededCounts.bss_section_route >= 5);
    assert.ok(seededCounts.bss_section_route_area_link >= seededCounts.bss_service_area - 2);
    assert.ok(seededCounts.bss_service_area_mapper >= seededCounts.bss_service_area);

    const companies = await a.db.pool.query<{ company_no: string }>(
      'SELECT company_no FROM bss_company WHERE delete_ts IS NULL ORDER BY company_no',
    );
    assert.deepEqual(
      companies.rows.map((r) => r.company_no),
      ['H01', 'H02', 'H03', 'H04', 'H05', 'H06', 'H07', 'H08', 'Q01'],
    );
    const names = await a.db.pool.query('SELECT 1 FROM bss_company WHERE company_name IN ($1, $2)', ['上饶分公司', '宜春分公司']);
    assert.equal(names.rowCount, 2);
    const area = await a.db.pool.query("SELECT 1 FROM bss_service_area WHERE service_area_name IN ('南昌南服务区', '白鹭湖停车区')");
    assert.equal(area.rowCount, 2);

    const span = await a.db.pool.query<{ lo: string; hi: string; days: string; per_shop_max: string }>(
      `SELECT min(oper_date)::text AS lo, max(oper_date)::text AS hi, count(DISTINCT oper_date) AS days,
              (SELECT max(c) FROM (SELECT count(*) AS c FROM bss_business_day_data WHERE delete_ts IS NULL
                                     GROUP BY branch_no, oper_date) x) AS per_shop_max
         FROM bss_business_day_data`,
    );
    assert.equal(span.rows[0].lo, '2024-01-01');
    assert.equal(span.rows[0].hi, '2024-12-30');
    assert.equal(Number(span.rows[0].days), 365);
    assert.equal(Number(span.rows[0].per_shop_max), 1, 'one live row per shop and day');
    const shopsPerArea = await a.db.pool.query<{ lo: string; hi: string }>(
      `SELECT min(n) AS lo, max(n) AS hi FROM (SELECT count(DISTINCT branch_no) AS n FROM bss_business_day_data GROUP BY service_no) x`,
    );
    assert.ok(Number(shopsPerArea.rows[0].lo) >= 1 && Number(shopsPerArea.rows[0].hi) <= 3);
    const carTypes = await a.db.pool.query<{ car_type: string }>('SELECT DISTINCT car_type FROM bss_car_day_count ORDER BY 1');
    assert.deepEqual(carTypes.rows.map((r) => r.car_type).sort(), ['其他', '危化品', '城际', '过境'].sort());
    const systems = await a.db.pool.query<{ s: string }>('SELECT DISTINCT source_system_type AS s FROM bss_service_area_mapper');
    assert.deepEqual(systems.rows.map((r) => r.s).sort(), ['司乘管理', '商业管理', '驿购', '驿美', '手工录入'].sort());
  });

  test('creates the spec tables with the spec columns, types, keys and no foreign keys', async () => {
    const columns = await a.db.pool.query<{
      table_name: string;
      column_name: string;
      data_type: string;
      character_maximum_length: number | null;
      numeric_precision: number | null;
      numeric_scale: number | null;
      is_nullable: string;
    }>(
      `SELECT table_name, column_name, data_type, character_maximum_length, numeric_precision, numeric_scale, is_nullable
         FROM information_schema.columns WHERE table_schema = 'public' ORDER BY table_name, ordinal_position`,
    );
    const actual: Record<string, Array<[string, string]>> = {};
    for (const c of columns.rows) {
      const type =
        c.data_type === 'character varying'
          ? `varchar(${c.character_maximum_length})`
          : c.data_type === 'numeric'
            ? `numeric(${c.numeric_precision},${c.numeric_scale})`
            : c.data_type === 'timestamp without time zone'
              ? 'timestamp'
              : c.data_type;
      (actual[c.table_name] ??= []).push([c.column_name, type]);
      if (c.column_name === 'id' || c.column_name === 'version') assert.equal(c.is_nullable, 'NO', `${c.table_name}.${c.column_name}`);
    }
    assert.deepEqual(actual, EXPECTED);
    assert.deepEqual([...DEMO_TABLES].sort(), Object.keys(EXPECTED).sort());

    const keys = await a.db.pool.query<{ table_name: string; cols: string }>(
      `SELECT tc.table_name, string_agg(k.column_name, ',' ORDER BY k.ordinal_position) AS cols
         FROM information_schema.table_constraints tc
         JOIN information_schema.key_column_usage k ON k.constraint_name = tc.constraint_name AND k.table_schema = tc.table_schema
        WHERE tc.table_schema = 'public' AND tc.constraint_type = 'PRIMARY KEY'
        GROUP BY tc.table_name`,
    );
    const pks = Object.fromEntries(keys.rows.map((r) => [r.table_name, r.cols]));
    for (const table of DEMO_TABLES) {
      assert.equal(pks[table], table === 'bss_section_route_area_link' ? 'section_route_id,service_area_id' : 'id', table);
    }
    assert.equal(
      await scalar(a.db.pool, `SELECT count(*) FROM pg_constraint c JOIN pg_namespace n ON n.oid = c.connamespace WHERE n.nspname = 'public' AND c.contype = 'f'`),
      0,
      'no foreign keys are declared',
    );
    assert.equal(await scalar(a.db.pool, `SELECT count(*) FROM bss_service_area WHERE id !~ '^[0-9a-f]{32}$'`), 0);
    assert.equal(await scalar(a.db.pool, `SELECT count(*) FROM bss_business_day_data WHERE id !~ '^[0-9a-f]{32}$'`), 0);
  });

  test('is deterministic: the same seed gives the same rows; another seed and days differ', async () => {
    for (const table of DEMO_TABLES) {
      assert.equal(await tableHash(a.db.pool, table), await tableHash(b.db.pool, table), table);
    }
    const c = await createDatabase();
    const result = await seedDemoDatabase(c.db.pool, { seed: 7, days: 30 });
    assert.notEqual(await tableHash(c.db.pool, 'bss_business_day_data'), await tableHash(a.db.pool, 'bss_business_day_data'));
    assert.ok(result.tables.bss_business_day_data < seededCounts.bss_business_day_data / 5);
    assert.equal(await scalar(c.db.pool, 'SELECT count(DISTINCT oper_date) FROM bss_business_day_data'), 30);
    assert.equal(await scalar(c.db.pool, 'SELECT count(DISTINCT count_date) FROM bss_car_day_count'), 30);
  });

  test('naming-convention relationships hold and the sums add up', async () => {
    const orphans: Record<string, string> = {
      'business.service_no → service_area.service_area_no':
        'SELECT count(*) FROM bss_business_day_data d WHERE NOT EXISTS (SELECT 1 FROM bss_service_area s WHERE s.service_area_no = d.service_no AND s.delete_ts IS NULL)',
      'business.service_name = service_area.service_area_name':
        'SELECT count(*) FROM bss_business_day_data d WHERE NOT EXISTS (SELECT 1 FROM bss_service_area s WHERE s.service_area_no = d.service_no AND s.service_area_name = d.service_name)',
      'car.service_area_id → service_area.id':
        'SELECT count(*) FROM bss_car_day_count c WHERE NOT EXISTS (SELECT 1 FROM bss_service_area s WHERE s.id = c.service_area_id)',
      'mapper.service_area_id → service_area.id':
        'SELECT count(*) FROM bss_service_area_mapper m WHERE NOT EXISTS (SELECT 1 FROM bss_service_area s WHERE s.id = m.service_area_id)',
      'service_area.company_id → company.id':
        'SELECT count(*) FROM bss_service_area s WHERE NOT EXISTS (SELECT 1 FROM bss_company c WHERE c.id = s.company_id)',
      'link.section_route_id → section_route.id':
        'SELECT count(*) FROM bss_section_route_area_link l WHERE NOT EXISTS (SELECT 1 FROM bss_section_route r WHERE r.id = l.section_route_id)',
      'link.service_area_id → service_area.id':
        'SELECT count(*) FROM bss_section_route_area_link l WHERE NOT EXISTS (SELECT 1 FROM bss_service_area s WHERE s.id = l.service_area_id)',
      'live service areas without a section':
        'SELECT count(*) FROM bss_service_area s WHERE s.delete_ts IS NULL AND NOT EXISTS (SELECT 1 FROM bss_section_route_area_link l WHERE l.service_area_id = s.id)',
      'order_sum is the sum of the order counts':
        'SELECT count(*) FROM bss_business_day_data WHERE order_sum <> wx_order + zf_order + rmb_order + xs_order + coalesce(jd_order, 0)',
      'pay_sum is the sum of the amounts':
        'SELECT count(*) FROM bss_business_day_data WHERE pay_sum <> wx + zfb + rmb + xs + coalesce(jd, 0)',
      'soft-delete columns go together':
        'SELECT count(*) FROM bss_business_day_data WHERE (delete_ts IS NULL) <> (deleted_by IS NULL)',
    };
    for (const [name, sql] of Object.entries(orphans)) assert.equal(await scalar(a.db.pool, sql), 0, name);
    assert.ok(
      (await scalar(a.db.pool, "SELECT count(*) FROM bss_service_area_mapper WHERE source_system_type = '商业管理' AND service_no ~ '^[HQ][0-9]{4}$'")) >= 20,
    );
  });

  test('has soft-deleted rows and NULLs', async () => {
    for (const table of ['bss_company', 'bss_service_area', 'bss_service_area_mapper', 'bss_business_day_data', 'bss_car_day_count']) {
      const n = await scalar(a.db.pool, `SELECT count(*) FROM ${table} WHERE delete_ts IS NOT NULL AND deleted_by IS NOT NULL`);
      assert.ok(n > 0, `${table} has soft-deleted rows`);
    }
    const live = await scalar(a.db.pool, 'SELECT count(*) FROM bss_business_day_data WHERE delete_ts IS NULL');
    assert.ok(live > 0.98 * seededCounts.bss_business_day_data);
    for (const [table, column] of [
      ['bss_business_day_data', 'jd'],
      ['bss_business_day_data', 'created_by'],
      ['bss_business_day_data', 'source_type'],
      ['bss_service_area', 'service_position'],
      ['bss_car_day_count', 'customer_count'],
    ]) {
      assert.ok((await scalar(a.db.pool, `SELECT count(*) FROM ${table} WHERE ${column} IS NULL`)) > 0, `${table}.${column} has NULLs`);
    }
  });

  test('comments: every table, most but not all columns', async () => {
    const tables = await a.db.pool.query<{ relname: string; comment: string | null }>(
      `SELECT c.relname, obj_description(c.oid, 'pg_class') AS comment FROM pg_class c
         JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind = 'r'`,
    );
    assert.equal(tables.rowCount, 7);
    for (const t of tables.rows) assert.match(t.comment ?? '', /[\u4e00-\u9fff]/, `${t.relname} has a Chinese comment`);

    const cols = await a.db.pool.query<{ table_name: string; column_name: string; comment: string | null }>(
      `SELECT c.table_name, c.column_name, col_description(format('public.%I', c.table_name)::regclass, c.ordinal_position) AS comment
         FROM information_schema.columns c WHERE c.table_schema = 'public'`,
    );
    const missing = cols.rows.filter((c) => !c.comment).map((c) => `${c.table_name}.${c.column_name}`);
    const share = missing.length / cols.rows.length;
    assert.ok(share >= 0.15 && share <= 0.35, `uncommented share ${share.toFixed(2)} (${missing.length}/${cols.rows.length})`);
    for (const column of [
      'bss_business_day_data.wx_order',
      'bss_business_day_data.source_type',
      'bss_service_area_mapper.source_type',
      'bss_service_area.service_position',
    ]) {
      assert.ok(missing.includes(column), `${column} is left for the LLM step`);
    }
    for (const c of cols.rows) if (c.comment) assert.match(c.comment, /[\u4e00-\u9fff]/);
  });

  test('is analyzed and refuses to seed twice', async () => {
    assert.ok((await scalar(a.db.pool, "SELECT count(*) FROM pg_stats WHERE schemaname = 'public' AND tablename = 'bss_business_day_data'")) > 10);
    assert.equal(await isDemoDatabaseSeeded(a.db.pool), true);
    assert.equal(await ensureDemoDatabase(a.db.pool), false);
    assert.equal(await ensureDemoDatabase(b.db.pool), false);
    await assert.rejects(seedDemoDatabase(a.db.pool), /already seeded/);

    // A partial schema is never seeded over.
    const p = await createDatabase();
    await p.db.pool.query('CREATE TABLE public.bss_company (id varchar(32) PRIMARY KEY)');
    assert.equal(await isDemoDatabaseSeeded(p.db.pool), false);
    await assert.rejects(ensureDemoDatabase(p.db.pool), /partial demo schema/);
    await assert.rejects(seedDemoDatabase(p.db.pool, { days: 0 }), /days/);
  });

  test('seeds an embedded PGlite with the same rows as PostgreSQL', async (t) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-demo-pglite-'));
    const db = await connect(`pglite://${dir}`);
    try {
      assert.equal(db.kind, 'pglite');
      const t0 = performance.now();
      assert.equal(await ensureDemoDatabase(db.pool), true);
      const ms = performance.now() - t0;
      assert.equal(await isDemoDatabaseSeeded(db.pool), true);
      const embeddedCounts = await counts(db.pool);
      t.diagnostic(`seeded PGlite in ${Math.round(ms)} ms: ${JSON.stringify(embeddedCounts)}`);
      assert.deepEqual(embeddedCounts, seededCounts);
      for (const table of ['bss_service_area', 'bss_business_day_data', 'bss_car_day_count']) {
        assert.equal(await tableHash(db.pool, table), await tableHash(a.db.pool, table), `${table} identical on PGlite`);
      }
      assert.equal(await ensureDemoDatabase(db.pool), false);
    } finally {
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
