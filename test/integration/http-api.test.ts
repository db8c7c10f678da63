// The HTTP API end to end (guide §3, §4, §5 and api-decisions.md): a real listening server over a real
// PostgreSQL store, with fast test-only steps. Every route's happy path with the guide's field names, and
// every invalid input: exact status, envelope (`code` = HTTP status), error code/type, and a `details` that
// says what is wrong. No request may ever answer 5xx (checked per request and once more at the end).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import net from 'node:net';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { STEP_PARAMETER_NAMES } from '../../src/pipeline/parameters.ts';
import { call, makeTempDir, startTestServer, waitFor, waitForStatus, type TestServer } from '../helpers/server.ts';
import { activeEventStreams } from '../../src/http/events.ts';
import { ensureCompletionTable, fixtureRegistry, type FixtureOptions } from '../fixtures/steps.ts';

// ------------------------------------------------------------------------------------------------ setup

const STEPS = ['ddl_generation', 'qa_generation', 'sql_validation', 'training_load'] as const;
const TASK_ID_RE = /^task_\d{8}_\d{6}(_\d+)?$/;
const LOCAL_ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
const LOG_TS_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
const TERMINAL = ['completed', 'partial_completed', 'failed', 'cancelled'];
const ERROR_TYPES: Record<number, string> = {
  400: 'ValidationError',
  401: 'AuthenticationError',
  404: 'NotFoundError',
  409: 'ConflictError',
  413: 'PayloadTooLargeError',
  415: 'UnsupportedMediaTypeError',
};
const ERROR_MESSAGES_ZH: Record<number, string> = {
  400: '请求参数错误',
  401: '未授权',
  404: '资源不存在',
  409: '请求冲突',
  413: '请求内容过大',
  415: '不支持的内容类型',
};

/** Shared by every fixture step: tests make the steps slow (or fast again) by changing it. */
const stepOptions: FixtureOptions = { durationMs: 0, ticks: 5 };

let db: TestDatabase;
let pool: pg.Pool;
let server: TestServer;
let api: string;
const extraServers: TestServer[] = [];
/** Every response seen by this file (fetch and raw), to prove that none was a 5xx. */
const seen: Array<{ method: string; url: string; status: number }> = [];

type Res = { status: number; body: any; text: string; headers: Headers | http.IncomingHttpHeaders };

async function req(url: string, init: RequestInit & { json?: unknown } = {}): Promise<Res> {
  const res = await call(url, init);
  seen.push({ method: init.method ?? 'GET', url, status: res.status });
  assert.ok(res.status < 500, `${init.method ?? 'GET'} ${url} answered ${res.status}: ${res.text}`);
  return res;
}

/** A request sent exactly as written (no URL normalisation at all), for path-traversal attempts. */
function raw(baseUrl: string, rawPath: string, method = 'GET'): Promise<Res> {
  const { hostname, port } = new URL(baseUrl);
  return new Promise((resolve, reject) => {
    const request = http.request({ host: hostname, port: Number(port), path: rawPath, method }, (response) => {
      const chunks: Buffer[] = [];
      response.on('data', (c: Buffer) => chunks.push(c));
      response.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        let body: any;
        try {
          body = JSON.parse(text);
        } catch {
          body = undefined;
        }
        const status = response.statusCode ?? 0;
        seen.push({ method, url: rawPath, status });
        resolve({ status, body, text, headers: response.headers });
      });
    });
    request.on('error', reject);
    request.end();
  });
}

function expectOk(res: Res, status: number, message?: string): any {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body?.success, true, res.text);
  assert.equal(res.body.code, status);
  assert.equal(typeof res.body.message, 'string');
  if (message !== undefined) assert.equal(res.body.message, message);
  assert.ok(res.body.data !== undefined && res.body.data !== null, 'data present');
  return res.body.data;
}

interface ErrorExpectation {
  /** The parameter at fault: must be in invalid_params or missing_params, and named by `details`. */
  param?: string;
  /** What `details` must contain (default: `param`). */
  mention?: string | RegExp;
  type?: string;
}

function expectError(res: Res, status: number, code: string, expectation: ErrorExpectation = {}): any {
  assert.equal(res.status, status, res.text);
  assert.ok(res.body, `JSON body expected, got: ${res.text.slice(0, 200)}`);
  assert.equal(res.body.success, false);
  assert.equal(res.body.code, status);
  if (ERROR_MESSAGES_ZH[status]) assert.equal(res.body.message, ERROR_MESSAGES_ZH[status]);
  const error = res.body.error;
  assert.equal(error.code, code, res.text);
  assert.equal(error.type, expectation.type ?? ERROR_TYPES[status], res.text);
  assert.equal(typeof error.details, 'string');
  assert.ok(error.details.length > 0, 'details must not be empty');
  assert.match(error.timestamp, LOCAL_ISO_RE);
  if (expectation.param) {
    const named = [...(error.invalid_params ?? []), ...(error.missing_params ?? [])];
    assert.ok(named.includes(expectation.param), `${expectation.param} not in ${JSON.stringify(named)}`);
  }
  const mention = expectation.mention ?? expectation.param;
  if (typeof mention === 'string') assert.ok(error.details.includes(mention), `details ${JSON.stringify(error.details)} should mention ${mention}`);
  else if (mention) assert.match(error.details, mention);
  return error;
}

async function createTask(body: Record<string, unknown> = {}): Promise<string> {
  const data = expectOk(await req(`${api}/tasks`, { method: 'POST', json: body }), 201);
  assert.match(data.task_id, TASK_ID_RE);
  return data.task_id;
}

/** A task with a two-table list, ready to execute. */
async function createReadyTask(body: Record<string, unknown> = {}): Promise<string> {
  const id = await createTask(body);
  expectOk(await req(`${api}/tasks/${id}/table-list`, { method: 'POST', json: { table_names: ['bss_company', 'bss_car_day_count'] } }), 200);
  return id;
}

async function status(id: string): Promise<any> {
  return expectOk(await req(`${api}/tasks/${id}`), 200);
}

async function execute(id: string, body: Record<string, unknown> = { execution_mode: 'complete' }): Promise<any> {
  return expectOk(await req(`${api}/tasks/${id}/execute`, { method: 'POST', json: body }), 202);
}

async function runToEnd(id: string, body?: Record<string, unknown>): Promise<any> {
  await execute(id, body);
  return waitForStatus(api, id, TERMINAL);
}

