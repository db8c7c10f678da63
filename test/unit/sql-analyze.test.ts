import { describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { analyzeSql, fingerprintSql, indexToPosition, maskNonCode, positionToIndex, tokenAt, type SqlAnalysis } from '../../src/sql/analyze.ts';

function ok(a: SqlAnalysis) {
  assert.equal(a.ok, true, a.ok ? '' : `${a.reason}: ${a.message}`);
  return a as Extract<SqlAnalysis, { ok: true }>;
}
function rejected(a: SqlAnalysis, reason: string) {
  assert.equal(a.ok, false, `expected rejection ${reason}`);
  const r = a as Extract<SqlAnalysis, { ok: false }>;
  assert.equal(r.reason, reason, r.message);
  assert.ok(r.message.length > 10);
  return r;
}

describe('analyzeSql: the parse gate accepts one SELECT', () => {
  it('accepts plain SELECT, WITH, VALUES, set operations, window functions, subqueries', async () => {
    for (const sql of [
      'SELECT 1',
      'select * from bss_company',
      'SELECT 1;',
      'SELECT 1 ;  \n -- trailing comment',
      'WITH t AS (SELECT 1 AS x) SELECT x FROM t',
      'WITH RECURSIVE r(n) AS (SELECT 1 UNION ALL SELECT n + 1 FROM r WHERE n < 5) SELECT n FROM r',
      'VALUES (1, 2), (3, 4)',
      'SELECT 1 UNION SELECT 2 EXCEPT SELECT 3',
      'SELECT service_no, sum(pay_sum), rank() OVER (ORDER BY sum(pay_sum) DESC) FROM bss_business_day_data GROUP BY service_no',
      'SELECT * FROM (SELECT id FROM bss_company) s WHERE EXISTS (SELECT 1 FROM bss_service_area a WHERE a.company_id = s.id)',
      '(SELECT 1) ORDER BY 1',
      '/* leading */ SELECT 1',
    ]) {
      ok(await analyzeSql(sql));
    }
  });

  it('lists tables (qualified when written so, folded / exact quoted, no CTEs), columns, functions, operators', async () => {
    const a = ok(
      await analyzeSql(`WITH daily AS (
        SELECT d.oper_date, SUM(d.pay_sum) AS total FROM public.bss_business_day_data d WHERE d.delete_ts IS NULL GROUP BY d.oper_date
      )
      SELECT s.service_area_name, "C".company_name, EXTRACT(YEAR FROM daily.oper_date) AS y, ROUND(AVG(daily.total)::numeric, 2), NOW()
      FROM daily JOIN BSS_Service_Area s ON true JOIN "Bss_Company" "C" ON "C".id = s.company_id
      WHERE s.service_area_name LIKE '%服务区' AND s.service_state || 'x' = 'ax'`),
    );
    assert.deepEqual(a.tables, ['public.bss_business_day_data', 'bss_service_area', 'Bss_Company']);
    assert.deepEqual(a.ctes, ['daily']);
    assert.ok(a.columns.includes('d.oper_date'));
    assert.ok(a.columns.includes('C.company_name'));
    assert.ok(a.columns.includes('s.service_area_name'));
    assert.deepEqual([...a.functions].sort(), ['avg', 'now', 'pg_catalog.extract', 'round', 'sum']);
    assert.ok(a.operators.includes('='));
    assert.ok(a.operators.includes('like'));
    assert.ok(a.operators.includes('||'));
    assert.deepEqual(a.outputColumns, ['service_area_name', 'company_name', 'y', 'round', 'now']);
    assert.equal(a.statementCount, 1);
    assert.equal(a.hasInto, false);
    assert.equal(a.hasLocking, false);
    assert.equal(a.kind, 'select');
    assert.match(a.fingerprint, /^[0-9a-f]{16}$/);
    const bss = a.relations.find((r) => r.name === 'bss_service_area')!;
    assert.equal(bss.alias, 's');
    assert.equal(bss.schema, undefined);
  });

  it('lower-cases function names and keeps their schema', async () => {
    const a = ok(await analyzeSql('SELECT Upper(x), PUBLIC.MyFunc(1), "Quoted"(2), pg_catalog.now() FROM t'));
    assert.deepEqual(a.functions, ['upper', 'public.myfunc', 'quoted', 'pg_catalog.now']);
  });

  it('finds functions in FROM (set-returning), subqueries, CTEs and ORDER BY', async () => {
    const a = ok(
      await analyzeSql(`WITH c AS (SELECT lower(name) FROM t) SELECT g FROM generate_series(1, 3) g
        WHERE g IN (SELECT length(x) FROM c) ORDER BY abs(g)`),
    );
    assert.deepEqual([...a.functions].sort(), ['abs', 'generate_series', 'length', 'lower']);
  });

  it('names output columns like PostgreSQL (alias, column, function, cast, case, ?column?)', async () => {
    const a = ok(await analyzeSql('SELECT a.x, y AS why, count(*), z::text, CASE WHEN 1=1 THEN 1 END, 1 + 1, a.*, coalesce(x, 0), (SELECT max(q) FROM t) FROM a'));
    assert.deepEqual(a.outputColumns, ['x', 'why', 'count', 'z', 'case', '?column?', 'a.*', 'coalesce', 'max']);
    assert.deepEqual(ok(await analyzeSql('SELECT 1 AS a UNION SELECT 2 AS b')).outputColumns, ['a']);
    assert.deepEqual(ok(await analyzeSql('VALUES (1, 2)')).outputColumns, ['column1', 'column2']);
  });

  it('lists equalities of INNER JOIN conditions and WHERE conjuncts, and counts name scopes', async () => {
    const a = ok(await analyzeSql('SELECT 1 FROM a JOIN b ON a.id = b.id AND b.x > 1 LEFT JOIN c ON c.id = a.id WHERE a.k = b.k AND (a.z = b.z OR a.y = b.y)'));
    assert.deepEqual(a.equalities.map((e) => e.join('=')).sort(), ['a.id=b.id', 'a.k=b.k']);
    assert.equal(a.scopes, 1);
    assert.equal(ok(await analyzeSql('SELECT 1 UNION SELECT 2')).scopes, 2);
    assert.equal(ok(await analyzeSql('WITH x AS (SELECT 1) SELECT * FROM x WHERE 1 IN (SELECT 2)')).scopes, 3);
  });

  it('gives the statement text without the trailing semicolon and surrounding space', async () => {
    assert.equal(ok(await analyzeSql('  SELECT 1 ;; \n')).statement, 'SELECT 1');
    assert.equal(ok(await analyzeSql('SELECT 1 -- c')).statement, 'SELECT 1 -- c');
    assert.equal(ok(await analyzeSql("SELECT '中文;' AS 名;")).statement, "SELECT '中文;' AS 名");
  });

  it('reports positions in characters for multibyte text', async () => {
    const sql = "SELECT '中文' AS 名 FROM bss_service_area s";
    const a = ok(await analyzeSql(sql));
    const pos = a.relations[0]!.position;
    assert.equal(sql.slice(positionToIndex(sql, pos)).startsWith('bss_service_area'), true);
  });
});

describe('analyzeSql: the parse gate rejects everything else, saying why', () => {
  const cases: Array<[string, string, RegExp?]> = [
    ['DROP TABLE bss_company', 'not_select', /DROP/],
    ['DELETE FROM bss_company', 'not_select', /DELETE/],
    ['UPDATE bss_company SET company_name = 1 RETURNING *', 'not_select', /UPDATE/],
    ["INSERT INTO t VALUES (1)", 'not_select', /INSERT/],
    ['TRUNCATE t', 'not_select', /TRUNCATE/],
    ["COPY (SELECT 1) TO PROGRAM 'rm -rf /'", 'not_select', /COPY/],
    ['CREATE TABLE x (a int)', 'not_select', /CREATE TABLE/],
    ['CREATE TABLE x AS SELECT 1', 'not_select', /CREATE TABLE AS/],
    ['ALTER TABLE t ADD COLUMN x int', 'not_select', /ALTER/],
    ['EXPLAIN SELECT 1', 'not_select', /EXPLAIN/],
    ['EXPLAIN ANALYZE DELETE FROM t', 'not_select', /EXPLAIN/],
    ["SET statement_timeout = 0", 'not_select', /SET/],
    ['SHOW search_path', 'not_select', /SHOW/],
    ['BEGIN', 'not_select'],
    ['COMMIT', 'not_select'],
    ["DO $$ BEGIN PERFORM 1; END $$", 'not_select', /DO/],
    ['CALL p()', 'not_select', /CALL/],
    ['GRANT SELECT ON t TO PUBLIC', 'not_select'],
    ['VACUUM t', 'not_select'],
    ['LOCK TABLE t', 'not_select', /LOCK/],
    ['MERGE INTO t USING s ON t.id = s.id WHEN MATCHED THEN DELETE', 'not_select', /MERGE/],
    ['PREPARE p AS SELECT 1', 'not_select'],
    ['DECLARE c CURSOR FOR SELECT 1', 'not_select'],
    ['REFRESH MATERIALIZED VIEW v', 'not_select'],
    ['SELECT 1; DROP TABLE x', 'multiple_statements', /SELECT; DROP/],
    ['SELECT 1; SELECT 2', 'multiple_statements', /found 2/],
    ['WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d', 'data_modifying_cte', /"d" is DELETE/],
    ['WITH u AS (UPDATE t SET a = 1 RETURNING a) SELECT * FROM u', 'data_modifying_cte', /UPDATE/],
    ['WITH i AS (INSERT INTO t VALUES (1) RETURNING *) SELECT 1', 'data_modifying_cte', /INSERT/],
    ['SELECT * INTO t2 FROM t', 'select_into', /INTO t2/],
    ['SELECT 1 INTO TEMP t', 'select_into'],
    ['SELECT * FROM t FOR UPDATE', 'locking_clause', /FOR UPDATE/],
    ['SELECT * FROM t FOR NO KEY UPDATE SKIP LOCKED', 'locking_clause', /FOR NO KEY UPDATE/],
    ['SELECT * FROM t FOR SHARE', 'locking_clause', /FOR SHARE/],
    ['SELECT * FROM t FOR KEY SHARE OF t NOWAIT', 'locking_clause', /FOR KEY SHARE/],
    ['SELECT * FROM (SELECT * FROM t FOR UPDATE) s', 'locking_clause'],
    ['SELECT 1 UNION SELECT 2 FOR UPDATE', 'locking_clause'],
    ['WITH x AS (SELECT * FROM t FOR UPDATE) SELECT * FROM x', 'locking_clause'],
    ['SELEC 1', 'parse_error', /SELEC/],
    ['SELECT FROM WHERE', 'parse_error'],
    ["SELECT 'unterminated", 'parse_error'],
    ['', 'empty'],
    ['   \n\t ', 'empty'],
    [';;', 'empty'],
    ['-- only a comment', 'empty'],
  ];
  for (const [sql, reason, message] of cases) {
    it(`${reason}: ${sql || '(empty)'}`, async () => {
      const r = rejected(await analyzeSql(sql), reason);
      if (message) assert.match(r.message, message);
    });
  }

  it('positions: parse errors (1-based, characters), second statement, locking clause, INTO target', async () => {
    const pe = rejected(await analyzeSql('SELECT 1 FROM t WHERE'), 'parse_error');
    assert.equal(pe.position, 22); // PostgreSQL reports end of input at length + 1
    const pe2 = rejected(await analyzeSql("SELECT '中文' x FORM t"), 'parse_error');
    assert.equal(pe2.position, 15);
    assert.equal(tokenAt("SELECT '中文' x FORM t", pe2.position!), 'FORM');
    const ms = rejected(await analyzeSql('SELECT 1;   DROP TABLE x'), 'multiple_statements');
    assert.equal(tokenAt('SELECT 1;   DROP TABLE x', ms.position!), 'DROP');
    assert.deepEqual(ms.statementTypes, ['SelectStmt', 'DropStmt']);
    const lk = rejected(await analyzeSql("SELECT 'for update' FROM t FOR UPDATE"), 'locking_clause');
    assert.equal(lk.position, 28);
    const into = rejected(await analyzeSql('SELECT 1 INTO newtab'), 'select_into');
    assert.equal(tokenAt('SELECT 1 INTO newtab', into.position!), 'newtab');
  });

  it('never throws, whatever the input', async () => {
    for (const junk of ['\u0000', "'", '"', '$$', 'SELECT $1', '((((', 'SELECT 1 /* unterminated', '\\x']) {
      const a = await analyzeSql(junk);
      assert.equal(typeof a.ok, 'boolean');
    }
    // @ts-expect-error non-string input
    assert.equal((await analyzeSql(undefined)).ok, false);
  });
});

describe('fingerprintSql and position helpers', () => {
  it('fingerprints ignore constants and layout, and differ by structure', async () => {
    const a = await fingerprintSql('select x from t where a = 5');
    const b = await fingerprintSql('SELECT x\nFROM t WHERE a=7');
    const c = await fingerprintSql('SELECT y FROM t WHERE a = 5');
    assert.ok(a);
    assert.equal(a, b);
    assert.notEqual(a, c);
    assert.equal(await fingerprintSql('SELEC'), undefined);
  });

  it('converts between positions and indices with astral characters', () => {
    const s = 'a😀b名c';
    assert.equal(positionToIndex(s, 1), 0);
    assert.equal(positionToIndex(s, 3), 3);
    assert.equal(indexToPosition(s, 3), 3);
    assert.equal(positionToIndex(s, 4), 4);
  });

  it('tokenAt returns identifiers (qualified, quoted), literals and symbols', () => {
    const s = `SELECT s.service_name, "A b".x, 'lit''x', 12.5 FROM t WHERE a >= 1`;
    assert.equal(tokenAt(s, 8), 's.service_name');
    assert.equal(tokenAt(s, 24), '"A b".x');
    assert.equal(tokenAt(s, 33), "'lit''x'");
    assert.equal(tokenAt(s, s.indexOf('12.5') + 1), '12.5');
    assert.equal(tokenAt(s, s.indexOf('>=') + 1), '>=');
    assert.equal(tokenAt(s, 999), undefined);
  });

  it('maskNonCode blanks literals, quoted identifiers and comments, keeping length', () => {
    const s = `SELECT 'FOR UPDATE' "for share" -- for update\n/* x */ FROM t`;
    const m = maskNonCode(s);
    assert.equal(m.length, s.length);
    assert.doesNotMatch(m, /update|share/i);
  });
});
