// The safety acceptance test of sql_validation: hostile queries go through the step's own path
// (runSqlValidation → parse gate → function rules → EXPLAIN / row check in a READ ONLY transaction) and
// each is refused or contained; afterwards the database's data, tables, sequences, settings, locks and
// other sessions are as they were. Runs against real PostgreSQL and embedded PGlite.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { needsPostgresServer, type TestDatabase } from '../helpers/postgres.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDemoDatabase } from '../helpers/demo.ts';
import { connect, type Database } from '../../src/postgres/connect.ts';
import { DEMO_TABLES, seedDemoDatabase } from '../../demo/highway-db.ts';
import { runSqlValidation } from '../../src/pipeline/validate/step.ts';
import { VALIDATION_RESULT_FILE, type ValidationResultFile } from '../../src/pipeline/artifacts.ts';
import type { ValidationReport } from '../../src/pipeline/validate/report.ts';
import { HOSTILE_SQL, validationContext, writePairFile } from '../fixtures/validate-pairs.ts';

const PWNED = '/tmp/dp_pwned';

/** Functions a careless or hostile schema might hold: the planner may run an IMMUTABLE one during EXPLAIN. */
const SETUP = [
  'CREATE SEQUENCE dp_probe_seq',
  "SELECT nextval('dp_probe_seq')",
  `CREATE FUNCTION public.evil_immutable(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
     BEGIN PERFORM nextval('dp_probe_seq'); DELETE FROM public.bss_company; RETURN $1; END $$`,
  `CREATE FUNCTION public.evil_volatile() RETURNS int LANGUAGE plpgsql VOLATILE AS $$
     BEGIN DROP TABLE public.bss_company; RETURN 1; END $$`,
  `CREATE FUNCTION public.evil_settings(int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$
     BEGIN PERFORM set_config('search_path', 'evil', false); PERFORM set_config('statement_timeout', '1', false); RETURN $1; END $$`,
];

const CONTAINED_SQL = [
  'SELECT public.evil_immutable(1)',
  'SELECT public.evil_volatile()',
  'SELECT public.evil_settings(1) FROM bss_company',
  'SELECT count(*) FROM generate_series(1, 1000000000) g',
];

interface Snapshot {
  relations: string[];
  data: Record<string, string>;
  sequence: { last_value: string; is_called: boolean };
  settings: Record<string, string>;
  advisoryLocks: number;
}

