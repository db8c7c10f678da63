// qa_generation without a database: identifier quoting, SQL classification and the parse gate, duplicate
// removal, quotas, theme repair, prompt size bounds, metadata.txt validity, and the offline synthesizer's
// determinism and soft-delete handling on a hand-made schema.json.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import libpg from 'libpg-query';
import type { ColumnInfo, SchemaFile, TableInfo } from '../../src/pipeline/artifacts.ts';
import { buildCatalog } from '../../src/pipeline/qa/catalog.ts';
import { PairCollector } from '../../src/pipeline/qa/collector.ts';
import { pairsPrompt, repairTableName, repairTheme } from '../../src/pipeline/qa/llm-generator.ts';
import { levelQuotas, offlinePairsForTheme, themeDrafts } from '../../src/pipeline/qa/offline-generator.ts';
import { metadataSql } from '../../src/pipeline/qa/outputs.ts';
import { classifySql, loadParser, normalizeQuestion } from '../../src/pipeline/qa/sql-analysis.ts';
import { ident } from '../../src/pipeline/qa/sql-text.ts';
import { themeSchemaSummary, THEME_SUMMARY_BUDGET } from '../../src/pipeline/qa/summary.ts';
import { offlineThemes } from '../../src/pipeline/qa/themes-offline.ts';
import type { QaSettings } from '../../src/pipeline/qa/types.ts';
import { QA_THEMES_PROMPT } from '../../src/llm/prompts/qa.ts';
import { renderPrompt } from '../../src/llm/prompts/template.ts';

function column(name: string, position: number, udt: string, extra: Partial<ColumnInfo> = {}): ColumnInfo {
  return {
    name,
    position,
    data_type: udt === 'varchar' ? 'character varying(255)' : udt,
    udt_name: udt,
    max_length: null,
    numeric_precision: null,
    numeric_scale: null,
    nullable: true,
    default: null,
    identity: null,
    generated: null,
    is_primary_key: name === 'id',
    comment: null,
    comment_source: null,
    stats: null,
    sample_values: [],
    enum_values: null,
    ...extra,
  };
}

function table(name: string, columns: ColumnInfo[], extra: Partial<TableInfo> = {}, schema = 'public'): TableInfo {
  return {
    schema,
    name,
    full_name: `${schema}.${name}`,
    kind: 'table',
    comment: null,
    comment_source: null,
    estimated_rows: 1000,
    size_bytes: null,
    columns,
    primary_key: ['id'],
    unique_constraints: [],
    foreign_keys: [],
    indexes: [],
    files: { ddl: `${name}.ddl`, detail: `${name}_detail.md` },
    ...extra,
  };
}

const audit = (from: number) => [
  column('id', from, 'varchar', { comment: '主键ID' }),
  column('delete_ts', from + 1, 'timestamp', { comment: '删除时间（软删除，未删除为空）' }),
];

