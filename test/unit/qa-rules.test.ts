// The offline generator's rules (../shared/spec/pair-quality.md), each on a schema built to tempt it: an id
// and a house number next to real measures, a price and a discount rate that must not be summed, first
// and last names that must not be grouped alone, a table whose own rows could be "aggregated", a load
// timestamp next to the business date, a partition next to its parent, soft-deleted customers. Every
// pair of a generous run is checked; the run is deterministic for a seed.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { before, describe, test } from 'node:test';
import type { ColumnInfo, ColumnRole, SchemaFile, TableInfo } from '../../src/pipeline/artifacts.ts';
import { buildCatalog } from '../../src/pipeline/qa/catalog.ts';
import { PairCollector } from '../../src/pipeline/qa/collector.ts';
import { offlinePairsForTheme } from '../../src/pipeline/qa/offline-generator.ts';
import { loadParser } from '../../src/pipeline/qa/sql-analysis.ts';
import { offlineThemes } from '../../src/pipeline/qa/themes-offline.ts';
import type { GeneratedPair } from '../../src/pipeline/qa/types.ts';
import { qaGenerationStep } from '../../src/pipeline/qa/index.ts';
import { makeStepContext } from '../helpers/qa-schema.ts';
import { makeTempDir } from '../helpers/server.ts';

function c(name: string, position: number, udt: string, role: ColumnRole, comment: string, extra: Partial<ColumnInfo> = {}): ColumnInfo {
  return {
    name, position, data_type: udt, udt_name: udt, max_length: null, numeric_precision: null, numeric_scale: null, nullable: true, default: null,
    identity: null, generated: null, is_primary_key: false, comment, comment_source: 'offline', stats: null, sample_values: [], enum_values: null, role, ...extra,
  };
}
function t(name: string, columns: ColumnInfo[], extra: Omit<Partial<TableInfo>, 'entity'> & { entity: { zh: string; en: string } }): TableInfo {
  return {
    schema: 'public', name, full_name: `public.${name}`, kind: 'table', comment: null, comment_source: null, estimated_rows: 500, size_bytes: null, columns,
    primary_key: [], unique_constraints: [], foreign_keys: [], indexes: [], files: { ddl: `${name}.ddl`, detail: `${name}_detail.md` }, ...extra,
    entity: { ...extra.entity, source: 'offline' },
  };
}
const fk = (column: string, target: string, targetColumn: string) => ({ name: null, columns: [column], target_schema: 'public', target_table: target, target_columns: [targetColumn], inferred: false, origin: 'declared' as const });
const range = (min: string, max: string) => ({ min, max, source: 'exact' as const });

const orderColumns = () => [
  c('order_id', 1, 'int4', 'identifier', '订单ID', { is_primary_key: true, range: range('1', '800') }),
  c('customer_id', 2, 'int4', 'foreign_key', '客户ID', { distinct_share: 0.15 }),
  c('order_date', 3, 'date', 'business_time', '下单日期', { range: range('2024-01-01', '2024-12-25') }),
  c('status', 4, 'text', 'code', '状态', { enum_values: ['paid', 'shipped', 'cancelled'] }),
  c('load_ts', 5, 'timestamp', 'technical_time', '加载时间', { range: range('2025-01-05 02:00:00', '2025-01-05 02:00:49') }),
];

