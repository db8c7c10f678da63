// Regression tests of the twelve defects of issue 13, each against a real server over a real PostgreSQL
// store (and, where a business database is needed, a real PostgreSQL database made for the test).
import assert from 'node:assert/strict';
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createApp } from '../../src/app.ts';
import { loadSettings } from '../../src/config.ts';
import { ensureVectorStore } from '../../src/vector/schema.ts';
import { connect, type Database } from '../../src/postgres/connect.ts';
import { createTestDatabase, needsPostgresServer, type TestDatabase } from '../helpers/postgres.ts';
import { call, makeTempDir, startTestServer, testEnv, waitForStatus, type TestServer } from '../helpers/server.ts';
import { ensureCompletionTable } from '../fixtures/steps.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');
const SECRET_KEY = 'reliability-test-secret-key-0123456789';

/** The database's own URL with other credentials and query (pg reads both; the embedded fallback ignores the password). */
function hostUrl(db: TestDatabase, credentials: string, query = ''): string {
  const url = new URL(db.url);
  return `postgresql://${credentials}@${url.host}${url.pathname}${query}`;
}

describe('issue 13 defects (real server, real PostgreSQL)', () => {
  let store: TestDatabase;
  let business: TestDatabase;
  let server: TestServer;
  let storePool: pg.Pool;
  let vectorDb: Database;

  before(async () => {
    store = await createTestDatabase('dp_rel_store');
    business = await createTestDatabase('dp_rel_biz');
    const biz = new pg.Client({ connectionString: business.url });
    await biz.connect();
    await biz.query('CREATE TABLE bss_company (id int PRIMARY KEY, name text)');
    await biz.end();
    const dir = makeTempDir();
    // The local PostgreSQL has no pgvector: the vector store is the embedded one, as in the default setup.
    const vectorUrl = `pglite://${path.join(dir, 'vector')}`;
    server = await startTestServer({
      storeUrl: store.url,
      workers: false,
      dir,
      env: { DATA_PIPELINE_DB_URL: business.url, DATA_PIPELINE_SECRET_KEY: SECRET_KEY, DATA_PIPELINE_VECTOR_URL: vectorUrl },
    });
    storePool = server.app.storeDb.pool;
    vectorDb = await connect(vectorUrl);
    await ensureVectorStore(vectorDb.pool, { dim: 8 });
  });

  after(async () => {
    await server?.close();
    await vectorDb?.close();
    await store?.drop();
    await business?.drop();
  });

  const createTask = async (extra: Record<string, unknown> = {}) => {
    const created = await call(`${server.api}/tasks`, { method: 'POST', json: { task_name: 'defects', ...extra } });
    assert.equal(created.status, 201, created.text);
    return created.body.data.task_id as string;
  };
  const taskDir = (taskId: string) => path.join(server.dir, 'training_data', taskId);
  const appLog = () => fs.readFileSync(path.join(server.dir, 'logs', 'app.log'), 'utf8');

  it('1. a password with a raw @ / # ? is masked by the parser that connects, or refused at create without echoing it', async () => {
    for (const password of ['Pw/X123', 'Pw#X123', 'Pw?X123']) {
      const answer = await call(`${server.api}/tasks`, { method: 'POST', json: { db_connection: hostUrl(business, `postgres:${password}`) } });
      assert.equal(answer.status, 400, answer.text);
      assert.deepEqual(answer.body.error.invalid_params, ['db_connection']);
      assert.ok(!answer.text.includes('X123'), answer.text);
    }
    // `Pw@X123` parses (the last @ ends the password): shown as postgres:***@127.0.0.1, never a piece of it.
    const url = hostUrl(business, 'postgres:Pw@X123');
    const taskId = await createTask({ db_connection: url });
    const status = await call(`${server.api}/tasks/${taskId}`);
    assert.equal(status.body.data.parameters?.db_connection ?? status.body.data.db_connection, hostUrl(business, 'postgres:***'));
    assert.ok(!status.text.includes('X123'));
    const list = await call(`${server.api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: ['bss_company'] } });
    assert.equal(list.status, 200, list.text);
    // Trust auth ignores the password: execute's pre-flight really connects with the decrypted URL.
    const executed = await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: {} });
    assert.equal(executed.status, 202, executed.text);
    await call(`${server.api}/tasks/${taskId}/cancel`, { method: 'POST' });
    for (const file of fs.readdirSync(taskDir(taskId))) {
      assert.ok(!fs.readFileSync(path.join(taskDir(taskId), file), 'utf8').includes('X123'), file);
    }
    assert.ok(!appLog().includes('X123'));
    // Stored encrypted (DATA_PIPELINE_SECRET_KEY is set): the store holds no trace of the password.
    const { rows } = await storePool.query(`SELECT db_connection FROM data_pipeline.tasks WHERE task_id = $1`, [taskId]);
    assert.match(rows[0].db_connection, /^enc:v1:/);
    assert.ok(!rows[0].db_connection.includes('X123') && !rows[0].db_connection.includes('postgres'));
  });

  it('2. symbolic links in a task directory are refused by the log reader, the task logger, table-list-info, the backup log and the task directory itself', async () => {
    const outside = makeTempDir('dp-outside-');
    const secretLog = path.join(outside, 'secret.log');
    fs.writeFileSync(secretLog, '2025-01-01 00:00:00 [INFO] Outside: OUTSIDE-SECRET\n');
    const before = fs.readFileSync(secretLog, 'utf8');

    const taskId = await createTask();
    const dir = taskDir(taskId);
    fs.rmSync(path.join(dir, 'data_pipeline.log'));
    fs.symlinkSync(secretLog, path.join(dir, 'data_pipeline.log'));
    for (const answer of [
      await call(`${server.api}/tasks/${taskId}/logs`),
      await call(`${server.api}/tasks/${taskId}/logs/query`, { method: 'POST', json: {} }),
      await call(`${server.api}/tasks/${taskId}/events`, { signal: AbortSignal.timeout(10_000) }).catch((error) => ({ status: 0, text: String(error) })),
    ]) {
      assert.equal(answer.status, 400, answer.text);
      assert.ok(!answer.text.includes('OUTSIDE-SECRET'));
    }
    // The task logger (written by a table-list save) does not write through the link.
    const saved = await call(`${server.api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: ['bss_company'] } });
    assert.equal(saved.status, 200, saved.text);
    assert.equal(fs.readFileSync(secretLog, 'utf8'), before);

    fs.writeFileSync(path.join(outside, 'list.txt'), 'outside_table_secret\n');
    fs.rmSync(path.join(dir, 'table_list.txt'));
    fs.symlinkSync(path.join(outside, 'list.txt'), path.join(dir, 'table_list.txt'));
    const info = await call(`${server.api}/tasks/${taskId}/table-list-info`);
    assert.equal(info.status, 400, info.text);
    assert.ok(!info.text.includes('outside_table_secret'));

    // The vector backup log of a task (written even when there is nothing to back up).
    fs.mkdirSync(path.join(dir, 'vector_bak'));
    const backupLog = path.join(outside, 'backup.txt');
    fs.writeFileSync(backupLog, 'untouched\n');
    fs.symlinkSync(backupLog, path.join(dir, 'vector_bak', 'vector_backup_log.txt'));
    await call(`${server.api}/vector/backup`, { method: 'POST', json: { task_id: taskId } });
    assert.equal(fs.readFileSync(backupLog, 'utf8'), 'untouched\n');

    // A task directory that is itself a link to elsewhere.
    const other = await createTask();
    fs.rmSync(taskDir(other), { recursive: true });
    fs.writeFileSync(path.join(outside, 'data_pipeline.log'), '2025-01-01 00:00:00 [INFO] Outside: OUTSIDE-SECRET\n');
    fs.writeFileSync(path.join(outside, 'table_list.txt'), 'outside_table_secret\n');
    fs.symlinkSync(outside, taskDir(other));
    for (const answer of [
      await call(`${server.api}/tasks/${other}/logs`),
      await call(`${server.api}/tasks/${other}/files`),
      await call(`${server.api}/tasks/${other}/files/table_list.txt`),
      await call(`${server.api}/tasks/${other}/table-list-info`),
    ]) {
      assert.equal(answer.status, 400, answer.text);
      assert.ok(!answer.text.includes('OUTSIDE-SECRET') && !answer.text.includes('outside_table_secret'), answer.text);
    }
    const written = await call(`${server.api}/tasks/${other}/table-list`, { method: 'POST', json: { table_names: ['bss_company'] } });
    assert.equal(written.status, 400, written.text);
    assert.equal(fs.readFileSync(path.join(outside, 'table_list.txt'), 'utf8'), 'outside_table_secret\n');
  });

  it('3. a run whose worker died between taking the job and claiming the run is re-queued and completes', async () => {
    await ensureCompletionTable(storePool);
    const taskId = await createTask();
    await call(`${server.api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: ['bss_company'] } });
    const executed = await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: {} });
    assert.equal(executed.status, 202, executed.text);
    // What a worker that fetched the job and was killed before its claim leaves behind.
    await storePool.query(`UPDATE pgboss.job SET state = 'active', started_on = now() - interval '1 hour' WHERE data->>'task_id' = $1`, [taskId]);
    await storePool.query(`UPDATE data_pipeline.tasks SET heartbeat_at = now() - interval '1 hour' WHERE task_id = $1`, [taskId]);
    const worker = await startWorker(testEnv(server.dir, store.url, { DATA_PIPELINE_DB_URL: business.url, DATA_PIPELINE_SECRET_KEY: SECRET_KEY }));
    try {
      const done = await waitForStatus(server.api, taskId, ['completed', 'failed'], 40_000);
      assert.equal(done.status, 'completed', JSON.stringify(done));
      const { rows } = await storePool.query(`SELECT count(*)::int AS n FROM pgboss.job WHERE data->>'task_id' = $1 AND state = 'active'`, [taskId]);
      assert.equal(rows[0].n, 0, 'no job of the task stays active');
    } finally {
      worker.kill('SIGKILL');
    }
  });

  it('4. concurrent backups all succeed with distinct, verifiable backups', async () => {
    for (let round = 0; round < 5; round += 1) {
      const answers = await Promise.all([1, 2, 3].map(() => call(`${server.api}/vector/backup`, { method: 'POST', json: {} })));
      for (const answer of answers) assert.equal(answer.status, 200, answer.text);
      const stamps = answers.map((a) => a.body.data.timestamp ?? a.body.data.backup_timestamp ?? JSON.stringify(a.body.data));
      assert.equal(new Set(stamps).size, 3, `distinct stamps: ${stamps.join(', ')}`);
    }
    const restorable = await call(`${server.api}/vector/restore/list`);
    assert.equal(restorable.status, 200, restorable.text);
    assert.ok(!JSON.stringify(restorable.body).includes('.partial'));
  });

  it('5. processes started together on a fresh store all start', async () => {
    const fresh = await createTestDatabase('dp_rel_fresh');
    try {
      const dir = makeTempDir();
      const apps = await Promise.allSettled(
        Array.from({ length: 4 }, () => createApp(loadSettings(testEnv(dir, fresh.url), dir))),
      );
      const failures = apps.filter((a) => a.status === 'rejected').map((a) => String((a as PromiseRejectedResult).reason));
      for (const app of apps) if (app.status === 'fulfilled') await app.value.close();
      assert.deepEqual(failures, []);
    } finally {
      await fresh.drop();
    }
  });

  it('6. file-reading connection parameters and options= are refused with a 400, without touching the file', async () => {
    const fifo = path.join(makeTempDir(), 'fifo');
    execFileSync('mkfifo', [fifo]);
    // The FIFO last: before the fix, reading it blocked the whole process.
    for (const query of ['?sslcert=/nonexistent/x', '?options=-c%20statement_timeout%3D0', '?host=/var/run/postgresql', '?sslkey=/dev/zero', `?sslrootcert=${fifo}`]) {
      const url = hostUrl(business, 'postgres', query);
      for (const answer of [
        await call(`${server.api}/tasks`, { method: 'POST', json: { db_connection: url } }),
        await call(`${server.baseUrl}/api/v0/database/tables`, { method: 'POST', json: { db_connection: url } }),
      ]) {
        assert.equal(answer.status, 400, `${query}: ${answer.text}`);
        assert.deepEqual(answer.body.error.invalid_params, ['db_connection']);
        assert.ok(!answer.text.includes('ENOENT'), answer.text);
      }
    }
  });

  it('7. NUL in any text field is a 400 naming the parameter, and a failed store write leaves table_list.txt as it was', async () => {
    const taskId = await createTask();
    const cases: Array<[string, unknown, string]> = [
      [`${server.api}/tasks`, { task_name: 'a\u0000b' }, 'task_name'],
      [`${server.api}/tasks`, { business_context: 'a\u0000' }, 'business_context'],
      [`${server.api}/tasks`, { created_by: '\u0000' }, 'created_by'],
      [`${server.api}/tasks`, { db_name: 'x\u0000' }, 'db_name'],
      [`${server.api}/tasks`, { business_glossary: { term: 'a\u0000' } }, 'business_glossary.term'],
      [`${server.api}/tasks`, { business_glossary: 'unpaired \uD800 surrogate' }, 'business_glossary'], // jsonb refuses it
      [`${server.api}/tasks/query`, { task_name: 'a\u0000' }, 'task_name'],
      [`${server.baseUrl}/api/v0/database/tables`, { schema: 'public\u0000' }, 'schema'],
      [`${server.baseUrl}/api/v0/database/tables`, { table_name_pattern: 'a\u0000' }, 'table_name_pattern'],
      [`${server.baseUrl}/api/v0/database/table/ddl`, { table: 'bss\u0000' }, 'table'],
      [`${server.api}/tasks/${taskId}/table-list`, { table_names: ['bss_company'], business_context: 'x\u0000' }, 'business_context'],
    ];
    for (const [url, json, param] of cases) {
      const answer = await call(url, { method: 'POST', json });
      assert.equal(answer.status, 400, `${param}: ${answer.text}`);
      assert.deepEqual(answer.body.error.invalid_params, [param]);
    }
    assert.ok(!fs.existsSync(path.join(taskDir(taskId), 'table_list.txt')), 'nothing written by a refused request');

    // A store write that fails for another reason (a real trigger in the store database) leaves the file alone.
    await storePool.query(`CREATE OR REPLACE FUNCTION data_pipeline.fail_on_marker() RETURNS trigger LANGUAGE plpgsql AS $$
      BEGIN IF NEW.business_context = 'FAIL-ON-WRITE' THEN RAISE EXCEPTION 'injected store failure'; END IF; RETURN NEW; END $$`);
    await storePool.query(`CREATE TRIGGER fail_on_marker BEFORE UPDATE ON data_pipeline.tasks FOR EACH ROW EXECUTE FUNCTION data_pipeline.fail_on_marker()`);
    try {
      const first = await call(`${server.api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: ['bss_company'] } });
      assert.equal(first.status, 200, first.text);
      const failed = await call(`${server.api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: ['other_table'], business_context: 'FAIL-ON-WRITE' } });
      assert.equal(failed.status, 500, failed.text);
      assert.equal(fs.readFileSync(path.join(taskDir(taskId), 'table_list.txt'), 'utf8'), 'bss_company\n');
      assert.deepEqual(fs.readdirSync(taskDir(taskId)).filter((f) => f.endsWith('.tmp')), []);
    } finally {
      await storePool.query('DROP TRIGGER fail_on_marker ON data_pipeline.tasks');
    }
  });

  it('8. malformed multipart uploads are 400s', async () => {
    const taskId = await createTask();
    const url = `${server.api}/tasks/${taskId}/upload-table-list`;
    const boundary = 'XBOUNDARYX';
    const part = (name: string, body: string, file?: string) =>
      `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file ? `; filename="${file}"` : ''}\r\n\r\n${body}\r\n`;
    const bodies: Array<[string, string]> = [
      ['multipart/form-data', part('file', 'bss_company', 'a.txt') + `--${boundary}--\r\n`], // no boundary parameter
      [`multipart/form-data; boundary=${boundary}`, part('file', 'bss_company', 'a.txt').slice(0, 60)], // cut short
      [`multipart/form-data; boundary=${boundary}`, Array.from({ length: 12 }, (_, i) => part(`f${i}`, 'x')).join('') + part('file', 'bss_company', 'a.txt') + `--${boundary}--\r\n`],
      [`multipart/form-data; boundary=${boundary}`, 'garbage without any boundary'],
    ];
    for (const [type, body] of bodies) {
      const answer = await call(url, { method: 'POST', headers: { 'Content-Type': type }, body });
      assert.ok(answer.status >= 400 && answer.status < 500, `${type} → ${answer.status}: ${answer.text}`);
    }
  });

  it('9. an invalid name in a task directory table_list.txt is a 4xx naming the line', async () => {
    const taskId = await createTask();
    await call(`${server.api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: ['bss_company'] } });
    fs.writeFileSync(path.join(taskDir(taskId), 'table_list.txt'), 'bss_company\nbad name; DROP TABLE x\n');
    for (const answer of [
      await call(`${server.api}/tasks/${taskId}/table-list-info`),
      await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: {} }),
    ]) {
      assert.ok(answer.status >= 400 && answer.status < 500, answer.text);
      assert.match(answer.body.error.details ?? answer.body.message, /line 2|第 2 行/);
    }
  });

  it('10. a malformed db_connection is refused at create, naming the parameter', async () => {
    for (const credentials of ['postgres@127.0.0.1:99999', 'postgres@127.0.0.1:-1', 'postgres:p/w@127.0.0.1:5432']) {
      const url = `postgresql://${credentials}/${business.name}`;
      const answer = await call(`${server.api}/tasks`, { method: 'POST', json: { db_connection: url } });
      assert.equal(answer.status, 400, `${url}: ${answer.text}`);
      assert.deepEqual(answer.body.error.invalid_params, ['db_connection']);
    }
    const bogus = await call(`${server.api}/tasks`, { method: 'POST', json: { db_connection: hostUrl(business, 'postgres', '?sslmode=bogus') } });
    assert.equal(bogus.status, 400, bogus.text);
    assert.match(bogus.body.error.details, /sslmode/);
  });

  it('11. an API key in the query string is never written to app.log', async () => {
    await call(`${server.api}/tasks?api_key=QUERY-KEY-SECRET-1&limit=1`);
    await call(`${server.api}/tasks?access_token=QUERY-KEY-SECRET-2`);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const log = appLog();
    assert.ok(log.includes('api_key=***'), 'the access line is there, masked');
    assert.ok(!log.includes('QUERY-KEY-SECRET'));
  });

  it('12. a restore whose backup does not match its manifest is refused before any safety backup is written', async () => {
    const taskId = await createTask();
    const backup = await call(`${server.api}/vector/backup`, { method: 'POST', json: { task_id: taskId } });
    assert.equal(backup.status, 200, backup.text);
    const stamp = backup.body.data.timestamp as string;
    const manifestFile = path.join(taskDir(taskId), 'vector_bak', `vector_backup_manifest_${stamp}.json`);
    const manifest = JSON.parse(fs.readFileSync(manifestFile, 'utf8'));
    manifest.tables[1].rows += 5; // checksums intact, row count tampered
    fs.writeFileSync(manifestFile, JSON.stringify(manifest));
    const globalDir = path.join(server.dir, 'training_data', 'vector_bak');
    const beforeFiles = fs.existsSync(globalDir) ? fs.readdirSync(globalDir).filter((f) => !f.endsWith('.txt')) : [];
    const restored = await call(`${server.api}/vector/restore`, { method: 'POST', json: { task_id: taskId, timestamp: stamp, truncate_before_restore: true } });
    assert.ok(restored.status >= 400 && restored.status < 500, restored.text);
    const afterFiles = fs.existsSync(globalDir) ? fs.readdirSync(globalDir).filter((f) => !f.endsWith('.txt')) : [];
    assert.deepEqual(afterFiles, beforeFiles, 'no safety backup written');
  });

  it('found by the chaos run: a store connection cut while a client is checked out does not kill the process', { skip: needsPostgresServer }, async () => {
    const db = await connect(store.url);
    try {
      const client = await db.pool.connect();
      const { rows } = await client.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
      await storePool.query('SELECT pg_terminate_backend($1)', [rows[0]!.pid]);
      await new Promise((resolve) => setTimeout(resolve, 300)); // the server's FATAL message arrives between queries
      await assert.rejects(client.query('SELECT 1'));
      client.release();
      assert.equal((await db.pool.query<{ one: number }>('SELECT 1 AS one')).rows[0]!.one, 1, 'the pool replaced the dead client');
    } finally {
      await db.close();
    }
  });

  it('also: system catalog tables are refused unless include_system_schemas is set', async () => {
    const taskId = await createTask();
    const refused = await call(`${server.api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: ['pg_catalog.pg_authid'] } });
    assert.equal(refused.status, 400, refused.text);
    assert.equal(refused.body.error.code, 'SYSTEM_TABLE_REFUSED');
    // Unqualified, pg_catalog is still searched first: the pre-flight of execute refuses it.
    await call(`${server.api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: ['pg_authid'] } });
    const executed = await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: {} });
    assert.equal(executed.status, 400, executed.text);
    assert.equal(executed.body.error.code, 'SYSTEM_TABLE_REFUSED');
    const allowed = await createTask({ include_system_schemas: true });
    const accepted = await call(`${server.api}/tasks/${allowed}/table-list`, { method: 'POST', json: { table_names: ['pg_catalog.pg_class'] } });
    assert.equal(accepted.status, 200, accepted.text);
  });
});

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


