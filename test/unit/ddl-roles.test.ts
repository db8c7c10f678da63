// Column roles (../shared/spec/pair-quality.md): one case that must get the role and one near miss that
// must not, per role; decided from keys, name words (English and Chinese), types and the data.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ColumnInfo, ColumnRole, TableInfo } from '../../src/pipeline/artifacts.ts';
import { assignRoles, decideRole, type TableFacts } from '../../src/pipeline/ddl/roles.ts';

function column(name: string, udt: string, extra: Partial<ColumnInfo> = {}): ColumnInfo {
  return {
    name, position: 1, data_type: udt, udt_name: udt, max_length: null, numeric_precision: null, numeric_scale: udt === 'numeric' ? 2 : null,
    nullable: true, default: null, identity: null, generated: null, is_primary_key: false, comment: null, comment_source: null,
    stats: null, sample_values: [], enum_values: null, ...extra,
  };
}

const facts = (extra: Partial<TableFacts> = {}): TableFacts => ({ primaryKey: new Set(['id']), foreignKeys: new Set(['customer_id']), unique: new Set(['id', 'email']), rows: 500, ...extra });
const role = (c: ColumnInfo, f = facts()) => decideRole(c, f).role;

describe('column roles', () => {
  const cases: Array<[ColumnRole, ColumnInfo, ColumnInfo]> = [
    ['identifier', column('id', 'int4'), column('idle_minutes', 'int4')],
    ['foreign_key', column('customer_id', 'int4'), column('customer_count', 'int4')],
    ['code', column('status', 'varchar', { enum_values: ['paid', 'new'] }), column('status_note', 'text')],
    ['label', column('first_name', 'varchar'), column('description', 'text')],
    ['additive_measure', column('quantity', 'int4'), column('unit_price', 'numeric')],
    ['non_additive_measure', column('discount_rate', 'numeric'), column('discount_amount', 'numeric')],
    ['business_time', column('order_date', 'date'), column('load_ts', 'timestamp')],
    ['technical_time', column('etl_time', 'timestamp'), column('shipped_at', 'timestamp')],
    ['flag', column('is_active', 'bool'), column('is_deleted', 'bool')],
    ['soft_delete', column('deleted_at', 'timestamp'), column('delivered_at', 'timestamp')],
    ['text', column('remark', 'varchar'), column('remark_code', 'varchar')],
    ['contact', column('email', 'varchar'), column('email_count', 'int4')],
    ['other', column('created_by', 'varchar'), column('created_at', 'timestamp')],
  ];
  for (const [expected, positive, negative] of cases) {
    test(`${expected}: ${positive.name} is one, ${negative.name} is not`, () => {
      assert.equal(role(positive), expected, positive.name);
      assert.notEqual(role(negative), expected, negative.name);
    });
  }

  test('Chinese comments and names decide measures (单价 vs 金额)', () => {
    assert.equal(role(column('price_x', 'numeric', { comment: '商品单价' })), 'non_additive_measure');
    assert.equal(role(column('wx', 'numeric', { comment: '微信支付金额' })), 'additive_measure');
    assert.equal(role(column('余额', 'numeric')), 'non_additive_measure');
    assert.equal(role(column('数量', 'int4')), 'additive_measure');
  });

  test('the data: timestamps that all fall within minutes are technical', () => {
    const clustered = column('created_at', 'timestamp', { range: { min: '2025-01-01 02:00:00', max: '2025-01-01 02:03:10', source: 'exact' } });
    const spread = column('created_at', 'timestamp', { range: { min: '2023-01-01 02:00:00', max: '2025-01-01 02:03:10', source: 'exact' } });
    assert.equal(role(clustered), 'technical_time');
    assert.equal(role(spread), 'business_time');
  });

  test('timestamptz text with an offset is read too (all values within minutes → technical)', () => {
    const clustered = column('created_at', 'timestamptz', { range: { min: '2025-01-05 02:00:00+08', max: '2025-01-05 02:00:49+08', source: 'exact' } });
    assert.equal(role(clustered), 'technical_time');
    const halfHour = column('loaded', 'timestamptz', { range: { min: '2025-01-05 02:00:00+05:30', max: '2025-01-05 02:10:00+05:30', source: 'exact' } });
    assert.equal(role(halfHour), 'technical_time');
  });

  test('near misses found by review: integer status is a code, active_users counts, phone_calls counts, address_id is a key, unit_cost is per unit, hour is time', () => {
    assert.equal(role(column('status', 'int4')), 'code');
    assert.equal(role(column('priority', 'int4')), 'code');
    assert.notEqual(role(column('active_users', 'int4')), 'flag');
    assert.notEqual(role(column('phone_calls', 'int4')), 'contact');
    assert.notEqual(role(column('address_id', 'int4')), 'contact');
    assert.equal(role(column('unit_cost', 'numeric')), 'non_additive_measure');
    assert.equal(role(column('cost_per_unit', 'numeric')), 'non_additive_measure');
    assert.equal(role(column('hour', 'int4')), 'business_time');
  });

  test('a number whose name counts things is a measure even with few values (GROUP BY active_users was a BAD pair); few-valued others stay codes', () => {
    const few = { enum_values: ['0', '1', '2', '3', '4', '5', '6'] };
    assert.equal(role(column('active_users', 'int4', few)), 'additive_measure');
    assert.equal(role(column('visits', 'int4', few)), 'additive_measure');
    assert.equal(role(column('shift', 'int4', few)), 'code');
    assert.equal(role(column('status', 'int4', few)), 'code');
    assert.equal(role(column('bonus', 'int4', few)), 'code');
  });

  test('ids, house numbers and years are never measures', () => {
    assert.equal(role(column('house_number', 'int4')), 'code');
    assert.equal(role(column('store_no', 'int4')), 'code');
    assert.equal(role(column('release_year', 'int4')), 'business_time');
    assert.equal(role(column('citation_num', 'int4')), 'additive_measure');
  });

  test('a create timestamp beside audit actors or a business date is technical', () => {
    const table = { columns: [column('id', 'int4'), column('create_ts', 'timestamp'), column('oper_date', 'date')], primary_key: ['id'], foreign_keys: [], unique_constraints: [], estimated_rows: 100 } as unknown as TableInfo;
    assignRoles(table);
    assert.equal(table.columns[1]!.role, 'technical_time');
    assert.equal(table.columns[2]!.role, 'business_time');
    const alone = { columns: [column('id', 'int4'), column('created_at', 'timestamp')], primary_key: ['id'], foreign_keys: [], unique_constraints: [], estimated_rows: 100 } as unknown as TableInfo;
    assignRoles(alone);
    assert.equal(alone.columns[1]!.role, 'business_time', 'a sign-up date is business time');
  });

  test('the LLM role is used where keys do not decide; keys always win', () => {
    assert.equal(decideRole(column('score', 'numeric'), facts(), 'additive_measure').role, 'additive_measure');
    assert.equal(decideRole(column('customer_id', 'int4'), facts(), 'additive_measure').role, 'foreign_key');
  });
});
