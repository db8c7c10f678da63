// The one data layer: every query in the project goes through a pg.Pool. For postgresql:// URLs that is
// a real pool; for pglite://<dir> it is PGlite running in-process behind pg's driver, so no SQL is written
// twice. One PGlite instance exists per directory per process (a data directory cannot be opened twice).
import { randomUUID } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
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
  /** pglite://: keep the instance open this long after its last user closes (0: close at once), so that
   * the next task does not pay for reopening it. */
  idleCloseMs?: number;
}

interface EmbeddedEntry {
  pglite: import('@electric-sql/pglite').PGlite;
  pool: pg.Pool;
}

/** One embedded database of this process: opened by its first user, shared, closed when unused. */
interface EmbeddedRecord {
  readonly dir: string;
  readonly ready: Promise<EmbeddedEntry>;
  /** Connections handed out and not yet closed: while > 0 the instance is never closed under a user. */
  users: number;
  idleTimer?: NodeJS.Timeout;
}

const embedded = new Map<string, EmbeddedRecord>();
/** Directories whose instance is being closed: a data directory cannot be opened twice, so the next
 * open waits for the close to finish. */
const closing = new Map<string, Promise<void>>();
/** The PGlite engine behind an embedded pool, for the few things pg's driver cannot carry (COPY, see copy.ts). */
const engines = new WeakMap<pg.Pool, import('@electric-sql/pglite').PGlite>();

/**
 * PostgreSQL's default shared_buffers (128MB) is allocated and touched inside the WASM heap of every
 * instance, ~100 MB of RSS each; the operating system caches the data files anyway (PGlite's files are
 * real files), so a small buffer pool costs little speed here and keeps an idle server light.
 */
const EMBEDDED_SHARED_BUFFERS = '16MB';

export function embeddedEngine(pool: pg.Pool): import('@electric-sql/pglite').PGlite | undefined {
  return engines.get(pool);
}

export function pgliteDirectory(url: string, cwd = process.cwd()): string {
  const raw = url.replace(/^pglite:\/\//i, '');
  return path.resolve(cwd, raw);
}

/** Whether this process has the embedded database of a pglite:// URL open now, and how many use it. */
export function embeddedDatabaseState(url: string, cwd = process.cwd()): { open: boolean; users: number } {
  const record = embedded.get(pgliteDirectory(url, cwd));
  return { open: record !== undefined, users: record?.users ?? 0 };
}

/** Closes every embedded database that no one uses now (kept open only for its idle period), so that a
 * process that is done can exit without waiting for idle timers. */
export async function closeUnusedEmbeddedDatabases(): Promise<void> {
  await Promise.all([...embedded.values()].filter((record) => record.users === 0).map(shutEmbedded));
  await Promise.all(closing.values());
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
    const record = await acquireEmbedded(dir);
    const entry = await record.ready.catch((error) => {
      releaseEmbedded(record, 0);
      throw error;
    });
    let closed = false;
    return {
      kind,
      pool: entry.pool,
      label: `pglite://${dir}`,
      close: async () => {
        if (closed) return;
        closed = true;
        await releaseEmbedded(record, options.idleCloseMs ?? 0);
      },
    };
  }
  if (url.startsWith('enc:')) {
    throw new Error('The stored db_connection is encrypted with another key: set DATA_PIPELINE_SECRET_KEY to the key it was stored with');
  }
  throw new Error(`Unsupported database URL ${maskConnectionString(url)}: use postgresql://, postgres:// or pglite://<directory>`);
}

/** Counts a new user of the directory's instance (opening it if needed) before anything else can run,
 * so that an idle timer firing meanwhile sees the user and leaves the instance open. */
async function acquireEmbedded(dir: string): Promise<EmbeddedRecord> {
  for (let pending = closing.get(dir); pending; pending = closing.get(dir)) await pending;
  let record = embedded.get(dir);
  if (!record) {
    const created: EmbeddedRecord = { dir, ready: openEmbedded(dir), users: 0 };
    created.ready.catch(() => {
      if (embedded.get(dir) === created) embedded.delete(dir);
    });
    embedded.set(dir, created);
    record = created;
  }
  record.users += 1;
  clearTimeout(record.idleTimer);
  record.idleTimer = undefined;
  return record;
}

