// Each test file makes its own database and drops it afterwards: on the local PostgreSQL when one answers,
// otherwise on an embedded PGlite (with pgvector) served over the PostgreSQL wire protocol on a free
// loopback port, so that the same code paths (pg's driver, the read-only gateway, the store) run on a
// machine that has only Node. test/run.ts decides once for the whole run (DATA_PIPELINE_TEST_BACKEND);
// a file run alone probes by itself.
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';

export const ADMIN_URL = process.env.DATA_PIPELINE_TEST_POSTGRES_URL ?? 'postgresql://postgres@127.0.0.1:5432/postgres';

export type TestBackend = 'postgres' | 'pglite';

export interface TestDatabase {
  /** The database's name in its URL (always `postgres` on the embedded fallback: one instance each). */
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** Whether a PostgreSQL server answers at ADMIN_URL within a second. */
export async function postgresAnswers(url = ADMIN_URL): Promise<boolean> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 1000 });
  client.on('error', () => undefined);
  try {
    await client.connect();
    await client.query('SELECT 1');
    return true;
  } catch {
    return false;
  } finally {
    await client.end().catch(() => undefined);
  }
}

async function decideBackend(): Promise<TestBackend> {
  const decided = process.env.DATA_PIPELINE_TEST_BACKEND;
  if (decided === 'postgres' || decided === 'pglite') return decided;
  if (await postgresAnswers()) return 'postgres';
  if (requiredByRun('postgres')) throw new Error(`DATA_PIPELINE_TEST_REQUIRE names postgres, but no PostgreSQL answers at ${ADMIN_URL}`);
  return 'pglite';
}

/** What this run must not skip (`.ci/run` sets DATA_PIPELINE_TEST_REQUIRE=postgres,chromium). */
export function requiredByRun(part: 'postgres' | 'chromium'): boolean {
  return (process.env.DATA_PIPELINE_TEST_REQUIRE ?? '').split(',').map((s) => s.trim()).includes(part);
}

export const testBackend: TestBackend = await decideBackend();

/**
 * For a suite that needs a real PostgreSQL server (several databases on one cluster, roles, backends to
 * terminate, server settings): the reason to skip it on the embedded fallback, or false.
 */
export const needsPostgresServer: string | false =
  testBackend === 'postgres' ? false : `needs a PostgreSQL server (none answers at ${ADMIN_URL}; this run uses embedded PGlite)`;

export async function createTestDatabase(prefix = 'dp_test'): Promise<TestDatabase> {
  const name = `${prefix}_${randomBytes(5).toString('hex')}`;
  return testBackend === 'postgres' ? createOnServer(name) : createEmbedded();
}

async function createOnServer(name: string): Promise<TestDatabase> {
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const url = new URL(ADMIN_URL);
  url.pathname = `/${name}`;
  return {
    name,
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: ADMIN_URL });
      await client.connect();
      try {
        await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      } finally {
        await client.end();
      }
    },
  };
}

/**
 * One PGlite instance per test database, in a temporary folder, served by its own process
 * (embedded-postgres-server.ts). PGlite is a single session: pglite-socket queues the statements of its
 * connections and keeps a connection's transaction to itself, which is what the pipeline's pools need;
 * session settings, roles and backends are shared, which is why suites that depend on per-connection
 * server state are marked with `needsPostgresServer`.
 */
async function createEmbedded(): Promise<TestDatabase> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-embedded-pg-'));
  const child = spawn(process.execPath, ['--import', 'tsx', path.join(import.meta.dirname, 'embedded-postgres-server.ts'), dir], {
    stdio: ['ignore', 'pipe', 'inherit', 'ipc'],
  });
  const port = await new Promise<number>((resolve, reject) => {
    let out = '';
    child.stdout!.on('data', (chunk) => {
      out += chunk;
      const line = out.split('\n').find((l) => l.startsWith('{'));
      if (line) resolve(JSON.parse(line).port);
    });
    child.once('exit', (code) => reject(new Error(`the embedded PostgreSQL for the tests exited (${code}) before listening`)));
  });
  let dropped = false;
  return {
    name: 'postgres',
    url: `postgresql://postgres@127.0.0.1:${port}/postgres`,
    async drop() {
      if (dropped) return;
      dropped = true;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.kill('SIGTERM');
      await exited;
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
