// Grain: group by the key and show the label; do not aggregate an entity at its own grain; do not sum a
// parent's measure after joining its children (fan-out).
import { columnOf, rowKey, type ColumnFacts, type TableFacts } from '../facts.ts';
import type { LintFinding, Rule } from '../types.ts';
import { columnLabel, dedupe, groupedColumnsOf, groupsByRowKey, joinEdges, KEY_ROLES } from './shared.ts';

/** The key that tells apart the entities a label names: a key/code column of the same table whose name
 * shares the label's stem (`service_name` → `service_no`), else the table's one-column row key. */
function keyForLabel(table: TableFacts, label: ColumnFacts): { key: ColumnFacts; isRowKey: boolean } | undefined {
  const stem = label.name.toLowerCase().replace(/[_\s]*(name|title|label|名称|名字|姓名|名)$/u, '').replace(/[_\s]+$/, '');
  if (stem.length >= 2) {
    const related = [...table.columns.values()].find((c) => c !== label && c.role && KEY_ROLES.has(c.role) && c.name.toLowerCase().startsWith(stem) && c.name.length > stem.length);
    if (related) return { key: related, isRowKey: table.primaryKey.length === 1 && table.primaryKey[0] === related.name };
  }
  const rk = rowKey(table);
  if (rk.length === 1) {
    const key = columnOf(table, rk[0]!);
    if (key) return { key, isRowKey: true };
  }
  return undefined;
}

export const groupByLabelWithoutKey: Rule = async ({ model, options, t }) => {
  const findings: LintFinding[] = [];
  for (const scope of model.scopes) {
    for (const g of scope.groupBy) {
      const label = g.column;
      const ref = g.ref;
      if (!label || label.role !== 'label' || !ref?.table || label.unique) continue;
      const table = ref.table;
      const grouped = groupedColumnsOf(scope, ref).map((n) => columnOf(table, n)!);
      if (grouped.some((c) => (c.role && KEY_ROLES.has(c.role)) || rowKey(table).includes(c.name))) continue;
      const key = keyForLabel(table, label);
      if (!key) continue;
      let shared: string[] | undefined;
      if (options.probe) shared = await options.probe.sharedLabels(table, label.name, key.key.name, 3);
      if (shared === undefined) {
        // No data check: the profile's sample proves repeats only when the key is the row key.
        if (!(key.isRowKey && label.distinctShare !== null && label.distinctShare < 1)) continue;
        shared = [];
      }
      if (!shared.length && options.probe) continue;
      const col = columnLabel(g);
      const examples = shared.length ? ` (${shared.map((v) => `'${v}'`).join(', ')})` : '';
      findings.push({
        rule: 'group_by_label_without_key',
        severity: 'error',
        message: t(
          `GROUP BY ${col} 按名称分组，但同一名称对应多个 ${key.key.label}${examples}：不同 ${key.key.name} 的${key.isRowKey && table.entity ? table.entity.zh : '对象'}会被合并在一起；应按 ${key.key.label} 分组并同时显示 ${col}`,
          `GROUP BY ${col} groups by a label that several ${key.key.label} values share${examples}: ${key.isRowKey && table.entity ? `different ${table.entity.en} rows` : `rows of different ${key.key.name}`} are merged; group by ${key.key.label} and show ${col} beside it`,
        ),
        columns: [col, key.key.label],
      });
    }
  }
  return dedupe(findings);
};

const MEASURE_AGGREGATES = new Set(['sum', 'avg', 'min', 'max']);

/** A column that identifies one row of its table: the row key, a unique column, or all distinct in the profile. */
function identifiesRow(table: TableFacts, scopeGrouped: string[]): boolean {
  const key = rowKey(table);
  if (key.length && key.every((k) => scopeGrouped.includes(k))) return true;
  return scopeGrouped.some((n) => {
    const c = columnOf(table, n);
    return Boolean(c && (c.unique || (c.distinctShare === 1 && (c.role === 'label' || c.role === 'identifier' || c.role === 'code') && (table.estimatedRows ?? 0) > 1)));
  });
}

export const ownGrainAggregation: Rule = ({ model, t }) => {
  const findings: LintFinding[] = [];
  for (const scope of model.scopes) {
    if (!scope.groupBy.length) continue;
    const edges = joinEdges(scope);
    for (const agg of scope.aggregates) {
      if (agg.window || !MEASURE_AGGREGATES.has(agg.func) || !agg.argColumns.length) continue;
      const ref = agg.argColumns[0]!.ref;
      if (!ref?.table || !agg.argColumns.every((c) => c.ref === ref && c.column)) continue;
      const grouped = groupedColumnsOf(scope, ref);
      if (!grouped.length || !identifiesRow(ref.table, grouped)) continue;
      // Grouped by a child's key with other tables joined: the row is still one per group. A SUM over the
      // parent with children joined is the fan-out rule's.
      if (agg.func === 'sum' && edges.some((e) => e.parent === ref && !e.oneToOne)) continue;
      const cols = agg.argColumns.map(columnLabel);
      const by = grouped.map((n) => `${ref.table!.name}.${n}`);
      findings.push({
        rule: 'own_grain_aggregation',
        severity: 'error',
        message: t(
          `${agg.func.toUpperCase()}(${cols.join(', ')}) 按 ${by.join(', ')} 分组：每组只有一行（${ref.table.entity?.zh ?? ref.table.name}自身的粒度），聚合没有意义；应直接查询该列并 ORDER BY … LIMIT，或在更粗的粒度上聚合`,
          `${agg.func.toUpperCase()}(${cols.join(', ')}) grouped by ${by.join(', ')}: each group is one row (the ${ref.table.entity?.en ?? ref.table.name}'s own grain), so the aggregate means nothing; select the column with ORDER BY … LIMIT, or aggregate at a coarser grain`,
        ),
        columns: [...cols, ...by],
      });
    }
  }
  return dedupe(findings);
};

export const fanOutSum: Rule = ({ model, t }) => {
  const findings: LintFinding[] = [];
  for (const scope of model.scopes) {
    const edges = joinEdges(scope).filter((e) => !e.oneToOne);
    if (!edges.length) continue;
    for (const agg of scope.aggregates) {
      if ((agg.func !== 'sum' && agg.func !== 'avg') || agg.window || !agg.argColumns.length || agg.distinct) continue;
      const ref = agg.argColumns[0]!.ref;
      if (!ref?.table || !agg.argColumns.every((c) => c.ref === ref)) continue;
      const child = edges.find((e) => e.parent === ref);
      if (!child) continue;
      // Grouped by the child's key: one child row per group, nothing repeats.
      if (groupsByRowKey(scope, child.child)) continue;
      const cols = agg.argColumns.map(columnLabel);
      const childName = child.child.table?.name ?? child.child.alias;
      findings.push({
        rule: 'fan_out_sum',
        severity: agg.func === 'sum' ? 'error' : 'warning',
        message: t(
          `${agg.func.toUpperCase()}(${cols.join(', ')}) 是父表 ${ref.table.name} 的度量，但查询连接了子表 ${childName}（${columnLabel(child.childColumn)}）：每个子行都会重复计算一次；应先在子查询中聚合再连接，或改为聚合子表的度量`,
          `${agg.func.toUpperCase()}(${cols.join(', ')}) is a measure of the parent ${ref.table.name}, but the query joins its children ${childName} (${columnLabel(child.childColumn)}): it is counted once per child row; aggregate before the join or aggregate a child measure instead`,
        ),
        columns: [...cols, columnLabel(child.childColumn)],
      });
    }
  }
  return dedupe(findings);
};
