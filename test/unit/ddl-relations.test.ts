// Relationship inference from names (candidates, scoring, overlap threshold), dependency order with FK
// cycles, enum decisions (pg_stats first, the bounded sample as fallback), sample plans.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { CatalogColumn, CatalogConstraint, CatalogRelation, ColumnProfile, RelationProfile } from '../../src/postgres/catalog/index.ts';
import { samplePlan } from '../../src/postgres/catalog/sampling.ts';
import { decideEnum } from '../../src/pipeline/ddl/profile.ts';
import { dependencyOrder, discoverRelationships, nameWords, RelationIndex, splitKeyName, tableCores } from '../../src/pipeline/ddl/relations.ts';

let nextOid = 1000;

function col(name: string, udt = 'varchar', extra: Partial<CatalogColumn> = {}): CatalogColumn {
  return {
    position: 1,
    name,
    qName: name,
    dataType: udt === 'varchar' ? 'character varying(32)' : udt === 'int4' ? 'integer' : udt,
    udtName: udt,
    typtype: 'b',
    typcategory: udt === 'varchar' || udt === 'text' ? 'S' : udt.startsWith('int') ? 'N' : udt === 'bool' ? 'B' : 'D',
    typeOid: 0,
    typmod: -1,
    baseTypeOid: 0,
    baseTypmod: udt === 'varchar' ? 36 : -1,
    baseUdtName: udt,
    notNull: false,
    default: null,
    generationExpr: null,
    identity: null,
    generated: null,
    collation: null,
    comment: null,
    nullFrac: null,
    nDistinct: null,
    mostCommonVals: null,
    mostCommonFreqs: null,
    histogramBounds: null,
    ...extra,
  };
}

function rel(name: string, columns: CatalogColumn[], constraints: Partial<CatalogConstraint>[] = [], extra: Partial<CatalogRelation> = {}): CatalogRelation {
  return {
    oid: nextOid++,
    requested: [name],
    schema: 'public',
    name,
    qSchema: 'public',
    qName: name,
    qualified: `public.${name}`,
    relkind: 'r',
    kind: 'table',
    reltuples: 100,
    heapBytes: 8192,
    totalBytes: 16384,
    comment: null,
    readable: true,
    viewDefinition: null,
    partitionKey: null,
    foreignServer: null,
    inheritsFrom: null,
    columns,
    constraints: constraints.map((c) => ({
      name: 'c',
      qName: 'c',
      type: 'p',
      definition: '',
      columns: [],
      targetOid: null,
      targetSchema: null,
      targetTable: null,
      targetQName: null,
      targetColumns: [],
      indexOid: null,
      ...c,
    })) as CatalogConstraint[],
    indexes: [],
    sequences: [],
    types: [],
    partitions: [],
    viewDependencies: [],
    functions: [],
    ...extra,
  };
}

function profileOf(values: Record<string, string[]>, relation: CatalogRelation): RelationProfile {
  return {
    plan: { method: 'limit', limit: 5000 },
    rows: 100,
    complete: true,
    ms: 1,
    columns: relation.columns.map((c) => ({ top: (values[c.name] ?? []).map((v) => ({ value: v, count: 1 })), nonNull: 100, distinct: (values[c.name] ?? []).length })),
  };
}

describe('names', () => {
  test('words, key suffixes and table cores', () => {
    assert.deepEqual(nameWords('serviceAreaId'), ['service', 'area', 'id']);
    assert.deepEqual(splitKeyName('company_id'), { stem: 'company', suffix: 'id' });
    assert.deepEqual(splitKeyName('service_no'), { stem: 'service', suffix: 'no' });
    assert.equal(splitKeyName('id'), undefined);
    assert.equal(splitKeyName('car_type'), undefined);
    assert.deepEqual(tableCores('bss_service_area'), ['bss_service_area', 'service_area']);
    assert.ok(tableCores('companies').includes('company'));
    assert.ok(tableCores('orders').includes('order'));
  });
});