const SCHEMA: SchemaFile = {
  version: 1, generated_at: '2025-01-01T00:00:00', database: { name: 'shop', server_version: '15' }, business_context: null, language: 'zh',
  tables: [
    t('customer', [
      c('customer_id', 1, 'int4', 'identifier', '客户ID', { is_primary_key: true }),
      c('first_name', 2, 'text', 'label', '名'),
      c('last_name', 3, 'text', 'label', '姓'),
      c('city', 4, 'text', 'code', '城市', { enum_values: ['Austin', 'Boston', 'Denver'] }),
      c('house_number', 5, 'int4', 'code', '门牌号', { range: range('1', '999') }),
      c('credit_limit', 6, 'numeric', 'non_additive_measure', '信用额度', { range: range('500', '2400') }),
      c('created_at', 7, 'timestamp', 'business_time', '注册时间', { range: range('2023-01-04', '2024-12-27') }),
      c('deleted_at', 8, 'timestamp', 'soft_delete', '删除时间'),
    ], { entity: { zh: '客户', en: 'customer' }, primary_key: ['customer_id'] }),
    t('product', [
      c('product_id', 1, 'int4', 'identifier', '产品ID', { is_primary_key: true }),
      c('name', 2, 'text', 'label', '名称'),
      c('unit_price', 3, 'numeric', 'non_additive_measure', '单价', { range: range('5', '204') }),
      c('stock_qty', 4, 'int4', 'non_additive_measure', '库存数量', { range: range('1', '85') }),
      c('bytes', 5, 'int8', 'additive_measure', '字节数', { range: range('100', '90000') }),
      c('category_code', 6, 'text', 'code', '类别编码', { enum_values: ['A', 'B', 'C'] }),
    ], { entity: { zh: '产品', en: 'product' }, primary_key: ['product_id'], estimated_rows: 60 }),
    t('orders', orderColumns(), { entity: { zh: '订单', en: 'order' }, primary_key: ['order_id'], foreign_keys: [fk('customer_id', 'customer', 'customer_id')] }),
    t('orders_2024', orderColumns(), { entity: { zh: '订单', en: 'order' }, primary_key: ['order_id'], partition_of: 'public.orders', foreign_keys: [fk('customer_id', 'customer', 'customer_id')] }),
    t('order_line', [
      c('order_id', 1, 'int4', 'foreign_key', '订单ID', { distinct_share: 0.34 }),
      c('product_id', 2, 'int4', 'foreign_key', '产品ID', { distinct_share: 0.03 }),
      c('quantity', 3, 'int4', 'additive_measure', '数量', { range: range('1', '5') }),
      c('unit_price', 4, 'numeric', 'non_additive_measure', '单价', { range: range('5', '204') }),
      c('discount_rate', 5, 'numeric', 'non_additive_measure', '折扣率', { range: range('0', '0.15') }),
    ], { entity: { zh: '订单明细', en: 'order line' }, primary_key: ['order_id', 'product_id'], estimated_rows: 2400, foreign_keys: [fk('order_id', 'orders', 'order_id'), fk('product_id', 'product', 'product_id')] }),
  ],
};

async function generate(seed: number, lang: 'zh' | 'en' = 'zh'): Promise<GeneratedPair[]> {
  const catalog = buildCatalog(SCHEMA);
  const themes = offlineThemes(catalog, 6, lang);
  const collector = new PairCollector(catalog);
  const out: GeneratedPair[] = [];
  for (let i = 0; i < themes.length; i++) out.push(...(await offlinePairsForTheme({ catalog, theme: themes[i]!, themeIndex: i, lang, seed, count: 12, collector })).pairs);
  return out;
}

const groupLists = (sql: string) => [...sql.matchAll(/GROUP BY (.+?)(?= ORDER BY| HAVING| LIMIT|\)|;|$)/g)].map((m) => m[1]!.split(',').map((s) => s.trim()));

