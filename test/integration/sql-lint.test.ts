// The semantic linter's rules (src/sql/lint.ts), each with a pair that breaks it and a near-miss that
// does not, on the demo database and on the naming-style schemas (plus a small partitioned/inheritance
// schema built here). The facts come from the real ddl_generation (roles, relationships, ranges); the
// data checks run through the real read-only probe on the real PostgreSQL.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import { generateSchema } from '../../src/pipeline/ddl/generate.ts';
import { connect, type Database } from '../../src/postgres/connect.ts';
import { createReadOnlyProbe, lintPair, schemaFactsFromSchemaFile, type CountingProbe, type LintFinding, type LintOptions, type SchemaFacts } from '../../src/sql/lint.ts';
import { createDemoDatabase } from '../helpers/demo.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const silent = { debug() {}, info() {}, warn() {}, error() {} };
const STYLES = path.join(import.meta.dirname, '../fixtures/naming-styles');

interface Target {
  test: TestDatabase;
  db: Database;
  facts: SchemaFacts;
  probe: CountingProbe;
}

async function target(test: TestDatabase, names?: string[]): Promise<Target> {
  const db = await connect(test.url, { max: 2 });
  if (!names) {
    const { rows } = await db.pool.query(`SELECT quote_ident(tablename) AS n FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`);
    names = rows.map((r) => r.n as string);
  }
  const result = await generateSchema({ db, names, language: 'zh', businessContext: null, glossary: new Map(), llm: undefined, log: silent });
  return { test, db, facts: schemaFactsFromSchemaFile({ tables: result.tables.map((t) => t.info) }), probe: createReadOnlyProbe(db) };
}

async function styleDatabase(style: string, sql?: string): Promise<TestDatabase> {
  const test = await createTestDatabase(`dp_lint_${style}`);
  const client = new pg.Client({ connectionString: test.url });
  await client.connect();
  try {
    await client.query(sql ?? fs.readFileSync(path.join(STYLES, `${style}.sql`), 'utf8'));
  } finally {
    await client.end();
  }
  return test;
}

/** Lints with the probe; `rowCheck` as the validator passes it (the real row check's outcome). */
async function lint(t: Target, sql: string, options: LintOptions = {}): Promise<LintFinding[]> {
  const rowCheck = options.rowCheck ?? (await rowCheckOf(t, sql));
  return lintPair(sql, t.facts, { probe: t.probe, rowCheck, ...options });
}

async function rowCheckOf(t: Target, sql: string): Promise<'rows' | 'empty'> {
  const { rows } = await t.db.pool.query(`SELECT * FROM (${sql.replace(/;\s*$/, '')}) q LIMIT 1`);
  return rows.length ? 'rows' : 'empty';
}

const rules = (findings: LintFinding[], severity?: 'error' | 'warning') => [...new Set(findings.filter((f) => !severity || f.severity === severity).map((f) => f.rule))].sort();

function assertBreaks(findings: LintFinding[], rule: string, severity: 'error' | 'warning' = 'error') {
  const hit = findings.find((f) => f.rule === rule);
  assert.ok(hit, `expected ${rule}, got ${JSON.stringify(findings, null, 1)}`);
  assert.equal(hit.severity, severity, hit.message);
  assert.ok(hit.message.length > 10 && hit.columns.length > 0, JSON.stringify(hit));
}

function assertNot(findings: LintFinding[], rule: string) {
  assert.ok(!findings.some((f) => f.rule === rule), `unexpected ${rule}: ${JSON.stringify(findings.filter((f) => f.rule === rule), null, 1)}`);
}

const targets: Record<string, Target> = {};

