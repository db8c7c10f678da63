// sql_validation under the real runner, over HTTP: a task runs ddl_generation → qa_generation →
// sql_validation on the demo database (training_load disabled); the step's status carries pair progress
// and the valid / invalid / repaired / empty counters, the task log has the SQLValidator lines, and the
// task's file list shows the report, the summary and the result file.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { createDemoDatabase } from '../helpers/demo.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, startTestServer, waitForStatus, type TestServer } from '../helpers/server.ts';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import { StepRegistry } from '../../src/pipeline/registry.ts';
import { ddlGenerationStep } from '../../src/pipeline/ddl/index.ts';
import { qaGenerationStep } from '../../src/pipeline/qa/index.ts';
import { sqlValidationStep } from '../../src/pipeline/validate/index.ts';

describe('sql_validation in a task run (HTTP, real runner)', () => {
  let store: TestDatabase;
  let demo: TestDatabase;
  let server: TestServer;

  before(async () => {
    [store, demo] = await Promise.all([createTestDatabase('dp_store'), createDemoDatabase({ days: 30 })]);
    const registry = new StepRegistry().register(ddlGenerationStep).register(qaGenerationStep).register(sqlValidationStep);
    server = await startTestServer({ storeUrl: store.url, registry, env: { DATA_PIPELINE_DB_URL: demo.url } });
  });
  after(async () => {
    await server?.close();
    await Promise.all([store?.drop(), demo?.drop()]);
  });

  it('runs, reports pair progress and counters, logs and lists its files', async () => {
    const api = server.api;
    const created = await call(`${api}/tasks`, {
      method: 'POST',
      json: { task_name: 'validate', db_name: 'highway_db', business_context: '高速公路服务区管理系统', enable_training_data_load: false, modify_original_file: false },
    });
    assert.equal(created.status, 201, created.text);
    const id = created.body.data.task_id as string;
    const list = await call(`${api}/tasks/${id}/table-list`, { method: 'POST', json: { table_names: DEMO_TABLES } });
    assert.equal(list.status, 200, list.text);
    const exec = await call(`${api}/tasks/${id}/execute`, { method: 'POST', json: { execution_mode: 'complete' } });
    assert.equal(exec.status, 202, exec.text);
    const done = await waitForStatus(api, id, ['completed', 'partial_completed', 'failed'], 120_000);
    assert.notEqual(done.status, 'failed', JSON.stringify(done));
    assert.equal(done.step_status.sql_validation, 'completed');

    // Progress in pairs and the four counters, as the status API shows them.
    const task = (await call(`${api}/tasks/${id}`)).body.data;
    const step = (task.steps as Array<{ step_name: string; progress: unknown; counters: Record<string, number> }>).find((s) => s.step_name === 'sql_validation')!;
    const generated = (task.steps as Array<{ step_name: string; counters: Record<string, number> }>).find((s) => s.step_name === 'qa_generation')!.counters.pairs!;
    assert.deepEqual(step.progress, { done: generated, total: generated, unit: 'pairs' });
    // Offline, pairs the semantic linter rejects are dropped (invalid); nothing else fails.
    const c = step.counters;
    assert.equal(c.repaired, 0);
    assert.equal(c.generated, generated);
    assert.equal(c.parsed, generated);
    assert.equal(c.explain_valid, generated);
    assert.equal(c.invalid, generated - c.lint_clean!);
    assert.equal(c.valid! + c.empty!, c.kept);
    assert.equal(c.kept, c.lint_clean);

    const logs = await call(`${api}/tasks/${id}/logs?limit=500`);
    assert.equal(logs.status, 200);
    const lines = (logs.body.data.logs as Array<{ logger: string; message: string }>).filter((l) => l.logger === 'SQLValidator');
    assert.ok(lines.some((l) => l.message.startsWith('开始SQL验证')), JSON.stringify(lines));
    assert.ok(lines.some((l) => l.message.startsWith('SQL验证完成')));

    const files = await call(`${api}/tasks/${id}/files`);
    const names = JSON.stringify(files.body.data);
    assert.match(names, /sql_validation_\d{8}_\d{6}_report\.json/);
    assert.match(names, /sql_validation_\d{8}_\d{6}_summary\.txt/);
    assert.match(names, /sql_validation_result\.json/);
    assert.match(names, /_pair_validated\.json/);
  });
});
