// Pure parts of sql_validation: function safety lists, SQLSTATE classes, deterministic text fixes,
// prompt pieces, parameters, summary.
import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { functionSafety, functionVerdict, operatorAllowed } from '../../src/sql/functions.ts';
import { analyzeSql } from '../../src/sql/analyze.ts';
import { classifySqlState, REPAIRABLE_CLASSES } from '../../src/pipeline/validate/errors.ts';
import { normalizeStoredSql, unwrapCodeFence, deterministicFix } from '../../src/pipeline/validate/fixes.ts';
import { Catalog, identifier, renderTableDdl, type CatalogTable } from '../../src/pipeline/validate/catalog.ts';
import { buildRepairMessages, describeError, relevantTables } from '../../src/pipeline/validate/repair.ts';
import { validationSettings } from '../../src/pipeline/validate/step.ts';
import { parseStepParameters } from '../../src/pipeline/parameters.ts';
import type { SqlCheckResult } from '../../src/pipeline/validate/checker.ts';

describe('function safety', () => {
  it('denies functions with effects outside the query, in any schema', () => {
    for (const f of [
      'pg_sleep',
      'pg_catalog.pg_sleep',
      'pg_sleep_for',
      'pg_terminate_backend',
      'pg_cancel_backend',
      'set_config',
      'nextval',
      'setval',
      'currval',
      'dblink',
      'dblink_exec',
      'public.dblink_connect',
      'lo_import',
      'lo_export',
      'pg_read_file',
      'pg_read_binary_file',
      'pg_ls_dir',
      'pg_advisory_lock',
      'pg_try_advisory_xact_lock',
      'pg_notify',
      'query_to_xml',
      'pg_reload_conf',
      'pg_stat_reset',
      'pg_create_logical_replication_slot',
      'PG_SLEEP',
    ]) {
      assert.equal(functionVerdict(f), 'denied', f);
    }
  });

  it('allows side-effect-free built-ins (aggregates, window, date/time, string, math, casts)', () => {
    for (const f of ['count', 'sum', 'avg', 'rank', 'row_number', 'lag', 'date_trunc', 'pg_catalog.extract', 'to_char', 'now', 'upper', 'substring', 'string_agg', 'round', 'abs', 'coalesce', 'int4', 'numeric', 'generate_series', 'jsonb_build_object', 'pg_catalog.btrim', 'pg_catalog.timezone']) {
      assert.equal(functionVerdict(f), 'allowed', f);
    }
  });

  it('treats user and extension functions, and built-in names in other schemas, as unknown', () => {
    assert.equal(functionVerdict('my_func'), 'unknown');
    assert.equal(functionVerdict('public.count'), 'unknown');
    assert.equal(functionVerdict('current_setting'), 'unknown');
  });

  it('functionSafety sums up: executable only when all functions and operators are allowed', () => {
    assert.deepEqual(functionSafety(['count', 'sum'], ['=', 'like']), { denied: [], unknown: [], unknownOperators: [], executable: true });
    const s = functionSafety(['count', 'my_fn', 'pg_sleep'], ['=', '+++']);
    assert.deepEqual(s.denied, ['pg_sleep']);
    assert.deepEqual(s.unknown, ['my_fn']);
    assert.deepEqual(s.unknownOperators, ['+++']);
    assert.equal(s.executable, false);
    assert.equal(operatorAllowed('pg_catalog.='), true);
    assert.equal(operatorAllowed('myschema.='), false);
  });

  it('works on what analyzeSql finds (functions inside subqueries, FROM and special syntax)', async () => {
    const a = await analyzeSql("SELECT EXTRACT(YEAR FROM now()), TRIM(x), (SELECT pg_sleep(1)) FROM generate_series(1, 2) x");
    assert.ok(a.ok);
    const s = functionSafety(a.functions, a.operators);
    assert.deepEqual(s.denied, ['pg_sleep']);
  });
});

