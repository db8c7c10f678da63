// The offline generator after the real ddl_generation step on the demo database and on schemas named in
// different styles (a snake_case shop; camelCase with table prefixes; role-named foreign keys with audit
// columns and a soft-deleted customer; Chinese names): every pair passes EXPLAIN, ≥ 95% return a row,
// the semantic linter (the one sql_validation runs, with a bounded read-only probe) finds no error, no
// signature repeats, every business table is covered, and no Chinese question carries an identifier or a
// half-translated term (Latin text only inside quotes or as a whole untranslated term of schema.json).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import pg from 'pg';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import { pairMetaFileName, PAIR_FILE_PATTERN, type SchemaFile } from '../../src/pipeline/artifacts.ts';
import { ddlGenerationStep } from '../../src/pipeline/ddl/index.ts';
import { qaGenerationStep } from '../../src/pipeline/qa/index.ts';
import { lintPair, schemaFactsFromSchemaFile } from '../../src/sql/lint.ts';
import { createDemoDatabase } from '../helpers/demo.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { makeStepContext } from '../helpers/qa-schema.ts';
import { makeTempDir } from '../helpers/server.ts';

const STYLES = ['snake', 'camel', 'roles', 'chinese'] as const;
const DIR = path.join(import.meta.dirname, '../fixtures/naming-styles');

async function generate(db: TestDatabase, tables: string[]) {
  const dir = makeTempDir('dp-qa-style-');
  fs.writeFileSync(path.join(dir, 'table_list.txt'), tables.join('\n'));
  const ddl = makeStepContext({ dir, step: 'ddl_generation', dbUrl: db.url, parameters: { db_name: 'style' } });
  await ddlGenerationStep.run(ddl);
  await ddl.close();
  const qa = makeStepContext({ dir, step: 'qa_generation', dbUrl: db.url, parameters: { db_name: 'style' } });
  await qaGenerationStep.run(qa);
  await qa.close();
  const pairFile = fs.readdirSync(dir).find((n) => PAIR_FILE_PATTERN.test(n))!;
  const meta = JSON.parse(fs.readFileSync(path.join(dir, pairMetaFileName(pairFile)), 'utf8'));
  const schema = JSON.parse(fs.readFileSync(path.join(dir, 'schema.json'), 'utf8')) as SchemaFile;
  return { meta, schema };
}

async function check(db: TestDatabase, name: string, tables: string[]) {
  const { meta, schema } = await generate(db, tables);
  const pairs = meta.pairs as Array<{ question: string; sql: string; tables: string[]; signature: string }>;
  const facts = schemaFactsFromSchemaFile(schema);
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  let explain = 0;
  let rows = 0;
  const lintErrors: string[] = [];
  try {
    for (const p of pairs) {
      await pool.query(`EXPLAIN ${p.sql}`);
      explain += 1;
      if ((await pool.query(`SELECT EXISTS (${p.sql.replace(/;\s*$/, '')}) AS x`)).rows[0].x) rows += 1;
      for (const f of await lintPair(p.sql, facts, { question: p.question })) if (f.severity === 'error') lintErrors.push(`${f.rule}: ${p.sql}`);
    }
  } finally {
    await pool.end();
  }
  // Whole terms a Chinese question may carry in Latin letters: column terms and entity nouns that stayed English.
  const whole = new Set(schema.tables.flatMap((t) => [...t.columns.map((c) => (c.comment ?? '').split(/[（(，,；;。:：\n]/)[0]!.trim()), t.entity?.zh ?? '']).filter((x) => /[A-Za-z]/.test(x)));
  const halfTranslated = pairs.filter((p) => {
    let rest = p.question.replace(/“[^”]*”/g, '');
    for (const w of [...whole].sort((a, b) => b.length - a.length)) rest = rest.split(w).join('');
    return /[A-Za-z_]/.test(rest);
  });
  const business = schema.tables.filter((t) => t.estimated_rows > 0 && !t.partition_of).map((t) => `${t.schema}.${t.name}`);
  const covered = new Set(pairs.flatMap((p) => p.tables));
  console.log(`${name}: ${pairs.length} pairs, EXPLAIN ${explain}/${pairs.length}, rows ${rows}/${pairs.length}, lint errors ${lintErrors.length}, half-translated ${halfTranslated.length}, tables ${business.filter((t) => covered.has(t)).length}/${business.length}, complexity ${JSON.stringify(meta.coverage.complexity)}`);
  assert.ok(pairs.length >= 8, `${name}: ${pairs.length} pairs`);
  assert.equal(explain, pairs.length);
  assert.ok(rows / pairs.length >= 0.95, `${name}: rows ${rows}/${pairs.length}`);
  assert.deepEqual(lintErrors, [], `${name}: semantic lint errors`);
  assert.deepEqual(halfTranslated.map((p) => p.question), [], `${name}: Latin text outside quotes and whole terms`);
  assert.equal(new Set(pairs.map((p) => p.signature)).size, pairs.length, `${name}: duplicate signatures`);
  assert.deepEqual(business.filter((t) => !covered.has(t)), [], `${name}: business tables without a pair`);
}

describe('offline pairs on the demo and on naming-style schemas: EXPLAIN, rows, linter, wording, signatures, coverage', () => {
  const dbs: Record<string, TestDatabase> = {};
  before(async () => {
    dbs.demo = await createDemoDatabase();
    for (const style of STYLES) {
      const db = await createTestDatabase(`dp_qa_${style}`);
      const client = new pg.Client({ connectionString: db.url });
      await client.connect();
      try {
        await client.query(fs.readFileSync(path.join(DIR, `${style}.sql`), 'utf8'));
        await client.query('ANALYZE');
      } finally {
        await client.end();
      }
      dbs[style] = db;
    }
  });
  after(async () => {
    await Promise.all(Object.values(dbs).map((d) => d.drop()));
  });

  test('demo (highway_db)', async () => {
    await check(dbs.demo!, 'demo', DEMO_TABLES);
  });
  for (const style of STYLES) {
    test(`${style} naming`, async () => {
      const client = new pg.Client({ connectionString: dbs[style]!.url });
      await client.connect();
      const tables = (await client.query(`SELECT quote_ident(tablename) AS n FROM pg_tables WHERE schemaname = 'public' ORDER BY 1`)).rows.map((r) => r.n as string);
      await client.end();
      await check(dbs[style]!, style, tables);
    });
  }
});
