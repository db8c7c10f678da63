// The one data layer: every query in the project goes through a pg.Pool. For postgresql:// URLs that is
// a real pool; for pglite://<dir> it is PGlite running in-process behind pg's driver, so no SQL is written
// twice. One PGlite instance exists per directory per process (a data directory cannot be opened twice).
import fs from 'node:fs';
import path from 'node:path';
import pg from 'pg';
import { databaseUrlKind, maskConnectionString } from './connection-string.ts';

export interface Database {
  readonly kind: 'postgres' | 'pglite';
  readonly pool: pg.Pool;
  /** Masked form of the URL, safe for logs and responses. */
  readonly label: string;
  close(): Promise<void>;
}

export interface ConnectOptions {
  /** Directory pglite:// paths resolve against. */
  cwd?: string;
  /** Pool size for real PostgreSQL. */
  max?: number;
  applicationName?: string;
  connectionTimeoutMillis?: number;
}

interface EmbeddedEntry {
  pglite: import('@electric-sql/pglite').PGlite;
  pool: pg.Pool;
  users: number;
}

const embedded = new Map<string, Promise<EmbeddedEntry>>();
/** The PGlite engine behind an embedded pool, for the few things pg's driver cannot carry (COPY, see copy.ts). */
const engines = new WeakMap<pg.Pool, import('@electric-sql/pglite').PGlite>();

export function embeddedEngine(pool: pg.Pool): import('@electric-sql/pglite').PGlite | undefined {
  return engines.get(pool);
}

export function pgliteDirectory(url: string, cwd = process.cwd()): string {
  const raw = url.replace(/^pglite:\/\//i, '');
  return path.resolve(cwd, raw);
}

export async function connect(url: string, options: ConnectOptions = {}): Promise<Database> {
  const kind = databaseUrlKind(url);
  if (kind === 'postgres') {
    const pool = new pg.Pool({
      connectionString: url,
      max: options.max ?? 10,
      application_name: options.applicationName ?? 'data-pipeline',
      connectionTimeoutMillis: options.connectionTimeoutMillis ?? 10_000,
    });
    // An idle client's network error must not crash the process; the next query reports it. Nor may a
    // checked-out one's (a transaction between two queries when the server ends the connection, e.g.
    // pg_terminate_backend): pg emits 'error' on the client then, which without a listener kills the process.
    // The pool drops such a client when it is released (it is no longer queryable).
    pool.on('error', () => undefined);
    pool.on('connect', (client) => {
      client.on('error', () => undefined);
    });
    let closed = false;
    return {
      kind,
      pool,
      label: maskConnectionString(url),
      close: async () => {
        if (closed) return;
        closed = true;
        await pool.end();
      },
    };
  }
  if (kind === 'pglite') {
    const dir = pgliteDirectory(url, options.cwd);
    const entry = await openEmbedded(dir);
    entry.users += 1;
    let closed = false;
    return {
      kind,
      pool: entry.pool,
      label: `pglite://${dir}`,
      close: async () => {
        if (closed) return;
        closed = true;
        entry.users -= 1;
        if (entry.users === 0) {
          embedded.delete(dir);
          await entry.pool.end();
          await entry.pglite.close();
        }
      },
    };
  }
  if (url.startsWith('enc:')) {
    throw new Error('The stored db_connection is encrypted with another key: set DATA_PIPELINE_SECRET_KEY to the key it was stored with');
  }
  throw new Error(`Unsupported database URL ${maskConnectionString(url)}: use postgresql://, postgres:// or pglite://<directory>`);
}

function openEmbedded(dir: string): Promise<EmbeddedEntry> {
  let pending = embedded.get(dir);
  if (!pending) {
    pending = (async () => {
      const [{ PGlite }, { vector }, { createPgConfig }] = await Promise.all([
        import('@electric-sql/pglite'),
        import('@electric-sql/pglite-pgvector'),
        import('@electric-sql/pglite/node-postgres'),
      ]);
      fs.mkdirSync(dir, { recursive: true });
      const pglite = await PGlite.create({ dataDir: dir, extensions: { vector } });
      const pool = new pg.Pool(createPgConfig(pglite) as unknown as pg.PoolConfig);
      engines.set(pool, pglite);
      return { pglite, pool, users: 0 };
    })();
    embedded.set(dir, pending);
    pending.catch(() => embedded.delete(dir));
  }
  return pending;
}

/** Runs fn inside one transaction on one client; rolls back on any error. */
export async function withTransaction<T>(pool: pg.Pool, fn: (client: pg.PoolClient) => Promise<T>): Promise<T> {
  const client = await pool.connect();
  try {
    await client.query('BEGIN');
    const result = await fn(client);
    await client.query('COMMIT');
    return result;
  } catch (error) {
    await client.query('ROLLBACK').catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}
