// The run queue end to end: atomic execute under concurrency, worker death and resume across processes,
// cancel, and the embedded store. Steps are test fixtures registered by the test; the rest is real.
import assert from 'node:assert/strict';
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, makeTempDir, startTestServer, testEnv, waitFor, waitForStatus, type TestServer } from '../helpers/server.ts';
import { ensureCompletionTable, fixtureRegistry } from '../fixtures/steps.ts';
import { connect } from '../../src/postgres/connect.ts';
import { createApp } from '../../src/app.ts';
import { StepRegistry } from '../../src/pipeline/registry.ts';
import { loadSettings } from '../../src/config.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

async function createTaskWithList(server: TestServer, extra: Record<string, unknown> = {}): Promise<string> {
  const created = await call(`${server.api}/tasks`, { method: 'POST', json: { task_name: 'queue test', ...extra } });
  assert.equal(created.status, 201, created.text);
  const taskId = created.body.data.task_id as string;
  const list = await call(`${server.api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: ['bss_company'] } });
  assert.equal(list.status, 200, list.text);
  return taskId;
}

function startWorker(env: Record<string, string>): Promise<ChildProcess> {
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(root, 'test/fixtures/worker.ts')], {
    cwd: root,
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stderr = '';
  child.stderr!.on('data', (chunk) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.stdout!.on('data', (chunk: Buffer) => {
      if (chunk.toString().includes('ready')) resolve(child);
    });
    child.on('exit', (code) => reject(new Error(`worker exited early (${code}): ${stderr}`)));
  });
}

describe('run queue on real PostgreSQL', () => {
  let db: TestDatabase;
  let server: TestServer;

  before(async () => {
    db = await createTestDatabase();
    const storeDb = await connect(db.url);
    await storeDb.pool.query('SELECT 1');
    await storeDb.close();
    server = await startTestServer({ storeUrl: db.url, workers: false });
    await ensureCompletionTable(server.app.storeDb.pool);
  });

  after(async () => {
    await server?.close();
    await db?.drop();
  });

  it('answers 50 concurrent executes of one task with exactly one 202 and 49 × 409', async () => {
    const taskId = await createTaskWithList(server);
    const answers = await Promise.all(
      Array.from({ length: 50 }, () => call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'complete' } })),
    );
    const statuses = answers.map((a) => a.status);
    assert.equal(statuses.filter((s) => s === 202).length, 1, `statuses: ${statuses.join(',')}`);
    assert.equal(statuses.filter((s) => s === 409).length, 49);
    for (const answer of answers.filter((a) => a.status === 409)) assert.equal(answer.body.error.code, 'TASK_ALREADY_RUNNING');
    const { rows } = await server.app.storeDb.pool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE data->>'task_id' = $1`, [taskId]);
    assert.equal(rows[0].n, 1, 'exactly one run is queued');
    // No worker runs in this server: cancel the queued run, which is immediate.
    const cancelled = await call(`${server.api}/tasks/${taskId}/cancel`, { method: 'POST' });
    assert.equal(cancelled.status, 200, cancelled.text);
    assert.equal(cancelled.body.data.status, 'cancelled');
  });

  it('resumes at the first unfinished step when a worker is killed with SIGKILL mid-step, each step completing once', async () => {
    const env = testEnv(server.dir, db.url, { FIXTURE_STEP_MS: '1500' });
    const first = await startWorker(env);
    let second: ChildProcess | undefined;
    try {
      const taskId = await createTaskWithList(server);
      const executed = await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'complete' } });
      assert.equal(executed.status, 202, executed.text);
      await waitFor(async () => {
        const { body } = await call(`${server.api}/tasks/${taskId}`);
        return body.data.step_status.qa_generation === 'running' && body.data.steps[1].progress?.done >= 2;
      });
      first.kill('SIGKILL');
      await new Promise((r) => first.once('exit', r));

      second = await startWorker(env);
      const final = await waitForStatus(server.api, taskId, ['completed', 'failed', 'cancelled'], 60_000);
      assert.equal(final.status, 'completed');
      assert.deepEqual(Object.values(final.step_status), ['completed', 'completed', 'completed', 'completed']);

      const { rows } = await server.app.storeDb.pool.query(
        `SELECT step_name, count(*)::int AS n, array_agg(worker_pid) AS pids FROM test_step_completions WHERE task_id = $1 GROUP BY step_name`,
        [taskId],
      );
      const byStep = Object.fromEntries(rows.map((r) => [r.step_name, r]));
      for (const step of ['ddl_generation', 'qa_generation', 'sql_validation', 'training_load']) {
        assert.equal(byStep[step]?.n, 1, `${step} completed exactly once`);
      }
      assert.deepEqual(byStep.ddl_generation.pids, [first.pid], 'the first step was not run again');
      assert.deepEqual(byStep.qa_generation.pids, [second.pid], 'the interrupted step was resumed by the second worker');

      const runs = await server.app.store.stepRuns(taskId);
      assert.ok(runs.some((r) => r.step_name === 'qa_generation' && r.status === 'abandoned'), 'the killed attempt is recorded in the run history');
      const log = fs.readFileSync(path.join(server.app.service.taskDir(taskId), 'data_pipeline.log'), 'utf8');
      assert.match(log, /失去心跳/);
    } finally {
      first.kill('SIGKILL');
      second?.kill('SIGTERM');
      if (second) await new Promise((r) => second!.once('exit', r));
    }
  });

  it('marks such a run failed instead when the policy says fail', async () => {
    const env = testEnv(server.dir, db.url, { FIXTURE_STEP_MS: '1500', DATA_PIPELINE_STALE_RUN_POLICY: 'fail' });
    const workers = await Promise.all([startWorker(env), startWorker(env)]);
    try {
      const taskId = await createTaskWithList(server);
      await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: 'ddl_generation' } });
      await waitFor(async () => (await call(`${server.api}/tasks/${taskId}`)).body.data.step_status.ddl_generation === 'running');
      const { rows } = await server.app.storeDb.pool.query(`SELECT worker_id FROM data_pipeline.tasks WHERE task_id = $1`, [taskId]);
      const runningPid = Number(String(rows[0].worker_id).split(':')[1]);
      const victim = workers.find((w) => w.pid === runningPid)!;
      assert.ok(victim, `the run is held by one of the two workers (${rows[0].worker_id})`);
      victim.kill('SIGKILL');
      const final = await waitForStatus(server.api, taskId, ['failed', 'completed'], 30_000);
      assert.equal(final.status, 'failed');
      assert.equal(final.error_code, 'WORKER_LOST');
      assert.equal(final.error_message, '执行该任务的 worker 已停止上报', 'in the task language (zh by default), like every step error');
      assert.equal(final.step_status.ddl_generation, 'failed');
    } finally {
      for (const worker of workers) {
        worker.kill('SIGKILL');
        if (worker.exitCode === null && worker.signalCode === null) await new Promise((r) => worker.once('exit', r));
      }
    }
  });

  it('fails a run whose step is not available, with STEP_NOT_AVAILABLE, and cancels the steps after it', async () => {
    // A registry without the steps: what a version that lacks a step does.
    const app = await createApp(loadSettings(testEnv(server.dir, db.url), server.dir), { registry: new StepRegistry() });
    try {
      await app.startWorkers();
      const taskId = await createTaskWithList(server);
      await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'complete' } });
      const done = await waitForStatus(server.api, taskId, ['completed', 'failed']);
      assert.equal(done.status, 'failed');
      assert.equal(done.error_code, 'STEP_NOT_AVAILABLE');
      assert.equal(done.steps[0].error_code, 'STEP_NOT_AVAILABLE');
      assert.deepEqual(Object.values(done.step_status), ['failed', 'cancelled', 'cancelled', 'cancelled']);
    } finally {
      await app.close();
    }
  });
});

