// The embedded demo database opens on first use and closes after its idle period (issue 15, "a light
// start"), proven by what the server says and does, not by timing: after start /health reports it closed;
// a request and a real task on it open it; once DATA_PIPELINE_EMBEDDED_DB_IDLE_SECONDS have passed with no
// user it is closed again (the PGlite instance is gone from the process); a task that holds it across
// the idle period keeps reading it and completes. Store: the local PostgreSQL; demo: PGlite in a temp dir.
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { seedDemoDatabase } from '../../demo/highway-db.ts';
import type { PipelineStep, StepContext } from '../../src/pipeline/context.ts';
import { defaultSteps } from '../../src/pipeline/registry.ts';
import { connect } from '../../src/postgres/connect.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, makeTempDir, startTestServer, waitFor, waitForStatus, type TestServer } from '../helpers/server.ts';

const IDLE_SECONDS = 1;
/** How long the holding step keeps the demo open: well past the idle period. */
const HOLD_MS = IDLE_SECONDS * 1000 * 3;

/** A step that reads the demo database, holds it across the idle period, and reads it again. */
const holdingStep: PipelineStep = {
  name: 'qa_generation',
  async run(ctx: StepContext) {
    const db = await ctx.businessDatabase();
    const before = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM bss_company');
    fs.writeFileSync(path.join(ctx.workspaceDir, 'holding'), 'open\n');
    const until = Date.now() + HOLD_MS;
    while (Date.now() < until) {
      await ctx.checkpoint();
      await new Promise((r) => setTimeout(r, 100));
    }
    const later = await db.pool.query<{ n: number }>('SELECT count(*)::int AS n FROM bss_company');
    fs.writeFileSync(path.join(ctx.workspaceDir, 'held.json'), JSON.stringify({ before: before.rows[0]!.n, after: later.rows[0]!.n }));
    return { summary: 'held the demo database' };
  },
};

describe('the embedded demo database is opened lazily and closed when idle', () => {
  let store: TestDatabase;
  let server: TestServer;
  let demoUrl: string;

  const health = async () => {
    const { status, body } = await call(`${server.baseUrl}/api/v0/health`);
    assert.equal(status, 200);
    return body.data.business_database as { kind: string; open: boolean; users: number };
  };
  const closedAgain = () => waitFor(async () => (await health()).open === false, 15_000, 100);

  const createTask = async (name: string) => {
    const created = await call(`${server.api}/tasks`, { method: 'POST', json: { task_name: name, db_name: 'highway_db' } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    const taskId: string = created.body.data.task_id;
    const listed = await call(`${server.api}/tasks/${taskId}/table-list`, { method: 'POST', json: { tables: ['bss_company', 'bss_service_area'] } });
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    return taskId;
  };

  before(async () => {
    store = await createTestDatabase('dp_lazy');
    const dir = makeTempDir('dp-demo-lazy-');
    demoUrl = `pglite://${path.join(dir, 'highway_db')}`;
    // Seeded beforehand with a short history (the server would seed a full year on first use).
    const demo = await connect(demoUrl);
    try {
      await seedDemoDatabase(demo.pool, { days: 7 });
    } finally {
      await demo.close();
    }
    const registry = defaultSteps().register(holdingStep);
    server = await startTestServer({
      storeUrl: store.url,
      dir,
      registry,
      env: { DATA_PIPELINE_DB_URL: demoUrl, DATA_PIPELINE_EMBEDDED_DB_IDLE_SECONDS: String(IDLE_SECONDS) },
    });
  });

  after(async () => {
    await server?.close();
    await store?.drop();
  });

  test('after start the demo database is not open', async () => {
    assert.deepEqual(await health(), { kind: 'pglite', open: false, users: 0 });
  });

  test('a request on the demo database opens it; it closes after the idle period', async () => {
    const tables = await call(`${server.baseUrl}/api/v0/database/tables`, { method: 'POST', json: {} });
    assert.equal(tables.status, 200, JSON.stringify(tables.body));
    assert.ok(JSON.stringify(tables.body.data).includes('bss_company'));
    const state = await health();
    assert.equal(state.open, true, 'kept open for its idle period after the request');
    assert.equal(state.users, 0, 'the request is done with it');
    await closedAgain();
  });

  test('a task on the demo database opens it; it closes after the idle period', async () => {
    const taskId = await createTask('lazy demo: ddl');
    const run = await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: 'ddl_generation' } });
    assert.equal(run.status, 202, JSON.stringify(run.body));
    const task = await waitForStatus(server.api, taskId, ['partial_completed', 'completed', 'failed'], 60_000);
    assert.notEqual(task.status, 'failed', JSON.stringify(task.steps));
    const ddl = fs.readdirSync(server.app.service.taskDir(taskId)).filter((f) => f.endsWith('.ddl'));
    assert.deepEqual(ddl.sort(), ['bss_company.ddl', 'bss_service_area.ddl'], 'the step read the demo database');
    await closedAgain();
  });

  test('a task holding the demo database across the idle period is not broken, and it closes afterwards', async () => {
    const taskId = await createTask('lazy demo: hold');
    const run = await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: 'qa_generation' } });
    assert.equal(run.status, 202, JSON.stringify(run.body));
    const dir = server.app.service.taskDir(taskId);
    await waitFor(async () => fs.existsSync(path.join(dir, 'holding')), 30_000, 50);
    // Twice the idle period later the step still holds it: open, one user.
    await new Promise((r) => setTimeout(r, IDLE_SECONDS * 1000 * 2));
    assert.deepEqual(await health(), { kind: 'pglite', open: true, users: 1 });
    const task = await waitForStatus(server.api, taskId, ['partial_completed', 'completed', 'failed'], 60_000);
    assert.notEqual(task.status, 'failed', JSON.stringify(task.steps));
    const held = JSON.parse(fs.readFileSync(path.join(dir, 'held.json'), 'utf8'));
    assert.ok(held.before > 0);
    assert.equal(held.after, held.before, 'the second read, after the idle period, answered');
    await closedAgain();
  });
});