/** A small highway-like schema: company ← service area ← daily business rows (inferred keys). */
export function miniSchema(): SchemaFile {
  return {
    version: 1,
    generated_at: '2025-01-01T00:00:00Z',
    database: { name: 'highway_db', server_version: '15' },
    business_context: '高速公路服务区管理系统',
    language: 'zh',
    tables: [
      table('bss_company', [...audit(1), column('company_name', 3, 'varchar', { comment: '公司名称', sample_values: ['南昌分公司', '九江分公司'] }), column('company_no', 4, 'varchar', { comment: '公司编码', stats: { null_frac: 0, n_distinct: -1, most_common_vals: null } })], {
        comment: '公司信息表',
        estimated_rows: 10,
      }),
      table(
        'bss_service_area',
        [
          ...audit(1),
          column('service_area_name', 3, 'varchar', { comment: '服务区名称', sample_values: ['南昌南服务区', '庐山服务区'] }),
          column('service_area_no', 4, 'varchar', { comment: '服务区编码', stats: { null_frac: 0, n_distinct: -1, most_common_vals: null } }),
          column('company_id', 5, 'varchar', { comment: '所属公司ID' }),
          column('service_state', 6, 'varchar', { comment: '服务区状态', enum_values: ['开放', '关闭', '上传数据'] }),
        ],
        {
          comment: '服务区基础信息表',
          estimated_rows: 50,
          foreign_keys: [{ name: null, columns: ['company_id'], target_schema: 'public', target_table: 'bss_company', target_columns: ['id'], inferred: true }],
        },
      ),
      table(
        'bss_business_day_data',
        [
          ...audit(1),
          column('oper_date', 3, 'date', { comment: '统计日期', sample_values: ['2024-03-15', '2024-07-02'] }),
          column('service_no', 4, 'varchar', { comment: '服务区编码' }),
          column('service_name', 5, 'varchar', { comment: '服务区名称', sample_values: ['南昌南服务区'] }),
          column('branch_name', 6, 'varchar', { comment: '档口名称', enum_values: ['南区商超', '北区餐饮'] }),
          column('pay_sum', 7, 'numeric', { comment: '支付总金额', sample_values: ['12345.67'] }),
          column('order_sum', 8, 'int4', { comment: '订单总数', sample_values: ['800'] }),
          column('wx', 9, 'numeric', { comment: '微信支付金额', sample_values: ['5000.00'] }),
        ],
        {
          comment: '服务区档口每日营业数据表',
          estimated_rows: 30000,
          foreign_keys: [{ name: null, columns: ['service_no'], target_schema: 'public', target_table: 'bss_service_area', target_columns: ['service_area_no'], inferred: true }],
        },
      ),
    ],
  };
}

function settings(extra: Partial<QaSettings> = {}): QaSettings {
  return { themeCount: 3, questionsPerTheme: 8, language: 'zh', dbName: 'highway_db', businessContext: '高速公路服务区管理系统', seed: 42, executionCheck: false, allowOfflineFallback: false, ...extra };
}

/** A synthetic schema of n tables in clusters of 5 (each cluster: one fact referencing four dimensions). */
function wideSchema(n: number): SchemaFile {
  const tables: TableInfo[] = [];
  for (let i = 0; i < n; i++) {
    const cluster = Math.floor(i / 5);
    const isFact = i % 5 === 0;
    const cols = [
      column('id', 1, 'int4'),
      column(`name_${i}`, 2, 'varchar', { comment: `实体${i}名称` }),
      column('status', 3, 'varchar', { comment: '状态', enum_values: ['a', 'b', 'c'] }),
      ...Array.from({ length: 30 }, (_, k) => column(`metric_${k}`, 4 + k, 'numeric', { comment: `指标${k}` })),
      column('biz_date', 40, 'date', { comment: '业务日期' }),
    ];
    const fks = isFact
      ? [1, 2, 3, 4].filter((k) => i + k < n).map((k) => ({ name: null, columns: [`ref_${k}`], target_schema: 'public', target_table: `t${cluster}_${i + k}`, target_columns: ['id'], inferred: false }))
      : [];
    for (const fk of fks) cols.push(column(fk.columns[0]!, 50 + cols.length, 'int4'));
    tables.push(table(`t${cluster}_${i}`, cols, { comment: `第${cluster}组的第${i}张业务表，记录业务数据`, foreign_keys: fks }));
  }
  return { version: 1, generated_at: 'x', database: { name: 'wide', server_version: '15' }, business_context: null, language: 'zh', tables };
}

before(async () => {
  await loadParser();
});