describe('SQLSTATE classes', () => {
  const cases: Array<[string, string, 'explain' | 'execute', string]> = [
    ['42P01', 'relation "x" does not exist', 'explain', 'undefined_table'],
    ['3F000', 'schema "x" does not exist', 'explain', 'undefined_table'],
    ['42703', 'column "x" does not exist', 'explain', 'undefined_column'],
    ['42883', 'function foo(integer) does not exist', 'explain', 'undefined_function'],
    ['42883', 'operator does not exist: character varying = integer', 'explain', 'type_mismatch'],
    ['42702', 'column reference "id" is ambiguous', 'explain', 'ambiguous'],
    ['42725', 'operator is not unique: date + unknown', 'explain', 'type_mismatch'],
    ['42804', 'argument of WHERE must be type boolean', 'explain', 'type_mismatch'],
    ['42601', 'syntax error', 'explain', 'syntax'],
    ['42803', 'must appear in the GROUP BY clause', 'explain', 'grouping'],
    ['57014', 'canceling statement due to statement timeout', 'execute', 'timeout'],
    ['55P03', 'canceling statement due to lock timeout', 'explain', 'timeout'],
    ['42501', 'permission denied for table x', 'explain', 'permission'],
    ['25006', 'cannot execute nextval() in a read-only transaction', 'execute', 'read_only'],
    ['22P02', 'invalid input syntax for type integer', 'explain', 'type_mismatch'],
    ['22P02', 'invalid input syntax for type integer', 'execute', 'runtime'],
    ['22012', 'division by zero', 'explain', 'runtime'],
    ['0A000', 'not supported', 'explain', 'other'],
  ];
  for (const [code, message, phase, expected] of cases) {
    it(`${code} (${phase}) → ${expected}`, () => assert.equal(classifySqlState(code, message, phase), expected));
  }
  it('timeouts, permissions and refusals are not repairable', () => {
    for (const c of ['timeout', 'permission', 'parse_gate', 'unsafe_function', 'read_only', 'malformed_pair'] as const) assert.equal(REPAIRABLE_CLASSES.has(c), false);
    for (const c of ['syntax', 'undefined_table', 'undefined_column', 'ambiguous', 'type_mismatch', 'grouping', 'runtime'] as const) assert.equal(REPAIRABLE_CLASSES.has(c), true);
  });
});