before(async () => {
  const demo = await createDemoDatabase();
  targets.demo = await target(demo, [...DEMO_TABLES]);
  targets.snake = await target(await styleDatabase('snake'));
  targets.roles = await target(await styleDatabase('roles'));
  targets.parts = await target(
    await styleDatabase(
      'parts',
      `CREATE TABLE city (city_id int PRIMARY KEY, name text);
       CREATE TABLE measurement (measurement_id int, city_id int REFERENCES city, logdate date NOT NULL, peak_temp int, rainfall_mm int);
       CREATE TABLE measurement_y2024 () INHERITS (measurement);
       CREATE TABLE reading (reading_id int, city_id int, read_on date NOT NULL, amount numeric) PARTITION BY RANGE (read_on);
       CREATE TABLE reading_2024 PARTITION OF reading FOR VALUES FROM ('2024-01-01') TO ('2025-01-01');
       INSERT INTO city SELECT g, 'City ' || g FROM generate_series(1, 5) g;
       INSERT INTO measurement SELECT g, 1 + g % 5, date '2023-01-01' + g, g % 40, g % 7 FROM generate_series(1, 300) g;
       INSERT INTO measurement_y2024 SELECT g, 1 + g % 5, date '2024-01-01' + g % 360, g % 40, g % 7 FROM generate_series(301, 600) g;
       INSERT INTO reading SELECT g, 1 + g % 5, date '2024-01-01' + g % 360, g FROM generate_series(1, 400) g;`,
    ),
  );
});

after(async () => {
  for (const t of Object.values(targets)) {
    await t.db.close();
    await t.test.drop();
  }
});

