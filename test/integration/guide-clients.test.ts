// The guide's own clients, unchanged, against a real server: the §8.5 JavaScript DataPipelineAPI class and
// the §8.6 Python DataPipelineAPI class (copied verbatim into test/fixtures/guide-clients/) each run the
// guide's workflow — create with table_list_file, execute 'complete', poll, list files, download, logs —
// as a child process. Plus the §9.3 apiRequest error-handling pattern on an unknown task.
// Steps are the test fixtures; the store, queue, runner, HTTP server and files are real.
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import type pg from 'pg';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { makeTempDir, startTestServer, type TestServer } from '../helpers/server.ts';
import { ensureCompletionTable, fixtureRegistry } from '../fixtures/steps.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const clients = path.join(root, 'test/fixtures/guide-clients');
const TABLES = ['bss_company', 'bss_service_area'];
const DRIVER_TIMEOUT_MS = 60_000;

/** Why the Python client cannot run here, or false when it can. */
function pythonSkipReason(): string | false {
  const probe = spawnSync('python3', ['-c', 'import requests'], { encoding: 'utf8', timeout: 20_000 });
  if (probe.error) return `python3 is not available (${probe.error.message}): the guide's §8.6 Python client was not run`;
  if (probe.status !== 0) {
    const last = probe.stderr.trim().split('\n').pop() ?? `exit ${probe.status}`;
    return `python3 cannot import requests (${last}): the guide's §8.6 Python client was not run`;
  }
  return false;
}

interface DriverSummary {
  client: string;
  ok: boolean;
  problems: string[];
  task_id: string;
  create_code: number;
  execute_code: number;
  status: string;
  file_count: number;
  files: string[];
  primary_files: string[];
  downloaded: string;
  downloaded_bytes: number;
  listed_bytes: number;
  saved_to?: string;
  log_count: number;
  error_log_count: number;
}

interface DriverRun {
  exitCode: number | null;
  stdout: string;
  stderr: string;
  summary: DriverSummary | undefined;
}

function runDriver(command: string, args: string[], cwd: string): Promise<DriverRun> {
  return new Promise((resolve) => {
    execFile(
      command,
      args,
      {
        cwd,
        timeout: DRIVER_TIMEOUT_MS,
        maxBuffer: 16 * 1024 * 1024,
        encoding: 'utf8',
        env: { ...process.env, PYTHONIOENCODING: 'utf-8', PYTHONDONTWRITEBYTECODE: '1', NO_PROXY: '127.0.0.1,localhost', no_proxy: '127.0.0.1,localhost' },
      },
      (error, stdout, stderr) => {
        const exitCode = error ? (typeof error.code === 'number' ? error.code : null) : 0;
        const line = stdout
          .split('\n')
          .map((l) => l.trim())
          .filter((l) => l.startsWith('{'))
          .pop();
        let summary: DriverSummary | undefined;
        try {
          summary = line ? (JSON.parse(line) as DriverSummary) : undefined;
        } catch {
          summary = undefined;
        }
        resolve({ exitCode, stdout, stderr: stderr + (error && exitCode === null ? `\n${error.message}` : ''), summary });
      },
    );
  });
}

function describeRun(run: DriverRun): string {
  return `exit=${run.exitCode}\n--- stdout ---\n${run.stdout}\n--- stderr ---\n${run.stderr}`;
}