describe('identifiers and SQL classification', () => {
  test('identifiers are quoted exactly when PostgreSQL needs it', () => {
    assert.equal(ident('service_area'), 'service_area');
    assert.equal(ident('name'), 'name'); // unreserved keyword: fine bare
    assert.equal(ident('order'), '"order"');
    assert.equal(ident('user'), '"user"');
    assert.equal(ident('left'), '"left"');
    assert.equal(ident('Order'), '"Order"');
    assert.equal(ident('Sales Ops'), '"Sales Ops"');
    assert.equal(ident('订单明细'), '"订单明细"');
    assert.equal(ident('we"ird'), '"we""ird"');
  });

  test('complexity levels, tables without CTE names, functions', () => {
    const level = (sql: string) => {
      const r = classifySql(sql);
      assert.ok(r.ok, sql);
      return r.analysis;
    };
    assert.equal(level('SELECT a FROM t WHERE b = 1').complexity, 'single_table');
    assert.equal(level('SELECT t.a, u.b FROM t JOIN u ON u.id = t.u_id').complexity, 'join');
    assert.equal(level('SELECT a, count(*) FROM t GROUP BY a').complexity, 'aggregate');
    assert.equal(level('SELECT t.a, sum(u.x) FROM t, u WHERE u.id = t.id GROUP BY t.a').complexity, 'aggregate');
    const w = level('WITH m AS (SELECT a, sum(x) AS s FROM t GROUP BY a) SELECT a, s, rank() OVER (ORDER BY s DESC) FROM m');
    assert.equal(w.complexity, 'window_cte');
    assert.deepEqual(w.tables.map((t) => t.name), ['t']);
    assert.ok(w.functions.includes('rank') && w.functions.includes('sum'));
    assert.equal(level('SELECT a, lag(a) OVER (ORDER BY b) FROM t').complexity, 'window_cte');
    const q = level('SELECT x."Full Name" FROM "Sales Ops"."Order" x');
    assert.deepEqual(q.tables, [{ schema: 'Sales Ops', name: 'Order', alias: 'x' }]);
    assert.deepEqual(q.columns, [{ qualifier: 'x', name: 'Full Name' }]);
  });

  test('questions are compared after folding width, case, spacing and punctuation', () => {
    assert.equal(normalizeQuestion('各公司的 支付总金额？'), normalizeQuestion('各公司的支付总金额?'));
    assert.equal(normalizeQuestion('Total Sales.'), normalizeQuestion('total  sales'));
    assert.notEqual(normalizeQuestion('各公司的支付总金额'), normalizeQuestion('各服务区的支付总金额'));
  });

  test('quotas spread over the four levels and add up', () => {
    assert.deepEqual(levelQuotas(10), { single_table: 2, join: 3, aggregate: 3, window_cte: 2 });
    for (const n of [1, 3, 4, 7, 13, 100]) assert.equal(Object.values(levelQuotas(n)).reduce((a, b) => a + b, 0), n);
    assert.ok(Object.values(levelQuotas(4)).every((v) => v === 1));
  });
});

describe('PairCollector: the parse gate and duplicates', () => {
  const catalog = buildCatalog(miniSchema());
  const base = { theme: 't', style: 'question', source: 'llm' as const };

  test('non-SELECT, SELECT INTO, locking, several statements and unparseable SQL are dropped', async () => {
    const c = new PairCollector(catalog);
    const cases: Array<[string, string]> = [
      ['DELETE FROM bss_company WHERE id = 1', 'not_select'],
      ['UPDATE bss_company SET company_name = 1', 'not_select'],
      ['INSERT INTO bss_company (id) VALUES (1)', 'not_select'],
      ['DROP TABLE bss_company', 'not_select'],
      ['SELECT * INTO new_table FROM bss_company', 'not_select'],
      ['SELECT * FROM bss_company FOR UPDATE', 'locking_clause'],
      ['WITH d AS (DELETE FROM bss_company RETURNING *) SELECT * FROM d', 'data_modifying_cte'],
      ['SELECT 1; SELECT 2', 'multiple_statements'],
      ['SELEC company_name FROM bss_company', 'parse_error'],
      ['   ', 'empty_sql'],
    ];
    for (const [sql, reason] of cases) {
      const r = await c.examine({ ...base, question: `q ${sql}`, sql });
      assert.equal(r.ok, false, sql);
      if (!r.ok) assert.equal(r.reason === 'select_into' ? 'not_select' : r.reason, reason, sql);
    }
  });

  test('duplicates by fingerprint (constants and layout ignored) and by normalised question', async () => {
    const c = new PairCollector(catalog);
    const first = await c.examine({ ...base, question: '南昌分公司有哪些服务区？', sql: "SELECT sa.service_area_name FROM bss_service_area sa JOIN bss_company c ON sa.company_id = c.id WHERE c.company_name = '南昌分公司'" });
    assert.ok(first.ok);
    assert.equal(c.accept(first.pair), undefined);
    assert.deepEqual(first.pair.tables, ['public.bss_service_area', 'public.bss_company']);
    assert.deepEqual(first.pair.columns, ['public.bss_company.company_name', 'public.bss_company.id', 'public.bss_service_area.company_id', 'public.bss_service_area.service_area_name']);
    assert.equal(first.pair.complexity, 'join');
    assert.match(first.pair.sql, /;$/);
    const sameShape = await c.examine({ ...base, question: '九江分公司有哪些服务区？', sql: "select sa.service_area_name\nfrom bss_service_area sa join bss_company c on sa.company_id = c.id where c.company_name = '九江分公司';" });
    assert.ok(!sameShape.ok && sameShape.reason === 'duplicate_fingerprint');
    const sameQuestion = await c.examine({ ...base, question: '南昌分公司有哪些服务区?', sql: 'SELECT service_area_name FROM bss_service_area' });
    assert.ok(!sameQuestion.ok && sameQuestion.reason === 'duplicate_question');
    const unknown = await c.examine({ ...base, question: 'branches', sql: 'SELECT * FROM bss_branch' });
    assert.ok(unknown.ok);
    assert.deepEqual(unknown.pair.unknown_tables, ['bss_branch']);
  });
});