async function snapshot(pool: pg.Pool): Promise<Snapshot> {
  const relations = (
    await pool.query<{ r: string }>(
      `SELECT n.nspname || '.' || c.relname || ':' || c.relkind::text AS r FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast') AND n.nspname NOT LIKE 'pg_temp%' AND n.nspname NOT LIKE 'pg_toast_temp%'
       ORDER BY 1`,
    )
  ).rows.map((r) => r.r);
  const data: Record<string, string> = {};
  for (const t of DEMO_TABLES) {
    const { rows } = await pool.query(`SELECT count(*) AS n, md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) AS h FROM public.${t} t`);
    data[t] = `${rows[0].n}:${rows[0].h}`;
  }
  const sequence = (await pool.query(`SELECT last_value::text, is_called FROM dp_probe_seq`)).rows[0];
  const settings = Object.fromEntries(
    (await pool.query<{ name: string; setting: string }>(`SELECT name, setting FROM pg_settings WHERE name <> 'transaction_read_only' AND name NOT LIKE 'plpgsql.%' ORDER BY name`)).rows.map((r) => [r.name, r.setting]),
  );
  const advisoryLocks = Number((await pool.query(`SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`)).rows[0].n);
  return { relations, data, sequence, settings, advisoryLocks };
}

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-validate-safety-'));
  dirs.push(dir);
  return dir;
}
after(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

async function runHostile(db: Database) {
  const dir = tempDir();
  const sqls = [...HOSTILE_SQL, ...CONTAINED_SQL];
  writePairFile(dir, sqls.map((sql, i) => ({ question: `hostile ${i}`, sql })));
  const ctx = validationContext({ dir, db, parameters: { modify_original_file: false, enable_llm_repair: false } });
  const t0 = Date.now();
  await runSqlValidation(ctx);
  const elapsed = Date.now() - t0;
  const vr = JSON.parse(fs.readFileSync(path.join(dir, VALIDATION_RESULT_FILE), 'utf8')) as ValidationResultFile;
  const report = JSON.parse(fs.readFileSync(path.join(dir, vr.report_file), 'utf8')) as ValidationReport;
  const validated = JSON.parse(fs.readFileSync(path.join(dir, vr.validated_file), 'utf8')) as Array<{ sql: string }>;
  return { report, validated, elapsed, sqls };
}

function assertRefusedOrContained(run: Awaited<ReturnType<typeof runHostile>>) {
  const { report, sqls } = run;
  for (let i = 0; i < HOSTILE_SQL.length; i += 1) {
    const p = report.pairs[i]!;
    assert.equal(p.status, 'invalid', `hostile query not refused: ${sqls[i]}`);
    assert.ok(['parse_gate', 'unsafe_function'].includes(p.error_class!), `${sqls[i]} → ${p.error_class}: ${p.error?.message}`);
    assert.equal(p.error!.phase === 'parse' || p.error!.phase === 'safety', true, 'refused before the database');
    assert.ok(p.error!.message.length > 10, 'says why');
  }
  const [immutable, volatile, settings, huge] = report.pairs.slice(HOSTILE_SQL.length);
  // The planner folds the IMMUTABLE function during EXPLAIN: the read-only transaction stops its nextval.
  assert.equal(immutable!.status, 'invalid');
  assert.equal(immutable!.error_class, 'read_only', immutable!.error?.message);
  assert.equal(immutable!.error!.sqlstate, '25006');
  // A VOLATILE user function is not evaluated by EXPLAIN and never executed (not on the allow-list).
  assert.equal(volatile!.status, 'valid');
  assert.match(volatile!.explain_only_reason!, /public\.evil_volatile/);
  // set_config inside a folded function: allowed in a read-only transaction, undone by the rollback.
  assert.ok(settings!.status === 'valid' || settings!.status === 'invalid');
  // A huge query on allow-listed functions stays EXPLAIN-only by its cost estimate.
  assert.equal(huge!.status, 'valid');
  assert.match(huge!.explain_only_reason!, /estimated cost/);
}

function assertUnchanged(before: Snapshot, afterSnap: Snapshot) {
  assert.deepEqual(afterSnap.relations, before.relations, 'no relation created or dropped');
  assert.deepEqual(afterSnap.data, before.data, 'data unchanged');
  assert.deepEqual(afterSnap.sequence, before.sequence, 'sequence unchanged');
  // (plpgsql.* placeholders appear once the session has loaded plpgsql: not a change of any value.)
  const changed = Object.keys({ ...before.settings, ...afterSnap.settings }).filter((k) => before.settings[k] !== afterSnap.settings[k]);
  assert.deepEqual(changed.map((k) => `${k}: ${before.settings[k]} → ${afterSnap.settings[k]}`), [], 'settings unchanged');
  assert.equal(afterSnap.advisoryLocks, 0, 'no advisory lock held');
  assert.equal(fs.existsSync(PWNED), false, 'COPY TO PROGRAM did not run');
}

describe('sql_validation safety on real PostgreSQL', { skip: needsPostgresServer }, () => {
  let demo: TestDatabase;
  let db: Database;
  let bystander: pg.Client;

  before(async () => {
    fs.rmSync(PWNED, { force: true });
    demo = await createDemoDatabase({ days: 14 });
    const admin = new pg.Client({ connectionString: demo.url });
    await admin.connect();
    for (const s of SETUP) await admin.query(s);
    await admin.end();
    db = await connect(demo.url);
    bystander = new pg.Client({ connectionString: demo.url, application_name: 'dp-bystander' });
    await bystander.connect();
  });
  after(async () => {
    await bystander?.end().catch(() => undefined);
    await db?.close();
    await demo?.drop();
  });

  it('refuses or contains every hostile query; data, sequences, settings and other sessions are unchanged', async () => {
    const bystanderPid = (await bystander.query('SELECT pg_backend_pid() AS pid')).rows[0].pid as number;
    const before = await snapshot(db.pool);
    const run = await runHostile(db);
    assertRefusedOrContained(run);
    assert.equal(run.validated.length, 3, 'only the contained, harmless queries are kept');
    assert.ok(run.elapsed < 10_000, `pg_sleep(60) and the huge query must not run (took ${run.elapsed} ms)`);

    // Every connection of the step's pool is back to a clean session: no open transaction, no changed setting.
    const clients = await Promise.all(Array.from({ length: db.pool.totalCount }, () => db.pool.connect()));
    try {
      for (const c of clients) {
        const { rows } = await c.query(
          `SELECT current_setting('search_path') AS sp, current_setting('statement_timeout') AS st, current_setting('lock_timeout') AS lt,
                  current_setting('transaction_read_only') AS ro, now() = statement_timestamp() AS no_tx`,
        );
        assert.deepEqual(rows[0], { sp: before.settings.search_path, st: before.settings.statement_timeout, lt: before.settings.lock_timeout, ro: 'off', no_tx: true });
      }
    } finally {
      for (const c of clients) c.release();
    }
    assertUnchanged(before, await snapshot(db.pool));

    // Other sessions: the bystander is alive and was neither terminated nor cancelled; nothing is left
    // idle in a transaction or still running.
    assert.equal((await bystander.query('SELECT 1 AS ok')).rows[0].ok, 1);
    const others = await db.pool.query(
      `SELECT pid, state, query FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid() AND backend_type = 'client backend'`,
    );
    assert.ok(others.rows.some((r) => r.pid === bystanderPid), 'bystander still connected');
    assert.deepEqual(others.rows.filter((r) => String(r.state).startsWith('idle in transaction') || r.state === 'active'), []);
  });
});

describe('sql_validation safety on embedded PGlite', () => {
  let db: Database;
  let dataDir: string;

  before(async () => {
    fs.rmSync(PWNED, { force: true });
    dataDir = tempDir();
    db = await connect(`pglite://${dataDir}`);
    await seedDemoDatabase(db.pool, { days: 7 });
    for (const s of SETUP) await db.pool.query(s);
  });
  after(async () => {
    await db?.close();
    if (dataDir) fs.rmSync(dataDir, { recursive: true, force: true });
  });

  it('refuses or contains every hostile query; data, sequences and settings are unchanged; the session is clean', async () => {
    const before = await snapshot(db.pool);
    const run = await runHostile(db);
    assertRefusedOrContained(run);
    assert.equal(run.report.options.concurrency, 1, 'PGlite: one connection');
    assert.ok(run.elapsed < 10_000, `took ${run.elapsed} ms: pg_sleep(60) and the huge query must not run (PGlite cannot interrupt a query)`);
    const { rows } = await db.pool.query(
      `SELECT current_setting('search_path') AS sp, current_setting('transaction_read_only') AS ro, now() = statement_timestamp() AS no_tx`,
    );
    assert.deepEqual(rows[0], { sp: before.settings.search_path, ro: 'off', no_tx: true });
    assertUnchanged(before, await snapshot(db.pool));
    // The instance still takes writes from its owner (not left read-only or broken).
    await db.pool.query('CREATE TEMP TABLE dp_after_check (x int)');
    await db.pool.query('DROP TABLE dp_after_check');
  });
});