async function completions(id: string): Promise<string[]> {
  const { rows } = await pool.query<{ step_name: string }>(`SELECT step_name FROM test_step_completions WHERE task_id = $1 ORDER BY at`, [id]);
  return rows.map((r) => r.step_name);
}

/** Starts a run whose steps take `ms` each and waits until a worker is executing it. */
async function startSlowRun(id: string, ms = 2500): Promise<void> {
  stepOptions.durationMs = ms;
  await execute(id);
  await waitFor(async () => (await status(id)).current_step !== null, 10_000, 50);
}

/** Stops a (slow) run if it still goes, and makes steps fast again. */
async function stopRun(id: string): Promise<void> {
  stepOptions.durationMs = 0;
  const current = await req(`${api}/tasks/${id}`);
  if (current.status === 200 && current.body.data.status === 'in_progress') {
    await req(`${api}/tasks/${id}/cancel`, { method: 'POST' });
    await waitForStatus(api, id, TERMINAL);
  }
}

function listFilesRecursively(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFilesRecursively(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

function multipart(fileName: string | undefined, content: string, field = 'file'): FormData {
  const form = new FormData();
  if (fileName === undefined) form.append(field, content);
  else form.append(field, new Blob([content]), fileName);
  return form;
}

async function upload(id: string, form: FormData, base = api): Promise<Res> {
  return req(`${base}/tasks/${id}/upload-table-list`, { method: 'POST', body: form });
}

before(async () => {
  db = await createTestDatabase('dp_http');
  pool = new pg.Pool({ connectionString: db.url, max: 2 });
  await ensureCompletionTable(pool);
  server = await startTestServer({ storeUrl: db.url, registry: fixtureRegistry(pool, stepOptions) });
  api = server.api;
});

after(async () => {
  stepOptions.durationMs = 0;
  for (const extra of extraServers) await extra.close().catch(() => undefined);
  await server?.close();
  await pool?.end();
  await db?.drop();
});

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

// ------------------------------------------------------------------------------------------- GET /tasks

describe('GET /tasks (guide §3.4)', () => {
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

// ---------------------------------------------------------------------- upload-table-list / table-list-info

describe('POST /tasks/{id}/upload-table-list (guide §4.3) and GET /tasks/{id}/table-list-info (§4.4)', () => {
  it('table-list-info before any list: has_table_list false', async () => {
    const id = await createTask();
    const info = expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200, '获取表清单信息成功');
    assert.equal(info.task_id, id);
    assert.equal(info.has_table_list, false);
    assert.equal(info.table_count, 0);
    assert.deepEqual(info.tables, []);
  });

  it('uploads a .txt list (comments, duplicates, BOM, commas) and reports it', async () => {
    const id = await createTask();
    const content = '\uFEFF# 高速公路表\nbss_business_day_data\n-- comment line\nbss_car_day_count, bss_company\nbss_company\n\npublic.bss_service_area # trailing comment\n';
    const res = await upload(id, multipart('tables.txt', content));
    const data = expectOk(res, 200, '表清单文件上传成功');
    assert.equal(data.task_id, id);
    assert.equal(data.file_name, 'table_list.txt');
    assert.equal(data.table_count, 4);
    assert.deepEqual(data.tables, ['bss_business_day_data', 'bss_car_day_count', 'bss_company', 'public.bss_service_area']);
    const onDisk = path.join(server.app.service.taskDir(id), 'table_list.txt');
    assert.equal(data.file_size, fs.statSync(onDisk).size);
    assert.ok(data.file_path.endsWith(`${id}/table_list.txt`), data.file_path);
    assert.ok(!fs.readFileSync(onDisk, 'utf8').includes('\uFEFF'));

    const info = expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200);
    assert.equal(info.task_id, id);
    assert.equal(info.has_table_list, true);
    assert.equal(info.file_name, 'table_list.txt');
    assert.equal(info.file_size, data.file_size);
    assert.equal(info.file_path, data.file_path);
    assert.equal(info.table_count, 4);
    assert.deepEqual(info.tables, data.tables);
    assert.match(info.uploaded_at, LOCAL_ISO_RE);
    assert.equal((await status(id)).has_table_list, true);

    // A new upload replaces the list.
    expectOk(await upload(id, multipart('TABLES.TXT', 'bss_company\n')), 200);
    assert.deepEqual(expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200).tables, ['bss_company']);
  });

  it('refuses a file that is not .txt (415 UNSUPPORTED_FILE_TYPE)', async () => {
    const id = await createTask();
    for (const name of ['tables.csv', 'tables.txt.exe', 'tables']) {
      const error = expectError(await upload(id, multipart(name, 'bss_company\n')), 415, 'UNSUPPORTED_FILE_TYPE', { param: 'file', mention: name });
      assert.deepEqual(error.invalid_params, ['file']);
    }
    assert.equal(expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200).has_table_list, false);
  });

  it('refuses an empty file or a list without names (400)', async () => {
    const id = await createTask();
    expectError(await upload(id, multipart('tables.txt', '')), 400, 'VALIDATION_ERROR', { param: 'file', mention: /文件为空/ });
    expectError(await upload(id, multipart('tables.txt', '# only a comment\n\n')), 400, 'EMPTY_TABLE_LIST', { param: 'file', mention: /表清单为空/ });
  });

  it('refuses invalid table names in the file (INVALID_TABLE_NAME)', async () => {
    const id = await createTask();
    const error = expectError(await upload(id, multipart('tables.txt', 'bss_company\n1bad_name\nDROP TABLE x;\n')), 400, 'INVALID_TABLE_NAME', {
      param: 'file',
      mention: '1bad_name',
    });
    assert.deepEqual(error.invalid_params, ['file']);
    assert.equal(expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200).has_table_list, false);
  });

  it('refuses a request without the file field, or not multipart (400)', async () => {
    const id = await createTask();
    expectError(await upload(id, multipart('tables.txt', 'bss_company\n', 'upload')), 400, 'VALIDATION_ERROR', { param: 'file' });
    expectError(await upload(id, multipart(undefined, 'bss_company')), 400, 'VALIDATION_ERROR', { param: 'file' });
    expectError(await req(`${api}/tasks/${id}/upload-table-list`, { method: 'POST', json: { file: 'bss_company' } }), 400, 'VALIDATION_ERROR', { param: 'file' });
    expectError(await req(`${api}/tasks/${id}/upload-table-list`, { method: 'POST' }), 400, 'VALIDATION_ERROR', { param: 'file' });
  });

  it('refuses an upload over the limit (413 PAYLOAD_TOO_LARGE)', async () => {
    const id = await createTask();
    const limited = await startTestServer({ storeUrl: db.url, env: { DATA_PIPELINE_MAX_UPLOAD_BYTES: '1024' }, workers: false, dir: makeTempDir() });
    extraServers.push(limited);
    const big = Array.from({ length: 200 }, (_, i) => `table_${i}`).join('\n');
    assert.ok(Buffer.byteLength(big) > 1024);
    expectError(await upload(id, multipart('tables.txt', big), limited.api), 413, 'PAYLOAD_TOO_LARGE', { param: 'file', mention: /上传文件过大.*1(\.0)? KB/ });
    // Within that server's limit it works.
    expectOk(await upload(id, multipart('tables.txt', 'bss_company\n'), limited.api), 200);
    // The default server's limit is 1 MiB.
    const huge = `${'a'.repeat(60)}\n`.repeat(Math.ceil((1024 * 1024 + 10) / 61));
    expectError(await upload(id, multipart('tables.txt', huge)), 413, 'PAYLOAD_TOO_LARGE', { param: 'file', mention: /上传文件过大.*1(\.0)? MB/ });
  });

  it('answers 404 for an unknown task and 400 for an invalid id', async () => {
    expectError(await upload('task_19990101_000000', multipart('tables.txt', 'bss_company\n')), 404, 'TASK_NOT_FOUND');
    expectError(await upload('bad.id', multipart('tables.txt', 'bss_company\n')), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
    expectError(await req(`${api}/tasks/task_19990101_000000/table-list-info`), 404, 'TASK_NOT_FOUND');
    expectError(await req(`${api}/tasks/bad.id/table-list-info`), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
  });

  it('refuses to replace the table list while the task is running (409)', async () => {
    const id = await createReadyTask();
    try {
      await startSlowRun(id);
      expectError(await upload(id, multipart('tables.txt', 'bss_service_area\n')), 409, 'TASK_ALREADY_RUNNING');
      expectError(await req(`${api}/tasks/${id}/table-list`, { method: 'POST', json: { table_names: ['bss_service_area'] } }), 409, 'TASK_ALREADY_RUNNING');
      assert.deepEqual(expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200).tables, ['bss_company', 'bss_car_day_count']);
    } finally {
      await stopRun(id);
    }
  });
});