describe('themes: repair and offline clustering', () => {
  const catalog = buildCatalog(miniSchema());

  test('a table name that does not exist is repaired to the table it means, or dropped', () => {
    assert.equal(repairTableName('public.bss_company', catalog)?.how, 'exact');
    assert.equal(repairTableName('"BSS_COMPANY"', catalog)?.table.name, 'bss_company');
    assert.equal(repairTableName('bss_compnay', catalog)?.table.name, 'bss_company');
    assert.equal(repairTableName('business_day_data', catalog)?.table.name, 'bss_business_day_data');
    // The guide's invented table: branches live in the daily business table's columns.
    assert.equal(repairTableName('bss_branch', catalog)?.table.name, 'bss_business_day_data');
    assert.equal(repairTableName('weather_forecast', catalog), undefined);
    const theme = repairTheme(
      { name: '档口经营', description: '', related_tables: ['bss_branch', 'bss_service_area', 'weather_forecast'], entities: [], metrics: [], keywords: [] },
      catalog,
    );
    assert.deepEqual(theme.tables, ['public.bss_business_day_data', 'public.bss_service_area']);
    assert.deepEqual(theme.dropped, ['weather_forecast']);
    assert.equal(theme.repaired.length, 1);
  });

  test('offline themes anchor the facts first and cover every table', () => {
    const themes = offlineThemes(catalog, 3, 'zh');
    assert.equal(themes.length, 3);
    assert.equal(themes[0]!.anchor, 'public.bss_business_day_data');
    assert.deepEqual(new Set(themes.flatMap((t) => t.tables)), new Set(catalog.tables.map((t) => t.key)));
    const one = offlineThemes(catalog, 1, 'en');
    assert.equal(one.length, 1);
    assert.equal(one[0]!.tables.length, 3, 'a single theme takes every table');
    assert.ok(offlineThemes(catalog, 6, 'zh').length >= 4, 'more themes than clusters: other perspectives on the facts');
  });

  test('a one-to-one child (its key is the reference) is never counted per parent', () => {
    const fk = (columns: string[], target: string, targetColumns: string[]) => ({ name: null, columns, target_schema: 'public', target_table: target, target_columns: targetColumns, inferred: false });
    const schema: SchemaFile = {
      ...miniSchema(),
      tables: [
        table('state', [column('state_name', 1, 'text', { comment: '州名称', is_primary_key: true }), column('area', 2, 'numeric', { comment: '面积' })], { primary_key: ['state_name'], estimated_rows: 20 }),
        table('highlow', [column('state_name', 1, 'text', { comment: '州名称', is_primary_key: true }), column('highest_elevation', 2, 'int4', { comment: '最高海拔' })], {
          primary_key: ['state_name'],
          estimated_rows: 20,
          foreign_keys: [fk(['state_name'], 'state', ['state_name'])],
        }),
        table('city', [column('id', 1, 'int4'), column('city_name', 2, 'text', { comment: '城市名称' }), column('state_name', 3, 'text', { comment: '州名称' })], {
          estimated_rows: 200,
          foreign_keys: [fk(['state_name'], 'state', ['state_name'])],
        }),
      ],
    };
    const catalog = buildCatalog(schema);
    const drafts = themeDrafts(catalog, { name: 'x', description: '', tables: catalog.tables.map((t) => t.key), anchor: 'public.state', entities: [], metrics: [], focus: 'dimension' } as never);
    const counted = drafts.filter((d) => d.template === 'cross.own_measure_with_child_count').map((d) => d.signature.grouping);
    assert.ok(counted.length > 0, 'the many-to-one child (city) is counted');
    assert.ok(counted.every((g) => !g.includes('highlow')), `highlow counted per state: ${counted.join(', ')}`);
  });

  test('a theme of long entity names (made from comments) is named by its entity, not owner and entity glued', () => {
    const schema = miniSchema();
    const long: Record<string, string> = { bss_company: '第一业务域的公司维度表', bss_service_area: '第一业务域的服务区维度表', bss_business_day_data: '第一业务域的营业事实表' };
    for (const t of schema.tables) if (long[t.name]) t.comment = long[t.name]!;
    const names = offlineThemes(buildCatalog(schema), 6, 'zh').filter((t) => t.focus !== 'link').map((t) => t.name);
    assert.ok(names.length > 0);
    assert.ok(names.some((name) => name.startsWith('第一业务域的营业事实')), names.join(' | '));
    for (const name of names) assert.doesNotMatch(name, /(公司|服务区)第一业务域/, 'an owner glued to a long entity name');
  });
});

