// Names: table names as written → catalog candidates, table-list lines, wildcards, file names (safe,
// unique, stable), filename_mapping.txt round trip, compact types.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { parseTableName, readTableListText, TableNameError, wildcardToLike } from '../../src/postgres/catalog/names.ts';
import { fileBase, parseMapping, renderMapping, tableFiles } from '../../src/pipeline/ddl/render/files.ts';
import { compactType, shownType } from '../../src/pipeline/ddl/model.ts';
import type { TableInfo } from '../../src/pipeline/artifacts.ts';

describe('table names', () => {
  test('PostgreSQL rules first (unquoted folds to lower case), then the name as written', () => {
    assert.deepEqual(parseTableName('orders').candidates, [{ schema: undefined, name: 'orders' }]);
    assert.deepEqual(parseTableName('Public.Orders').candidates, [
      { schema: 'public', name: 'orders' },
      { schema: 'Public', name: 'Orders' },
    ]);
    assert.deepEqual(parseTableName('"Sales Ops"."Order"').candidates, [{ schema: 'Sales Ops', name: 'Order' }]);
    assert.deepEqual(parseTableName('"a""b".c').candidates, [{ schema: 'a"b', name: 'c' }]);
    assert.deepEqual(parseTableName('"a.b"').candidates, [{ schema: undefined, name: 'a.b' }]);
    assert.deepEqual(parseTableName(' 销售 . 订单明细 ').candidates, [{ schema: '销售', name: '订单明细' }]);
    assert.deepEqual(parseTableName('Sales Ops.Order').candidates, [
      { schema: 'sales ops', name: 'order' },
      { schema: 'Sales Ops', name: 'Order' },
    ]);
    for (const bad of ['', 'a.b.c', '"open', '.x', 'x.', '""', '"a"b']) assert.throws(() => parseTableName(bad), TableNameError, bad);
  });

  test('table-list text: one name per line, comments and blanks skipped, duplicates dropped', () => {
    assert.deepEqual(readTableListText('\uFEFF# list\ncustomer\r\n\n-- note\n"Sales Ops"."Order"\ncustomer\n  product  \n'), [
      'customer',
      '"Sales Ops"."Order"',
      'product',
    ]);
  });

  test('wildcards: * and ? become LIKE patterns; LIKE metacharacters are literal', () => {
    assert.equal(wildcardToLike('bss_*'), 'bss\\_%');
    assert.equal(wildcardToLike('t?'), 't_');
    assert.equal(wildcardToLike('100%'), '100\\%');
    assert.equal(wildcardToLike('a\\b'), 'a\\\\b');
  });
});

describe('file names', () => {
  test('guide naming for plain names: <table> in public, <schema>__<table> elsewhere', () => {
    assert.deepEqual(tableFiles('public', 'bss_company'), { ddl: 'bss_company.ddl', detail: 'bss_company_detail.md' });
    assert.equal(fileBase('ods', 'bss_company'), 'ods__bss_company');
    assert.equal(fileBase('销售', '订单明细'), '销售__订单明细');
    assert.equal(fileBase('public', 'user'), 'user');
  });

  test('anything else is made safe and suffixed with a hash of the exact name', () => {
    const names: Array<[string, string]> = [
      ['public', 'Orders'],
      ['public', 'orders'],
      ['public', 'ORDERS'],
      ['Sales Ops', 'Order'],
      ['sales_ops', 'order'],
      ['public', 'a/b'],
      ['public', 'a\\b'],
      ['public', '../etc'],
      ['public', 'x__y'],
      ['x', 'y'],
      ['public', 'x y'],
      ['public', 'x_y'],
      ['public', '.hidden'],
      ['public', 'con'],
    ];
    const bases = names.map(([s, n]) => fileBase(s, n));
    for (const base of bases) {
      assert.match(base, /^[\p{L}\p{N}_-]+$/u, base);
      assert.ok(!base.startsWith('.') && !base.includes('/') && !base.includes('..'));
    }
    assert.equal(new Set(bases.map((b) => b.toLowerCase())).size, bases.length, 'unique, also on case-insensitive file systems');
    assert.match(fileBase('public', 'Orders'), /^Orders-[0-9a-f]{8}$/);
    assert.equal(fileBase('public', 'Orders'), fileBase('public', 'Orders'), 'stable');
    assert.ok(Buffer.byteLength(fileBase('s'.repeat(63), '表'.repeat(21))) < 200);
  });

  test('filename_mapping.txt round-trips', () => {
    const tables = [
      { full_name: 'public.customer', files: tableFiles('public', 'customer') },
      { full_name: 'Sales Ops.Order', files: tableFiles('Sales Ops', 'Order') },
    ] as TableInfo[];
    const text = renderMapping(tables, 'zh', '2025-01-01T00:00:00Z');
    assert.deepEqual(parseMapping(text), [
      { table: 'public.customer', ddl: 'customer.ddl', detail: 'customer_detail.md' },
      { table: 'Sales Ops.Order', ddl: tables[1]!.files.ddl, detail: tables[1]!.files.detail },
    ]);
  });
});

describe('types', () => {
  test('compact spellings stay valid SQL', () => {
    assert.equal(compactType('character varying(32)'), 'varchar(32)');
    assert.equal(compactType('character varying'), 'varchar');
    assert.equal(compactType('character(6)'), 'char(6)');
    assert.equal(compactType('timestamp without time zone'), 'timestamp');
    assert.equal(compactType('timestamp(3) with time zone'), 'timestamptz(3)');
    assert.equal(compactType('time with time zone'), 'timetz');
    assert.equal(compactType('character varying(20)[]'), 'varchar(20)[]');
    assert.equal(compactType('numeric(19,4)'), 'numeric(19,4)');
    assert.equal(compactType('"Sales Ops"."character varying"'), '"Sales Ops"."character varying"');
    assert.equal(shownType('public.order_status'), 'order_status');
  });
});
