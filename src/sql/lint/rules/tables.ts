// Tables: query a partition's or inheritance child's parent, not the child; filter out soft-deleted rows.
import type { LintFinding, Rule } from '../types.ts';
import { dedupe } from './shared.ts';

export const partitionChild: Rule = ({ model, facts, options, t }) => {
  const findings: LintFinding[] = [];
  for (const scope of model.scopes) {
    for (const ref of scope.refs) {
      const child = ref.table;
      if (!child?.partitionOf) continue;
      const parent = facts.resolve(child.partitionOf);
      if (!parent) continue;
      // A question about that partition itself (it names the table) may query it.
      const named = options.question?.toLowerCase().includes(child.name.toLowerCase()) ?? false;
      findings.push({
        rule: 'partition_child',
        severity: named ? 'warning' : 'error',
        message: t(
          `${child.qualified} 是 ${parent.qualified} 的分区/继承子表：应查询父表 ${parent.qualified}（必要时按分区键过滤），除非问题只问这一分区`,
          `${child.qualified} is a partition/inheritance child of ${parent.qualified}: query the parent ${parent.qualified} (filtered on the partition key if needed) unless the question is about this partition only`,
        ),
        columns: [child.name],
      });
    }
  }
  return dedupe(findings);
};

export const missingSoftDeleteFilter: Rule = ({ model, t }) => {
  const findings: LintFinding[] = [];
  for (const scope of model.scopes) {
    for (const ref of scope.refs) {
      const table = ref.table;
      if (!table) continue;
      const markers = [...table.columns.values()].filter((c) => c.role === 'soft_delete');
      if (!markers.length) continue;
      const filtered = scope.columns.some((u) => u.ref === ref && u.column && markers.includes(u.column) && (u.clause === 'where' || u.clause === 'join'));
      if (filtered) continue;
      // The profile saw no deleted row: the result is the same today, but the pair teaches the wrong habit.
      const noneDeleted = markers.every((m) => m.nullShare === 1 || (m.enumValues !== null && m.enumValues.every((v) => /^(f|false|0|n|no)$/i.test(v))));
      const names = markers.map((m) => m.label);
      findings.push({
        rule: 'missing_soft_delete_filter',
        severity: noneDeleted ? 'warning' : 'error',
        message: t(
          `${table.name} 有软删除标记 ${names.join(' / ')}，但查询没有排除已删除的行（例如 ${markers[0]!.name} IS NULL${markers[0]!.type === 'bool' ? ` 或 NOT ${markers[0]!.name}` : ''}）`,
          `${table.name} has the soft-delete marker ${names.join(' / ')}, but the query does not exclude deleted rows (e.g. ${markers[0]!.name} IS NULL${markers[0]!.type === 'bool' ? ` or NOT ${markers[0]!.name}` : ''})`,
        ),
        columns: names,
      });
    }
  }
  return dedupe(findings);
};
