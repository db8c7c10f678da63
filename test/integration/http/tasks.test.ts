// The HTTP API end to end: POST /tasks (§3.1), GET /tasks/{id} (§3.3),
// GET /tasks (§3.4), POST /tasks/query (§3.5). A real listening server over a store database of this file's
// own (test/helpers/http-api.ts); every happy path with the guide's field names, every invalid input.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { call } from '../../helpers/server.ts';
import { noServerErrors, useApiServer, STEPS, TASK_ID_RE, LOCAL_ISO_RE, server, api, req, raw, expectOk, expectError, createTask, createReadyTask, status, runToEnd, listFilesRecursively } from '../../helpers/http-api.ts';

useApiServer();

// ------------------------------------------------------------------------------------------- POST /tasks

describe('POST /tasks (guide §3.1)', () => {
  it('creates a task: 201 with task_id, task_name, status pending, created_at', async () => {
    const res = await req(`${api}/tasks`, {
      method: 'POST',
      json: { task_name: '高速公路数据处理', business_context: '高速公路服务区管理系统', db_name: 'highway_db', enable_sql_validation: true, backup_vector_tables: false },
    });
    const data = expectOk(res, 201, '任务创建成功');
    assert.match(data.task_id, TASK_ID_RE);
    assert.equal(data.task_name, '高速公路数据处理');
    assert.equal(data.status, 'pending');
    assert.match(data.created_at, LOCAL_ISO_RE);
    // The id carries the creation time (server local time).
    assert.equal(data.task_id.slice(5, 20), data.created_at.slice(0, 19).replace(/[-:]/g, '').replace('T', '_'));
    assert.ok(fs.statSync(server.app.service.taskDir(data.task_id)).isDirectory(), 'task directory created');
  });

  it('reads table_list_file from the input folder and saves the table list', async () => {
    fs.writeFileSync(path.join(server.dir, 'tables.txt'), '# highway\nbss_company\nbss_car_day_count\nbss_company\n');
    for (const given of ['tables.txt', path.join(server.dir, 'tables.txt')]) {
      const data = expectOk(await req(`${api}/tasks`, { method: 'POST', json: { table_list_file: given } }), 201);
      assert.equal(data.has_table_list, true);
      assert.equal(data.table_count, 2);
      const info = expectOk(await req(`${api}/tasks/${data.task_id}/table-list-info`), 200);
      assert.equal(info.has_table_list, true);
      assert.deepEqual(info.tables, ['bss_company', 'bss_car_day_count']);
      const saved = fs.readFileSync(path.join(server.app.service.taskDir(data.task_id), 'table_list.txt'), 'utf8');
      assert.match(saved, /bss_company/);
      assert.match(saved, /bss_car_day_count/);
    }
  });

  it('refuses a table_list_file outside the input folder or missing (400, no task created)', async () => {
    const before = expectOk(await req(`${api}/tasks?limit=1`), 200).total;
    fs.writeFileSync(path.join(path.dirname(server.dir), `outside-${path.basename(server.dir)}.txt`), 'bss_company\n');
    for (const given of ['../x.txt', `../outside-${path.basename(server.dir)}.txt`, '/etc/passwd', 'missing.txt', 'sub/../../x.txt']) {
      const res = await req(`${api}/tasks`, { method: 'POST', json: { table_list_file: given } });
      const error = expectError(res, 400, 'VALIDATION_ERROR', { param: 'table_list_file', mention: given });
      assert.deepEqual(error.invalid_params, ['table_list_file']);
    }
    const after = expectOk(await req(`${api}/tasks?limit=1`), 200).total;
    assert.equal(after, before, 'a refused creation must not create a task');
  });

  it('refuses wrong types and unknown parameters, naming them', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ enable_sql_validation: 'yes' }, 'enable_sql_validation'],
      [{ task_name: 5 }, 'task_name'],
      [{ truncate_vector_tables: 1 }, 'truncate_vector_tables'],
      [{ db_name: '' }, 'db_name'],
      [{ table_list_file: 42 }, 'table_list_file'],
      [{ bogus_param: true }, 'bogus_param'],
    ];
    for (const [body, param] of cases) {
      const error = expectError(await req(`${api}/tasks`, { method: 'POST', json: body }), 400, 'VALIDATION_ERROR', { param });
      assert.deepEqual(error.invalid_params, [param]);
    }
  });

  it('refuses bad JSON, and bodies that are not a JSON object', async () => {
    const headers = { 'Content-Type': 'application/json' };
    expectError(await req(`${api}/tasks`, { method: 'POST', headers, body: '{bad' }), 400, 'VALIDATION_ERROR', { mention: /JSON/ });
    for (const body of ['[]', '[{"task_name":"x"}]', '"a string"', '42', 'null', 'true']) {
      expectError(await req(`${api}/tasks`, { method: 'POST', headers, body }), 400, 'VALIDATION_ERROR', { param: 'body', mention: /body/ });
    }
  });

  it('accepts an empty body (with or without a JSON content type)', async () => {
    const a = expectOk(await req(`${api}/tasks`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '' }), 201);
    assert.equal(a.status, 'pending');
    assert.equal(a.task_name, null);
    const b = expectOk(await req(`${api}/tasks`, { method: 'POST' }), 201);
    assert.notEqual(a.task_id, b.task_id);
  });

  it('refuses a body that is not JSON: text is not an object (400), other types are 415', async () => {
    const text = await req(`${api}/tasks`, { method: 'POST', headers: { 'Content-Type': 'text/plain' }, body: 'task_name=x' });
    expectError(text, 400, 'VALIDATION_ERROR', { param: 'body' });
    for (const type of ['application/xml', 'application/x-www-form-urlencoded']) {
      const res = await req(`${api}/tasks`, { method: 'POST', headers: { 'Content-Type': type }, body: 'task_name=x' });
      expectError(res, 415, 'UNSUPPORTED_MEDIA_TYPE', { mention: /Unsupported Media Type|不支持/ });
    }
  });

  it('refuses a db_connection that is not PostgreSQL', async () => {
    for (const url of ['mysql://user:pw@host:3306/db', 'sqlite:///tmp/x.db', 'not a url']) {
      const error = expectError(await req(`${api}/tasks`, { method: 'POST', json: { db_connection: url } }), 400, 'VALIDATION_ERROR', {
        param: 'db_connection',
        mention: /postgresql:\/\//,
      });
      assert.deepEqual(error.invalid_params, ['db_connection']);
    }
  });

  it('gives unique ids to tasks created in the same second', async () => {
    const ids = await Promise.all(Array.from({ length: 5 }, (_, i) => createTask({ task_name: `burst ${i}` })));
    assert.equal(new Set(ids).size, 5, `ids not unique: ${ids.join(', ')}`);
    for (const id of ids) assert.match(id, TASK_ID_RE);
    // At least two share a second, so the _N suffix was exercised (5 creations take well under a second).
    const bases = new Set(ids.map((id) => id.replace(/_\d+$/, '').slice(0, 20)));
    assert.ok(bases.size < 5, `expected same-second ids, got ${ids.join(', ')}`);
  });
});