describe('POST /tasks/{id}/table-list (guide §4.5)', () => {
  it('creates the list from table_names', async () => {
    const id = await createTask();
    const res = await req(`${api}/tasks/${id}/table-list`, {
      method: 'POST',
      json: { table_names: ['bss_business_day_data', 'bss_car_day_count', 'bss_company', 'bss_company'], business_context: '高速公路服务区管理系统' },
    });
    const data = expectOk(res, 200, '表清单创建成功');
    assert.equal(data.task_id, id);
    assert.equal(data.file_name, 'table_list.txt');
    assert.equal(data.table_count, 3);
    assert.deepEqual(data.tables, ['bss_business_day_data', 'bss_car_day_count', 'bss_company']);
    assert.ok(data.file_size > 0);
    assert.ok(data.file_path.endsWith(`${id}/table_list.txt`));
    const task = await status(id);
    assert.equal(task.has_table_list, true);
    assert.equal(task.table_count, 3);
    assert.equal(task.business_context, '高速公路服务区管理系统');
  });

  it('accepts tables as a comma-separated string and as an array', async () => {
    const id = await createTask();
    const a = expectOk(await req(`${api}/tasks/${id}/table-list`, { method: 'POST', json: { tables: 'bss_company, bss_car_day_count,，public.bss_service_area' } }), 200);
    assert.deepEqual(a.tables, ['bss_company', 'bss_car_day_count', 'public.bss_service_area']);
    const b = expectOk(await req(`${api}/tasks/${id}/table-list`, { method: 'POST', json: { tables: ['bss_company'] } }), 200);
    assert.deepEqual(b.tables, ['bss_company']);
    assert.deepEqual(expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200).tables, ['bss_company']);
  });

  it('refuses missing, empty, wrongly typed and invalid names', async () => {
    const id = await createTask();
    const post = (json: unknown) => req(`${api}/tasks/${id}/table-list`, { method: 'POST', json });
    expectError(await post({}), 400, 'VALIDATION_ERROR', { param: 'table_names' });
    expectError(await post({ business_context: 'x' }), 400, 'VALIDATION_ERROR', { param: 'table_names' });
    expectError(await post({ table_names: [] }), 400, 'VALIDATION_ERROR', { param: 'table_names' });
    expectError(await post({ table_names: 'x' }), 400, 'VALIDATION_ERROR', { param: 'table_names' });
    expectError(await post({ table_names: [1, 2] }), 400, 'VALIDATION_ERROR', { mention: 'table_names' });
    expectError(await post({ tables: '' }), 400, 'VALIDATION_ERROR', { mention: 'tables' });
    expectError(await post({ tables: 5 }), 400, 'VALIDATION_ERROR', { mention: 'tables' });
    expectError(await post({ table_names: ['bss_company'], extra: 1 }), 400, 'VALIDATION_ERROR', { param: 'extra' });
    expectError(await post({ table_names: ['   ', ''] }), 400, 'EMPTY_TABLE_LIST', { param: 'table_names', mention: /表清单为空/ });
    expectError(await post({ tables: ' , ,' }), 400, 'EMPTY_TABLE_LIST', { param: 'table_names', mention: /表清单为空/ });
    expectError(await post({ table_names: ['bss_company', 'bad name;'] }), 400, 'INVALID_TABLE_NAME', { param: 'table_names', mention: 'bad name;' });
    expectError(await post({ table_names: ['a.b.c'] }), 400, 'INVALID_TABLE_NAME', { param: 'table_names', mention: 'a.b.c' });
    expectError(await post(['bss_company']), 400, 'VALIDATION_ERROR', { param: 'body' });
    assert.equal(expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200).has_table_list, false);
    expectError(await req(`${api}/tasks/task_19990101_000000/table-list`, { method: 'POST', json: { table_names: ['a'] } }), 404, 'TASK_NOT_FOUND');
  });
});

// ------------------------------------------------------------------------------------------------ files