describe('run queue in-process', () => {
  let db: TestDatabase;
  let server: TestServer;

  let probe: Awaited<ReturnType<typeof connect>>;

  before(async () => {
    db = await createTestDatabase();
    probe = await connect(db.url);
    await ensureCompletionTable(probe.pool);
    server = await startTestServer({ storeUrl: db.url, registry: fixtureRegistry(probe.pool, { durationMs: 3000, ticks: 30 }) });
  });

  after(async () => {
    await server?.close();
    await probe?.close();
    await db?.drop();
  });

  it('cancel stops a running step at its next checkpoint and leaves no step running', async () => {
    const taskId = await createTaskWithList(server);
    await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'complete' } });
    await waitFor(async () => (await call(`${server.api}/tasks/${taskId}`)).body.data.step_status.ddl_generation === 'running');
    const cancel = await call(`${server.api}/tasks/${taskId}/cancel`, { method: 'POST' });
    assert.equal(cancel.status, 200, cancel.text);
    const final = await waitForStatus(server.api, taskId, ['cancelled', 'completed', 'failed'], 10_000);
    assert.equal(final.status, 'cancelled');
    assert.deepEqual(Object.values(final.step_status), ['cancelled', 'cancelled', 'cancelled', 'cancelled']);
    assert.ok(!fs.existsSync(path.join(server.app.service.taskDir(taskId), 'ddl_generation.out')), 'the cancelled step did not finish');
    // The task can run again after a cancel.
    const again = await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: 'training_load' } });
    assert.equal(again.status, 202, again.text);
    await call(`${server.api}/tasks/${taskId}/cancel`, { method: 'POST' });
    await waitForStatus(server.api, taskId, ['cancelled']);
  });
});

describe('embedded store (PGlite)', () => {
  let server: TestServer;

  before(async () => {
    const dir = makeTempDir();
    const storeUrl = `pglite://${path.join(dir, 'store')}`;
    const probe = await connect(storeUrl);
    await ensureCompletionTable(probe.pool);
    server = await startTestServer({ storeUrl, dir, registry: fixtureRegistry(probe.pool, { durationMs: 100 }) });
    await probe.close();
  });

  after(async () => {
    await server?.close();
  });

  it('runs complete and step modes with the statuses of api-decisions.md', async () => {
    const taskId = await createTaskWithList(server, { enable_training_data_load: false });
    const step = await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: 'ddl_generation' } });
    assert.equal(step.status, 202);
    const partial = await waitForStatus(server.api, taskId, ['partial_completed', 'completed', 'failed']);
    assert.equal(partial.status, 'partial_completed');
    assert.equal(partial.step_status.ddl_generation, 'completed');
    assert.equal(partial.step_status.qa_generation, 'pending');

    const complete = await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'complete' } });
    assert.equal(complete.status, 202);
    const done = await waitForStatus(server.api, taskId, ['completed', 'failed']);
    assert.equal(done.status, 'completed');
    assert.deepEqual(done.step_status, { ddl_generation: 'completed', qa_generation: 'completed', sql_validation: 'completed', training_load: 'skipped' });
    assert.equal(done.steps[0].progress.done, done.steps[0].progress.total);
    assert.equal(done.counters.units, 15, 'three steps ran five units each');

    const runs = await server.app.store.stepRuns(taskId);
    assert.deepEqual(
      runs.map((r) => `${r.step_name}:${r.status}`),
      ['ddl_generation:completed', 'ddl_generation:completed', 'qa_generation:completed', 'sql_validation:completed'],
    );
    assert.ok(runs.every((r) => typeof r.duration_ms === 'number'));
  });
});