describe('prompt sizes stay bounded', () => {
  test('the themes prompt is capped whatever the table count; pairs prompts depend on the theme only', () => {
    const sizes: Record<number, number> = {};
    for (const n of [20, 100, 500, 2000]) {
      const catalog = buildCatalog(wideSchema(n));
      const summary = themeSchemaSummary(catalog, 'zh');
      const prompt = renderPrompt(QA_THEMES_PROMPT, 'zh', { business_context: 'x', db_name: 'wide', table_count: n, schema_summary: summary.text, theme_count: 5 });
      sizes[n] = prompt.messages.reduce((s, m) => s + m.content.length, 0);
      assert.ok(summary.text.length <= THEME_SUMMARY_BUDGET, `${n} tables: summary ${summary.text.length} chars`);
      assert.ok(sizes[n]! <= THEME_SUMMARY_BUDGET + 1500, `${n} tables: prompt ${sizes[n]} chars`);
      if (n >= 500) assert.equal(summary.level, 'clusters');
    }
    assert.ok(Math.abs(sizes[2000]! - sizes[500]!) / sizes[500]! <= 0.05, JSON.stringify(sizes));
    // A pairs prompt for a 5-table theme is the same size whatever the schema size.
    const small = buildCatalog(wideSchema(20));
    const large = buildCatalog(wideSchema(500));
    const theme = (c: ReturnType<typeof buildCatalog>) => ({ name: 't', description: '', tables: c.tables.slice(0, 5).map((t) => t.key), entities: [], metrics: [], keywords: [], source: 'llm' as const, repaired: [], dropped: [] });
    const a = pairsPrompt(small, theme(small), settings(), 10, []).messages.reduce((s, m) => s + m.content.length, 0);
    const b = pairsPrompt(large, theme(large), settings(), 10, []).messages.reduce((s, m) => s + m.content.length, 0);
    assert.ok(Math.abs(a - b) / a < 0.05, `${a} vs ${b}`);
  });
});

describe('the pairs prompt asks for what the theme can offer', () => {
  test('a one-table theme gets no join quota; a theme with related tables does', () => {
    const catalog = buildCatalog(wideSchema(20));
    const related = catalog.tables.find((t) => t.parents.some((r) => r.to !== t))!;
    const parent = related.parents.find((r) => r.to !== related)!.to;
    const joinQuota = (tables: string[]) => {
      const prompt = pairsPrompt(catalog, { name: 't', description: '', tables, entities: [], metrics: [], keywords: [], source: 'llm' as const, repaired: [], dropped: [] }, settings(), 10, []);
      const text = prompt.messages.map((m) => m.content).join('\n');
      return Number(/- join: (\d+)/.exec(text)![1]);
    };
    assert.equal(joinQuota([related.key]), 0);
    assert.ok(joinQuota([related.key, parent.key]) > 0);
  });
});