// --------------------------------------------------------------------------------------- GET /tasks/{id}

describe('GET /tasks/{id} (guide §3.3)', () => {
  it('returns the guide fields of a fresh task', async () => {
    const id = await createTask({ task_name: 'status fields', business_context: 'ctx', enable_llm_repair: false });
    const res = await req(`${api}/tasks/${id}`);
    const data = expectOk(res, 200, '获取任务状态成功');
    assert.equal(data.task_id, id);
    assert.equal(data.task_name, 'status fields');
    assert.equal(data.status, 'pending');
    assert.deepEqual(data.step_status, { ddl_generation: 'pending', qa_generation: 'pending', sql_validation: 'pending', training_load: 'pending' });
    assert.match(data.created_at, LOCAL_ISO_RE);
    assert.equal(data.started_at, null);
    assert.equal(data.completed_at, null);
    assert.equal(data.current_step, null);
    assert.equal(data.total_steps, 4);
    assert.equal(data.parameters.business_context, 'ctx');
    assert.equal(data.parameters.enable_sql_validation, true);
    assert.equal(data.parameters.enable_llm_repair, false);
    assert.equal(data.parameters.backup_vector_tables, false);
    assert.equal(data.parameters.truncate_vector_tables, false);
    assert.ok(Array.isArray(data.steps));
    assert.deepEqual(data.steps.map((s: any) => s.step_name), [...STEPS]);
    for (const step of data.steps) {
      for (const key of ['step_name', 'step_status', 'started_at', 'completed_at', 'error_message']) assert.ok(key in step, `steps[].${key}`);
      assert.equal(step.step_status, 'pending');
    }
  });

  it('masks db_connection everywhere: response, task files, task log, system log', async () => {
    const created = await req(`${api}/tasks`, { method: 'POST', json: { db_connection: 'postgresql://user:secret@host:5432/db', task_name: 'masked' } });
    assert.ok(!created.text.includes('secret'));
    const id = expectOk(created, 201).task_id;
    expectOk(await req(`${api}/tasks/${id}/table-list`, { method: 'POST', json: { table_names: ['bss_company'] } }), 200);
    // The pre-flight of a run that generates DDL cannot reach this database: the guide's
    // DATABASE_CONNECTION_ERROR (500), with the URL masked. (Not through req: this 500 is the contract.)
    const preflight = await call(`${api}/tasks/${id}/execute`, { method: 'POST', json: { execution_mode: 'complete' } });
    assert.equal(preflight.status, 500, preflight.text);
    assert.equal(preflight.body.error.code, 'DATABASE_CONNECTION_ERROR');
    assert.match(preflight.body.error.details, /postgresql:\/\/user:\*\*\*@host:5432\/db/);
    assert.ok(!preflight.text.includes('secret'), 'the pre-flight error leaks the password');
    assert.equal(expectOk(await req(`${api}/tasks/${id}`), 200).status, 'pending', 'nothing was queued');
    // Steps that do not read the catalog run without a pre-flight.
    const done = await runToEnd(id, { execution_mode: 'step', step_name: 'qa_generation' });
    assert.equal(done.status, 'partial_completed');

    const res = await req(`${api}/tasks/${id}`);
    const data = expectOk(res, 200);
    assert.equal(data.parameters.db_connection, 'postgresql://user:***@host:5432/db');
    assert.equal(data.db_name, 'db');
    assert.ok(!res.text.includes('secret'), 'status response leaks the password');
    for (const url of [`${api}/tasks?limit=1000`, `${api}/tasks/${id}/logs?limit=10000`, `${api}/tasks/${id}/files`]) {
      assert.ok(!(await req(url)).text.includes('secret'), `${url} leaks the password`);
    }
    const query = await req(`${api}/tasks/query`, { method: 'POST', json: { task_name: 'masked' } });
    assert.ok(!query.text.includes('secret'));

    const files = listFilesRecursively(server.app.service.taskDir(id));
    assert.ok(files.some((f) => f.endsWith('data_pipeline.log')) && files.some((f) => f.endsWith('task_config.json')), files.join(', '));
    for (const file of files) assert.ok(!fs.readFileSync(file, 'utf8').includes('secret'), `${file} leaks the password`);
    const config = JSON.parse(fs.readFileSync(path.join(server.app.service.taskDir(id), 'task_config.json'), 'utf8'));
    assert.equal(config.db_connection, 'postgresql://user:***@host:5432/db');
    // The downloads serve the same bytes.
    for (const file of expectOk(await req(`${api}/tasks/${id}/files`), 200).files) {
      const download = await req(`${server.baseUrl}${file.download_url}`);
      assert.equal(download.status, 200);
      assert.ok(!download.text.includes('secret'), `${file.file_name} download leaks the password`);
    }
    await new Promise((r) => setTimeout(r, 100)); // the system log is a write stream
    const appLog = fs.readFileSync(path.join(server.dir, 'logs', 'app.log'), 'utf8');
    assert.ok(appLog.includes(`/tasks/${id}`), 'app.log records the requests');
    assert.ok(!appLog.includes('secret'), 'app.log leaks the password');
  });

  it('answers 404 TASK_NOT_FOUND for an unknown id', async () => {
    expectError(await req(`${api}/tasks/task_19990101_000000`), 404, 'TASK_NOT_FOUND', { mention: 'task_19990101_000000' });
  });

  it('answers 400 for an invalid id, before touching disk or store', async () => {
    const long = 'a'.repeat(65);
    for (const bad of ['bad.id', long, 'a%20b', '%E4%BB%BB%E5%8A%A1']) {
      expectError(await req(`${api}/tasks/${bad}`), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
    }
    for (const bad of ['%2e%2e', '..%2f..%2fetc', '%2E%2E']) {
      expectError(await raw(server.baseUrl, `/api/v0/data_pipeline/tasks/${bad}`), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
    }
    // The id is checked first, before the body.
    expectError(await req(`${api}/tasks/bad.id/execute`, { method: 'POST', json: { execution_mode: 'bogus' } }), 400, 'VALIDATION_ERROR', { param: 'task_id' });
    // 64 characters is still a valid id: unknown, hence 404.
    expectError(await req(`${api}/tasks/${'a'.repeat(64)}`), 404, 'TASK_NOT_FOUND');
  });
});

// ------------------------------------------------------------------------------------------- GET /tasks

describe('GET /tasks (guide §3.4)', () => {
  before(async () => {
    // What the filters below look for, made here: this file's store holds its own tasks only.
    for (let i = 0; i < 3; i += 1) await runToEnd(await createReadyTask());
    await runToEnd(await createReadyTask(), { execution_mode: 'step', step_name: 'ddl_generation' });
    await createTask();
  });

  it('lists tasks with total, limit, offset and the guide fields', async () => {
    const data = expectOk(await req(`${api}/tasks?limit=3&offset=0`), 200, '获取任务列表成功');
    assert.equal(data.limit, 3);
    assert.equal(data.offset, 0);
    assert.ok(data.total > 3, `total ${data.total}`);
    assert.equal(data.tasks.length, 3);
    for (const item of data.tasks) {
      for (const key of ['task_id', 'task_name', 'status', 'step_status', 'created_at', 'started_at', 'completed_at', 'created_by', 'db_name', 'business_context', 'directory_exists', 'updated_at']) {
        assert.ok(key in item, `tasks[].${key}`);
      }
      assert.match(item.task_id, TASK_ID_RE);
      assert.equal(item.directory_exists, true);
      assert.match(item.updated_at, LOCAL_ISO_RE);
      assert.deepEqual(Object.keys(item.step_status), [...STEPS]);
    }
    // Newest first; offset pages on.
    const next = expectOk(await req(`${api}/tasks?limit=3&offset=3`), 200);
    assert.equal(next.offset, 3);
    const firstIds = new Set(data.tasks.map((t: any) => t.task_id));
    for (const t of next.tasks) assert.ok(!firstIds.has(t.task_id), 'pages overlap');
    const all = expectOk(await req(`${api}/tasks?limit=1000`), 200);
    assert.equal(all.tasks.length, all.total);
    assert.deepEqual(all.tasks.slice(0, 6).map((t: any) => t.task_id), [...data.tasks, ...next.tasks].map((t: any) => t.task_id));
  });

  it('defaults to limit 50, offset 0', async () => {
    const data = expectOk(await req(`${api}/tasks`), 200);
    assert.equal(data.limit, 50);
    assert.equal(data.offset, 0);
  });

  it('filters by status', async () => {
    const completed = expectOk(await req(`${api}/tasks?status=completed&limit=1000`), 200);
    assert.ok(completed.total >= 3);
    assert.equal(completed.tasks.length, completed.total);
    for (const t of completed.tasks) assert.equal(t.status, 'completed');
    const pending = expectOk(await req(`${api}/tasks?status=pending&limit=1000`), 200);
    assert.ok(pending.total >= 1);
    for (const t of pending.tasks) assert.equal(t.status, 'pending');
    const partial = expectOk(await req(`${api}/tasks?status=partial_completed`), 200);
    assert.ok(partial.total >= 1);
  });

  it('refuses invalid limit, offset and status', async () => {
    for (const limit of ['0', 'abc', '-1', '100000', '1.5', '']) {
      expectError(await req(`${api}/tasks?limit=${limit}`), 400, 'VALIDATION_ERROR', { param: 'limit' });
    }
    for (const offset of ['-1', 'x', '2.5']) {
      expectError(await req(`${api}/tasks?offset=${offset}`), 400, 'VALIDATION_ERROR', { param: 'offset' });
    }
    for (const s of ['done', 'COMPLETED', 'running']) {
      expectError(await req(`${api}/tasks?status=${s}`), 400, 'VALIDATION_ERROR', { param: 'status' });
    }
  });
});

// ------------------------------------------------------------------------------------- POST /tasks/query

describe('POST /tasks/query (guide §3.5)', () => {
  const marker = `Mk${Date.now().toString(36)}`;
  const ids: string[] = [];
  let createdAt = '';

  before(async () => {
    for (let i = 0; i < 3; i += 1) {
      ids.push(await createTask({ task_name: `Highway ${marker} ${i}`, created_by: i === 0 ? `alice_${marker}` : `bob_${marker}`, db_name: i === 2 ? `other_${marker}` : `hw_${marker}` }));
    }
    createdAt = (await status(ids[0]!)).created_at;
  });

  it('pages with the guide pagination fields', async () => {
    const p1 = expectOk(await req(`${api}/tasks/query`, { method: 'POST', json: { task_name: marker, page: 1, page_size: 2 } }), 200, '任务查询成功');
    assert.deepEqual(p1.pagination, { page: 1, page_size: 2, total: 3, total_pages: 2, has_next: true, has_prev: false });
    assert.equal(p1.tasks.length, 2);
    assert.match(p1.query_time, /^\d+\.\d{3}s$/);
    for (const key of ['task_id', 'task_name', 'status', 'step_status', 'created_at', 'directory_exists', 'updated_at']) assert.ok(key in p1.tasks[0], key);
    const p2 = expectOk(await req(`${api}/tasks/query`, { method: 'POST', json: { task_name: marker, page: 2, page_size: 2 } }), 200);
    assert.deepEqual(p2.pagination, { page: 2, page_size: 2, total: 3, total_pages: 2, has_next: false, has_prev: true });
    assert.deepEqual([...p1.tasks, ...p2.tasks].map((t: any) => t.task_id).sort(), [...ids].sort());
  });

  it('defaults to page 1 of 20 (empty body)', async () => {
    const data = expectOk(await req(`${api}/tasks/query`, { method: 'POST' }), 200);
    assert.equal(data.pagination.page, 1);
    assert.equal(data.pagination.page_size, 20);
    assert.ok(data.pagination.total > 3);
  });

  it('task_name is a case-insensitive substring; LIKE wildcards are literal', async () => {
    const lower = expectOk(await req(`${api}/tasks/query`, { method: 'POST', json: { task_name: `way ${marker.toLowerCase()}` } }), 200);
    assert.equal(lower.pagination.total, 3);
    const upper = expectOk(await req(`${api}/tasks/query`, { method: 'POST', json: { task_name: `HIGHWAY ${marker.toUpperCase()} 1` } }), 200);
    assert.deepEqual(upper.tasks.map((t: any) => t.task_id), [ids[1]]);
    const wildcard = expectOk(await req(`${api}/tasks/query`, { method: 'POST', json: { task_name: `${marker}%` } }), 200);
    assert.equal(wildcard.pagination.total, 0);
  });

  it('created_by and db_name match exactly; status filters', async () => {
    const byAlice = expectOk(await req(`${api}/tasks/query`, { method: 'POST', json: { created_by: `alice_${marker}` } }), 200);
    assert.deepEqual(byAlice.tasks.map((t: any) => t.task_id), [ids[0]]);
    assert.equal(byAlice.tasks[0].created_by, `alice_${marker}`);
    const partial = expectOk(await req(`${api}/tasks/query`, { method: 'POST', json: { created_by: `alice` } }), 200);
    assert.ok(!partial.tasks.some((t: any) => ids.includes(t.task_id)), 'created_by is not fuzzy');
    const byDb = expectOk(await req(`${api}/tasks/query`, { method: 'POST', json: { db_name: `hw_${marker}` } }), 200);
    assert.deepEqual(byDb.tasks.map((t: any) => t.task_id).sort(), [ids[0], ids[1]].sort());
    const combined = expectOk(await req(`${api}/tasks/query`, { method: 'POST', json: { db_name: `hw_${marker}`, created_by: `bob_${marker}`, status: 'pending' } }), 200);
    assert.deepEqual(combined.tasks.map((t: any) => t.task_id), [ids[1]]);
    const none = expectOk(await req(`${api}/tasks/query`, { method: 'POST', json: { task_name: marker, status: 'completed' } }), 200);
    assert.equal(none.pagination.total, 0);
    assert.deepEqual(none.pagination, { page: 1, page_size: 20, total: 0, total_pages: 0, has_next: false, has_prev: false });
  });

  it('filters by creation time: with T, with a space, date only (end = end of that day)', async () => {
    const day = createdAt.slice(0, 10);
    const next = new Date(`${day}T12:00:00`);
    next.setDate(next.getDate() + 1);
    const nextDay = `${next.getFullYear()}-${String(next.getMonth() + 1).padStart(2, '0')}-${String(next.getDate()).padStart(2, '0')}`;
    const q = async (range: Record<string, string>) =>
      expectOk(await req(`${api}/tasks/query`, { method: 'POST', json: { task_name: marker, ...range } }), 200).pagination.total as number;
    assert.equal(await q({ created_time_start: `${day}T00:00:00`, created_time_end: `${day}T23:59:59` }), 3);
    assert.equal(await q({ created_time_start: `${day} 00:00:00`, created_time_end: `${day} 23:59:59` }), 3);
    assert.equal(await q({ created_time_start: day, created_time_end: day }), 3, 'a date-only end bound is the end of that day');
    assert.equal(await q({ created_time_end: createdAt }), await q({ created_time_end: `${createdAt}.999` }));
    assert.ok((await q({ created_time_end: createdAt })) >= 1, 'the end second is inclusive');
    assert.equal(await q({ created_time_start: nextDay }), 0);
    assert.equal(await q({ created_time_end: '2000-01-01' }), 0);
    assert.equal(await q({ created_time_start: '2000-01-01T00:00' }), 3);
    // created_at keeps microseconds: a task created in the last microsecond of the end second is inside it.
    await server.app.storeDb.pool.query(
      `UPDATE data_pipeline.tasks SET created_at = date_trunc('second', created_at) + interval '999999 microseconds' WHERE task_id = $1`,
      [ids[0]],
    );
    const inSecond = await req(`${api}/tasks/query`, { method: 'POST', json: { task_name: marker, created_time_start: createdAt, created_time_end: createdAt } });
    assert.ok(expectOk(inSecond, 200).tasks.some((t: any) => t.task_id === ids[0]), 'the end second is inclusive to the microsecond');
  });

  it('refuses invalid page, page_size, dates, status and unknown fields', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ page: 0 }, 'page'],
      [{ page: -1 }, 'page'],
      [{ page: '1' }, 'page'],
      [{ page: 1.5 }, 'page'],
      [{ page_size: 'x' }, 'page_size'],
      [{ page_size: 0 }, 'page_size'],
      [{ page_size: 100000 }, 'page_size'],
      [{ created_time_start: '2025-13-45' }, 'created_time_start'],
      [{ created_time_end: '2025-13-45' }, 'created_time_end'],
      [{ created_time_start: '2025-02-30' }, 'created_time_start'],
      [{ created_time_start: '2025-06-01T25:00:00' }, 'created_time_start'],
      [{ created_time_start: '2025-06-01T10:61:00' }, 'created_time_start'],
      [{ created_time_start: 'yesterday' }, 'created_time_start'],
      [{ status: 'done' }, 'status'],
      [{ task_name: 5 }, 'task_name'],
      [{ sort: 'asc' }, 'sort'],
    ];
    for (const [body, param] of cases) {
      expectError(await req(`${api}/tasks/query`, { method: 'POST', json: body }), 400, 'VALIDATION_ERROR', { param });
    }
    expectError(await req(`${api}/tasks/query`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{bad' }), 400, 'VALIDATION_ERROR', { mention: /JSON/ });
  });
});

noServerErrors(1);