describe('inferred relationships', () => {
  const company = rel('bss_company', [col('id'), col('company_no'), col('company_name')], [{ type: 'p', columns: ['id'] }]);
  const area = rel('bss_service_area', [col('id'), col('service_area_no'), col('company_id')], [{ type: 'p', columns: ['id'] }]);
  const mapper = rel('bss_service_area_mapper', [col('id'), col('service_no'), col('service_area_id')], [{ type: 'p', columns: ['id'] }]);
  const daily = rel('bss_business_day_data', [col('id'), col('service_no'), col('branch_no'), col('order_sum', 'int4')], [{ type: 'p', columns: ['id'] }]);
  const index = new RelationIndex([company, area, mapper, daily]);

  test('candidates: X_id → X.id (PK), service_no → service_area.service_area_no (canonical key name)', () => {
    const c1 = index.candidates(area, area.columns[2]!);
    assert.equal(`${c1[0]!.target.name}.${c1[0]!.targetColumn.name}`, 'bss_company.id');
    const c2 = index.candidates(daily, daily.columns[1]!);
    assert.deepEqual(c2.map((c) => `${c.target.name}.${c.targetColumn.name}`), ['bss_service_area.service_area_no'], 'not mapper.service_no: not a key');
    const c3 = index.candidates(mapper, mapper.columns[2]!);
    assert.equal(`${c3[0]!.target.name}.${c3[0]!.targetColumn.name}`, 'bss_service_area.id', 'exact table name first');
    assert.deepEqual(index.candidates(daily, daily.columns[2]!), [], 'branch_no: no such table');
    assert.deepEqual(index.candidates(company, company.columns[1]!), [], 'never the table itself');
    const intCol = rel('x', [col('company_id', 'int4')]);
    assert.deepEqual(new RelationIndex([company, intCol]).candidates(intCol, intCol.columns[0]!), [], 'type classes must match');
  });

  const tablesOf = (...items: Array<[CatalogRelation, Record<string, string[]>]>) => items.map(([relation, values]) => ({ relation, profile: profileOf(values, relation) }));

  test('confirmed by containment ≥ 0.9; the best-ranked confirmed candidate wins; evidence recorded', async () => {
    const values = ['a', 'b', 'c', 'd', 'e', 'f', 'g', 'h', 'i', 'j'];
    const found = await discoverRelationships(tablesOf([area, { id: values }], [mapper, { service_area_id: values, service_no: ['x'] }]), async (candidate) =>
      candidate.target.name === 'bss_service_area' && candidate.targetColumn.name === 'id' ? 9 : 0,
    );
    const fks = found.byRelation.get(mapper.oid) ?? [];
    assert.deepEqual(fks.map((f) => `${f.columns}→${f.target_table}.${f.target_columns}`), ['service_area_id→bss_service_area.id']);
    assert.equal(fks[0]!.inferred, true);
    assert.deepEqual(fks[0]!.discovery, { rule: 'key_suffix', containment: 0.9, target_unique: 'key', sampled: 10 });
    assert.deepEqual(fks[0]!.overlap, { matched: 9, sampled: 10 });
    const rejected = await discoverRelationships(tablesOf([company, {}], [area, { company_id: values }]), async () => 8);
    assert.equal(rejected.byRelation.size, 0, '8/10 is not enough');
  });

  test('declared keys and empty columns are not inferred again', async () => {
    const declared = rel('bss_service_area', [col('id'), col('company_id')], [
      { type: 'p', columns: ['id'] },
      { type: 'f', columns: ['company_id'], targetOid: company.oid },
    ]);
    let probes = 0;
    const a = await discoverRelationships(tablesOf([company, {}], [declared, { company_id: ['a'] }]), async () => (probes++, 1));
    assert.equal(a.byRelation.size, 0);
    const b = await discoverRelationships(tablesOf([company, {}], [area, {}]), async () => (probes++, 1));
    assert.equal(b.byRelation.size, 0);
    assert.equal(probes, 0);
  });

  test('a user entry on a column with a declared key is ignored (declared keys stay as they are)', async () => {
    const declared = rel('bss_service_area', [col('id'), col('company_id')], [
      { type: 'p', columns: ['id'] },
      { type: 'f', columns: ['company_id'], targetOid: company.oid },
    ]);
    const r = await discoverRelationships(tablesOf([company, {}], [declared, { company_id: ['a'] }]), async () => 1, {
      user: [{ from: 'bss_service_area.company_id', to: 'bss_company.company_no' }],
    });
    assert.equal(r.byRelation.size, 0);
    assert.match(r.unknownUser[0] ?? '', /declared foreign key/);
  });

  test('two targets nothing tells apart give no relationship (not an alphabetical guess)', async () => {
    const a = rel('alpha_types', [col('id', 'int4')], [{ type: 'p', columns: ['id'] }]);
    const b = rel('beta_types', [col('id', 'int4')], [{ type: 'p', columns: ['id'] }]);
    const child = rel('items', [col('id', 'int4'), col('type_id', 'int4')], [{ type: 'p', columns: ['id'] }]);
    const values = ['1', '2', '3'];
    const r = await discoverRelationships(tablesOf([a, {}], [b, {}], [child, { type_id: values }]), async () => 3);
    assert.equal(r.byRelation.size, 0);
    assert.equal(r.stats.ambiguous, 1);
  });

  test('user-declared relationships win, vetoes remove inferred ones', async () => {
    const values = ['a', 'b'];
    const user = await discoverRelationships(tablesOf([company, {}], [area, { company_id: values }]), async () => 2, {
      user: [{ from: 'bss_service_area.company_id', to: 'bss_company.company_no' }],
    });
    const fk = user.byRelation.get(area.oid)![0]!;
    assert.equal(`${fk.target_table}.${fk.target_columns}`, 'bss_company.company_no');
    assert.equal(fk.origin, 'user');
    const veto = await discoverRelationships(tablesOf([company, {}], [area, { company_id: values }]), async () => 2, {
      user: [{ from: 'bss_service_area.company_id', to: 'bss_company.id', enabled: false }],
    });
    assert.equal(veto.byRelation.size, 0);
    assert.equal(veto.stats.vetoed, 1);
  });
});

