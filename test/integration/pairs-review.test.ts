// Review before training through the HTTP API (real server, real PostgreSQL store and demo database):
// list pairs with their validation and lint findings, filter, preview a result, refuse edits that break
// (not a query, several statements, a wrong column, a semantic error, huge text), save a fix with its
// history, reject a pair and re-load: the vector store holds exactly one row fewer; add a pair by hand.
// While the task runs, every change is refused (409 TASK_ALREADY_RUNNING) and reading goes on. The stats
// behind the dashboard's charts (funnel, complexity mix, pairs per table) match the files they come from.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { defaultSteps } from '../../src/pipeline/registry.ts';
import { trainingLoadStep } from '../../src/pipeline/load/index.ts';
import { createDemoDatabase } from '../helpers/demo.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, runStepAgain, startTestServer, stepOf, waitFor, waitForStepRun, type TestServer } from '../helpers/server.ts';

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
  const runStep = (step: string) => runStepAgain(api, taskId, step);
  // The real training_load, held at its start while a test needs the task to be running.
  let loadGate: Promise<void> = Promise.resolve();
  const registry = defaultSteps().register({ name: 'training_load', run: async (ctx) => (await loadGate, trainingLoadStep.run(ctx)) });

  before(async () => {
    store = await createTestDatabase('dp_pairs_store');
    demo = await createDemoDatabase({ days: 30 });
    server = await startTestServer({ storeUrl: store.url, env: { DATA_PIPELINE_DB_URL: demo.url }, registry });
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
      ['POST', '/pairs', { question: '删掉公司', sql: 'DELETE FROM bss_company' }, 400, 'PAIR_SQL_REJECTED'],
      ['POST', '/pairs', { question: '两条语句', sql: 'SELECT 1; SELECT 2' }, 400, 'PAIR_SQL_REJECTED'],
      ['POST', '/pairs', { question: '注释掉的第二条', sql: 'SELECT company_name FROM bss_company; -- ok\nDROP TABLE bss_company' }, 400, 'PAIR_SQL_REJECTED'],
      ['POST', '/pairs', { question: 'x'.repeat(1001), sql: 'SELECT 1' }, 400, 'VALIDATION_ERROR'],
      ['POST', '/pairs', { question: '很长的 SQL', sql: `SELECT ${'1 + '.repeat(6000)}1` }, 400, 'VALIDATION_ERROR'],
      ['POST', '/pairs', { question: '   ', sql: 'SELECT 1' }, 400, 'VALIDATION_ERROR'],
      ['POST', '/pairs/0/reject', { reason: 'r'.repeat(1001) }, 400, 'VALIDATION_ERROR'],
      ['POST', '/pairs/added-999/reject', {}, 404, 'PAIR_NOT_FOUND'],
      ['POST', '/pairs/1.5/restore', undefined, 400, 'VALIDATION_ERROR'],
      ['POST', '/pairs/9999999/preview', undefined, 400, 'VALIDATION_ERROR'],
      ['POST', '/pairs/99999/preview', undefined, 404, 'PAIR_NOT_FOUND'],
      ['PATCH', '/pairs/0', { sql: 'SELECT company_name FROM bss_company;;; SELECT 1' }, 400, 'PAIR_SQL_REJECTED'],
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
    assert.equal(pairs.counts.added, 0, 'nothing was added');
    assert.equal(pairs.counts.rejected, 0, 'nothing was rejected');
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
    // What the pair reads now is the edited SQL's, not the replaced one's; its level is qa's no more.
    assert.deepEqual(saved.body.data.tables, ['public.bss_company']);
    assert.equal(saved.body.data.complexity, null);
    const onlyQuestion = await call(`${api}/tasks/${taskId}/pairs/${target.pair_id}`, { method: 'PATCH', json: { question: '列出全部公司及其编码。' } });
    assert.deepEqual(onlyQuestion.body.data.tables, ['public.bss_company']);
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
    assert.equal(load.counters?.rows_removed, 1);

    const restored = await call(`${api}/tasks/${taskId}/pairs/${added.body.data.pair_id}/restore`, { method: 'POST' });
    assert.equal(restored.body.data.review.rejected, false);
    await runStep('training_load');
    assert.equal(await sqlRows(), before, 'restored');
    const counts = (await call(`${api}/tasks/${taskId}/pairs`)).body.data.counts;
    assert.equal(counts.added, 1);
    assert.equal(counts.rejected, 0);
  });

  test('stats: the funnel of the validation report, the complexity mix and pairs per table; 4xx for bad input', async () => {
    const res = await call(`${api}/tasks/${taskId}/pairs/stats`);
    assert.equal(res.status, 200, res.text);
    const stats = res.body.data;
    const list = (await call(`${api}/tasks/${taskId}/pairs?limit=1000`)).body.data;
    assert.deepEqual(stats.counts, list.counts, 'the same counts as the list');
    // The funnel is the report's, stage by stage, in its order.
    const result = JSON.parse((await call(`${api}/tasks/${taskId}/files/sql_validation_result.json`)).text);
    const report = JSON.parse((await call(`${api}/tasks/${taskId}/files/${result.report_file}`)).text);
    assert.equal(stats.funnel.report_file, result.report_file);
    assert.deepEqual(stats.funnel.stages, Object.entries(report.funnel).map(([stage, pairs]) => ({ stage, pairs })));
    // Complexity: every level, zeros too; sums are the pairs'.
    const levels = stats.complexity.map((c: { complexity: string | null }) => c.complexity);
    for (const level of ['single_table', 'join', 'aggregate', 'window_cte']) assert.ok(levels.includes(level), level);
    const kept = list.pairs.filter((p: { review: { rejected: boolean }; validation: { kept: boolean } | null }) => !p.review.rejected && (p.validation?.kept ?? true));
    assert.equal(stats.complexity.reduce((n: number, c: { pairs: number }) => n + c.pairs, 0), list.counts.total);
    assert.equal(stats.complexity.reduce((n: number, c: { kept: number }) => n + c.kept, 0), list.counts.kept);
    // Tables: the task's four first, in their order, each with the pairs that use it.
    assert.deepEqual(
      stats.tables.slice(0, 4).map((t: { table: string }) => t.table),
      ['public.bss_company', 'public.bss_service_area', 'public.bss_business_day_data', 'public.bss_car_day_count'],
    );
    for (const t of stats.tables as Array<{ table: string; kept: number }>) {
      assert.equal(t.kept, kept.filter((p: { tables: string[] }) => p.tables.includes(t.table)).length, t.table);
    }
    assert.ok(res.headers.get('content-type')?.startsWith('application/json'));

    // Bad input: a 4xx naming it.
    const badId = await call(`${api}/tasks/bad%20id/pairs/stats`, { headers: { 'Accept-Language': 'en' } });
    assert.equal(badId.status, 400);
    assert.equal(badId.body.error.code, 'VALIDATION_ERROR');
    assert.match(badId.body.error.details, /task_id/);
    const unknown = await call(`${api}/tasks/task_20990101_000000/pairs/stats`);
    assert.equal(unknown.status, 404);
    assert.equal(unknown.body.error.code, 'TASK_NOT_FOUND');
    const fresh = (await call(`${api}/tasks`, { method: 'POST', json: { task_name: 'no pairs yet' } })).body.data.task_id;
    const notReady = await call(`${api}/tasks/${fresh}/pairs/stats`);
    assert.equal(notReady.status, 409);
    assert.equal(notReady.body.error.code, 'PAIRS_NOT_READY');
    assert.equal((await call(`${api}/tasks/${taskId}/pairs/stats`, { method: 'POST' })).status, 404, 'GET only');
    // The route is in the OpenAPI document with its response.
    const openapi = (await call(`${server.baseUrl}/api/docs/json`)).body;
    const documented = openapi.paths['/api/v0/data_pipeline/tasks/{task_id}/pairs/stats'];
    assert.ok(documented?.get?.responses?.['200']?.content?.['application/json']?.schema?.properties?.data?.properties?.funnel, JSON.stringify(documented).slice(0, 300));
  });

  test('while the task runs, edit, reject, restore and add are refused with 409 TASK_ALREADY_RUNNING; reading goes on', async () => {
    let release!: () => void;
    loadGate = new Promise((resolve) => (release = resolve));
    const previous = (await stepOf(api, taskId, 'training_load')).execution_id;
    try {
      const before = (await call(`${api}/tasks/${taskId}/pairs?status=kept&limit=1000`)).body.data;
      const target = before.pairs[0];
      const started = await call(`${api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: 'training_load' } });
      assert.equal(started.status, 202, started.text);
      await waitFor(async () => ((await call(`${api}/tasks/${taskId}`)).body.data.status === 'in_progress' ? true : undefined));
      const changes: Array<[string, string, unknown]> = [
        ['PATCH', `/pairs/${target.pair_id}`, { question: '运行中也想改的问题？' }],
        ['POST', `/pairs/${target.pair_id}/reject`, { reason: '运行中' }],
        ['POST', `/pairs/${target.pair_id}/restore`, undefined],
        ['POST', '/pairs', { question: '运行中添加的问题？', sql: 'SELECT company_name FROM bss_company WHERE delete_ts IS NULL' }],
      ];
      for (const [method, route, json] of changes) {
        for (const lang of ['zh', 'en']) {
          const res = await call(`${api}/tasks/${taskId}${route}`, { method, headers: { 'Accept-Language': lang }, ...(json !== undefined ? { json } : {}) });
          assert.equal(res.status, 409, `${method} ${route}: ${res.text}`);
          assert.equal(res.body.success, false);
          assert.equal(res.body.error.code, 'TASK_ALREADY_RUNNING', `${method} ${route}`);
          assert.ok(res.body.error.details.includes(taskId), `the message names the task: ${res.body.error.details}`);
          assert.match(res.body.error.details, lang === 'en' ? /already running/ : /已在执行/);
        }
      }
      // Reading is not a change: list, stats and preview still answer.
      assert.equal((await call(`${api}/tasks/${taskId}/pairs`)).status, 200);
      assert.equal((await call(`${api}/tasks/${taskId}/pairs/stats`)).status, 200);
      assert.equal((await call(`${api}/tasks/${taskId}/pairs/${target.pair_id}/preview`, { method: 'POST' })).status, 200);
      const after = (await call(`${api}/tasks/${taskId}/pairs?status=kept&limit=1000`)).body.data;
      assert.deepEqual(after.counts, before.counts, 'nothing changed');
      assert.equal(after.pairs.find((p: { pair_id: string }) => p.pair_id === target.pair_id).question, target.question);
    } finally {
      release();
      loadGate = Promise.resolve();
    }
    assert.equal((await waitForStepRun(api, taskId, 'training_load', previous)).step_status, 'completed');
  });
});