describe('offline generator rules on a schema built to tempt them', () => {
  let pairs: GeneratedPair[];
  before(async () => {
    await loadParser();
    pairs = await generate(42);
  });

  test('a generous run: every business table covered, one pair per signature, all four levels', () => {
    assert.ok(pairs.length >= 25, `${pairs.length} pairs`);
    const tables = new Set(pairs.flatMap((p) => p.tables));
    for (const name of ['customer', 'product', 'orders', 'order_line']) assert.ok(tables.has(`public.${name}`), name);
    assert.equal(new Set(pairs.map((p) => p.signature)).size, pairs.length);
    assert.deepEqual(new Set(pairs.map((p) => p.complexity)), new Set(['single_table', 'join', 'aggregate', 'window_cte']));
  });

  test('ids, references and codes are counted, never summed, averaged or thresholded', () => {
    for (const p of pairs) {
      for (const name of ['customer_id', 'order_id', 'product_id', 'house_number', 'category_code', 'status', 'city']) {
        assert.doesNotMatch(p.sql, new RegExp(`(SUM|AVG|MIN|MAX)\\((\\w+\\.)?${name}\\)`), p.sql);
        assert.doesNotMatch(p.sql, new RegExp(`(\\w+\\.)?${name} (>|>=|<|<=) `), p.sql);
      }
    }
  });

  test('non-additive measures are never summed on their own (only inside quantity × price)', () => {
    for (const p of pairs) for (const name of ['unit_price', 'discount_rate', 'stock_qty', 'credit_limit']) assert.doesNotMatch(p.sql, new RegExp(`SUM\\((\\w+\\.)?${name}\\)`), p.sql);
    assert.ok(pairs.some((p) => /SUM\(\w+\.?quantity \* \w*\.?unit_price/.test(p.sql) || /SUM\(quantity \* unit_price/.test(p.sql)), 'the derived measure is used');
  });

  test('labels are never grouped alone: the key is always in the same GROUP BY', () => {
    for (const p of pairs) {
      for (const list of groupLists(p.sql)) {
        const labels = list.filter((x) => /(first_name|last_name|\bname)$/.test(x));
        for (const label of labels) {
          const alias = label.includes('.') ? label.split('.')[0] : '';
          assert.ok(list.some((x) => /_id$/.test(x) && (!alias || x.startsWith(`${alias}.`))), `${p.sql}: ${label} grouped without its key`);
        }
      }
    }
  });

  test('no aggregation at the entity’s own grain: a table is never grouped by its own key while its own columns are aggregated', () => {
    for (const p of pairs) {
      for (const list of groupLists(p.sql)) {
        for (const key of list.filter((x) => /(customer_id|product_id|order_id)$/.test(x))) {
          const alias = key.includes('.') ? key.split('.')[0] : '';
          const column = key.split('.').pop()!;
          // single-table GROUP BY of the key of the same table
          const owner = { customer_id: 'customer', product_id: 'product', order_id: 'orders' }[column]!;
          if (!alias) assert.doesNotMatch(p.sql, new RegExp(`FROM ${owner}( WHERE [^()]*)? GROUP BY ${column}\\b`), p.sql);
          else assert.doesNotMatch(p.sql, new RegExp(`(SUM|AVG)\\(${alias}\\.`), `${p.sql}: aggregates ${alias}'s own columns grouped by ${key}`);
        }
      }
    }
  });

  test('technical time is never used; partitions are never queried; soft-deleted rows are excluded', () => {
    for (const p of pairs) {
      assert.doesNotMatch(p.sql, /load_ts/, p.sql);
      assert.doesNotMatch(p.sql, /orders_2024/, p.sql);
      assert.ok(!p.tables.includes('public.orders_2024'));
      if (/\bcustomer\b/.test(p.sql)) assert.match(p.sql, /deleted_at IS NULL/, p.sql);
      assert.doesNotMatch(p.sql, /now\(\)|current_date|CURRENT_DATE/i, p.sql);
    }
  });

  test('prefixes only with matching logic: months, windows, top-N and shares are in the SQL', () => {
    for (const p of pairs) {
      assert.doesNotMatch(p.question, /^(为|在)[^，]{2,12}(中|时)?，/, `framing phrase: ${p.question}`);
      if (/每个月|按月|每月/.test(p.question)) assert.match(p.sql, /date_trunc\('month'/, p.question);
      if (/\d{4}年\d{1,2}月的/.test(p.question)) assert.match(p.sql, /DATE '\d{4}-\d{2}-01'/, p.question);
      const days = /最近(\d+)天/.exec(p.question);
      if (days) assert.match(p.sql, new RegExp(`INTERVAL '${days[1]} days'`), p.question);
      const top = /前(\d+)|(\d+)个|(\d+)条|(\d+)位/.exec(p.question);
      if (top && /最高|最多|排名|最大|排在/.test(p.question)) assert.match(p.sql, new RegExp(`LIMIT ${top[1] ?? top[2] ?? top[3] ?? top[4]}`), p.question);
      if (/百分比|占比/.test(p.question)) assert.match(p.sql, /\* 100\.0/, p.question);
      if (/date_trunc\('month'/.test(p.sql) && !/WITH/.test(p.sql)) assert.match(p.question, /月/, p.sql);
    }
  });

  test('questions name entities by their noun, never by a label word, and are wholly Chinese outside quoted values', () => {
    for (const p of pairs) {
      assert.doesNotMatch(p.question, /(^|[^姓])名(的|有|最|是)/, p.question);
      const outside = p.question.replace(/“[^”]*”/g, '');
      assert.doesNotMatch(outside, /[A-Za-z_]/, `half-translated or raw identifier: ${p.question}`);
    }
  });

  test('deterministic for a seed; English questions are English', async () => {
    const again = await generate(42);
    assert.deepEqual(again.map((p) => [p.question, p.sql]), pairs.map((p) => [p.question, p.sql]));
    const en = await generate(42, 'en');
    assert.ok(en.length >= 25);
    for (const p of en) assert.doesNotMatch(p.question, /[\u4e00-\u9fff]/, p.question);
  });
});

describe('a term with no translation stays whole and goes to glossary_todo.json', () => {
  test('the step keeps "frobbed bytes" whole in the questions and lists "frobbed" next to what ddl_generation listed', async () => {
    const schema = structuredClone(SCHEMA);
    const product = schema.tables.find((x) => x.name === 'product')!;
    Object.assign(product.columns.find((x) => x.name === 'bytes')!, { name: 'frobbed_bytes', comment: null, comment_source: null });
    const dir = makeTempDir('dp-qa-todo-');
    fs.writeFileSync(path.join(dir, 'schema.json'), JSON.stringify(schema));
    fs.writeFileSync(path.join(dir, 'glossary_todo.json'), JSON.stringify([{ word: 'zork', used_by: ['x.zork_id'] }]));
    const ctx = makeStepContext({ dir, step: 'qa_generation', parameters: { db_name: 'shop', qa_execution_check: false, theme_count: 6, questions_per_theme: 8 } });
    try {
      await qaGenerationStep.run(ctx);
    } finally {
      await ctx.close();
    }
    const pairFile = fs.readdirSync(dir).find((n) => /_pair\.json$/.test(n))!;
    const questions = (JSON.parse(fs.readFileSync(path.join(dir, pairFile), 'utf8')) as Array<{ question: string }>).map((p) => p.question);
    const withTerm = questions.filter((q) => /frobbed/.test(q));
    assert.ok(withTerm.length > 0, 'a question uses the untranslated measure');
    for (const q of withTerm) assert.match(q, /frobbed bytes/, `whole, never half-translated: ${q}`);
    const todo = JSON.parse(fs.readFileSync(path.join(dir, 'glossary_todo.json'), 'utf8')) as Array<{ word: string; used_by: string[] }>;
    assert.deepEqual(todo.map((e) => e.word).sort(), ['frobbed', 'zork']);
    assert.deepEqual(todo.find((e) => e.word === 'frobbed')!.used_by, ['product.frobbed_bytes']);
  });
});

async function generateFor(schema: SchemaFile, count = 12, lang: 'zh' | 'en' = 'zh'): Promise<GeneratedPair[]> {
  await loadParser();
  const catalog = buildCatalog(schema);
  const themes = offlineThemes(catalog, 6, lang);
  const collector = new PairCollector(catalog);
  const out: GeneratedPair[] = [];
  for (let i = 0; i < themes.length; i++) out.push(...(await offlinePairsForTheme({ catalog, theme: themes[i]!, themeIndex: i, lang, seed: 7, count, collector })).pairs);
  return out;
}
const schemaOf = (tables: TableInfo[]): SchemaFile => ({ ...SCHEMA, tables });

describe('small and oddly shaped schemas still get right questions', () => {
  test('one reference table (a key, a unique name, a unique code): its count, a list and lookups both ways', async () => {
    const company = t('company', [
      c('id', 1, 'varchar', 'identifier', '主键ID', { is_primary_key: true, distinct_share: 1 }),
      c('company_name', 2, 'varchar', 'label', '公司名称', { distinct_share: 1, sample_values: ['上饶分公司', '吉安分公司', '宜春分公司'] }),
      c('company_no', 3, 'varchar', 'code', '公司编码', { distinct_share: 1, sample_values: ['H01', 'H02', 'H03'] }),
    ], { entity: { zh: '公司', en: 'company' }, primary_key: ['id'], estimated_rows: 10 });
    const pairs = await generateFor(schemaOf([company]), 8);
    const questions = pairs.map((p) => p.question);
    assert.ok(pairs.length >= 4, questions.join(' | '));
    assert.ok(pairs.some((p) => /^SELECT COUNT\(\*\) AS count FROM company;?$/.test(p.sql)), questions.join(' | '));
    // A lookup by the code returns the name; by the name, the code — never a GROUP BY of the name.
    assert.ok(pairs.some((p) => /SELECT company_name FROM company WHERE company_no = 'H0\d'/.test(p.sql)));
    assert.ok(pairs.some((p) => /SELECT company_no FROM company WHERE company_name = '.+分公司'/.test(p.sql)));
    assert.ok(pairs.every((p) => !/GROUP BY/.test(p.sql)));
  });

  test('a name that is not unique is never a lookup key', async () => {
    const person = t('person', [
      c('id', 1, 'int4', 'identifier', '人员ID', { is_primary_key: true, distinct_share: 1 }),
      c('name', 2, 'text', 'label', '姓名', { distinct_share: 0.4, sample_values: ['张伟', '王芳'] }),
      c('badge_no', 3, 'text', 'code', '工号', { distinct_share: 1, sample_values: ['E001', 'E002'] }),
    ], { entity: { zh: '人员', en: 'person' }, primary_key: ['id'], estimated_rows: 50 });
    const pairs = await generateFor(schemaOf([person]), 8);
    assert.ok(pairs.length > 0);
    assert.ok(pairs.every((p) => !/WHERE name = /.test(p.sql)), pairs.map((p) => p.sql).join('\n'));
  });

  test('a table referencing another twice (cite → paper as citing and as cited): the questions differ by the role', async () => {
    const paper = t('paper', [
      c('paperid', 1, 'int4', 'identifier', '论文ID', { is_primary_key: true, distinct_share: 1 }),
      c('title', 2, 'text', 'label', '标题', { distinct_share: 1 }),
    ], { entity: { zh: '论文', en: 'paper' }, primary_key: ['paperid'], estimated_rows: 200 });
    const cite = t('cite', [
      c('citingpaperid', 1, 'int4', 'foreign_key', '引用论文ID', { distinct_share: 0.3 }),
      c('citedpaperid', 2, 'int4', 'foreign_key', '被引用论文ID', { distinct_share: 0.3 }),
    ], { entity: { zh: '引用', en: 'citation' }, primary_key: ['citingpaperid', 'citedpaperid'], estimated_rows: 900, foreign_keys: [fk('citingpaperid', 'paper', 'paperid'), fk('citedpaperid', 'paper', 'paperid')] });
    const pairs = await generateFor(schemaOf([paper, cite]), 10);
    const counted = pairs.filter((p) => /FROM cite c JOIN paper p ON c\.cit(ing|ed)paperid = p\.paperid GROUP BY/.test(p.sql));
    assert.equal(counted.length, 2, pairs.map((p) => `${p.question} ${p.sql}`).join('\n'));
    const cited = counted.find((p) => p.sql.includes('citedpaperid'))!;
    const citing = counted.find((p) => p.sql.includes('citingpaperid'))!;
    assert.match(cited.question, /被引用论文/);
    assert.doesNotMatch(citing.question, /被引用/);
  });

  test('a subtype keyed by its supertype (customers.id → persons.id): persons without a row are "not customers"', async () => {
    const persons = t('persons', [
      c('id', 1, 'int4', 'identifier', '人员ID', { is_primary_key: true, distinct_share: 1 }),
      c('full_name', 2, 'text', 'label', '姓名', { distinct_share: 0.9 }),
    ], { entity: { zh: '人员', en: 'person' }, primary_key: ['id'], estimated_rows: 500 });
    const customers = t('customers', [
      c('id', 1, 'int4', 'foreign_key', '人员ID', { distinct_share: 1, null_share: 0 }),
      c('segment', 2, 'text', 'code', '客户分群', { enum_values: ['retail', 'vip'] }),
    ], { entity: { zh: '客户', en: 'customer' }, primary_key: ['id'], estimated_rows: 200, foreign_keys: [fk('id', 'persons', 'id')] });
    const pairs = await generateFor(schemaOf([persons, customers]), 10);
    const anti = pairs.find((p) => /NOT EXISTS/.test(p.sql));
    assert.ok(anti, pairs.map((p) => p.question).join(' | '));
    assert.match(anti.question, /不是客户/);
  });
});
