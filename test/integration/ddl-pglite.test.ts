// ddl_generation on PGlite (PostgreSQL 18 in WASM, one connection, no statement_timeout): the same
// catalog SQL as on PostgreSQL 15. The test schema is described, and its .ddl files replay into a second,
// empty PGlite with the same structure and comments.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import type { SchemaFile } from '../../src/pipeline/artifacts.ts';
import { runDdlGeneration } from '../../src/pipeline/ddl/index.ts';
import { readCatalog } from '../../src/postgres/catalog/index.ts';
import { connect, type Database } from '../../src/postgres/connect.ts';
import { commentSignature, stepContext, structureSignature, TEST_SCHEMA_SQL, TEST_SCHEMA_TABLES } from '../fixtures/test-schema.ts';

describe('ddl_generation on PGlite (PostgreSQL 18)', () => {
  let tmp: string;
  let source: Database;
  let target: Database;
  let closeTarget: () => Promise<void>;

  before(async () => {
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-ddl-pglite-'));
    const [src, { PGlite }, { createPgConfig }] = await Promise.all([
      connect(`pglite://${path.join(tmp, 'source')}`),
      import('@electric-sql/pglite'),
      import('@electric-sql/pglite/node-postgres'),
    ]);
    source = src;
    await source.pool.query(TEST_SCHEMA_SQL);
    const pglite = await PGlite.create();
    const pool = new pg.Pool(createPgConfig(pglite) as unknown as pg.PoolConfig);
    target = { kind: 'pglite', pool, label: 'pglite://memory', close: async () => undefined };
    closeTarget = async () => {
      await pool.end();
      await pglite.close();
    };
  });

  after(async () => {
    await closeTarget?.();
    await source?.close();
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  test('describes the test schema and its .ddl files replay into an empty PGlite', async () => {
    const dir = path.join(tmp, 'task');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'table_list.txt'), `${TEST_SCHEMA_TABLES.join('\n')}\n`);
    const ctx = stepContext({ dir, db: source });
    await runDdlGeneration(ctx);
    const schema = JSON.parse(fs.readFileSync(path.join(dir, 'schema.json'), 'utf8')) as SchemaFile;
    assert.match(schema.database.server_version, /^18/);
    assert.equal(schema.tables.length, 11);
    const note = schema.tables.find((t) => t.full_name === 'public.order_note')!;
    assert.deepEqual(note.foreign_keys.map((fk) => `${fk.columns}→${fk.target_table}.${fk.target_columns}`).sort(), [
      'customer_id→customer.customer_id',
      'order_id→Order.id',
      'product_code→product.product_code',
    ]);

    const client = await target.pool.connect();
    try {
      for (const t of schema.tables) await client.query(fs.readFileSync(path.join(dir, t.files.ddl), 'utf8'));
    } finally {
      client.release();
    }
    const before = await readCatalog(source, TEST_SCHEMA_TABLES);
    const after = await readCatalog(target, TEST_SCHEMA_TABLES);
    assert.deepEqual(after.missing, []);
    for (const original of before.relations) {
      const replayed = after.relations.find((r) => r.schema === original.schema && r.name === original.name)!;
      assert.deepEqual(structureSignature(replayed), structureSignature(original), `${original.schema}.${original.name}`);
      const info = schema.tables.find((t) => t.full_name === `${original.schema}.${original.name}`)!;
      assert.deepEqual(commentSignature(replayed), { table: info.comment, columns: Object.fromEntries(info.columns.map((c) => [c.name, c.comment])) });
    }
  });
});