describe("the guide's own clients (§8.5 JavaScript, §8.6 Python) against a real server", () => {
  let db: TestDatabase;
  let server: TestServer;

  before(async () => {
    db = await createTestDatabase();
    // The fixture steps need the store pool, which exists only once the server is up: hand them a pool that
    // forwards to server.app.storeDb.pool (used only when a step runs).
    const storePool = { query: (...args: unknown[]) => (server.app.storeDb.pool.query as (...a: unknown[]) => unknown)(...args) } as unknown as pg.Pool;
    server = await startTestServer({ storeUrl: db.url, registry: fixtureRegistry(storePool, { durationMs: 200 }) });
    await ensureCompletionTable(server.app.storeDb.pool);
    // server.dir is the server's input folder: `table_list_file: 'tables.txt'` resolves there.
    fs.writeFileSync(path.join(server.dir, 'tables.txt'), `${TABLES.join('\n')}\n`);
  });

  after(async () => {
    await server?.close();
    await db?.drop();
    if (server) fs.rmSync(server.dir, { recursive: true, force: true });
  });

  async function checkRun(run: DriverRun, downloadedFile: (summary: DriverSummary) => string) {
    assert.ok(run.summary, `driver printed no JSON summary\n${describeRun(run)}`);
    const summary = run.summary;
    assert.deepEqual(summary.problems, [], describeRun(run));
    assert.equal(run.exitCode, 0, describeRun(run));
    assert.equal(summary.ok, true);
    assert.match(summary.task_id, /^task_\d{8}_\d{6}(_\d+)?$/);
    assert.equal(summary.create_code, 201);
    assert.equal(summary.execute_code, 202);
    assert.equal(summary.status, 'completed');
    assert.ok(summary.files.includes('data_pipeline.log'), `files: ${summary.files.join(', ')}`);
    assert.ok(summary.files.includes('table_list.txt'), `files: ${summary.files.join(', ')}`);
    assert.equal(summary.file_count, summary.files.length);
    assert.ok(summary.log_count > 0, 'logs are empty');
    assert.equal(summary.error_log_count, 0, 'a successful run has no ERROR entries');
    // No fixture step writes a qs_*_pair.json, so the drivers fell back to the task log.
    assert.deepEqual(summary.primary_files, []);
    assert.equal(summary.downloaded, 'data_pipeline.log');
    assert.equal(summary.downloaded_bytes, summary.listed_bytes);

    // Cross-check with the server's side: the download is the task's file byte for byte, the table list is
    // the one in tables.txt, and every fixture step of the run finished.
    const taskDir = server.app.service.taskDir(summary.task_id);
    assert.deepEqual(fs.readFileSync(downloadedFile(summary)), fs.readFileSync(path.join(taskDir, summary.downloaded)));
    assert.deepEqual(fs.readFileSync(path.join(taskDir, 'table_list.txt'), 'utf8').split('\n').map((l) => l.trim()).filter((l) => l && !l.startsWith('#')), TABLES);
    const { rows } = await server.app.storeDb.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM test_step_completions WHERE task_id = $1`, [summary.task_id]);
    assert.ok(rows[0]!.n > 0, 'no fixture step recorded a completion');
  }

  it('§8.5 JavaScript DataPipelineAPI: create → execute → pollTaskStatus → files → download → logs', async () => {
    const downloadDir = makeTempDir('guide-js-');
    try {
      const run = await runDriver(process.execPath, [path.join(clients, 'drive.mjs'), server.baseUrl, downloadDir], root);
      console.log(`[guide-clients] drive.mjs summary: ${JSON.stringify(run.summary)}`);
      await checkRun(run, (s) => path.join(downloadDir, path.basename(s.downloaded)));
    } finally {
      fs.rmSync(downloadDir, { recursive: true, force: true });
    }
  });

  const skipPython = pythonSkipReason();
  it('§8.6 Python DataPipelineAPI: create_task → execute_task → poll_task_status → files → download_file → logs', { skip: skipPython }, async () => {
    // The guide's download_file saves into the current directory: give the client a scratch one.
    const cwd = makeTempDir('guide-py-');
    try {
      const run = await runDriver('python3', [path.join(clients, 'drive.py'), server.baseUrl], cwd);
      console.log(`[guide-clients] drive.py summary: ${JSON.stringify(run.summary)}`);
      await checkRun(run, (s) => s.saved_to ?? path.join(cwd, s.downloaded));
      assert.equal(path.dirname(run.summary!.saved_to!), fs.realpathSync(cwd));
    } finally {
      fs.rmSync(cwd, { recursive: true, force: true });
    }
  });

  it('§9.3 apiRequest error handling: an unknown task is success:false with code 404', async () => {
    // The guide's §9.3 client-side pattern (types added, body unchanged; absolute URL instead of '/api/...').
    async function apiRequest(url: string, options: { headers?: Record<string, string>; method?: string; body?: string } = {}) {
      try {
        const response = await fetch(url, {
          headers: {
            'Content-Type': 'application/json',
            ...options.headers,
          },
          ...options,
        });

        const data = await response.json();

        if (!data.success) {
          throw new Error(`API错误: ${data.message} (${data.code})`);
        }

        return data;
      } catch (error) {
        if (error instanceof TypeError && error.message.includes('fetch')) {
          throw new Error('网络连接失败，请检查服务器是否正常运行');
        }
        throw error;
      }
    }

    const url = `${server.api}/tasks/invalid_id`;
    await assert.rejects(apiRequest(url), (error: Error) => {
      // The guide's usage example branches on `error.message.includes('404')`.
      assert.ok(error.message.includes('404'), error.message);
      assert.match(error.message, /^API错误: .+ \(404\)$/);
      return true;
    });

    const response = await fetch(url, { headers: { 'Content-Type': 'application/json' } });
    assert.equal(response.status, 404);
    const body = await response.json();
    assert.equal(body.success, false);
    assert.equal(body.code, 404);
    assert.equal(body.error.code, 'TASK_NOT_FOUND');
    assert.equal(typeof body.message, 'string');

    // A network failure takes the pattern's other branch (Node's fetch says "fetch failed").
    const closedPort = `http://127.0.0.1:1/api/v0/data_pipeline/tasks/invalid_id`;
    await assert.rejects(apiRequest(closedPort), /网络连接失败/);
  });
});
