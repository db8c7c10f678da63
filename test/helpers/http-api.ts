// Shared by the HTTP API suites (test/integration/http/*.test.ts, guide §3, §4, §5 and api-decisions.md):
// a real server over a real store database of the file's own, with fast test-only steps — the request
// matrix goes through Fastify's inject, raw paths, the event stream and second servers through the
// listening socket (guide-clients.test.ts runs the guide's own clients over HTTP) — and
// the checks every suite makes — the guide's envelope, exact status and error code, a `details` that says
// what is wrong, and no 5xx ever (per request, and once more at the end of each file: noServerErrors()).
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import pg from 'pg';
import { createTestDatabase, type TestDatabase } from './postgres.ts';
import { call, startTestServer, waitFor, waitForStatus, type TestServer } from './server.ts';
import { ensureCompletionTable, fixtureRegistry, type FixtureOptions } from '../fixtures/steps.ts';

export const STEPS = ['ddl_generation', 'qa_generation', 'sql_validation', 'training_load'] as const;
export const TASK_ID_RE = /^task_\d{8}_\d{6}(_\d+)?$/;
export const LOCAL_ISO_RE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/;
export const LOG_TS_RE = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;
export const TERMINAL = ['completed', 'partial_completed', 'failed', 'cancelled'];
export const ERROR_TYPES: Record<number, string> = {
  400: 'ValidationError',
  401: 'AuthenticationError',
  404: 'NotFoundError',
  409: 'ConflictError',
  413: 'PayloadTooLargeError',
  415: 'UnsupportedMediaTypeError',
};
export const ERROR_MESSAGES_ZH: Record<number, string> = {
  400: '请求参数错误',
  401: '未授权',
  404: '资源不存在',
  409: '请求冲突',
  413: '请求内容过大',
  415: '不支持的内容类型',
};

/** Shared by every fixture step: tests make the steps slow (or fast again) by changing it. */
export const stepOptions: FixtureOptions = { durationMs: 0, ticks: 5 };

export let db: TestDatabase;
export let pool: pg.Pool;
export let server: TestServer;
export let api: string;
export const extraServers: TestServer[] = [];
/** Every response seen by this file (fetch and raw), to prove that none was a 5xx. */
export const seen: Array<{ method: string; url: string; status: number }> = [];

export type Res = { status: number; body: any; text: string; headers: Headers | http.IncomingHttpHeaders };

/**
 * A request to the file's server goes through Fastify's inject (the whole request path — parsing,
 * validation, hooks, serializers — without a socket); any other URL (a second server) is fetched over
 * HTTP. raw() and the event stream use the socket too: each file listens, and says so.
 */
export async function req(url: string, init: RequestInit & { json?: unknown } = {}): Promise<Res> {
  const res = url.startsWith(`${server.baseUrl}/`) ? await injected(url.slice(server.baseUrl.length), init) : await call(url, init);
  seen.push({ method: init.method ?? 'GET', url, status: res.status });
  assert.ok(res.status < 500, `${init.method ?? 'GET'} ${url} answered ${res.status}: ${res.text}`);
  return res;
}

/** What fetch would send (its headers, a string body as text/plain, FormData as multipart), injected. */
async function injected(pathAndQuery: string, init: RequestInit & { json?: unknown }): Promise<Res> {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const request = new Request(`http://inject${pathAndQuery.startsWith('/') ? '' : '/'}`, { method: init.method ?? 'GET', headers, body });
  const payload = body === undefined || body === null ? undefined : Buffer.from(await request.arrayBuffer());
  const response = await server.inject({ method: (init.method ?? 'GET') as 'GET', url: pathAndQuery, headers: Object.fromEntries(request.headers), payload });
  let json: any;
  try {
    json = JSON.parse(response.body);
  } catch {
    json = undefined;
  }
  const responseHeaders = new Headers();
  for (const [name, value] of Object.entries(response.headers)) {
    for (const v of Array.isArray(value) ? value : [value]) if (v !== undefined) responseHeaders.append(name, String(v));
  }
  return { status: response.statusCode, body: json, text: response.body, headers: responseHeaders };
}

