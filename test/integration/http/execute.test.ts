// The HTTP API end to end: POST /tasks/{id}/execute (§3.2), cancel,
// DELETE /tasks/{id} and POST /tasks/delete. A real listening server over a store database of this file's
// own (test/helpers/http-api.ts); every happy path with the guide's field names, every invalid input.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { waitForStatus } from '../../helpers/server.ts';
import { noServerErrors, useApiServer, STEPS, LOCAL_ISO_RE, TERMINAL, stepOptions, server, api, req, expectOk, expectError, createTask, createReadyTask, status, execute, runToEnd, completions, startSlowRun, stopRun } from '../../helpers/http-api.ts';

useApiServer();

// ------------------------------------------------------------------------------- POST /tasks/{id}/execute

describe('POST /tasks/{id}/execute (guide §3.2)', () => {
  it('complete mode: 202 with the guide fields, then completed with every step completed', async () => {
    const id = await createReadyTask();
    const res = await req(`${api}/tasks/${id}/execute`, { method: 'POST', json: { execution_mode: 'complete', backup_vector_tables: false, truncate_vector_tables: false } });
    const data = expectOk(res, 202, '任务执行已启动');
    assert.equal(data.task_id, id);
    assert.equal(data.execution_mode, 'complete');
    assert.equal(data.step_name, null);
    assert.equal(data.message, '任务正在后台执行，请通过状态接口查询进度');
    const done = await waitForStatus(api, id, TERMINAL);
    assert.equal(done.status, 'completed', JSON.stringify(done));
    assert.deepEqual(done.step_status, { ddl_generation: 'completed', qa_generation: 'completed', sql_validation: 'completed', training_load: 'completed' });
    assert.match(done.started_at, LOCAL_ISO_RE);
    assert.match(done.completed_at, LOCAL_ISO_RE);
    assert.equal(done.current_step, null);
    for (const step of done.steps) {
      assert.equal(step.step_status, 'completed');
      assert.match(step.started_at, LOCAL_ISO_RE);
      assert.match(step.completed_at, LOCAL_ISO_RE);
      assert.equal(step.error_message, null);
    }
    assert.deepEqual(await completions(id), [...STEPS]);
  });

  it('an empty body means complete mode', async () => {
    const id = await createReadyTask();
    const res = await req(`${api}/tasks/${id}/execute`, { method: 'POST' });
    assert.equal(expectOk(res, 202).execution_mode, 'complete');
    assert.equal((await waitForStatus(api, id, TERMINAL)).status, 'completed');
  });

  it('step mode on a fresh task: step_name echoed, partial_completed with only that step completed', async () => {
    const id = await createReadyTask();
    const data = await execute(id, { execution_mode: 'step', step_name: 'ddl_generation' });
    assert.equal(data.execution_mode, 'step');
    assert.equal(data.step_name, 'ddl_generation');
    const done = await waitForStatus(api, id, TERMINAL);
    assert.equal(done.status, 'partial_completed');
    assert.deepEqual(done.step_status, { ddl_generation: 'completed', qa_generation: 'pending', sql_validation: 'pending', training_load: 'pending' });
    assert.deepEqual(await completions(id), ['ddl_generation']);
  });

  it('complete mode skips the steps switched off at creation', async () => {
    const id = await createReadyTask({ enable_sql_validation: false, enable_training_data_load: false });
    const done = await runToEnd(id);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.step_status, { ddl_generation: 'completed', qa_generation: 'completed', sql_validation: 'skipped', training_load: 'skipped' });
    assert.deepEqual(await completions(id), ['ddl_generation', 'qa_generation']);
  });

  it('truncate_vector_tables at execute implies backup_vector_tables in the status', async () => {
    const id = await createReadyTask();
    assert.equal((await status(id)).parameters.backup_vector_tables, false);
    await execute(id, { execution_mode: 'complete', truncate_vector_tables: true });
    const done = await waitForStatus(api, id, TERMINAL);
    assert.equal(done.parameters.truncate_vector_tables, true);
    assert.equal(done.parameters.backup_vector_tables, true);
  });

  it('refuses step mode without step_name (MISSING_STEP_NAME)', async () => {
    const id = await createReadyTask();
    for (const body of [{ execution_mode: 'step' }, { execution_mode: 'step', step_name: null }]) {
      const error = expectError(await req(`${api}/tasks/${id}/execute`, { method: 'POST', json: body }), 400, 'MISSING_STEP_NAME', { param: 'step_name' });
      assert.deepEqual(error.missing_params, ['step_name']);
    }
    assert.equal((await status(id)).status, 'pending', 'a refused execute must not start a run');
  });

  it('refuses an invalid step name (INVALID_STEP_NAME)', async () => {
    const id = await createReadyTask();
    for (const stepName of ['bogus_step', 'DDL_GENERATION', 5]) {
      expectError(await req(`${api}/tasks/${id}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: stepName } }), 400, 'INVALID_STEP_NAME', {
        param: 'step_name',
      });
    }
  });

  it('refuses an invalid execution mode (INVALID_EXECUTION_MODE)', async () => {
    const id = await createReadyTask();
    for (const mode of ['fast', '', 1, null]) {
      expectError(await req(`${api}/tasks/${id}/execute`, { method: 'POST', json: { execution_mode: mode } }), 400, 'INVALID_EXECUTION_MODE', {
        param: 'execution_mode',
      });
    }
  });

  it('refuses wrong flag types, unknown parameters and bad JSON', async () => {
    const id = await createReadyTask();
    expectError(await req(`${api}/tasks/${id}/execute`, { method: 'POST', json: { backup_vector_tables: 'true' } }), 400, 'VALIDATION_ERROR', { param: 'backup_vector_tables' });
    expectError(await req(`${api}/tasks/${id}/execute`, { method: 'POST', json: { truncate_vector_tables: 'yes' } }), 400, 'VALIDATION_ERROR', { param: 'truncate_vector_tables' });
    expectError(await req(`${api}/tasks/${id}/execute`, { method: 'POST', json: { mode: 'complete' } }), 400, 'VALIDATION_ERROR', { param: 'mode' });
    expectError(await req(`${api}/tasks/${id}/execute`, { method: 'POST', json: ['complete'] }), 400, 'VALIDATION_ERROR', { param: 'body' });
    expectError(await req(`${api}/tasks/${id}/execute`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{"execution_mode":' }), 400, 'VALIDATION_ERROR', {
      mention: /JSON/,
    });
    assert.equal((await status(id)).status, 'pending');
  });

  it('answers 404 for an unknown task and 400 for an invalid id', async () => {
    expectError(await req(`${api}/tasks/task_19990101_000000/execute`, { method: 'POST', json: {} }), 404, 'TASK_NOT_FOUND', { mention: 'task_19990101_000000' });
    expectError(await req(`${api}/tasks/bad.id/execute`, { method: 'POST', json: {} }), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
  });

  it('refuses to execute without a table list (TABLE_LIST_REQUIRED)', async () => {
    const id = await createTask();
    const error = expectError(await req(`${api}/tasks/${id}/execute`, { method: 'POST', json: { execution_mode: 'complete' } }), 400, 'TABLE_LIST_REQUIRED', {
      mention: '表清单',
    });
    assert.deepEqual(error.missing_params, ['table_list_file']);
    expectError(await req(`${api}/tasks/${id}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: 'ddl_generation' } }), 400, 'TABLE_LIST_REQUIRED');
    assert.equal((await status(id)).status, 'pending');
  });

  it('answers 409 TASK_ALREADY_RUNNING to a second execute while running, also under concurrency', async () => {
    const id = await createReadyTask();
    try {
      await startSlowRun(id);
      expectError(await req(`${api}/tasks/${id}/execute`, { method: 'POST', json: { execution_mode: 'complete' } }), 409, 'TASK_ALREADY_RUNNING', { mention: id });
      expectError(await req(`${api}/tasks/${id}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: 'qa_generation' } }), 409, 'TASK_ALREADY_RUNNING');
    } finally {
      await stopRun(id);
    }
    // Concurrent executes of an idle task: exactly one wins.
    const other = await createReadyTask();
    stepOptions.durationMs = 1000;
    try {
      const results = await Promise.all(Array.from({ length: 4 }, () => req(`${api}/tasks/${other}/execute`, { method: 'POST', json: {} })));
      assert.deepEqual(results.map((r) => r.status).sort(), [202, 409, 409, 409]);
      for (const r of results.filter((x) => x.status === 409)) expectError(r, 409, 'TASK_ALREADY_RUNNING');
    } finally {
      await stopRun(other);
    }
  });
});

// -------------------------------------------------------------------------------------- cancel / delete

describe('POST /tasks/{id}/cancel', () => {
  it('cancels a running task: 200, then cancelled', async () => {
    const id = await createReadyTask();
    try {
      await startSlowRun(id);
      const data = expectOk(await req(`${api}/tasks/${id}/cancel`, { method: 'POST' }), 200);
      assert.equal(data.task_id, id);
      assert.equal(data.cancel_requested, true);
      const done = await waitForStatus(api, id, ['cancelled', 'completed', 'failed']);
      assert.equal(done.status, 'cancelled');
      assert.ok(Object.values(done.step_status).includes('cancelled'), JSON.stringify(done.step_status));
      assert.ok(!Object.values(done.step_status).includes('running'));
    } finally {
      await stopRun(id);
    }
  });

  it('cancels a queued run at once', async () => {
    const blocker = await createReadyTask();
    const queued = await createReadyTask();
    try {
      await startSlowRun(blocker); // the only worker is busy: the next run stays queued
      await execute(queued);
      const data = expectOk(await req(`${api}/tasks/${queued}/cancel`, { method: 'POST' }), 200, '任务已取消');
      assert.equal(data.status, 'cancelled');
      assert.equal(data.cancel_requested, false);
      assert.equal((await status(queued)).status, 'cancelled');
    } finally {
      await stopRun(blocker);
    }
    await new Promise((r) => setTimeout(r, 700)); // the queued job is picked up and must be ignored
    assert.equal((await status(queued)).status, 'cancelled');
    assert.deepEqual(await completions(queued), []);
  });

  it('answers 409 for a task that is not running, 404 for an unknown one', async () => {
    const id = await createReadyTask();
    expectError(await req(`${api}/tasks/${id}/cancel`, { method: 'POST' }), 409, 'TASK_NOT_RUNNING', { mention: id });
    assert.equal((await runToEnd(id)).status, 'completed');
    expectError(await req(`${api}/tasks/${id}/cancel`, { method: 'POST' }), 409, 'TASK_NOT_RUNNING', { mention: 'completed' });
    expectError(await req(`${api}/tasks/task_19990101_000000/cancel`, { method: 'POST' }), 404, 'TASK_NOT_FOUND');
    expectError(await req(`${api}/tasks/bad.id/cancel`, { method: 'POST' }), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
  });
});

describe('DELETE /tasks/{id} and POST /tasks/delete', () => {
  it('deletes a task and its directory: 200, then 404', async () => {
    const id = await createReadyTask();
    const dir = server.app.service.taskDir(id);
    assert.ok(fs.existsSync(dir));
    const data = expectOk(await req(`${api}/tasks/${id}`, { method: 'DELETE' }), 200, '任务删除成功');
    assert.equal(data.task_id, id);
    assert.equal(data.deleted, true);
    assert.ok(!fs.existsSync(dir), 'the task directory is gone');
    expectError(await req(`${api}/tasks/${id}`), 404, 'TASK_NOT_FOUND');
    expectError(await req(`${api}/tasks/${id}`, { method: 'DELETE' }), 404, 'TASK_NOT_FOUND');
  });

  it('delete_files=false keeps the directory', async () => {
    const id = await createTask();
    expectOk(await req(`${api}/tasks/${id}?delete_files=false`, { method: 'DELETE' }), 200);
    assert.ok(fs.existsSync(server.app.service.taskDir(id)));
    expectError(await req(`${api}/tasks/${id}`), 404, 'TASK_NOT_FOUND');
    // Not left behind: a task created in the same second would get this id, and this directory, again.
    fs.rmSync(server.app.service.taskDir(id), { recursive: true });
  });

  it('refuses to delete a running task without force (409), deletes it with ?force=true', async () => {
    const id = await createReadyTask();
    const dir = server.app.service.taskDir(id);
    try {
      await startSlowRun(id, 1500);
      expectError(await req(`${api}/tasks/${id}`, { method: 'DELETE' }), 409, 'TASK_ALREADY_RUNNING', { mention: 'force' });
      assert.equal((await status(id)).status, 'in_progress');
      assert.ok(fs.existsSync(dir));
      expectOk(await req(`${api}/tasks/${id}?force=true`, { method: 'DELETE' }), 200);
      expectError(await req(`${api}/tasks/${id}`), 404, 'TASK_NOT_FOUND');
      assert.ok(!fs.existsSync(dir), 'the task directory is gone');
    } finally {
      stepOptions.durationMs = 0;
    }
    // The worker notices that its run is gone (next heartbeat) and stops at the next checkpoint: no later
    // step runs, and the next task's run proceeds. (Waiting first: a task created in the same second
    // could otherwise be given the deleted task's id again.)
    await new Promise((r) => setTimeout(r, 2000));
    assert.deepEqual((await completions(id)).filter((s) => s !== 'ddl_generation'), [], 'the deleted run went on');
    assert.ok(!fs.existsSync(dir), 'the deleted run recreated the task directory');
    const next = await createReadyTask();
    assert.notEqual(next, id);
    assert.equal((await runToEnd(next)).status, 'completed');
    assert.deepEqual(await completions(next), [...STEPS]);
  });

  it('refuses invalid query parameters and ids', async () => {
    const id = await createTask();
    expectError(await req(`${api}/tasks/${id}?force=yes`, { method: 'DELETE' }), 400, 'VALIDATION_ERROR', { param: 'force' });
    expectError(await req(`${api}/tasks/${id}?delete_files=0`, { method: 'DELETE' }), 400, 'VALIDATION_ERROR', { param: 'delete_files' });
    expectError(await req(`${api}/tasks/bad.id`, { method: 'DELETE' }), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
    assert.equal((await status(id)).status, 'pending');
  });

  it('batch delete reports deleted and not_found', async () => {
    const a = await createTask();
    const b = await createTask();
    const missing = 'task_19990101_000000';
    const data = expectOk(await req(`${api}/tasks/delete`, { method: 'POST', json: { task_ids: [a, b, missing, a] } }), 200, '批量删除完成');
    assert.deepEqual([...data.deleted].sort(), [a, b].sort());
    assert.deepEqual(data.not_found, [missing]);
    assert.equal(data.deleted_count, 2);
    assert.deepEqual(data.running, []);
    for (const id of [a, b]) {
      expectError(await req(`${api}/tasks/${id}`), 404, 'TASK_NOT_FOUND');
      assert.ok(!fs.existsSync(server.app.service.taskDir(id)));
    }
    const post = (json: unknown) => req(`${api}/tasks/delete`, { method: 'POST', json });
    expectError(await post({}), 400, 'VALIDATION_ERROR', { param: 'task_ids' });
    expectError(await post({ task_ids: [] }), 400, 'VALIDATION_ERROR', { param: 'task_ids' });
    expectError(await post({ task_ids: 'task_1' }), 400, 'VALIDATION_ERROR', { param: 'task_ids' });
    expectError(await post({ task_ids: ['bad.id'] }), 400, 'INVALID_TASK_ID', { param: 'task_id', mention: 'bad.id' });
    expectError(await post({ task_ids: [a], force: 'yes' }), 400, 'VALIDATION_ERROR', { param: 'force' });
  });
});

noServerErrors();