describe('semantic linter rules (break / near-miss)', () => {
  test('aggregate_on_key: SUM/AVG over ids and codes; COUNT DISTINCT is fine', async () => {
    const { demo, snake } = targets;
    assertBreaks(await lint(snake!, 'SELECT SUM(customer_id) FROM orders'), 'aggregate_on_key');
    assertBreaks(await lint(snake!, 'SELECT c.city, AVG(o.customer_id) FROM orders o JOIN customer c ON c.customer_id = o.customer_id GROUP BY c.city'), 'aggregate_on_key');
    assertNot(await lint(snake!, 'SELECT COUNT(DISTINCT customer_id) FROM orders'), 'aggregate_on_key');
    assertBreaks(await lint(demo!, 'SELECT SUM(source_type) AS s FROM bss_business_day_data WHERE delete_ts IS NULL'), 'aggregate_on_key');
    assertNot(await lint(demo!, 'SELECT source_type, COUNT(*) FROM bss_business_day_data WHERE delete_ts IS NULL GROUP BY source_type'), 'aggregate_on_key');
  });

  test('sum_non_additive: SUM of a price or rate; a weighted SUM and AVG are fine', async () => {
    const { snake } = targets;
    assertBreaks(await lint(snake!, 'SELECT p.category_id, SUM(p.unit_price) FROM product p GROUP BY p.category_id'), 'sum_non_additive');
    assertBreaks(await lint(snake!, 'SELECT SUM(discount_rate) FROM order_line'), 'sum_non_additive');
    const near = await lint(snake!, 'SELECT SUM(quantity * unit_price) AS revenue, AVG(discount_rate) FROM order_line');
    assert.deepEqual(rules(near, 'error'), []);
  });

  test('group_by_label_without_key: names shared by several keys; key + label is fine', async () => {
    const { snake, demo } = targets;
    const broken = await lint(snake!, 'SELECT c.first_name, COUNT(*) AS orders FROM orders o JOIN customer c ON c.customer_id = o.customer_id GROUP BY c.first_name');
    assertBreaks(broken, 'group_by_label_without_key');
    assert.match(broken.find((f) => f.rule === 'group_by_label_without_key')!.message, /'Ann'|'Bob'|'Cid'/);
    assertNot(await lint(snake!, 'SELECT c.customer_id, c.first_name, COUNT(*) FROM orders o JOIN customer c ON c.customer_id = o.customer_id GROUP BY c.customer_id, c.first_name'), 'group_by_label_without_key');
    // The demo's company names are unique: grouping by them merges nothing.
    assertNot(
      await lint(demo!, 'SELECT c.company_name, COUNT(*) FROM bss_service_area sa JOIN bss_company c ON c.id = sa.company_id WHERE sa.delete_ts IS NULL AND c.delete_ts IS NULL GROUP BY c.company_name'),
      'group_by_label_without_key',
    );
  });

  test('own_grain_aggregation: aggregating an entity by its own key; a coarser grain is fine', async () => {
    const { snake, demo } = targets;
    assertBreaks(await lint(snake!, 'SELECT product_id, name, SUM(unit_price) FROM product GROUP BY product_id, name ORDER BY 3 DESC LIMIT 5'), 'own_grain_aggregation');
    assertNot(await lint(snake!, 'SELECT category_id, AVG(unit_price) FROM product GROUP BY category_id'), 'own_grain_aggregation');
    assertBreaks(await lint(demo!, 'SELECT id, SUM(pay_sum) FROM bss_business_day_data WHERE delete_ts IS NULL GROUP BY id'), 'own_grain_aggregation');
    assertNot(await lint(demo!, 'SELECT oper_date, SUM(pay_sum) FROM bss_business_day_data WHERE delete_ts IS NULL GROUP BY oper_date'), 'own_grain_aggregation');
  });

  test("fan_out_sum: a parent's measure summed over its children; a child measure is fine", async () => {
    const { roles } = targets;
    assertBreaks(
      await lint(roles!, 'SELECT d.name, SUM(d.budget) AS budget, COUNT(e.employee_id) FROM department d JOIN employee e ON e.department_id = d.department_id GROUP BY d.name'),
      'fan_out_sum',
    );
    assertNot(await lint(roles!, 'SELECT d.department_id, d.name, SUM(e.salary) FROM department d JOIN employee e ON e.department_id = d.department_id GROUP BY d.department_id, d.name'), 'fan_out_sum');
    assertNot(await lint(roles!, 'SELECT name, budget FROM department ORDER BY budget DESC'), 'fan_out_sum');
  });

  test('technical_time: load/update times in filters, grouping or date_trunc; business time is fine', async () => {
    const { snake, demo, roles } = targets;
    assertBreaks(await lint(snake!, "SELECT date_trunc('month', load_ts) AS m, COUNT(*) FROM orders GROUP BY 1"), 'technical_time');
    assertNot(await lint(snake!, "SELECT date_trunc('month', order_date) AS m, COUNT(*) FROM orders GROUP BY 1"), 'technical_time');
    assertBreaks(await lint(demo!, "SELECT COUNT(*) FROM bss_business_day_data WHERE update_ts >= '2024-06-01' AND delete_ts IS NULL"), 'technical_time');
    assertNot(await lint(demo!, "SELECT COUNT(*) FROM bss_business_day_data WHERE oper_date >= '2024-06-01' AND delete_ts IS NULL"), 'technical_time');
    assertBreaks(await lint(roles!, "SELECT priority, COUNT(*) FROM ticket WHERE etl_time > '2025-01-01' GROUP BY priority"), 'technical_time');
  });

  test('partition_child: an inheritance child or a partition queried instead of its parent', async () => {
    const { parts } = targets;
    assert.equal(parts!.facts.resolve('measurement_y2024')?.partitionOf, 'public.measurement');
    assertBreaks(await lint(parts!, 'SELECT city_id, MAX(peak_temp) FROM measurement_y2024 GROUP BY city_id'), 'partition_child');
    assertNot(await lint(parts!, 'SELECT city_id, MAX(peak_temp) FROM measurement GROUP BY city_id'), 'partition_child');
    assertBreaks(await lint(parts!, 'SELECT SUM(amount) FROM reading_2024'), 'partition_child');
    assertNot(await lint(parts!, "SELECT SUM(amount) FROM reading WHERE read_on >= '2024-01-01'"), 'partition_child');
    // A question about that partition itself: kept, with a warning.
    assertBreaks(await lint(parts!, 'SELECT COUNT(*) FROM measurement_y2024', { question: 'measurement_y2024 分区有多少行？' }), 'partition_child', 'warning');
  });

  test('missing_soft_delete_filter: a table with a soft-delete marker read without excluding deleted rows', async () => {
    const { demo, roles } = targets;
    assertBreaks(await lint(demo!, 'SELECT COUNT(*) FROM bss_company'), 'missing_soft_delete_filter');
    assertNot(await lint(demo!, 'SELECT COUNT(*) FROM bss_company WHERE delete_ts IS NULL'), 'missing_soft_delete_filter');
    const joined = await lint(demo!, 'SELECT c.company_name, COUNT(*) FROM bss_service_area sa JOIN bss_company c ON c.id = sa.company_id AND c.delete_ts IS NULL GROUP BY c.company_name');
    assertBreaks(joined, 'missing_soft_delete_filter');
    assert.deepEqual(joined.find((f) => f.rule === 'missing_soft_delete_filter')!.columns, ['bss_service_area.delete_ts']);
    assertBreaks(await lint(roles!, 'SELECT COUNT(*) FROM customer'), 'missing_soft_delete_filter');
    assertNot(await lint(roles!, 'SELECT COUNT(*) FROM customer WHERE deleted_at IS NULL'), 'missing_soft_delete_filter');
  });

  test('sibling_join: two children of one parent joined on the shared key; through the parent is fine', async () => {
    const { snake, demo } = targets;
    assertBreaks(await lint(snake!, 'SELECT o.order_id, SUM(p.amount) FROM orders o JOIN payment p ON p.customer_id = o.customer_id GROUP BY o.order_id'), 'sibling_join');
    assertNot(await lint(snake!, 'SELECT c.customer_id, COUNT(o.order_id) FROM customer c JOIN orders o ON o.customer_id = c.customer_id GROUP BY c.customer_id'), 'sibling_join');
    assertBreaks(
      await lint(demo!, 'SELECT m.service_name, SUM(c.customer_count) FROM bss_car_day_count c JOIN bss_service_area_mapper m ON m.service_area_id = c.service_area_id WHERE c.delete_ts IS NULL AND m.delete_ts IS NULL GROUP BY m.service_name'),
      'sibling_join',
    );
    assertNot(
      await lint(demo!, 'SELECT sa.service_area_name, SUM(c.customer_count) FROM bss_car_day_count c JOIN bss_service_area sa ON sa.id = c.service_area_id WHERE c.delete_ts IS NULL AND sa.delete_ts IS NULL GROUP BY sa.id, sa.service_area_name'),
      'sibling_join',
    );
  });

  test('relative_window_no_data: "the last 30 days" on historical data; a window inside the range is fine', async () => {
    const { demo, snake } = targets;
    const broken = await lint(demo!, "SELECT SUM(pay_sum) FROM bss_business_day_data WHERE oper_date >= current_date - interval '30 days' AND delete_ts IS NULL");
    assertBreaks(broken, 'relative_window_no_data');
    assert.match(broken.find((f) => f.rule === 'relative_window_no_data')!.message, /\d{4}-\d{2}-\d{2} \.\. \d{4}-\d{2}-\d{2}/);
    assertBreaks(await lint(snake!, "SELECT COUNT(*) FROM orders WHERE order_date > now() - '7 days'::interval"), 'relative_window_no_data');
    assertNot(await lint(demo!, "SELECT SUM(pay_sum) FROM bss_business_day_data WHERE oper_date >= DATE '2024-12-01' AND delete_ts IS NULL"), 'relative_window_no_data');
    // The same relative window on a day when it does hold data.
    assertNot(
      await lint(demo!, "SELECT SUM(pay_sum) FROM bss_business_day_data WHERE oper_date >= current_date - interval '30 days' AND delete_ts IS NULL", { now: new Date('2024-12-20T00:00:00Z') }),
      'relative_window_no_data',
    );
  });

  test('rank_ties_beyond_n: RANK() <= N with ties returns more than N rows; ROW_NUMBER() or a question that says so is fine', async () => {
    const { snake, demo } = targets;
    const tied = 'SELECT * FROM (SELECT customer_id, city, RANK() OVER (ORDER BY city) AS r FROM customer) t WHERE r <= 3';
    assertBreaks(await lint(snake!, tied), 'rank_ties_beyond_n');
    assertNot(await lint(snake!, tied.replace('RANK()', 'ROW_NUMBER()')), 'rank_ties_beyond_n');
    assertNot(await lint(snake!, tied, { question: '按城市排名前3（含并列）的客户' }), 'rank_ties_beyond_n');
    // DENSE_RANK by a partition: always a warning (ties cannot be ruled out per group).
    const dense = `WITH t AS (SELECT service_no, oper_date, pay_sum, DENSE_RANK() OVER (PARTITION BY service_no ORDER BY pay_sum DESC) AS rk
      FROM bss_business_day_data WHERE delete_ts IS NULL) SELECT * FROM t WHERE rk <= 3`;
    assertBreaks(await lint(demo!, dense), 'rank_ties_beyond_n', 'warning');
  });

  test('literal_not_in_data: an empty result from a literal that does not occur, with the nearest real values', async () => {
    const { demo, snake } = targets;
    const misspelt = await lint(demo!, "SELECT SUM(pay_sum) AS total FROM bss_business_day_data WHERE service_name = '彭泽服务' AND delete_ts IS NULL GROUP BY service_name");
    assertBreaks(misspelt, 'literal_not_in_data');
    assert.ok(misspelt.find((f) => f.rule === 'literal_not_in_data')!.nearest!.includes('彭泽服务区'), JSON.stringify(misspelt));
    assertNot(await lint(demo!, "SELECT SUM(pay_sum) AS total FROM bss_business_day_data WHERE service_name = '彭泽服务区' AND delete_ts IS NULL"), 'literal_not_in_data');
    const status = await lint(snake!, "SELECT COUNT(*) FROM orders WHERE status = 'shiped'");
    assertBreaks(status, 'literal_not_in_data');
    assert.deepEqual(status.find((f) => f.rule === 'literal_not_in_data')!.nearest![0], 'shipped');
    const outside = await lint(snake!, "SELECT COUNT(*) FROM orders WHERE order_date >= '2030-01-01'");
    assertBreaks(outside, 'literal_not_in_data');
    assertNot(await lint(snake!, "SELECT COUNT(*) FROM orders WHERE order_date >= '2024-06-01'"), 'literal_not_in_data');
  });

  test('a clean pair on each schema has no finding at all', async () => {
    const { demo, snake, roles } = targets;
    assert.deepEqual(
      await lint(demo!, `SELECT sa.id, sa.service_area_name, SUM(b.pay_sum) AS total FROM bss_business_day_data b JOIN bss_service_area sa ON sa.service_area_no = b.service_no
        WHERE b.delete_ts IS NULL AND sa.delete_ts IS NULL AND b.oper_date >= DATE '2024-07-01' AND b.oper_date < DATE '2024-08-01' GROUP BY sa.id, sa.service_area_name ORDER BY total DESC LIMIT 5`),
      [],
    );
    assert.deepEqual(await lint(snake!, 'SELECT p.product_id, p.name, SUM(l.quantity) AS units FROM order_line l JOIN product p ON p.product_id = l.product_id GROUP BY p.product_id, p.name ORDER BY units DESC LIMIT 5'), []);
    assert.deepEqual(await lint(roles!, 'SELECT e.employee_id, e.first_name, e.last_name, COUNT(t.ticket_id) FROM employee e JOIN ticket t ON t.assignee_id = e.employee_id GROUP BY e.employee_id, e.first_name, e.last_name'), []);
  });

  test('on the pre-linter offline output (fixtures), with the data checks: counts per rule', async () => {
    const figures: Record<string, Record<string, number>> = {};
    for (const [name, key] of [['highway_db', 'demo'], ['snake', 'snake'], ['roles', 'roles']] as const) {
      const dir = path.join(import.meta.dirname, '../fixtures/offline-qa', name);
      const facts = schemaFactsFromSchemaFile(JSON.parse(fs.readFileSync(path.join(dir, 'schema.json'), 'utf8')));
      const pairs = JSON.parse(fs.readFileSync(path.join(dir, 'pairs.json'), 'utf8')) as Array<{ question: string; sql: string }>;
      const counts: Record<string, number> = { pairs: pairs.length, with_errors: 0 };
      for (const p of pairs) {
        const t = { ...targets[key]!, facts };
        const findings = await lint(t, p.sql, { question: p.question });
        if (findings.some((f) => f.severity === 'error')) counts.with_errors! += 1;
        for (const f of findings) counts[`${f.rule}:${f.severity}`] = (counts[`${f.rule}:${f.severity}`] ?? 0) + 1;
      }
      figures[name] = counts;
    }
    console.log(`lint counts on the offline fixtures (with data checks): ${JSON.stringify(figures)}`);
    // The data checks confirm what the profile alone showed (test/unit/sql-lint-fixtures.test.ts).
    assert.ok(figures.snake!['group_by_label_without_key:error']! >= 12);
    assert.ok(figures.roles!['sum_non_additive:error']! >= 7);
  });
});