describe('GET /tasks/{id}/files and /files/{name} (guide §4.1, §4.2)', () => {
  let id = '';
  let dir = '';
  const outsideSecret = `OUTSIDE-CONTENT-${Date.now()}`;

  before(async () => {
    id = await createReadyTask();
    assert.equal((await runToEnd(id)).status, 'completed');
    dir = server.app.service.taskDir(id);
    fs.mkdirSync(path.join(dir, 'vector_bak'));
    fs.writeFileSync(path.join(dir, 'vector_bak', 'x.csv'), 'id,document\n1,hello\n');
    fs.writeFileSync(path.join(dir, 'qs_highway_db_20250627_143052_pair.json'), '[{"question":"q","sql":"SELECT 1"}]');
    const outside = path.join(server.dir, 'outside.txt');
    fs.writeFileSync(outside, outsideSecret);
    fs.symlinkSync(outside, path.join(dir, 'link_out.txt'));
    fs.symlinkSync('/etc/passwd', path.join(dir, 'passwd.txt'));
  });

  it('lists the files with the guide fields and totals', async () => {
    const data = expectOk(await req(`${api}/tasks/${id}/files`), 200, '获取文件列表成功');
    assert.equal(data.task_id, id);
    const names = data.files.map((f: any) => f.file_name);
    for (const expected of ['data_pipeline.log', 'table_list.txt', 'task_config.json', 'vector_bak/x.csv', 'ddl_generation.out']) {
      assert.ok(names.includes(expected), `${expected} missing from ${names.join(', ')}`);
    }
    assert.ok(!names.includes('link_out.txt') && !names.includes('passwd.txt'), 'links pointing outside are not listed');
    assert.equal(names[0], 'qs_highway_db_20250627_143052_pair.json', 'the primary file comes first');
    for (const f of data.files) {
      for (const key of ['file_name', 'file_type', 'file_size', 'file_size_human', 'created_at', 'is_primary', 'description', 'download_url']) assert.ok(key in f, `files[].${key}`);
      assert.equal(f.file_size, fs.statSync(path.join(dir, f.file_name)).size);
      assert.match(f.created_at, LOCAL_ISO_RE);
      assert.equal(typeof f.description, 'string');
      assert.equal(typeof f.file_size_human, 'string');
    }
    const log = data.files.find((f: any) => f.file_name === 'data_pipeline.log');
    assert.equal(log.file_type, 'log');
    assert.equal(log.is_primary, false);
    assert.equal(log.description, '任务执行日志');
    assert.equal(log.download_url, `/api/v0/data_pipeline/tasks/${id}/files/data_pipeline.log`);
    const primary = data.files[0];
    assert.equal(primary.is_primary, true);
    assert.equal(primary.file_type, 'json');
    assert.equal(primary.description, 'Question-SQL训练数据对');
    const csv = data.files.find((f: any) => f.file_name === 'vector_bak/x.csv');
    assert.equal(csv.file_type, 'csv');
    assert.equal(csv.download_url, `/api/v0/data_pipeline/tasks/${id}/files/vector_bak/x.csv`);
    assert.equal(data.total_files, data.files.length);
    assert.equal(data.total_size, data.files.reduce((s: number, f: any) => s + f.file_size, 0));
    assert.equal(typeof data.total_size_human, 'string');
  });

  it('downloads the log and a nested file through their download_url', async () => {
    const data = expectOk(await req(`${api}/tasks/${id}/files`), 200);
    const log = data.files.find((f: any) => f.file_name === 'data_pipeline.log');
    const res = await req(`${server.baseUrl}${log.download_url}`);
    assert.equal(res.status, 200);
    assert.match(String((res.headers as Headers).get('content-type')), /^text\/plain/);
    assert.match(String((res.headers as Headers).get('content-disposition')), /attachment; filename\*=UTF-8''data_pipeline\.log/);
    assert.equal(res.text, fs.readFileSync(path.join(dir, 'data_pipeline.log'), 'utf8'));
    assert.match(res.text, /任务目录日志初始化完成/);
    const csv = data.files.find((f: any) => f.file_name === 'vector_bak/x.csv');
    const nested = await req(`${server.baseUrl}${csv.download_url}`);
    assert.equal(nested.status, 200);
    assert.equal(nested.text, 'id,document\n1,hello\n');
    assert.match(String((nested.headers as Headers).get('content-type')), /^text\/csv/);
  });

  it('answers 404 FILE_NOT_FOUND for a missing file, a directory, and an unknown task', async () => {
    expectError(await req(`${api}/tasks/${id}/files/nope.json`), 404, 'FILE_NOT_FOUND', { mention: 'nope.json' });
    expectError(await req(`${api}/tasks/${id}/files/vector_bak/nope.csv`), 404, 'FILE_NOT_FOUND', { mention: 'vector_bak/nope.csv' });
    expectError(await req(`${api}/tasks/${id}/files/vector_bak`), 404, 'FILE_NOT_FOUND');
    expectError(await req(`${api}/tasks/task_19990101_000000/files/data_pipeline.log`), 404, 'TASK_NOT_FOUND');
    expectError(await req(`${api}/tasks/task_19990101_000000/files`), 404, 'TASK_NOT_FOUND');
    expectError(await req(`${api}/tasks/bad.id/files`), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
  });

  it('never serves anything outside the task directory', async () => {
    const refused = (res: Res, what: string, exactly?: number) => {
      assert.ok(res.status === 400 || res.status === 404, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
      if (exactly) assert.equal(res.status, exactly, `${what}: ${res.text.slice(0, 200)}`);
      assert.ok(!res.text.includes('root:'), `${what} served /etc/passwd`);
      assert.ok(!res.text.includes(outsideSecret), `${what} served a file outside the task directory`);
      assert.equal(res.body?.success, false, `${what}: JSON error envelope expected`);
      assert.equal(res.body.code, res.status);
      if (res.status === 400) assert.equal(res.body.error.code, 'INVALID_PATH', what);
    };
    const prefix = `/api/v0/data_pipeline/tasks/${id}/files/`;
    const attempts = [
      '..%2f..%2fetc%2fpasswd',
      '..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd',
      '%2e%2e/%2e%2e/etc/passwd',
      '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '..%252f..%252fetc%252fpasswd',
      '%252e%252e%252fetc%252fpasswd',
      '%2fetc%2fpasswd',
      '%2Fetc%2Fpasswd',
      '..%5c..%5cetc%5cpasswd',
      'vector_bak/..%2f..%2f..%2f..%2fetc%2fpasswd',
      `..%2f..%2f..%2f${encodeURIComponent(path.basename(server.dir))}%2foutside.txt`,
      'link_out.txt',
      'passwd.txt',
      'data_pipeline.log%00.txt',
    ];
    for (const attempt of attempts) {
      refused(await req(`${server.baseUrl}${prefix}${attempt}`), `fetch ${attempt}`);
      // Sent as is, the attempt reaches the download route, which must see through it.
      refused(await raw(server.baseUrl, `${prefix}${attempt}`), `raw ${attempt}`, 400);
    }
    // Raw `..` segments, sent without any client-side normalisation.
    for (const attempt of ['../../../../../../etc/passwd', '../../outside.txt', 'vector_bak/../../../../etc/passwd', './../../etc/passwd', '//etc/passwd']) {
      refused(await raw(server.baseUrl, `${prefix}${attempt}`), `raw ${attempt}`, 400);
    }
    // The same file stays reachable the legitimate way.
    assert.equal((await req(`${server.baseUrl}${prefix}vector_bak/x.csv`)).status, 200);
  });
});

// ------------------------------------------------------------------------------------------------- logs

describe('GET /tasks/{id}/logs (guide §5.1) and POST /tasks/{id}/logs/query (§5.2)', () => {
  let id = '';
  let logFile = '';
  const crafted = [
    '2020-01-01 10:00:00 [ERROR] SQLValidator: SQL验证失败，尝试LLM修复 needle-alpha',
    '2020-01-01 10:00:05 [WARNING] QAGenerator: 主题生成较慢 needle-beta',
    'second line of the warning',
    '2020-01-01 10:00:10 [INFO] DDLMDGenerator: 开始处理表: bss_company needle-gamma',
    '2020-01-02 09:00:00 [CRITICAL] TrainingDataLoader: needle-delta',
  ];

  before(async () => {
    id = await createReadyTask();
    assert.equal((await runToEnd(id)).status, 'completed');
    logFile = path.join(server.app.service.taskDir(id), 'data_pipeline.log');
    fs.appendFileSync(logFile, `${crafted.join('\n')}\n`);
  });

  it('returns the last entries with the guide fields', async () => {
    const data = expectOk(await req(`${api}/tasks/${id}/logs`), 200, '获取任务日志成功');
    assert.equal(data.task_id, id);
    assert.equal(data.source, 'file');
    assert.equal(data.log_file, logFile);
    assert.ok(data.total >= 10, `total ${data.total}`);
    assert.equal(data.logs.length, data.total);
    for (const entry of data.logs) {
      assert.deepEqual(Object.keys(entry).sort(), ['level', 'logger', 'message', 'timestamp']);
      assert.match(entry.timestamp, LOG_TS_RE);
    }
    assert.ok(data.logs.some((e: any) => e.logger === 'SchemaWorkflowOrchestrator'));
    assert.deepEqual(data.logs.at(-1), { timestamp: '2020-01-02 09:00:00', level: 'CRITICAL', logger: 'TrainingDataLoader', message: 'needle-delta' });
  });

  it('limit takes the last N entries; level filters', async () => {
    const two = expectOk(await req(`${api}/tasks/${id}/logs?limit=2`), 200);
    assert.equal(two.total, 2);
    assert.deepEqual(two.logs.map((e: any) => e.message), ['开始处理表: bss_company needle-gamma', 'needle-delta']);
    const errors = expectOk(await req(`${api}/tasks/${id}/logs?level=ERROR`), 200);
    assert.deepEqual(errors.logs.map((e: any) => e.message), ['SQL验证失败，尝试LLM修复 needle-alpha']);
    const warnings = expectOk(await req(`${api}/tasks/${id}/logs?level=warn&limit=5`), 200);
    assert.equal(warnings.total, 1);
    assert.equal(warnings.logs[0].level, 'WARNING');
    assert.equal(warnings.logs[0].message, '主题生成较慢 needle-beta\nsecond line of the warning');
    const info = expectOk(await req(`${api}/tasks/${id}/logs?level=INFO&limit=1000`), 200);
    assert.ok(info.total >= 8);
    for (const e of info.logs) assert.equal(e.level, 'INFO');
  });

  it('refuses invalid limit and unknown level; 404 for an unknown task', async () => {
    for (const limit of ['0', 'abc', '-5', '100001', '']) {
      expectError(await req(`${api}/tasks/${id}/logs?limit=${limit}`), 400, 'VALIDATION_ERROR', { param: 'limit' });
    }
    for (const level of ['LOUD', 'verbose', '']) {
      expectError(await req(`${api}/tasks/${id}/logs?level=${level}`), 400, 'VALIDATION_ERROR', { param: 'level' });
    }
    expectError(await req(`${api}/tasks/task_19990101_000000/logs`), 404, 'TASK_NOT_FOUND');
    expectError(await req(`${api}/tasks/bad.id/logs`), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
  });

  const query = (body: unknown) => req(`${api}/tasks/${id}/logs/query`, { method: 'POST', json: body });

  it('answers with the guide fields: logs with step and line_number, pagination, log_file_info, query_time', async () => {
    const data = expectOk(await query({}), 200, '高级日志查询成功');
    assert.equal(data.task_id, id);
    assert.deepEqual(Object.keys(data.pagination).sort(), ['has_next', 'has_prev', 'page', 'page_size', 'total', 'total_pages']);
    assert.equal(data.pagination.page, 1);
    assert.equal(data.pagination.page_size, 50);
    const lines = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => /^\d{4}-\d{2}-\d{2} /.test(l));
    assert.equal(data.pagination.total, lines.length);
    assert.equal(data.log_file_info.exists, true);
    assert.equal(data.log_file_info.file_path, logFile);
    assert.equal(data.log_file_info.file_size, fs.statSync(logFile).size);
    assert.match(data.log_file_info.last_modified, LOCAL_ISO_RE);
    assert.match(data.query_time, /^\d+\.\d{3}s$/);
    for (const entry of data.logs) {
      assert.equal(typeof entry.line_number, 'number');
      assert.match(entry.timestamp, LOG_TS_RE);
      for (const key of ['level', 'logger', 'message']) assert.equal(typeof entry[key], 'string');
    }
    // Default order: newest first.
    const stamps = data.logs.map((e: any) => e.timestamp);
    assert.deepEqual(stamps, [...stamps].sort().reverse());
    const qa = data.logs.find((e: any) => e.logger === 'QAGenerator' && !e.message.includes('needle'));
    assert.equal(qa.step, 'qa_generation');
  });

  it('filters by level, keyword, logger_name and step_name', async () => {
    const errors = expectOk(await query({ level: 'error' }), 200);
    assert.equal(errors.pagination.total, 1);
    assert.deepEqual(errors.logs[0], {
      timestamp: '2020-01-01 10:00:00',
      level: 'ERROR',
      logger: 'SQLValidator',
      step: 'sql_validation',
      message: 'SQL验证失败，尝试LLM修复 needle-alpha',
      line_number: fs.readFileSync(logFile, 'utf8').split('\n').indexOf(crafted[0]!) + 1,
    });
    const keyword = expectOk(await query({ keyword: 'NEEDLE-BETA' }), 200);
    assert.equal(keyword.pagination.total, 1);
    assert.equal(keyword.logs[0].message, '主题生成较慢 needle-beta\nsecond line of the warning');
    const continuation = expectOk(await query({ keyword: 'second line of' }), 200);
    assert.equal(continuation.pagination.total, 1);
    const chinese = expectOk(await query({ keyword: 'SQL验证' }), 200);
    assert.equal(chinese.pagination.total, 1);
    const logger = expectOk(await query({ logger_name: 'sqlvalid', page_size: 1000 }), 200);
    assert.ok(logger.pagination.total >= 3, `${logger.pagination.total}`);
    for (const e of logger.logs) assert.equal(e.logger, 'SQLValidator');
    const step = expectOk(await query({ step_name: 'qa_generation', page_size: 1000 }), 200);
    assert.ok(step.pagination.total >= 3);
    for (const e of step.logs) assert.equal(e.step, 'qa_generation');
    assert.ok(step.logs.some((e: any) => e.message.includes('needle-beta')));
    const none = expectOk(await query({ keyword: 'no-such-text-anywhere' }), 200);
    assert.deepEqual(none.pagination, { page: 1, page_size: 50, total: 0, total_pages: 0, has_next: false, has_prev: false });
    assert.deepEqual(none.logs, []);
  });

  it('filters by time range (with T, with a space, date only)', async () => {
    const total = async (range: Record<string, string>) => expectOk(await query(range), 200).pagination.total as number;
    assert.equal(await total({ start_time: '2020-01-01T10:00:00', end_time: '2020-01-01T10:00:05' }), 2);
    assert.equal(await total({ start_time: '2020-01-01 10:00:01', end_time: '2020-01-01 10:00:10' }), 2);
    assert.equal(await total({ start_time: '2020-01-01', end_time: '2020-01-01' }), 3, 'a date-only end is the end of that day');
    assert.equal(await total({ start_time: '2020-01-01', end_time: '2020-01-02' }), 4);
    assert.equal(await total({ end_time: '2020-01-31' }), 4);
    const all = await total({});
    assert.equal(await total({ start_time: '2020-02-01' }), all - 4);
  });

  it('sorts and pages', async () => {
    const asc = expectOk(await query({ sort_by: 'timestamp', sort_order: 'asc', page_size: 3 }), 200);
    assert.equal(asc.logs[0].message, 'SQL验证失败，尝试LLM修复 needle-alpha');
    assert.deepEqual(asc.logs.map((e: any) => e.timestamp), ['2020-01-01 10:00:00', '2020-01-01 10:00:05', '2020-01-01 10:00:10']);
    const byLevel = expectOk(await query({ sort_by: 'level', sort_order: 'desc', page_size: 2 }), 200);
    assert.deepEqual(byLevel.logs.map((e: any) => e.level), ['CRITICAL', 'ERROR']);
    const byLine = expectOk(await query({ sort_by: 'line_number', sort_order: 'asc', page_size: 1000 }), 200);
    const numbers = byLine.logs.map((e: any) => e.line_number);
    assert.deepEqual(numbers, [...numbers].sort((a: number, b: number) => a - b));
    assert.equal(numbers[0], 1);
    const byLogger = expectOk(await query({ sort_by: 'logger', sort_order: 'asc', page_size: 1000 }), 200);
    const loggers = byLogger.logs.map((e: any) => e.logger);
    assert.deepEqual(loggers, [...loggers].sort());

    const p1 = expectOk(await query({ sort_by: 'line_number', sort_order: 'asc', page: 1, page_size: 4 }), 200);
    const p2 = expectOk(await query({ sort_by: 'line_number', sort_order: 'asc', page: 2, page_size: 4 }), 200);
    assert.equal(p1.pagination.total, p2.pagination.total);
    assert.equal(p1.pagination.total_pages, Math.ceil(p1.pagination.total / 4));
    assert.equal(p1.pagination.has_next, true);
    assert.equal(p1.pagination.has_prev, false);
    assert.equal(p2.pagination.page, 2);
    assert.equal(p2.pagination.has_prev, true);
    assert.deepEqual([...p1.logs, ...p2.logs].map((e: any) => e.line_number), numbers.slice(0, 8));
    const beyond = expectOk(await query({ page: 999 }), 200);
    assert.deepEqual(beyond.logs, []);
    assert.equal(beyond.pagination.has_next, false);
  });

  it('refuses invalid step_name, sort_by, sort_order, page, level, times and unknown fields', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ step_name: 'bogus' }, 'step_name'],
      [{ sort_by: 'message' }, 'sort_by'],
      [{ sort_order: 'up' }, 'sort_order'],
      [{ page: 0 }, 'page'],
      [{ page: 'x' }, 'page'],
      [{ page_size: 0 }, 'page_size'],
      [{ page_size: 5000 }, 'page_size'],
      [{ level: 'LOUD' }, 'level'],
      [{ start_time: 'yesterday' }, 'start_time'],
      [{ end_time: '2025/06/27' }, 'end_time'],
      [{ start_time: '2025-13-45' }, 'start_time'],
      [{ end_time: '2025-06-27T25:00:00' }, 'end_time'],
      [{ keyword: 5 }, 'keyword'],
      [{ grep: 'x' }, 'grep'],
    ];
    for (const [body, param] of cases) {
      expectError(await query(body), 400, 'VALIDATION_ERROR', { param });
    }
    expectError(await req(`${api}/tasks/${id}/logs/query`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{bad' }), 400, 'VALIDATION_ERROR', { mention: /JSON/ });
    expectError(await req(`${api}/tasks/task_19990101_000000/logs/query`, { method: 'POST', json: {} }), 404, 'TASK_NOT_FOUND');
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

// ------------------------------------------------------------------------------------------------- SSE

describe('GET /tasks/{id}/events (Server-Sent Events)', () => {
  it('streams status, log and end events while a task runs', async () => {
    const id = await createReadyTask();
    const controller = new AbortController();
    const response = await fetch(`${api}/tasks/${id}/events`, { signal: controller.signal });
    seen.push({ method: 'GET', url: `${api}/tasks/${id}/events`, status: response.status });
    assert.equal(response.status, 200);
    assert.match(String(response.headers.get('content-type')), /^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const events: Array<{ event: string; data: any }> = [];
    let buffer = '';
    const readUntilEnd = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let boundary = buffer.indexOf('\n\n');
        while (boundary >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event) events.push({ event, data: data ? JSON.parse(data) : undefined });
          if (event === 'end') return;
          boundary = buffer.indexOf('\n\n');
        }
      }
    })();
    try {
      stepOptions.durationMs = 400;
      await execute(id);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        readUntilEnd,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no end event; got ${events.map((e) => e.event).join(',')}`)), 20_000);
        }),
      ]).finally(() => clearTimeout(timer));
    } finally {
      stepOptions.durationMs = 0;
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }
    const kinds = new Set(events.map((e) => e.event));
    for (const kind of ['status', 'log', 'end']) assert.ok(kinds.has(kind), `no ${kind} event: ${[...kinds].join(',')}`);
    const statuses = events.filter((e) => e.event === 'status').map((e) => e.data.status);
    assert.equal(statuses[0], 'pending');
    assert.ok(statuses.includes('in_progress'));
    assert.equal(statuses.at(-1), 'completed');
    assert.equal(events.filter((e) => e.event === 'status')[0]!.data.task_id, id);
    const logs = events.filter((e) => e.event === 'log').map((e) => e.data);
    assert.ok(logs.some((l) => /开始执行Schema工作流编排/.test(l.message)), JSON.stringify(logs.slice(0, 3)));
    for (const l of logs) assert.match(l.timestamp, LOG_TS_RE);
    assert.deepEqual(events.at(-1), { event: 'end', data: { task_id: id, status: 'completed' } });
  });

  it('log_offset of GET /logs makes the stream continue the log exactly there: nothing lost, nothing twice', async () => {
    const id = await createTask();
    const logger = server.app.service.taskLogger(id);
    logger.write('INFO', 'OffsetTest', 'before the snapshot');
    const snapshot = expectOk(await req(`${api}/tasks/${id}/logs?limit=50`), 200);
    assert.ok(snapshot.logs.some((l: any) => l.message === 'before the snapshot'));
    assert.equal(typeof snapshot.log_offset, 'number');
    logger.write('INFO', 'OffsetTest', 'between the snapshot and the stream');
    const controller = new AbortController();
    const response = await fetch(`${api}/tasks/${id}/events?log_offset=${snapshot.log_offset}`, { signal: controller.signal });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const deadline = Date.now() + 10_000;
    try {
      while (!text.includes('between the snapshot') && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } finally {
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }
    const messages = [...text.matchAll(/^event: log\ndata: (.+)$/gm)].map((m) => JSON.parse(m[1]!).message);
    assert.ok(messages.includes('between the snapshot and the stream'), messages.join(' | '));
    assert.ok(!messages.includes('before the snapshot'), 'a line of the snapshot came again');
    for (const bad of ['-1', 'abc', '1.5']) expectError(await req(`${api}/tasks/${id}/events?log_offset=${bad}`), 400, 'VALIDATION_ERROR', { mention: 'log_offset' });
  });

  it('a client that leaves before the stream starts leaves nothing running on the server', async () => {
    const id = await createTask();
    const { port } = new URL(server.baseUrl);
    // Streams of earlier tests end when their clients' sockets close: wait for that first.
    await waitFor(async () => activeEventStreams() === 0, 5000);
    // Gone while the route still reads the task and the log: its 'close' comes before the stream is set up.
    for (let i = 0; i < 20; i += 1) {
      const socket = net.connect(Number(port), '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.end(`GET /api/v0/data_pipeline/tasks/${id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      socket.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // A stream left behind would keep two intervals (poll and keep-alive) forever.
    assert.equal(activeEventStreams(), 0);
  });

  it('answers 404 before streaming for an unknown task, 400 for an invalid id', async () => {
    expectError(await req(`${api}/tasks/task_19990101_000000/events`), 404, 'TASK_NOT_FOUND');
    expectError(await req(`${api}/tasks/bad.id/events`), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
  });
});

// ------------------------------------------------------------------------------- health, docs, routing

describe('health, OpenAPI document, unknown routes', () => {
  it('GET /api/v0/health answers 200', async () => {
    const data = expectOk(await req(`${server.baseUrl}/api/v0/health`), 200, '服务运行正常');
    assert.equal(data.status, 'ok');
    assert.equal(data.store.reachable, true);
  });

  it('GET /api/docs/json is an OpenAPI document with the guide paths', async () => {
    const res = await req(`${server.baseUrl}/api/docs/json`);
    assert.equal(res.status, 200);
    assert.match(String(res.body.openapi), /^3\./);
    const paths = Object.keys(res.body.paths);
    const base = '/api/v0/data_pipeline/tasks';
    for (const p of [base, `${base}/query`, `${base}/{task_id}`, `${base}/{task_id}/execute`, `${base}/{task_id}/files`, `${base}/{task_id}/upload-table-list`, `${base}/{task_id}/table-list-info`, `${base}/{task_id}/table-list`, `${base}/{task_id}/logs`, `${base}/{task_id}/logs/query`, '/api/v0/health']) {
      assert.ok(paths.includes(p), `${p} missing from ${paths.join(', ')}`);
    }
    assert.ok(paths.some((p) => p.startsWith(`${base}/{task_id}/files/`)), 'download path missing');
    assert.ok(res.body.paths[base].post && res.body.paths[base].get);
    // Every step parameter is in the create body, with its meaning and default (the LLM path's ones too).
    const body = res.body.paths[base].post.requestBody.content['application/json'].schema;
    const props = body.properties ?? body.allOf?.find((s: any) => s.properties)?.properties;
    for (const name of STEP_PARAMETER_NAMES) assert.ok(props?.[name]?.description, `${name} documented in the create body`);
    assert.equal(props.use_llm_cache.default, true);
    assert.equal(props.allow_offline_fallback.default, false);
    assert.match(props.semantic_check.description, /on when an LLM is configured/);
    // Every operation documents what it answers, not only what it takes.
    const undocumented: string[] = [];
    for (const [p, operations] of Object.entries(res.body.paths as Record<string, Record<string, any>>)) {
      if (!p.startsWith('/api/v0/')) continue;
      for (const [method, operation] of Object.entries(operations)) {
        const success = Object.entries(operation.responses ?? {}).find(([status]) => /^2\d\d$/.test(status));
        if (!success || !(success[1] as any).content) undocumented.push(`${method.toUpperCase()} ${p}`);
      }
    }
    assert.deepEqual(undocumented, [], 'routes without a response schema');
    const status = res.body.paths[`${base}/{task_id}`].get.responses['200'].content['application/json'].schema;
    assert.ok(status.properties.data.properties.steps, 'the status data is described field by field');
  });

  it('an unknown route is a 404 JSON envelope', async () => {
    for (const url of [`${server.baseUrl}/nope`, `${api}/nope`, `${api}/tasks/x/y/z`]) {
      expectError(await req(url), 404, 'NOT_FOUND', { mention: new URL(url).pathname });
    }
    expectError(await req(`${api}/tasks`, { method: 'PUT', json: {} }), 404, 'NOT_FOUND', { mention: 'PUT' });
  });
});

// ------------------------------------------------------------------------------------------ auth, language

describe('API key', () => {
  let secured: TestServer;
  before(async () => {
    secured = await startTestServer({ storeUrl: db.url, env: { DATA_PIPELINE_API_KEY: 'k3y' }, workers: false, dir: makeTempDir() });
    extraServers.push(secured);
  });

  it('answers 401 UNAUTHORIZED without or with a wrong bearer token, 200 with the key', async () => {
    for (const headers of [{}, { Authorization: 'Bearer wrong' }, { Authorization: 'k3y' }, { Authorization: 'Basic k3y' }, { Authorization: 'Bearer k3y-and-more' }] as Array<Record<string, string>>) {
      expectError(await req(`${secured.baseUrl}/api/v0/health`, { headers }), 401, 'UNAUTHORIZED', { mention: 'Bearer' });
      expectError(await req(`${secured.api}/tasks`, { headers }), 401, 'UNAUTHORIZED');
      expectError(await req(`${secured.api}/tasks`, { method: 'POST', headers, json: {} }), 401, 'UNAUTHORIZED');
    }
    const ok = { Authorization: 'Bearer k3y' };
    expectOk(await req(`${secured.baseUrl}/api/v0/health`, { headers: ok }), 200);
    expectOk(await req(`${secured.api}/tasks?limit=1`, { headers: ok }), 200);
    expectOk(await req(`${secured.api}/tasks?limit=1`, { headers: { authorization: 'bearer k3y' } }), 200);
    // The key check comes before validation: no hint about the API to a caller without the key.
    expectError(await req(`${secured.api}/tasks/bad.id`), 401, 'UNAUTHORIZED');
    expectError(await req(`${secured.baseUrl}/api/v0/no-such-route`), 401, 'UNAUTHORIZED');
    // Percent-encoded paths reach the same routes, so they need the key too.
    for (const p of ['/api/v%30/data_pipeline/tasks', '/%61pi/v0/data_pipeline/tasks', '/api/v0/data%5Fpipeline/tasks', '/api%2Fv0/data_pipeline/tasks']) {
      const res = await req(`${secured.baseUrl}${p}`);
      assert.ok(res.status === 401 || res.status === 404, `${p}: ${res.status}`);
      assert.notEqual(res.body?.success, true, p);
    }
    // Public: the dashboard's files and the API docs.
    assert.equal((await req(`${secured.baseUrl}/`)).status, 200);
    assert.equal((await req(`${secured.baseUrl}/app.js`)).status, 200);
    assert.equal((await req(`${secured.baseUrl}/api/docs/json`)).status, 200);
  });
});

describe('Accept-Language', () => {
  it('Chinese by default, English on request (message and details)', async () => {
    const zh = expectError(await req(`${api}/tasks`, { method: 'POST', json: { task_name: 5 } }), 400, 'VALIDATION_ERROR', { param: 'task_name' });
    assert.match(zh.details, /[\u4e00-\u9fff]/);
    const enRes = await req(`${api}/tasks`, { method: 'POST', json: { task_name: 5 }, headers: { 'Accept-Language': 'en' } });
    assert.equal(enRes.status, 400);
    assert.equal(enRes.body.message, 'Invalid request parameters');
    assert.match(enRes.body.error.details, /task_name/);
    assert.doesNotMatch(enRes.body.error.details, /[\u4e00-\u9fff]/);

    const created = await req(`${api}/tasks`, { method: 'POST', json: {}, headers: { 'Accept-Language': 'en-US,en;q=0.9' } });
    assert.equal(expectOk(created, 201, 'Task created').status, 'pending');
    assert.equal(expectOk(await req(`${api}/tasks`, { method: 'POST', json: {} }), 201).status, 'pending');

    const notFound = await req(`${api}/tasks/task_19990101_000000`, { headers: { 'Accept-Language': 'en' } });
    assert.equal(notFound.body.message, 'Not found');
    assert.equal(notFound.body.error.details, 'Task not found: task_19990101_000000');
    const zhNotFound = await req(`${api}/tasks/task_19990101_000000`, { headers: { 'Accept-Language': 'zh-CN' } });
    assert.equal(zhNotFound.body.error.details, '任务不存在: task_19990101_000000');
    const step = await req(`${api}/tasks/${created.body.data.task_id}/execute`, { method: 'POST', json: { execution_mode: 'step' }, headers: { 'Accept-Language': 'en' } });
    assert.equal(step.body.error.code, 'MISSING_STEP_NAME');
    assert.equal(step.body.error.details, 'step_name is required when execution_mode is step');
  });
});

// ------------------------------------------------------------------------------------------------ final

describe('no server errors', () => {
  it('no request of this file answered 5xx, and the system log holds no ERROR', async () => {
    assert.ok(seen.length > 200, `only ${seen.length} requests seen`);
    const failures = seen.filter((s) => s.status >= 500);
    assert.deepEqual(failures, []);
    await new Promise((r) => setTimeout(r, 100));
    const appLog = fs.readFileSync(path.join(server.dir, 'logs', 'app.log'), 'utf8');
    // The one expected 5xx: the pre-flight's DATABASE_CONNECTION_ERROR of the masking test.
    const errors = appLog.split('\n').filter((l) => /\[(ERROR|CRITICAL)\]/.test(l));
    assert.deepEqual(errors, []);
    assert.equal((appLog.match(/ - 5\d\d \(/g) ?? []).length, 1);
  });
});