/** A request sent exactly as written (no URL normalisation at all), for path-traversal attempts. */
export function raw(baseUrl: string, rawPath: string, method = 'GET'): Promise<Res> {
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

export function expectOk(res: Res, status: number, message?: string): any {
  assert.equal(res.status, status, res.text);
  assert.equal(res.body?.success, true, res.text);
  assert.equal(res.body.code, status);
  assert.equal(typeof res.body.message, 'string');
  if (message !== undefined) assert.equal(res.body.message, message);
  assert.ok(res.body.data !== undefined && res.body.data !== null, 'data present');
  return res.body.data;
}

export interface ErrorExpectation {
  /** The parameter at fault: must be in invalid_params or missing_params, and named by `details`. */
  param?: string;
  /** What `details` must contain (default: `param`). */
  mention?: string | RegExp;
  type?: string;
}

export function expectError(res: Res, status: number, code: string, expectation: ErrorExpectation = {}): any {
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

export async function createTask(body: Record<string, unknown> = {}): Promise<string> {
  const data = expectOk(await req(`${api}/tasks`, { method: 'POST', json: body }), 201);
  assert.match(data.task_id, TASK_ID_RE);
  return data.task_id;
}

/** A task with a two-table list, ready to execute. */
export async function createReadyTask(body: Record<string, unknown> = {}): Promise<string> {
  const id = await createTask(body);
  expectOk(await req(`${api}/tasks/${id}/table-list`, { method: 'POST', json: { table_names: ['bss_company', 'bss_car_day_count'] } }), 200);
  return id;
}

export async function status(id: string): Promise<any> {
  return expectOk(await req(`${api}/tasks/${id}`), 200);
}

export async function execute(id: string, body: Record<string, unknown> = { execution_mode: 'complete' }): Promise<any> {
  return expectOk(await req(`${api}/tasks/${id}/execute`, { method: 'POST', json: body }), 202);
}

export async function runToEnd(id: string, body?: Record<string, unknown>): Promise<any> {
  await execute(id, body);
  return waitForStatus(api, id, TERMINAL);
}

export async function completions(id: string): Promise<string[]> {
  const { rows } = await pool.query<{ step_name: string }>(`SELECT step_name FROM test_step_completions WHERE task_id = $1 ORDER BY at`, [id]);
  return rows.map((r) => r.step_name);
}

/** Starts a run whose steps take `ms` each and waits until a worker is executing it. */
export async function startSlowRun(id: string, ms = 2500): Promise<void> {
  stepOptions.durationMs = ms;
  await execute(id);
  await waitFor(async () => (await status(id)).current_step !== null, 10_000, 50);
}

/** Stops a (slow) run if it still goes, and makes steps fast again. */
export async function stopRun(id: string): Promise<void> {
  stepOptions.durationMs = 0;
  const current = await req(`${api}/tasks/${id}`);
  if (current.status === 200 && current.body.data.status === 'in_progress') {
    await req(`${api}/tasks/${id}/cancel`, { method: 'POST' });
    await waitForStatus(api, id, TERMINAL);
  }
}

export function listFilesRecursively(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listFilesRecursively(full));
    else if (entry.isFile()) out.push(full);
  }
  return out;
}

export function multipart(fileName: string | undefined, content: string, field = 'file'): FormData {
  const form = new FormData();
  if (fileName === undefined) form.append(field, content);
  else form.append(field, new Blob([content]), fileName);
  return form;
}

export async function upload(id: string, form: FormData, base = api): Promise<Res> {
  return req(`${base}/tasks/${id}/upload-table-list`, { method: 'POST', body: form });
}

/** The file's server and store database: made before its tests, closed and dropped after them. */
export function useApiServer(): void {
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
}

/**
 * The file's last check: no request it made answered 5xx, and the system log holds no ERROR and exactly
 * `expected5xx` logged 5xx answers (a test may provoke one on purpose, e.g. an unreachable business database).
 */
export function noServerErrors(expected5xx = 0): void {
  describe('no server errors', () => {
    it('no request of this file answered 5xx, and the system log holds no ERROR', async () => {
      assert.ok(seen.length > 10, `only ${seen.length} requests seen`);
      assert.deepEqual(seen.filter((s) => s.status >= 500), []);
      await new Promise((r) => setTimeout(r, 100));
      const appLog = fs.readFileSync(path.join(server.dir, 'logs', 'app.log'), 'utf8');
      assert.deepEqual(appLog.split('\n').filter((l) => /\[(ERROR|CRITICAL)\]/.test(l)), []);
      assert.equal((appLog.match(/ - 5\d\d \(/g) ?? []).length, expected5xx);
    });
  });
}