describe('outputs', () => {
  test('metadata.txt is valid SQL: CREATE TABLE + INSERT with quotes escaped', () => {
    const catalog = buildCatalog(miniSchema());
    const themes = offlineThemes(catalog, 2, 'zh');
    themes[0]!.name = "O'Brien 的“主题”";
    themes[1]!.entities = [];
    const sql = metadataSql(themes, catalog, settings(), '2025-01-01T00:00:00');
    const tree = libpg.parseSync(sql) as { stmts: Array<{ stmt: Record<string, unknown> }> };
    assert.deepEqual(tree.stmts.map((s) => Object.keys(s.stmt)[0]), ['CreateStmt', 'InsertStmt']);
    assert.match(sql, /'O''Brien/);
    assert.match(sql, /'\{\}'::text\[\]/);
  });
});

describe('offline synthesizer on a hand-made schema', () => {
  const schema = miniSchema();

  async function generate(seed: number) {
    const catalog = buildCatalog(schema);
    const themes = offlineThemes(catalog, 3, 'zh');
    const collector = new PairCollector(catalog);
    const out = [];
    for (let i = 0; i < themes.length; i++) out.push(await offlinePairsForTheme({ catalog, theme: themes[i]!, themeIndex: i, lang: 'zh', seed, count: 8, collector }));
    return out.flatMap((o) => o.pairs);
  }

  test('deterministic for a seed, different for another seed', async () => {
    const a = await generate(7);
    const b = await generate(7);
    const c = await generate(8);
    assert.deepEqual(a.map((p) => [p.question, p.sql]), b.map((p) => [p.question, p.sql]));
    assert.notDeepEqual(a.map((p) => [p.question, p.sql]), c.map((p) => [p.question, p.sql]));
  });

  test('spread, no duplicates, soft deletes respected for every table in every query', async () => {
    const pairs = await generate(42);
    // Three tables hold fewer distinct questions (one per signature) than 3 × 8.
    assert.ok(pairs.length >= 18, `${pairs.length} pairs`);
    assert.equal(new Set(pairs.map((p) => p.fingerprint)).size, pairs.length);
    assert.equal(new Set(pairs.map((p) => normalizeQuestion(p.question))).size, pairs.length);
    assert.deepEqual(new Set(pairs.map((p) => p.complexity)), new Set(['single_table', 'join', 'aggregate', 'window_cte']));
    assert.ok(pairs.filter((p) => p.tables.length >= 2).length / pairs.length >= 0.3);
    for (const p of pairs) {
      const analysis = classifySql(p.sql);
      assert.ok(analysis.ok);
      // every reference to a table with delete_ts has a "<alias>.delete_ts IS NULL" (or bare) filter
      for (const ref of analysis.analysis.tables) {
        const q = ref.alias ? `${ref.alias}.delete_ts IS NULL` : 'delete_ts IS NULL';
        assert.ok(p.sql.includes(q), `${p.sql} lacks ${q}`);
      }
      assert.ok(!/[A-Za-z_]+\.[A-Za-z_]+\s*=\s*'[^']*'\s*;?$/.test(p.question));
      assert.ok(['imperative', 'question', 'colloquial'].includes(p.style));
    }
    // the inferred key through a code column joins on it, and the business rows reach the company
    assert.ok(pairs.some((p) => p.sql.includes('bdd.service_no = sa.service_area_no')));
    assert.ok(pairs.some((p) => p.tables.length === 3));
  });

  test('English questions from the same catalog', async () => {
    const catalog = buildCatalog(schema);
    const themes = offlineThemes(catalog, 1, 'en');
    const out = await offlinePairsForTheme({ catalog, theme: themes[0]!, themeIndex: 0, lang: 'en', seed: 1, count: 10, collector: new PairCollector(catalog) });
    assert.equal(out.pairs.length, 10);
    for (const p of out.pairs) assert.match(p.question, /^[A-Z]/, p.question);
  });
});
