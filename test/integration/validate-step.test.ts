// sql_validation on the demo database (real PostgreSQL): classification, deterministic fixes, row check,
// EXPLAIN-only rules, timeouts, files for modify_original_file true/false, report, progress, counters.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { needsPostgresServer, type TestDatabase } from '../helpers/postgres.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { createDemoDatabase } from '../helpers/demo.ts';
import { buildSchemaFile } from '../helpers/qa-schema.ts';
import { connect, type Database } from '../../src/postgres/connect.ts';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import { runSqlValidation } from '../../src/pipeline/validate/step.ts';
import { SqlChecker } from '../../src/pipeline/validate/checker.ts';
import { SCHEMA_FILE, VALIDATION_RESULT_FILE, type ValidationResultFile } from '../../src/pipeline/artifacts.ts';
import type { ValidationReport } from '../../src/pipeline/validate/report.ts';
import { DEMO_BROKEN_PAIRS, DEMO_VALID_PAIRS, validationContext, writePairFile } from '../fixtures/validate-pairs.ts';

let demo: TestDatabase;
let db: Database;
let schemaJson: string;

const dirs: string[] = [];
function tempDir(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-validate-'));
  dirs.push(dir);
  return dir;
}
function readJson<T>(dir: string, name: string): T {
  return JSON.parse(fs.readFileSync(path.join(dir, name), 'utf8')) as T;
}
function reportOf(dir: string): ValidationReport {
  const result = readJson<ValidationResultFile>(dir, VALIDATION_RESULT_FILE);
  return readJson<ValidationReport>(dir, result.report_file);
}

before(async () => {
  demo = await createDemoDatabase({ days: 60 });
  db = await connect(demo.url);
  const admin = new pg.Client({ connectionString: demo.url });
  await admin.connect();
  // A user function (not on the allow-list) and a mixed-case table for the identifier fixes.
  await admin.query(`CREATE FUNCTION public.area_label(text) RETURNS text LANGUAGE sql VOLATILE AS $$ SELECT '[' || $1 || ']' $$`);
  await admin.query(`CREATE TABLE public."CamelStats" ("Id" int PRIMARY KEY, "DayCount" int)`);
  await admin.query(`INSERT INTO public."CamelStats" VALUES (1, 10), (2, 20)`);
  await admin.end();
  schemaJson = JSON.stringify(await buildSchemaFile(demo.url, { tables: [...DEMO_TABLES, 'CamelStats'] }));
});

