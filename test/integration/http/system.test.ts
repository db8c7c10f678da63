// The HTTP API end to end: health, the OpenAPI document, unknown routes,
// the API key, Accept-Language. A real listening server over a store database of this file's
// own (test/helpers/http-api.ts); every happy path with the guide's field names, every invalid input.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { STEP_PARAMETER_NAMES } from '../../../src/pipeline/parameters.ts';
import { makeTempDir, startTestServer } from '../../helpers/server.ts';
import type { TestServer } from '../../helpers/server.ts';
import { noServerErrors, useApiServer, db, server, api, extraServers, req, expectOk, expectError } from '../../helpers/http-api.ts';

useApiServer();

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

noServerErrors();
