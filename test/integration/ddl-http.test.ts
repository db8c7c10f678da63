// The database tools API (guide §6) and ddl_generation through the real HTTP server: table lists with
// schemas and wildcards, one table's DDL / markdown with table_info, fields and generation_info, errors
// (missing table, bad name, unreachable database within 10 s with the masked URL), an LLM configured
// through the settings, and a task executing ddl_generation with table progress in its status.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import net from 'node:net';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, startTestServer, waitForStatus, type TestServer } from '../helpers/server.ts';
import { startFakeOpenAI, jsonReply, type FakeOpenAI } from '../helpers/fake-openai.ts';
import { createTestSchemaDatabase } from '../fixtures/test-schema.ts';

describe('database tools API and ddl_generation over HTTP', () => {
  let store: TestDatabase;
  let business: TestDatabase;
  let server: TestServer;
  let fake: FakeOpenAI;
  let base: string;
  const silentSockets: net.Socket[] = [];
  const silent = net.createServer((socket) => silentSockets.push(socket));

  before(async () => {
    [store, business] = await Promise.all([createTestDatabase('dp_store'), createTestSchemaDatabase()]);
    fake = await startFakeOpenAI({
      handler: (request) => {
        const prompt = request.messages.find((m) => m.role === 'user')?.content ?? '';
        const wanted = (/以下字段的注释: (.+)$/m.exec(prompt)?.[1] ?? '').split(', ').filter(Boolean);
        return jsonReply({ table_comment: 'LLM 表注释', columns: Object.fromEntries(wanted.map((c) => [c, `LLM:${c}`])) });
      },
    });
    server = await startTestServer({
      storeUrl: store.url,
      env: { DATA_PIPELINE_DB_URL: business.url, DATA_PIPELINE_LLM_BASE_URL: fake.baseUrl, DATA_PIPELINE_LLM_MODEL: 'fake-model' },
    });
    base = `${server.baseUrl}/api/v0/database`;
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
  });

  after(async () => {
    await server?.close();
    await fake?.close();
    for (const socket of silentSockets) socket.destroy();
    await new Promise<void>((resolve) => silent.close(() => resolve()));
    await Promise.all([store?.drop(), business?.drop()]);
  });

  test('POST /database/tables: default schema public, views flagged, counts', async () => {
    const { status, body } = await call(`${base}/tables`, { method: 'POST', json: {} });
    assert.equal(status, 200);
    assert.equal(body.message, '获取表列表成功');
    const data = body.data;
    assert.deepEqual(data.schemas, ['public']);
    assert.ok(data.tables.includes('public.customer'));
    assert.ok(data.tables.includes('public.event_log'));
    assert.ok(!data.tables.includes('public.event_log_2024'), 'partitions folded into their parent');
    assert.equal(data.total, data.tables.length);
    assert.equal(data.db_connection_info.database, business.name);
    const view = data.table_details.find((t: any) => t.table_name === 'customer_orders');
    assert.equal(view.is_view, true);
    assert.equal(view.type, 'view');
    assert.equal(data.table_details.find((t: any) => t.table_name === 'customer').is_view, false);
    assert.equal(data.counts.views, 1);
    assert.equal(data.counts.materialized_views, 1);
    assert.equal(data.counts.partitioned_tables, 1);
    assert.equal(data.counts.tables + data.counts.views + data.counts.materialized_views + data.counts.partitioned_tables, data.total);
  });

  test('POST /database/tables: comma-separated schemas and */? wildcards', async () => {
    const { body } = await call(`${base}/tables`, { method: 'POST', json: { schema: 'public, Sales Ops,销售', table_name_pattern: '*o?der*' } });
    assert.deepEqual(body.data.schemas, ['public', 'Sales Ops', '销售']);
    assert.deepEqual(body.data.tables, ['Sales Ops.Order', 'public.customer_orders', 'public.order_note']);
    assert.equal(body.data.table_name_pattern, '*o?der*');
  });

  test('POST /database/table/ddl: ddl, md, table_info, fields and generation_info', async () => {
    const { status, body } = await call(`${base}/table/ddl`, { method: 'POST', json: { table: 'public.customer', business_context: '在线零售', type: 'both' } });
    assert.equal(status, 200);
    assert.equal(body.message, '获取表DDL成功');
    const data = body.data;
    assert.match(data.ddl, /^-- 中文名: 客户\n/);
    assert.match(data.ddl, /CREATE TABLE public\.customer \(/);
    assert.match(data.md, /^## customer（客户）/);
    assert.equal(data.table_info.table_name, 'customer');
    assert.equal(data.table_info.schema_name, 'public');
    assert.equal(data.table_info.full_name, 'public.customer');
    assert.equal(data.table_info.comment, '客户');
    assert.equal(data.table_info.field_count, 9);
    assert.equal(data.table_info.row_count, 40);
    const fullName = data.fields.find((f: any) => f.column_name === 'Full Name');
    assert.deepEqual(
      { data_type: fullName.data_type, max_length: fullName.max_length, is_nullable: fullName.is_nullable, is_primary_key: fullName.is_primary_key, comment: fullName.comment, comment_source: fullName.comment_source },
      { data_type: 'varchar', max_length: 100, is_nullable: false, is_primary_key: false, comment: '客户全名', comment_source: 'db' },
    );
    const id = data.fields.find((f: any) => f.column_name === 'customer_id');
    assert.equal(id.is_primary_key, true);
    assert.equal(id.comment, 'LLM:customer_id');
    assert.equal(id.comment_source, 'llm');
    assert.deepEqual(data.generation_info, {
      business_context: '在线零售',
      output_type: 'both',
      has_llm_comments: true,
      llm_model: 'fake-model',
      database: business.name,
      server_version: data.generation_info.server_version,
    });
    const prompt = (fake.chatRequests().at(-1)!.body as any).messages.find((m: any) => m.role === 'user').content as string;
    assert.match(prompt, /业务背景: 在线零售/);
  });

  test('POST /database/table/ddl: type ddl/md; quoted and unquoted identifiers; English', async () => {
    const ddlOnly = await call(`${base}/table/ddl`, { method: 'POST', json: { table: '"Sales Ops"."Order"', type: 'ddl' } });
    assert.equal(ddlOnly.status, 200);
    assert.ok(ddlOnly.body.data.ddl.includes('CREATE TABLE "Sales Ops"."Order"'));
    assert.equal(ddlOnly.body.data.md, undefined);
    const mdOnly = await call(`${base}/table/ddl`, { method: 'POST', json: { table: '销售.订单明细', type: 'md' }, headers: { 'Accept-Language': 'en' } });
    assert.equal(mdOnly.status, 200);
    assert.equal(mdOnly.body.message, 'Table DDL retrieved');
    assert.equal(mdOnly.body.data.ddl, undefined);
    assert.match(mdOnly.body.data.md, /Columns:\n- 订单id \(bigint\)/);
  });

  test('errors: missing table 404, bad name 400, bad scheme 400, unreachable database within 10 s, masked', async () => {
    const missing = await call(`${base}/table/ddl`, { method: 'POST', json: { table: 'public.nope' } });
    assert.equal(missing.status, 404);
    assert.equal(missing.body.error.code, 'TABLE_NOT_FOUND');
    const bad = await call(`${base}/table/ddl`, { method: 'POST', json: { table: '"unterminated' } });
    assert.equal(bad.status, 400);
    assert.deepEqual(bad.body.error.invalid_params, ['table']);
    const noTable = await call(`${base}/table/ddl`, { method: 'POST', json: {} });
    assert.equal(noTable.status, 400);
    assert.deepEqual(noTable.body.error.missing_params, ['table']);
    const scheme = await call(`${base}/tables`, { method: 'POST', json: { db_connection: 'mysql://root:pw@localhost/db' } });
    assert.equal(scheme.status, 400);
    const other = await call(`${base}/tables`, { method: 'POST', json: { db_connection: 'pglite:///tmp/somewhere-else' } });
    assert.equal(other.status, 400, 'only the embedded demo database may be opened as pglite://');

    // A server that accepts the connection and never answers: the request must not wait for it.
    const silentPort = (silent.address() as net.AddressInfo).port;
    for (const url of [
      'postgresql://app:s3cret@127.0.0.1:1/highway_db',
      'postgresql://app:s3cret@10.255.255.1:5432/highway_db',
      `postgresql://app:s3cret@127.0.0.1:${silentPort}/highway_db?password=s3cret`,
    ]) {
      const started = Date.now();
      const { status, body, text } = await call(`${base}/tables`, { method: 'POST', json: { db_connection: url } });
      const elapsed = Date.now() - started;
      assert.ok(elapsed < 10_000, `answered in ${elapsed} ms`);
      assert.equal(status, 500);
      assert.equal(body.error.code, 'DATABASE_CONNECTION_ERROR');
      assert.match(body.error.details, /postgresql:\/\/app:\*\*\*@/);
      assert.ok(!text.includes('s3cret'));
      assert.ok(body.error.details.length > 'postgresql://app:***@10.255.255.1:5432/highway_db'.length + 8, 'with a reason');
    }
  });

  test('a task runs ddl_generation: tables done/total in the status, the files in the file list', async () => {
    const api = server.api;
    const created = await call(`${api}/tasks`, { method: 'POST', json: { business_context: '在线零售', task_name: 'ddl' } });
    const taskId = created.body.data.task_id;
    await call(`${api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: ['customer', 'order_note', 'product'] } });
    const started = await call(`${api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: 'ddl_generation' } });
    assert.equal(started.status, 202);
    const status = await waitForStatus(api, taskId, ['partial_completed', 'completed', 'failed'], 30_000);
    assert.equal(status.status, 'partial_completed', JSON.stringify(status));
    const step = status.steps.find((s: any) => s.step_name === 'ddl_generation');
    assert.deepEqual(step.progress, { done: 3, total: 3, unit: 'tables' });
    const files = (await call(`${api}/tasks/${taskId}/files`)).body.data.files.map((f: any) => f.file_name);
    for (const f of ['customer.ddl', 'customer_detail.md', 'order_note.ddl', 'product_detail.md', 'schema.json', 'filename_mapping.txt']) assert.ok(files.includes(f), f);
  });
});