describe('dependency order', () => {
  test('FK targets and view inputs first; a cycle is broken by request order', () => {
    const a = rel('a', [col('id')]);
    const b = rel('b', [col('id')]);
    const c = rel('c', [col('id')]);
    const v = rel('v', [col('id')], [], { relkind: 'v', kind: 'view' });
    b.constraints.push({ type: 'f', targetOid: c.oid } as CatalogConstraint);
    c.constraints.push({ type: 'f', targetOid: b.oid } as CatalogConstraint);
    a.constraints.push({ type: 'f', targetOid: b.oid } as CatalogConstraint);
    v.viewDependencies.push({ oid: a.oid, schema: 'public', name: 'a', qName: 'a' });
    const { order } = dependencyOrder([v, a, b, c]);
    assert.deepEqual(order.map((r) => r.name), ['b', 'c', 'a', 'v']);
  });
});

describe('enum decisions', () => {
  const profile = (values: Array<[string, number]>, nonNull: number): ColumnProfile => ({ top: values.map(([value, count]) => ({ value, count })), nonNull, distinct: values.length });

  test('pg_stats first: few distinct values listed by frequency (MCV order)', () => {
    const c = col('state', 'varchar', { nDistinct: 3, mostCommonVals: ['开放', '关闭', '上传数据'], nullFrac: 0 });
    assert.deepEqual(decideEnum(c, undefined, 60, { threshold: 20, unique: false }), { values: ['开放', '关闭', '上传数据'], source: 'stats' });
    const many = col('name', 'varchar', { nDistinct: -1, mostCommonVals: null });
    assert.equal(decideEnum(many, profile([['a', 1]], 1), 60, { threshold: 20, unique: false }).values, null);
    assert.equal(decideEnum(c, undefined, 60, { threshold: 2, unique: false }).values, null, 'threshold');
  });

  test('the bounded sample when there are no statistics; identifiers, keys and dates are never enums', () => {
    const fresh = col('kind', 'varchar');
    assert.deepEqual(decideEnum(fresh, profile([['mail', 60], ['call', 40]], 100), 100, { threshold: 20, unique: false }).values, ['mail', 'call']);
    assert.equal(decideEnum(fresh, profile([['a', 1], ['b', 1], ['c', 1]], 3), 3, { threshold: 20, unique: false }).values, null, 'all distinct: identifies rows');
    assert.equal(decideEnum(fresh, profile(Array.from({ length: 21 }, (_, i) => [`v${i}`, 5] as [string, number]), 105), 105, { threshold: 20, unique: false }).values, null);
    assert.equal(decideEnum(fresh, profile([['a', 50]], 50), 50, { threshold: 20, unique: true }).values, null, 'unique');
    assert.equal(decideEnum(col('d', 'date'), profile([['2024-01-01', 50]], 50), 50, { threshold: 20, unique: false }).values, null, 'dates');
    assert.equal(decideEnum(col('id', 'int4', { identity: 'a' }), profile([['1', 50]], 50), 50, { threshold: 20, unique: false }).values, null, 'identity');
    assert.deepEqual(decideEnum(col('flag', 'bool'), profile([['true', 1], ['false', 1]], 2), 2, { threshold: 20, unique: false }).values, ['true', 'false'], 'booleans');
  });

  test('enum types list their labels, observed ones first', () => {
    const c = col('status', 'order_status', { typtype: 'e', typcategory: 'E', mostCommonVals: ['paid', 'new'] });
    assert.deepEqual(decideEnum(c, undefined, 10, { threshold: 20, unique: false, labels: ['new', 'paid', 'shipped'] }).values, ['paid', 'new', 'shipped']);
  });
});

describe('sample plans', () => {
  test('small tables: LIMIT; big ones: TABLESAMPLE sized for the budget; views: a small LIMIT', () => {
    assert.deepEqual(samplePlan({ relkind: 'r', reltuples: 3000, heapBytes: 300_000, blockSize: 8192 }, 5000), { method: 'limit', limit: 5000 });
    const big = samplePlan({ relkind: 'r', reltuples: 5_000_000, heapBytes: 400_000_000, blockSize: 8192 }, 5000);
    assert.equal(big.method, 'tablesample');
    assert.ok(big.percent! > 0.1 && big.percent! < 0.2);
    const unanalyzed = samplePlan({ relkind: 'r', reltuples: -1, heapBytes: 400_000_000, blockSize: 8192 }, 5000);
    assert.equal(unanalyzed.method, 'tablesample');
    assert.deepEqual(samplePlan({ relkind: 'v', reltuples: -1, heapBytes: 0, blockSize: 8192 }, 5000), { method: 'limit', limit: 1000 });
    assert.equal(samplePlan({ relkind: 'p', reltuples: 10_000_000, heapBytes: 900_000_000, blockSize: 8192 }, 5000).method, 'tablesample');
  });
});