describe('text fixes and normalisation', () => {
  it('stores SQL with exactly one trailing semicolon, keeping a trailing comment out of its way', () => {
    assert.equal(normalizeStoredSql('SELECT 1'), 'SELECT 1;');
    assert.equal(normalizeStoredSql('  SELECT 1 ;; \n'), 'SELECT 1;');
    assert.equal(normalizeStoredSql('SELECT 1 -- note'), 'SELECT 1 -- note\n;');
    assert.equal(normalizeStoredSql("SELECT '--' AS x"), "SELECT '--' AS x;");
  });

  it('unwraps Markdown code fences and SQL: labels', () => {
    assert.equal(unwrapCodeFence('```sql\nSELECT 1;\n```'), 'SELECT 1;');
    assert.equal(unwrapCodeFence('Here you go:\n```\nSELECT 2\n```\nThanks'), 'SELECT 2');
    assert.equal(unwrapCodeFence('SQL: SELECT 3'), 'SELECT 3');
    assert.equal(unwrapCodeFence('SELECT 4'), undefined);
  });

  const table = (name: string, columns: string[], schema = 'public'): CatalogTable => ({
    schema,
    name,
    comment: null,
    columns: columns.map((c) => ({ name: c, type: 'text', nullable: true, comment: null, enumValues: null })),
    primaryKey: [],
    foreignKeys: [],
  });
  const catalog = new Catalog(
    [
      table('bss_company', ['id', 'company_name']),
      table('bss_service_area', ['id', 'service_area_name', 'company_id']),
      table('MixedCase', ['Id', 'ServiceName']),
    ],
    'schema.json',
  );
  async function failed(sql: string, error: Partial<SqlCheckResult['error']> & { class: any }): Promise<SqlCheckResult> {
    const a = await analyzeSql(sql);
    return {
      ok: false,
      sql,
      analysis: a.ok ? a : undefined,
      error: { phase: 'explain', message: '', ...error } as any,
      rowCheck: { status: 'skipped' },
      timings: { parse_ms: 0, explain_ms: 0, execute_ms: 0, total_ms: 0 },
    };
  }

  it('identifier_case: a table or column that exists only with another case', async () => {
    const t = await failed('SELECT * FROM "BSS_Company"', { class: 'undefined_table', position: 15, token: '"BSS_Company"', message: 'relation "BSS_Company" does not exist' });
    assert.deepEqual(deterministicFix(t, catalog)?.sql, 'SELECT * FROM bss_company');
    const m = await failed('SELECT servicename FROM "MixedCase"', { class: 'undefined_column', position: 8, token: 'servicename', message: 'column "servicename" does not exist' });
    assert.equal(deterministicFix(m, catalog)?.sql, 'SELECT "ServiceName" FROM "MixedCase"');
    const q = await failed('SELECT c."Company_Name" FROM bss_company c', { class: 'undefined_column', position: 8, token: 'c."Company_Name"', message: 'column c.Company_Name does not exist' });
    assert.equal(deterministicFix(q, catalog)?.sql, 'SELECT c.company_name FROM bss_company c');
    const mt = await failed('SELECT * FROM mixedcase', { class: 'undefined_table', position: 15, token: 'mixedcase', message: 'relation "mixedcase" does not exist' });
    assert.equal(deterministicFix(mt, catalog)?.sql, 'SELECT * FROM "MixedCase"');
  });

  it('qualification: the only relation that has the column', async () => {
    const sql = 'SELECT a.company_name FROM bss_service_area a JOIN bss_company c ON c.id = a.company_id';
    const r = await failed(sql, { class: 'undefined_column', position: 8, token: 'a.company_name', message: 'column a.company_name does not exist' });
    const fix = deterministicFix(r, catalog);
    assert.equal(fix?.fix, 'qualification');
    assert.equal(fix?.sql, 'SELECT c.company_name FROM bss_service_area a JOIN bss_company c ON c.id = a.company_id');
  });

  it('qualification: an ambiguous column the query equates, not one it does not', async () => {
    const eq = 'SELECT id FROM bss_service_area a JOIN bss_company c ON c.id = a.id';
    const r = await failed(eq, { class: 'ambiguous', sqlstate: '42702', position: 8, token: 'id', message: 'column reference "id" is ambiguous' });
    assert.equal(deterministicFix(r, catalog)?.sql, 'SELECT a.id FROM bss_service_area a JOIN bss_company c ON c.id = a.id');
    const neq = 'SELECT id FROM bss_service_area a JOIN bss_company c ON c.id = a.company_id';
    const r2 = await failed(neq, { class: 'ambiguous', sqlstate: '42702', position: 8, token: 'id', message: 'column reference "id" is ambiguous' });
    assert.equal(deterministicFix(r2, catalog), undefined);
    const left = 'SELECT id FROM bss_service_area a LEFT JOIN bss_company c ON c.id = a.id';
    const r3 = await failed(left, { class: 'ambiguous', sqlstate: '42702', position: 8, token: 'id', message: 'column reference "id" is ambiguous' });
    assert.equal(deterministicFix(r3, catalog), undefined, 'an outer join does not make the columns equal');
    const sub = 'SELECT id FROM bss_service_area a JOIN bss_company c ON c.id = a.id WHERE EXISTS (SELECT 1)';
    const r4 = await failed(sub, { class: 'ambiguous', sqlstate: '42702', position: 8, token: 'id', message: 'column reference "id" is ambiguous' });
    assert.equal(deterministicFix(r4, catalog), undefined, 'several scopes: not certain');
  });

  it('no fix when nothing is certain', async () => {
    const r = await failed('SELECT service_nam FROM bss_service_area', { class: 'undefined_column', position: 8, token: 'service_nam', message: 'column "service_nam" does not exist' });
    assert.equal(deterministicFix(r, catalog), undefined);
  });
});