function releaseEmbedded(record: EmbeddedRecord, idleCloseMs: number): Promise<void> {
  record.users -= 1;
  if (record.users > 0) return Promise.resolve();
  if (idleCloseMs <= 0) return shutEmbedded(record);
  clearTimeout(record.idleTimer);
  // unref: the timer must not keep a finished process alive; App.close() closes unused instances at once.
  record.idleTimer = setTimeout(() => void shutEmbedded(record).catch(() => undefined), idleCloseMs).unref();
  return Promise.resolve();
}

function shutEmbedded(record: EmbeddedRecord): Promise<void> {
  if (record.users > 0 || embedded.get(record.dir) !== record) return closing.get(record.dir) ?? Promise.resolve();
  clearTimeout(record.idleTimer);
  embedded.delete(record.dir);
  const done = (async () => {
    const entry = await record.ready.catch(() => undefined);
    if (!entry) return;
    await entry.pool.end();
    await entry.pglite.close();
  })().finally(() => closing.delete(record.dir));
  closing.set(record.dir, done);
  return done;
}

/**
 * Fresh data directories are copied from a template made by one initdb: initdb of a PGlite cluster took
 * ~15 s on these machines (under load), copying the 39 MB template and opening it ~2 s. The template lives
 * in the project's own node_modules/.cache, keyed by the PGlite version (a data directory is only good for
 * the engine that made it).
 */
const TEMPLATE_ROOT = fileURLToPath(new URL('../../node_modules/.cache/data-pipeline/', import.meta.url));

function pgliteVersion(): string {
  const entry = fileURLToPath(import.meta.resolve('@electric-sql/pglite'));
  const manifest = path.join(path.dirname(entry), '..', 'package.json');
  return (JSON.parse(fs.readFileSync(manifest, 'utf8')) as { version: string }).version;
}

function isEmptyDirectory(dir: string): boolean {
  try {
    return fs.readdirSync(dir).length === 0;
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return true;
    throw error;
  }
}

type PGliteClass = typeof import('@electric-sql/pglite').PGlite;

/** Fills an empty data directory from the template (making the template first if there is none).
 * Returns false when that is not possible here (e.g. node_modules is read-only): then initdb runs in place. */
async function copyFromTemplate(dir: string, PGlite: PGliteClass): Promise<boolean> {
  try {
    const template = path.join(TEMPLATE_ROOT, `pglite-${pgliteVersion()}`);
    if (!fs.existsSync(path.join(template, 'PG_VERSION'))) {
      // Made aside and renamed into place, so that a process starting meanwhile never copies half of it.
      const making = path.join(TEMPLATE_ROOT, `making-${process.pid}-${randomUUID().slice(0, 8)}`);
      fs.mkdirSync(making, { recursive: true });
      try {
        const db = await PGlite.create({ dataDir: making });
        await db.close();
        fs.renameSync(making, template);
      } catch (error) {
        fs.rmSync(making, { recursive: true, force: true });
        // Another process renamed its template into place first: use that one.
        if (!fs.existsSync(path.join(template, 'PG_VERSION'))) throw error;
      }
    }
    fs.cpSync(template, dir, { recursive: true });
    return true;
  } catch {
    // The directory was empty: take back whatever part of the copy landed in it.
    if (fs.existsSync(dir)) for (const name of fs.readdirSync(dir)) fs.rmSync(path.join(dir, name), { recursive: true, force: true });
    return false;
  }
}

async function openEmbedded(dir: string): Promise<EmbeddedEntry> {
  const [{ PGlite }, { vector }, { createPgConfig }] = await Promise.all([
    import('@electric-sql/pglite'),
    import('@electric-sql/pglite-pgvector'),
    import('@electric-sql/pglite/node-postgres'),
  ]);
  if (isEmptyDirectory(dir)) await copyFromTemplate(dir, PGlite);
  fs.mkdirSync(dir, { recursive: true });
  const pglite = await PGlite.create({
    dataDir: dir,
    extensions: { vector },
    startParams: [...PGlite.defaultStartParams, '-c', `shared_buffers=${EMBEDDED_SHARED_BUFFERS}`],
  });
  const pool = new pg.Pool(createPgConfig(pglite) as unknown as pg.PoolConfig);
  engines.set(pool, pglite);
  return { pglite, pool };
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
