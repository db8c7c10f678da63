// Join discovery, roles and enums on schemas named the way real databases are: snake_case <table>_id,
// camelCase with table prefixes, flat lowercase compounds, bare abbreviations, text keys, role-named
// foreign keys with audit columns, and Chinese names. Each schema declares its foreign keys (the truth);
// the step runs once as declared (kept exactly) and once on a copy with every foreign key dropped, and
// the inferred joins are scored against the truth: precision ≥ 0.95 and recall ≥ 0.9 per style.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { generateSchema, type GenerateResult } from '../../src/pipeline/ddl/generate.ts';
import { connect } from '../../src/postgres/connect.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';

const STYLES = ['snake', 'camel', 'flat', 'abbrev', 'textkey', 'roles', 'chinese', 'generic', 'subtype'] as const;
const DIR = path.join(import.meta.dirname, '../fixtures/naming-styles');
const silent = { debug() {}, info() {}, warn() {}, error() {} };

interface Edge {
  from: string;
  to: string;
}

async function declaredEdges(client: pg.Client): Promise<Edge[]> {
  const rows = (
    await client.query(`
      SELECT c.conrelid::regclass::text AS child, a.attname AS col, c.confrelid::regclass::text AS parent, b.attname AS pcol
      FROM pg_constraint c
      JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
      JOIN pg_attribute b ON b.attrelid = c.confrelid AND b.attnum = c.confkey[1]
      WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace`)
  ).rows;
  const bare = (name: string) => name.replace(/"/g, '');
  return rows.map((r) => ({ from: `${bare(r.child)}.${r.col}`, to: `${bare(r.parent)}.${r.pcol}` }));
}

async function run(url: string): Promise<GenerateResult> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  const names = (await client.query(`SELECT quote_ident(tablename) AS n FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map((r) => r.n);
  await client.end();
  const db = await connect(url, { max: 2 });
  try {
    return await generateSchema({ db, names, language: 'zh', businessContext: null, glossary: new Map(), llm: undefined, log: silent });
  } finally {
    await db.close();
  }
}

function edgesOf(result: GenerateResult, which: 'declared' | 'inferred'): Edge[] {
  // Inheritance children declare no keys of their own; they are documented under their parent.
  return result.tables.filter((t) => !t.info.partition_of).flatMap((t) =>
    t.info.foreign_keys
      .filter((fk) => (which === 'inferred' ? fk.inferred : !fk.inferred))
      .map((fk) => ({ from: `${t.info.name}.${fk.columns[0]}`, to: `${fk.target_table}.${fk.target_columns[0]}` })),
  );
}

const key = (e: Edge) => `${e.from}->${e.to}`;

describe('join discovery, roles and enums across naming styles', () => {
  const databases: TestDatabase[] = [];
  const results = new Map<string, { truth: Edge[]; declared: GenerateResult; dropped: GenerateResult }>();

  before(async () => {
    for (const style of STYLES) {
      const db = await createTestDatabase(`dp_style_${style}`);
      databases.push(db);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      let truth: Edge[];
      try {
        await client.query(fs.readFileSync(path.join(DIR, `${style}.sql`), 'utf8'));
        await client.query('ANALYZE');
        truth = await declaredEdges(client);
      } finally {
        await client.end();
      }
      const declared = await run(db.url);
      const drop = new pg.Client({ connectionString: db.url });
      await drop.connect();
      const fks = (await drop.query(`SELECT conrelid::regclass::text AS t, quote_ident(conname) AS c FROM pg_constraint WHERE contype = 'f' AND connamespace = 'public'::regnamespace`)).rows;
      for (const fk of fks) await drop.query(`ALTER TABLE ${fk.t} DROP CONSTRAINT ${fk.c}`);
      await drop.end();
      results.set(style, { truth, declared, dropped: await run(db.url) });
    }
  });

  after(async () => {
    for (const db of databases) await db.drop();
  });

  test('declared foreign keys are kept exactly as they are, and nothing is inferred beside them', () => {
    for (const [style, r] of results) {
      assert.deepEqual(edgesOf(r.declared, 'declared').map(key).sort(), r.truth.map(key).sort(), style);
      const inferred = edgesOf(r.declared, 'inferred');
      assert.deepEqual(inferred, [], `${style}: nothing inferred where everything is declared`);
    }
  });

  test('without declared keys: precision ≥ 0.95 and recall ≥ 0.9 in every style; no sibling-to-sibling edge', () => {
    let tp = 0;
    let fp = 0;
    let fn = 0;
    const lines: string[] = [];
    const problems: string[] = [];
    for (const [style, r] of results) {
      const truth = new Set(r.truth.map(key));
      const found = edgesOf(r.dropped, 'inferred');
      const hits = found.filter((e) => truth.has(key(e))).length;
      const precision = found.length ? hits / found.length : 1;
      const recall = truth.size ? hits / truth.size : 1;
      // Per style; the micro average over all styles is printed after them.
      lines.push(`${style.padEnd(8)} true ${truth.size}  found ${found.length}  correct ${hits}  precision ${precision.toFixed(2)}  recall ${recall.toFixed(2)}` +
        (hits < found.length ? `  wrong: ${found.filter((e) => !truth.has(key(e))).map(key).join(', ')}` : '') +
        (hits < truth.size ? `  missed: ${[...truth].filter((t) => !found.some((e) => key(e) === t)).join(', ')}` : ''));
      tp += hits;
      fp += found.length - hits;
      fn += truth.size - hits;
      if (precision < 0.95) problems.push(`${style}: precision ${precision.toFixed(2)}`);
      if (recall < 0.9) problems.push(`${style}: recall ${recall.toFixed(2)}`);
      // A sibling edge targets a column that is itself a reference to a parent.
      const children = new Set(r.truth.map((e) => e.from));
      for (const e of found) if (children.has(e.to) && !truth.has(key(e))) problems.push(`${style}: sibling edge ${key(e)}`);
    }
    lines.push(`micro    precision ${(tp / (tp + fp)).toFixed(3)}  recall ${(tp / (tp + fn)).toFixed(3)}  (${tp + fn} true joins)`);
    console.log(`join discovery without declared keys\n${lines.join('\n')}`);
    assert.deepEqual(problems, []);
  });

  test('an inheritance child is recorded with partition_of', () => {
    const child = results.get('roles')!.dropped.tables.find((t) => t.info.name === 'ticket_archive')!;
    assert.equal(child.info.partition_of, 'public.ticket');
    assert.equal(results.get('roles')!.dropped.tables.find((t) => t.info.name === 'ticket')!.info.partition_of, undefined);
  });

  test('enums: never an id, key, flag or time column, and never without values', () => {
    for (const [style, r] of results) {
      for (const t of r.dropped.tables) {
        for (const c of t.info.columns) {
          if (!c.enum_values) continue;
          assert.ok(c.enum_values.length > 0, `${style} ${t.info.name}.${c.name}: enum without values`);
          assert.ok(['code', 'other'].includes(c.role!), `${style} ${t.info.name}.${c.name}: enum on a ${c.role} column`);
        }
      }
    }
  });

  test('roles as a reader of the data would say', () => {
    const role = (style: string, table: string, column: string) =>
      results.get(style)!.dropped.tables.find((t) => t.info.name === table)!.info.columns.find((c) => c.name === column)!.role;
    const expect: Array<[string, string, string, string]> = [
      ['snake', 'product', 'unit_price', 'non_additive_measure'],
      ['snake', 'order_line', 'unit_price', 'non_additive_measure'],
      ['snake', 'order_line', 'discount_rate', 'non_additive_measure'],
      ['snake', 'order_line', 'quantity', 'additive_measure'],
      ['snake', 'product', 'stock_qty', 'non_additive_measure'],
      ['snake', 'payment', 'amount', 'additive_measure'],
      ['snake', 'orders', 'load_ts', 'technical_time'],
      ['snake', 'orders', 'order_date', 'business_time'],
      ['snake', 'orders', 'customer_id', 'foreign_key'],
      ['snake', 'orders', 'status', 'code'],
      ['snake', 'customer', 'first_name', 'label'],
      ['snake', 'customer', 'customer_id', 'identifier'],
      ['camel', 'crmOrder', 'crmOrdTotal', 'additive_measure'],
      ['camel', 'crmProduct', 'crmProdPrice', 'non_additive_measure'],
      ['camel', 'crmContact', 'crmCtcEmail', 'contact'],
      ['camel', 'crmOrderItem', 'crmItemOrdId', 'foreign_key'],
      ['flat', 'paper', 'year', 'business_time'],
      ['flat', 'paper', 'venueid', 'foreign_key'],
      ['flat', 'paper', 'numcitedby', 'additive_measure'],
      ['abbrev', 'publication', 'citation_num', 'additive_measure'],
      ['abbrev', 'author', 'homepage', 'contact'],
      ['textkey', 'restaurant', 'rating', 'non_additive_measure'],
      ['textkey', 'location', 'house_number', 'code'],
      ['textkey', 'state', 'population', 'additive_measure'],
      ['roles', 'employee', 'is_active', 'flag'],
      ['roles', 'employee', 'manager_id', 'foreign_key'],
      ['roles', 'employee', 'created_at', 'technical_time'],
      ['roles', 'employee', 'updated_at', 'technical_time'],
      ['roles', 'employee', 'hire_date', 'business_time'],
      ['roles', 'customer', 'deleted_at', 'soft_delete'],
      ['roles', 'customer', 'credit_limit', 'non_additive_measure'],
      ['roles', 'ticket', 'etl_time', 'technical_time'],
      ['roles', 'ticket', 'hours_spent', 'additive_measure'],
      ['roles', 'ticket', 'opened_at', 'business_time'],
      ['chinese', '商品', '单价', 'non_additive_measure'],
      ['chinese', '商品', '库存', 'non_additive_measure'],
      ['chinese', '订单', '金额', 'additive_measure'],
      ['chinese', '订单明细', '数量', 'additive_measure'],
    ];
    const wrong = expect.filter(([s, t, c, r]) => role(s, t, c) !== r).map(([s, t, c, r]) => `${s} ${t}.${c}: ${role(s, t, c)} (expected ${r})`);
    assert.deepEqual(wrong, []);
  });
});