describe('repair prompt pieces', () => {
  const t: CatalogTable = {
    schema: 'public',
    name: 'bss_service_area',
    comment: '服务区基础信息表',
    columns: [
      { name: 'id', type: 'character varying(32)', nullable: false, comment: '主键ID', enumValues: null },
      { name: 'service_state', type: 'character varying(50)', nullable: true, comment: '服务区状态', enumValues: ['开放', '上传数据'] },
      { name: 'Order', type: 'integer', nullable: true, comment: null, enumValues: null },
    ],
    primaryKey: ['id'],
    foreignKeys: [],
  };

  it('renders DDL with types, comments, enum values and quoted identifiers', () => {
    const ddl = renderTableDdl(t);
    assert.match(ddl, /CREATE TABLE public\.bss_service_area \(/);
    assert.match(ddl, /id character varying\(32\) NOT NULL, -- 主键ID/);
    assert.match(ddl, /service_state character varying\(50\), -- 服务区状态; values: '开放', '上传数据'/);
    assert.match(ddl, /"Order" integer/);
    assert.match(ddl, /PRIMARY KEY \(id\)/);
    assert.equal(identifier('select'), '"select"');
    assert.equal(identifier('abc_1'), 'abc_1');
  });

  it('describes an error with SQLSTATE, hint and a caret under the token', () => {
    const text = describeError(
      { class: 'undefined_column', phase: 'explain', sqlstate: '42703', message: 'column "x" does not exist', hint: 'Perhaps you meant "y".', position: 16, token: 'x' },
      'SELECT a,\n  b, x FROM t',
    );
    assert.match(text, /\[undefined_column, SQLSTATE 42703\]/);
    assert.match(text, /Hint: Perhaps/);
    assert.match(text, /line 2/);
    assert.match(text, /  b, x FROM t\n {5}\^/);
  });

  it('builds the prompt with question, SQL, error, earlier attempts and the relevant tables only', () => {
    const other: CatalogTable = { ...t, name: 'bss_company', columns: [{ name: 'company_name', type: 'text', nullable: true, comment: null, enumValues: null }] };
    const catalog = new Catalog([t, other], 'schema.json');
    const msgs = buildRepairMessages(
      catalog,
      {
        question: '开放的服务区有几个？',
        sql: "SELECT count(*) FROM bss_service_area WHERE state = '开放'",
        error: { class: 'undefined_column', phase: 'explain', sqlstate: '42703', message: 'column "state" does not exist', position: 44, token: 'state' },
        tables: ['bss_service_area'],
        previous: [{ sql: 'SELECT 1 FROM x', error: { class: 'undefined_table', phase: 'explain', sqlstate: '42P01', message: 'relation "x" does not exist' } }],
      },
      'zh',
    );
    const user = msgs.messages[1]!.content;
    assert.match(user, /开放的服务区有几个/);
    assert.match(user, /SQLSTATE 42703/);
    assert.match(user, /values: '开放', '上传数据'/);
    assert.match(user, /之前的修复尝试/);
    assert.doesNotMatch(user, /bss_company/);
    assert.deepEqual(msgs.tables, ['public.bss_service_area']);
    assert.match(msgs.messages[0]!.content, /JSON/);
    // unknown table: every table goes in
    const all = relevantTables(catalog, { tables: ['nope'], sql: 'SELECT * FROM nope', question: 'q', error: { class: 'undefined_table', phase: 'explain', message: '' } });
    assert.equal(all.length, 2);
  });
});

describe('step parameters', () => {
  const flags = { enable_sql_validation: true, enable_llm_repair: true, modify_original_file: true, enable_training_data_load: true, backup_vector_tables: false, truncate_vector_tables: false };
  it('defaults: repair on, modify original on, execute_check on, 3 attempts, 5000 ms, 5 rows', () => {
    const p = validationSettings({ ...flags, ...parseStepParameters({}) });
    assert.equal(p.enableLlmRepair, true);
    assert.equal(p.modifyOriginalFile, true);
    assert.equal(p.executeCheck, true);
    assert.equal(p.maxRepairAttempts, 3);
    assert.equal(p.timeoutMs, 5000);
    assert.equal(p.rowLimit, 5);
    assert.equal(p.concurrency, undefined);
    assert.equal(p.maxExecuteCost, undefined);
  });
  it('takes the typed values as given', () => {
    const p = validationSettings({ ...flags, enable_llm_repair: false, ...parseStepParameters({ execute_check: false, max_repair_attempts: 0, sql_timeout_ms: 100, max_execute_cost: 12.5 }) });
    assert.equal(p.enableLlmRepair, false);
    assert.equal(p.executeCheck, false);
    assert.equal(p.maxRepairAttempts, 0);
    assert.equal(p.timeoutMs, 100);
    assert.equal(p.maxExecuteCost, 12.5);
  });
  it('refuses strings and out-of-range numbers, naming the parameter (no more yes/on, no clamping)', () => {
    for (const [stored, name] of [
      [{ execute_check: 'yes' }, 'execute_check'],
      [{ execute_check: '0' }, 'execute_check'],
      [{ max_repair_attempts: 99 }, 'max_repair_attempts'],
      [{ max_repair_attempts: '3' }, 'max_repair_attempts'],
      [{ sql_timeout_ms: 5 }, 'sql_timeout_ms'],
      [{ row_check_limit: 2.5 }, 'row_check_limit'],
      [{ validation_concurrency: 0 }, 'validation_concurrency'],
      [{ max_execute_cost: -1 }, 'max_execute_cost'],
    ] as const) {
      assert.throws(() => parseStepParameters(stored), (e: any) => e.code === 'INVALID_PARAMETER' && e.message.includes(name), JSON.stringify(stored));
    }
  });
});