after(async () => {
  await db?.close();
  await demo?.drop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('sql_validation on real PostgreSQL (demo database)', { skip: needsPostgresServer }, () => {
  it('valid demo pairs all pass, with a row check; broken ones are classified at the offending token', async () => {
    const dir = tempDir();
    const pairs = [...DEMO_VALID_PAIRS, ...DEMO_BROKEN_PAIRS.map(({ question, sql }) => ({ question, sql }))];
    const pairFile = writePairFile(dir, pairs);
    const ctx = validationContext({ dir, db, parameters: { modify_original_file: false } });
    const result = await runSqlValidation(ctx);
    const report = reportOf(dir);
    for (let i = 0; i < DEMO_VALID_PAIRS.length; i += 1) {
      const p = report.pairs[i]!;
      assert.equal(p.status, 'valid', `#${i} ${p.error?.message}`);
      assert.equal(p.row_check.status, 'rows');
      assert.ok(p.row_check.rows! > 0);
      assert.ok(p.final_sql!.endsWith(';'));
    }
    for (let j = 0; j < DEMO_BROKEN_PAIRS.length; j += 1) {
      const expected = DEMO_BROKEN_PAIRS[j]!;
      const p = report.pairs[DEMO_VALID_PAIRS.length + j]!;
      assert.equal(p.status, 'invalid', expected.sql);
      assert.equal(p.error_class, expected.class, `${expected.sql}: ${p.error?.message}`);
      if (expected.token) assert.equal(p.error?.token, expected.token, expected.sql);
    }
    assert.equal(report.pairs.find((p) => p.error_class === 'runtime')!.error!.phase, 'execute');
    // Counters, progress, summary, files.
    assert.deepEqual(ctx.counters, { valid: DEMO_VALID_PAIRS.length, invalid: DEMO_BROKEN_PAIRS.length });
    const n = pairs.length;
    const parsed = report.pairs.filter((p) => p.stages.parsed).length;
    assert.deepEqual(result && result.counters, {
      valid: DEMO_VALID_PAIRS.length,
      empty: 0,
      repaired: 0,
      invalid: DEMO_BROKEN_PAIRS.length,
      // The funnel: no schema.json in this directory, so nothing is linted and lint-clean = EXPLAIN-valid.
      generated: n,
      parsed,
      explain_valid: DEMO_VALID_PAIRS.length,
      lint_clean: DEMO_VALID_PAIRS.length,
      // No LLM: no meaning check, so meaning-checked = lint-clean.
      meaning_checked: DEMO_VALID_PAIRS.length,
      meaning_mismatches: 0,
      repaired_in_funnel: 0,
      deduplicated: DEMO_VALID_PAIRS.length,
      kept: DEMO_VALID_PAIRS.length,
      lint_errors: 0,
      lint_warnings: 0,
    });
    assert.ok(parsed < n && parsed >= DEMO_VALID_PAIRS.length, `parsed ${parsed}`);
    assert.equal(report.lint.enabled, false);
    assert.match(report.lint.skipped_reason ?? '', /schema\.json/);
    for (const p of report.pairs.filter((x) => !x.kept)) assert.ok(p.drop_reason, `#${p.index} has no drop reason`);
    assert.deepEqual(ctx.progressLog.at(-1), { done: pairs.length, total: pairs.length, unit: 'pairs' });
    assert.equal(ctx.progressLog[0]!.done, 0);
    const vr = readJson<ValidationResultFile>(dir, VALIDATION_RESULT_FILE);
    assert.equal(vr.pair_file, pairFile);
    assert.equal(vr.validated_file, pairFile.replace('_pair.json', '_pair_validated.json'));
    assert.equal(vr.total, pairs.length);
    assert.match(vr.report_file, /^sql_validation_\d{8}_\d{6}_report\.json$/);
    assert.match(vr.summary_file, /^sql_validation_\d{8}_\d{6}_summary\.txt$/);
    const summary = fs.readFileSync(path.join(dir, vr.summary_file), 'utf8');
    assert.match(summary, /无效\(已丢弃\): 7/);
    // The original is untouched; the validated file holds exactly the pairs that passed.
    assert.deepEqual(readJson(dir, pairFile), pairs);
    const validated = readJson<Array<{ question: string; sql: string }>>(dir, vr.validated_file);
    assert.equal(validated.length, DEMO_VALID_PAIRS.length);
    assert.deepEqual(validated.map((p) => p.question), DEMO_VALID_PAIRS.map((p) => p.question));
    assert.ok(!fs.existsSync(path.join(dir, `${pairFile}.backup`)));
    // Without an LLM, the failure log says so; no LLM attempts are recorded.
    assert.ok(ctx.logs.some((l) => l.level === 'WARNING' && l.message.includes('SQL验证失败')));
    assert.equal(report.totals.llm_attempts, 0);
  });

  it('modify_original_file=true: .backup of the original, pair file rewritten (repairs in place, failures removed); a re-run judges the full original set again and keeps the first backup', async () => {
    const dir = tempDir();
    fs.writeFileSync(path.join(dir, SCHEMA_FILE), schemaJson);
    const pairs = [
      { question: '公司数', sql: 'SELECT COUNT(*) FROM bss_company' },
      { question: '坏的', sql: 'SELECT nope FROM bss_company' },
      { question: '大小写', sql: 'SELECT "Company_Name" FROM bss_company' },
    ];
    const pairFile = writePairFile(dir, pairs);
    const original = fs.readFileSync(path.join(dir, pairFile), 'utf8');
    const ctx = validationContext({ dir, db, parameters: { modify_original_file: true, enable_llm_repair: false } });
    await runSqlValidation(ctx);
    assert.equal(fs.readFileSync(path.join(dir, `${pairFile}.backup`), 'utf8'), original);
    const rewritten = readJson<Array<{ question: string; sql: string }>>(dir, pairFile);
    assert.deepEqual(rewritten, [
      { question: '公司数', sql: 'SELECT COUNT(*) FROM bss_company;' },
      { question: '大小写', sql: 'SELECT company_name FROM bss_company;' },
    ]);
    const vr = readJson<ValidationResultFile>(dir, VALIDATION_RESULT_FILE);
    assert.equal(vr.validated_file, pairFile);
    assert.deepEqual([vr.valid, vr.repaired, vr.invalid, vr.empty], [1, 1, 1, 0]);
    const report = reportOf(dir);
    assert.equal(report.backup_file, `${pairFile}.backup`);
    assert.equal(report.pairs[2]!.attempts[0]!.fix, 'identifier_case');
    assert.equal(report.pairs[2]!.shape_changed, true, 'the output column name changed case');
    assert.equal(report.catalog_source, 'schema.json');
    // Re-run: judges the set as generated (the backup), not the rewritten file; the backup still holds the original.
    await new Promise((r) => setTimeout(r, 1100)); // a new report time stamp
    await runSqlValidation(validationContext({ dir, db, parameters: { modify_original_file: true } }));
    assert.equal(fs.readFileSync(path.join(dir, `${pairFile}.backup`), 'utf8'), original);
    assert.deepEqual(readJson<unknown[]>(dir, pairFile), rewritten);
    const again = readJson<ValidationResultFile>(dir, VALIDATION_RESULT_FILE);
    assert.deepEqual([again.total, again.valid, again.repaired, again.invalid], [3, 1, 1, 1]);
  });

  it('deterministic fixes without an LLM: identifier case and quoting, qualification, code fences; the schema comes from the database when schema.json is absent', async () => {
    const dir = tempDir();
    const pairs = [
      { question: 'q1', sql: 'SELECT daycount FROM camelstats' },
      { question: 'q2', sql: 'SELECT a.company_name, a.service_area_name FROM bss_service_area a JOIN bss_company c ON c.id = a.company_id' },
      {
        question: 'q3',
        sql: 'SELECT service_area_id, SUM(customer_count) FROM bss_car_day_count c JOIN bss_section_route_area_link l ON l.service_area_id = c.service_area_id GROUP BY 1',
      },
      { question: 'q4', sql: '```sql\nSELECT COUNT(*) FROM "BSS_COMPANY"\n```' },
      { question: 'q5', sql: 'SELECT id FROM bss_service_area a JOIN bss_company c ON c.id = a.company_id' },
    ];
    writePairFile(dir, pairs);
    const ctx = validationContext({ dir, db, parameters: { modify_original_file: false } });
    await runSqlValidation(ctx);
    const report = reportOf(dir);
    assert.equal(report.catalog_source, 'database');
    const [p1, p2, p3, p4, p5] = report.pairs;
    assert.equal(p1!.status, 'repaired');
    assert.equal(p1!.final_sql, 'SELECT "DayCount" FROM "CamelStats";');
    assert.deepEqual(p1!.attempts.map((a) => a.fix), ['identifier_case', 'identifier_case']);
    assert.equal(p2!.status, 'repaired');
    assert.equal(p2!.final_sql, 'SELECT c.company_name, a.service_area_name FROM bss_service_area a JOIN bss_company c ON c.id = a.company_id;');
    assert.equal(p2!.attempts[0]!.fix, 'qualification');
    assert.equal(p2!.shape_changed, false);
    assert.equal(p3!.status, 'repaired', JSON.stringify(p3!.attempts));
    assert.match(p3!.final_sql!, /^SELECT c\.service_area_id, SUM/);
    assert.equal(p4!.status, 'repaired');
    assert.deepEqual(p4!.attempts.map((a) => a.fix), ['code_fence', 'identifier_case']);
    assert.equal(p4!.final_sql, 'SELECT COUNT(*) FROM bss_company;');
    assert.equal(p5!.status, 'invalid', 'a.id and c.id are not equal: no certain fix');
    assert.equal(p5!.error_class, 'ambiguous');
    assert.deepEqual(ctx.counters, { repaired: 4, invalid: 1 });
  });

  it('row check: empty results flagged (and kept), EXPLAIN-only for functions off the allow-list, execute_check=false, cost bound', async () => {
    const dir = tempDir();
    const pairs = [
      { question: 'empty', sql: "SELECT * FROM bss_company WHERE company_name = '不存在的公司'" },
      { question: 'user fn', sql: 'SELECT public.area_label(service_area_name) FROM bss_service_area' },
      { question: 'huge', sql: 'SELECT count(*) FROM generate_series(1, 500000000) g' },
      { question: 'current_setting', sql: "SELECT current_setting('search_path')" },
    ];
    writePairFile(dir, pairs);
    const ctx = validationContext({ dir, db, parameters: { modify_original_file: false } });
    await runSqlValidation(ctx);
    const report = reportOf(dir);
    const [empty, fn, huge, setting] = report.pairs;
    assert.equal(empty!.status, 'empty');
    assert.equal(empty!.kept, true);
    assert.deepEqual(empty!.row_check, { status: 'empty', rows: 0, limit: 5 });
    assert.equal(fn!.status, 'valid');
    assert.equal(fn!.row_check.status, 'skipped');
    assert.match(fn!.explain_only_reason!, /EXPLAIN only \(functions not on the allow-list: public\.area_label\)/);
    assert.equal(huge!.status, 'valid');
    assert.match(huge!.explain_only_reason!, /estimated cost/);
    assert.match(setting!.explain_only_reason!, /current_setting/);
    assert.deepEqual(ctx.counters, { empty: 1, valid: 3 });
    assert.equal(report.totals.explain_only, 3);
    assert.match(fs.readFileSync(path.join(dir, readJson<ValidationResultFile>(dir, VALIDATION_RESULT_FILE).summary_file), 'utf8'), /3 条仅EXPLAIN/);

    const dir2 = tempDir();
    writePairFile(dir2, pairs.slice(0, 1));
    await runSqlValidation(validationContext({ dir: dir2, db, parameters: { modify_original_file: false, execute_check: false } }));
    const r2 = reportOf(dir2);
    assert.equal(r2.pairs[0]!.status, 'valid', 'without the row check an empty result is not seen');
    assert.equal(r2.pairs[0]!.explain_only_reason, 'execute_check disabled');
  });

  it('statement timeout: a long row check is cut by the server and the pair stays valid (proven by EXPLAIN)', async () => {
    const checker = new SqlChecker(db, { timeoutMs: 300, maxExecuteCost: Number.MAX_SAFE_INTEGER });
    const t0 = Date.now();
    const r = await checker.check('SELECT count(*) FROM generate_series(1, 500000000) g');
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.equal(r.ok, true);
    assert.equal(r.rowCheck.status, 'timeout');
    assert.match(r.rowCheck.reason!, /statement timeout/);
  });

  it('client-side timeout: when the server does not enforce statement_timeout, the connection is dropped and its query ends', async () => {
    // A pool whose clients ignore the SET LOCAL statement_timeout (as PGlite does).
    const inner = db.pool;
    const fakePool = {
      options: { max: 2 },
      async connect() {
        const client = await inner.connect();
        const query = client.query.bind(client) as (...args: unknown[]) => unknown;
        (client as unknown as { query: unknown }).query = (config: unknown, ...rest: unknown[]) =>
          query(typeof config === 'string' ? config.replace(/SET LOCAL statement_timeout = \d+;/, '') : config, ...rest);
        return client;
      },
    };
    const checker = new SqlChecker({ kind: 'postgres', pool: fakePool as unknown as pg.Pool, label: 'x', close: async () => undefined }, {
      timeoutMs: 300,
      clientGraceMs: 200,
      maxExecuteCost: Number.MAX_SAFE_INTEGER,
    });
    const t0 = Date.now();
    const r = await checker.check('SELECT count(*) FROM generate_series(1, 2000000000) g -- dp-client-timeout-probe');
    assert.ok(Date.now() - t0 < 5000, `took ${Date.now() - t0} ms`);
    assert.equal(r.ok, true);
    assert.equal(r.rowCheck.status, 'timeout');
    assert.match(r.rowCheck.reason!, /client-side timeout/);
    // The dropped connection's backend goes away (the server notices the closed socket).
    const deadline = Date.now() + 10_000;
    for (;;) {
      const { rows } = await inner.query(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE query LIKE '%dp-client-timeout-probe%' AND pid <> pg_backend_pid()`);
      if (rows[0].n === 0) break;
      if (Date.now() > deadline) {
        // The server only notices a closed socket when it writes; cancel it ourselves so the test leaves nothing running.
        await inner.query(`SELECT pg_cancel_backend(pid) FROM pg_stat_activity WHERE query LIKE '%dp-client-timeout-probe%' AND pid <> pg_backend_pid()`);
        assert.fail('the timed-out query was still running 10 s after the connection was dropped');
      }
      await new Promise((res) => setTimeout(res, 200));
    }
  });

  it('malformed pairs are invalid (malformed_pair); a missing pair file fails the step with a clear code', async () => {
    const dir = tempDir();
    writePairFile(dir, [{ question: 'ok', sql: 'SELECT 1' }, { question: 3, sql: 'SELECT 1' }, { sql: 'SELECT 1' }, null, { question: 'x', sql: ['SELECT 1'] }]);
    const ctx = validationContext({ dir, db, parameters: { modify_original_file: false } });
    await runSqlValidation(ctx);
    const report = reportOf(dir);
    assert.deepEqual(report.pairs.map((p) => p.status), ['valid', 'invalid', 'invalid', 'invalid', 'invalid']);
    assert.ok(report.pairs.slice(1).every((p) => p.error_class === 'malformed_pair'));

    const empty = tempDir();
    await assert.rejects(runSqlValidation(validationContext({ dir: empty, db })), (e: Error & { code?: string }) => e.code === 'PAIR_FILE_NOT_FOUND');
    fs.writeFileSync(path.join(empty, 'qs_x_20250101_000000_pair.json'), '{"not": "an array"}');
    await assert.rejects(runSqlValidation(validationContext({ dir: empty, db })), (e: Error & { code?: string }) => e.code === 'PAIR_FILE_INVALID');
  });

  it('picks the newest pair file and runs checks in parallel on the pool', async () => {
    const dir = tempDir();
    writePairFile(dir, [{ question: 'old', sql: 'SELECT nope' }], 'highway_db', '20240101_000000');
    const newest = writePairFile(dir, Array.from({ length: 40 }, (_, i) => ({ question: `q${i}`, sql: `SELECT ${i} AS n, count(*) FROM bss_company` })), 'highway_db', '20250101_000000');
    const ctx = validationContext({ dir, db, parameters: { modify_original_file: false } });
    await runSqlValidation(ctx);
    const report = reportOf(dir);
    assert.equal(report.pair_file, newest);
    assert.equal(report.options.concurrency, 10);
    assert.equal(report.totals.valid, 40);
  });

  it('cancellation stops between pairs: no result file, no connection left checked out', async () => {
    const dir = tempDir();
    writePairFile(dir, Array.from({ length: 200 }, (_, i) => ({ question: `q${i}`, sql: `SELECT ${i} AS n FROM bss_company` })));
    fs.writeFileSync(path.join(dir, VALIDATION_RESULT_FILE), '{"validated_file": "stale.json"}');
    const abort = new AbortController();
    const ctx = validationContext({ dir, db, signal: abort.signal, parameters: { modify_original_file: true } });
    const progress = ctx.progress;
    (ctx as { progress: typeof progress }).progress = (done, total, unit) => {
      progress(done, total, unit);
      if (done >= 20) abort.abort('cancelled');
    };
    await assert.rejects(runSqlValidation(ctx), /cancelled/);
    const done = ctx.progressLog.at(-1)!.done;
    assert.ok(done >= 20 && done < 200, `stopped after ${done} pairs`);
    assert.equal(fs.existsSync(path.join(dir, VALIDATION_RESULT_FILE)), false, 'training_load sees no result (not even a stale one) of a cancelled run');
    assert.equal(fs.readdirSync(dir).filter((f) => f.endsWith('.backup')).length, 0, 'the pair file was not touched');
    assert.equal(db.pool.totalCount - db.pool.idleCount, 0, 'every connection released');
  });

  it('a lost database connection fails the step (DATABASE_CONNECTION_ERROR) instead of marking pairs invalid', async () => {
    const dir = tempDir();
    writePairFile(dir, [{ question: 'q', sql: 'SELECT 1' }]);
    const refusing: Database = { kind: 'postgres', label: 'x', close: async () => undefined, pool: { options: { max: 2 }, connect: async () => { throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:1'), { code: 'ECONNREFUSED' }); } } as unknown as pg.Pool };
    await assert.rejects(runSqlValidation(validationContext({ dir, db: refusing })), (e: Error & { code?: string }) => e.code === 'DATABASE_CONNECTION_ERROR' && /ECONNREFUSED/.test(e.message));
    // A backend terminated in the middle of a check (57P01 admin_shutdown).
    const inner = db.pool;
    const dying: Database = {
      kind: 'postgres',
      label: 'x',
      close: async () => undefined,
      pool: {
        options: { max: 2 },
        async connect() {
          const client = await inner.connect();
          const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
          (client as unknown as { query: unknown }).query = async (config: unknown, ...rest: unknown[]) => {
            if (typeof config === 'object' && String((config as { text: string }).text).startsWith('EXPLAIN')) {
              throw Object.assign(new Error('terminating connection due to administrator command'), { code: '57P01' });
            }
            return query(config, ...rest);
          };
          return client;
        },
      } as unknown as pg.Pool,
    };
    await assert.rejects(runSqlValidation(validationContext({ dir, db: dying })), (e: Error & { code?: string }) => e.code === 'DATABASE_CONNECTION_ERROR');
    assert.equal(fs.existsSync(path.join(dir, VALIDATION_RESULT_FILE)), false);
    // A transient failure (out of shared memory, 53200) is retried on a fresh connection.
    let failures = 1;
    const flaky: Database = {
      ...dying,
      pool: {
        options: { max: 2 },
        async connect() {
          const client = await inner.connect();
          const query = client.query.bind(client) as (...a: unknown[]) => Promise<unknown>;
          (client as unknown as { query: unknown }).query = async (config: unknown, ...rest: unknown[]) => {
            if (typeof config === 'object' && String((config as { text: string }).text).startsWith('EXPLAIN') && failures-- > 0) {
              throw Object.assign(new Error('out of shared memory'), { code: '53200' });
            }
            return query(config, ...rest);
          };
          return client;
        },
      } as unknown as pg.Pool,
    };
    await runSqlValidation(validationContext({ dir, db: flaky }));
    assert.equal(reportOf(dir).pairs[0]!.status, 'valid');
  });

  it('a SQL text shared by several questions is checked once; each pair keeps its own outcome', async () => {
    const dir = tempDir();
    writePairFile(dir, [
      { question: '公司有几家？', sql: 'SELECT COUNT(*) FROM bss_company' },
      { question: '一共多少公司？', sql: 'SELECT COUNT(*) FROM bss_company' },
      { question: '坏1', sql: 'SELECT nope FROM bss_company' },
      { question: '坏2', sql: 'SELECT nope FROM bss_company' },
    ]);
    const ctx = validationContext({ dir, db, parameters: { modify_original_file: false } });
    await runSqlValidation(ctx);
    const report = reportOf(dir);
    assert.deepEqual(report.pairs.map((p) => [p.status, p.same_sql_as]), [['valid', null], ['valid', 0], ['invalid', null], ['invalid', 2]]);
    assert.equal(report.pairs[1]!.timings.explain_ms, 0);
    assert.equal(report.totals.same_sql, 2);
    assert.deepEqual(ctx.counters, { valid: 2, invalid: 2 });
  });
});
