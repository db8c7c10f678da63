// Review before training through the HTTP API (real server, real PostgreSQL store and demo database):
// list pairs with their validation and lint findings, filter, preview a result, refuse edits that break
// (not a query, several statements, a wrong column, a semantic error, huge text), save a fix with its
// history, reject a pair and re-load: the vector store holds exactly one row fewer; add a pair by hand.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { createDemoDatabase } from '../helpers/demo.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, startTestServer, waitFor, type TestServer } from '../helpers/server.ts';

describe('pairs review API', { timeout: 300_000 }, () => {
  let store: TestDatabase;
  let demo: TestDatabase;
  let server: TestServer;
  let api: string;
  let taskId: string;

  const sqlRows = async () => {
    const stats = (await call(`${api}/vector/stats`)).body.data;
    return (stats.collections as Array<{ name: string; rows: number }>).find((c) => c.name === 'sql')?.rows ?? 0;
  };
  const runStep = async (step: string) => {
    const before = (await call(`${api}/tasks/${taskId}`)).body.data.steps.find((s: { step_name: string }) => s.step_name === step)?.execution_id;
    const res = await call(`${api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: step } });
    assert.equal(res.status, 202, res.text);
    let last: unknown;
    return waitFor(async () => {
      const task = (await call(`${api}/tasks/${taskId}`)).body.data;
      last = { status: task.status, steps: task.steps.map((x: { step_name: string; step_status: string; execution_id: string; error_message: string }) => [x.step_name, x.step_status, x.execution_id, x.error_message]) };
      const s = task.steps.find((x: { step_name: string }) => x.step_name === step);
      if (['failed', 'cancelled'].includes(task.status) && s.execution_id === before) throw new Error(`${step}: ${JSON.stringify(task.steps)}`);
      return s.execution_id !== before && ['completed', 'failed'].includes(s.step_status) ? s : undefined;
    }, 120_000).catch(async (error) => {
      const logs = ((await call(`${api}/tasks/${taskId}/logs?limit=200`)).body.data.logs as Array<{ timestamp: string; message: string }>).filter((l) => /training_load|排队|审阅/.test(l.message)).map((l) => `${l.timestamp} ${l.message}`);
      throw new Error(`${(error as Error).message}; before ${before}; last ${JSON.stringify(last)}; logs ${JSON.stringify(logs).slice(-3000)}`);
    });
  };

  before(async () => {
    store = await createTestDatabase('dp_pairs_store');
    demo = await createDemoDatabase({ days: 30 });
    server = await startTestServer({ storeUrl: store.url, env: { DATA_PIPELINE_DB_URL: demo.url } });
    api = server.api;
    taskId = (await call(`${api}/tasks`, { method: 'POST', json: { task_name: 'review', theme_count: 2, questions_per_theme: 5 } })).body.data.task_id;
    await call(`${api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: ['bss_company', 'bss_service_area', 'bss_business_day_data', 'bss_car_day_count'] } });
    await call(`${api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'complete' } });
    await waitFor(async () => (['completed', 'failed'].includes((await call(`${api}/tasks/${taskId}`)).body.data.status) ? true : undefined), 240_000);
    assert.equal((await call(`${api}/tasks/${taskId}`)).body.data.status, 'completed');
  });
  after(async () => {
    await server?.close();
    await demo?.drop();
    await store?.drop();
  });

  test('list, filter and preview', async () => {
    const all = await call(`${api}/tasks/${taskId}/pairs`);
    assert.equal(all.status, 200, all.text);
    assert.ok(all.body.data.total > 0);
    const first = all.body.data.pairs[0];
    assert.ok(first.validation, 'validation outcome per pair');
    assert.ok(Array.isArray(first.tables));
    const kept = await call(`${api}/tasks/${taskId}/pairs?status=kept&limit=2`);
    assert.ok(kept.body.data.pairs.length <= 2);
    const withFindings = await call(`${api}/tasks/${taskId}/pairs?finding=any`);
    for (const p of withFindings.body.data.pairs) assert.ok(p.validation.lint.length > 0);
    const search = await call(`${api}/tasks/${taskId}/pairs?q=${encodeURIComponent(first.question.slice(0, 4))}`);
    assert.ok(search.body.data.pairs.some((p: { pair_id: string }) => p.pair_id === first.pair_id));
    const keptPair = kept.body.data.pairs[0];
    const preview = await call(`${api}/tasks/${taskId}/pairs/${keptPair.pair_id}/preview`, { method: 'POST' });
    assert.equal(preview.status, 200, preview.text);
    assert.ok(preview.body.data.columns.length > 0);
    assert.ok(preview.body.data.rows.length <= 20);
  });

  test('bad input is a 4xx naming what is wrong; a broken edit is refused and nothing is saved', async () => {
    const cases: Array<[string, string, unknown, number, string?]> = [
      ['PATCH', '/pairs/0', { sql: 'DELETE FROM bss_company' }, 400, 'PAIR_SQL_REJECTED'],
      ['PATCH', '/pairs/0', { sql: 'SELECT 1; SELECT 2' }, 400, 'PAIR_SQL_REJECTED'],
      ['PATCH', '/pairs/0', { sql: 'SELECT no_such_column FROM bss_company' }, 400, 'PAIR_SQL_INVALID'],
      ['PATCH', '/pairs/0', { question: 'x'.repeat(1001) }, 400, 'VALIDATION_ERROR'],
      ['PATCH', '/pairs/0', { sql: 'SELECT 1'.repeat(5000) }, 400, 'VALIDATION_ERROR'],
      ['PATCH', '/pairs/0', {}, 400, 'VALIDATION_ERROR'],
      ['PATCH', '/pairs/0', { sql: 'SELECT 1', extra: 1 }, 400, 'VALIDATION_ERROR'],
      ['PATCH', '/pairs/abc', { sql: 'SELECT 1' }, 400, 'VALIDATION_ERROR'],
      ['PATCH', '/pairs/99999', { sql: 'SELECT 1' }, 404, 'PAIR_NOT_FOUND'],
      ['POST', '/pairs/-1/reject', {}, 400, 'VALIDATION_ERROR'],
      ['POST', '/pairs', { question: '只有问题' }, 400, 'VALIDATION_ERROR'],
      ['GET', '/pairs?limit=0', undefined, 400, 'VALIDATION_ERROR'],
      ['GET', '/pairs?status=bogus', undefined, 400, 'VALIDATION_ERROR'],
    ];
    for (const [method, route, json, status, code] of cases) {
      const res = await call(`${api}/tasks/${taskId}${route}`, { method, ...(json !== undefined ? { json } : {}) });
      assert.equal(res.status, status, `${method} ${route} ${JSON.stringify(json)?.slice(0, 60)}: ${res.text.slice(0, 300)}`);
      if (code) assert.equal(res.body.error.code, code, `${method} ${route}`);
    }
    const pairs = (await call(`${api}/tasks/${taskId}/pairs`)).body.data;
    assert.equal(pairs.counts.edited, 0, 'nothing was saved');
    assert.equal((await call(`${api}/tasks/task_20990101_000000/pairs`)).status, 404);
  });

  test('a semantic error is refused; the fix is saved with its history', async () => {
    const target = (await call(`${api}/tasks/${taskId}/pairs?status=kept`)).body.data.pairs[0];
    const wrong = await call(`${api}/tasks/${taskId}/pairs/${target.pair_id}`, {
      method: 'PATCH',
      json: { question: '各类型服务区的平均来源类型是多少？', sql: 'SELECT service_area_type, AVG(source_type) FROM bss_business_day_data d JOIN bss_service_area a ON a.service_area_no = d.service_no WHERE d.delete_ts IS NULL AND a.delete_ts IS NULL GROUP BY service_area_type' },
    });
    assert.equal(wrong.status, 400, wrong.text);
    assert.equal(wrong.body.error.code, 'PAIR_LINT_ERROR');
    const fixedSql = 'SELECT company_name, company_no FROM bss_company WHERE delete_ts IS NULL ORDER BY company_no';
    const saved = await call(`${api}/tasks/${taskId}/pairs/${target.pair_id}`, { method: 'PATCH', json: { question: '列出所有公司及其编码。', sql: fixedSql } });
    assert.equal(saved.status, 200, saved.text);
    assert.equal(saved.body.data.sql, fixedSql);
    assert.equal(saved.body.data.review.edited, true);
    const change = saved.body.data.review.history.at(-1);
    assert.equal(change.action, 'edit');
    assert.equal(change.before.sql, target.sql);
    assert.equal(change.after.sql, fixedSql);
  });

  test('add a pair, load it; reject it and re-load: the store holds exactly one sql row fewer; restore', async () => {
    const added = await call(`${api}/tasks/${taskId}/pairs`, {
      method: 'POST',
      json: { question: '每个公司有多少个服务区？', sql: 'SELECT c.id, c.company_name, COUNT(a.id) AS areas FROM bss_company c JOIN bss_service_area a ON a.company_id = c.id WHERE c.delete_ts IS NULL AND a.delete_ts IS NULL GROUP BY c.id, c.company_name ORDER BY areas DESC' },
    });
    assert.equal(added.status, 201, added.text);
    assert.equal(added.body.data.review.added, true);
    let load = await runStep('training_load');
    assert.equal(load.step_status, 'completed', JSON.stringify(load));
    const before = await sqlRows();

    const rejected = await call(`${api}/tasks/${taskId}/pairs/${added.body.data.pair_id}/reject`, { method: 'POST', json: { reason: '与另一问答对重复' } });
    assert.equal(rejected.status, 200, rejected.text);
    assert.equal(rejected.body.data.review.rejected, true);
    assert.equal(rejected.body.data.review.history.at(-1).reason, '与另一问答对重复');
    load = await runStep('training_load');
    assert.equal(load.step_status, 'completed', JSON.stringify(load));
    assert.equal(await sqlRows(), before - 1, 'exactly one row fewer');
    assert.equal(load.counters.rows_removed, 1);

    const restored = await call(`${api}/tasks/${taskId}/pairs/${added.body.data.pair_id}/restore`, { method: 'POST' });
    assert.equal(restored.body.data.review.rejected, false);
    await runStep('training_load');
    assert.equal(await sqlRows(), before, 'restored');
    const counts = (await call(`${api}/tasks/${taskId}/pairs`)).body.data.counts;
    assert.equal(counts.added, 1);
    assert.equal(counts.rejected, 0);
  });
});
