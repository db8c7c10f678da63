// Column roles decide the aggregate: ids, foreign keys and codes are counted, never summed or averaged;
// non-additive measures (prices, rates, snapshots) are averaged or weighted, never summed across rows.
import type { LintFinding, Rule } from '../types.ts';
import { columnLabel, dedupe, KEY_ROLES } from './shared.ts';

export const aggregateOnKey: Rule = ({ model, t }) => {
  const findings: LintFinding[] = [];
  for (const scope of model.scopes) {
    for (const agg of scope.aggregates) {
      if (agg.func !== 'sum' && agg.func !== 'avg') continue;
      const role = agg.column?.column?.role;
      if (!agg.column || !role || !KEY_ROLES.has(role)) continue;
      const col = columnLabel(agg.column);
      findings.push({
        rule: 'aggregate_on_key',
        severity: 'error',
        message: t(
          `${agg.func.toUpperCase()}(${col}) 对${role === 'code' ? '编码' : '标识/外键'}列求${agg.func === 'sum' ? '和' : '平均'}没有业务含义：应使用 COUNT / COUNT(DISTINCT)，或按它分组并显示其名称`,
          `${agg.func.toUpperCase()}(${col}) aggregates ${role === 'code' ? 'a code' : 'an identifier/foreign key'} (${role}): count it (COUNT / COUNT DISTINCT) or group by it with its label instead`,
        ),
        columns: [col],
      });
    }
  }
  return dedupe(findings);
};

export const sumNonAdditive: Rule = ({ model, t }) => {
  const findings: LintFinding[] = [];
  for (const scope of model.scopes) {
    for (const agg of scope.aggregates) {
      if (agg.func !== 'sum' || agg.column?.column?.role !== 'non_additive_measure') continue;
      const col = columnLabel(agg.column);
      findings.push({
        rule: 'sum_non_additive',
        severity: 'error',
        message: t(
          `SUM(${col}) 对不可加的度量（单价、比率、快照等）跨行求和：应使用 AVG / MIN / MAX，或加权计算（如 SUM(数量*单价)）`,
          `SUM(${col}) adds up a non-additive measure (a price, rate or snapshot) across rows: use AVG / MIN / MAX or a weighted measure such as SUM(quantity * unit_price)`,
        ),
        columns: [col],
      });
    }
  }
  return dedupe(findings);
};
