// Joins: two children of the same parent joined directly on the key they share multiply each other's rows.
import type { LintFinding, Rule } from '../types.ts';
import { columnLabel, dedupe } from './shared.ts';

export const siblingJoin: Rule = ({ model, t }) => {
  const findings: LintFinding[] = [];
  for (const scope of model.scopes) {
    for (const [a, b] of scope.equalities) {
      if (!a.ref || !b.ref || a.ref === b.ref || !a.table || !b.table || !a.column || !b.column) continue;
      if (a.column.unique || b.column.unique) continue; // one side is one row per key: nothing multiplies
      const fkA = a.table.foreignKeys.find((fk) => fk.columns.length === 1 && fk.columns[0] === a.column!.name);
      const fkB = b.table.foreignKeys.find((fk) => fk.columns.length === 1 && fk.columns[0] === b.column!.name);
      if (!fkA || !fkB || fkA.target !== fkB.target || fkA.targetColumns[0] !== fkB.targetColumns[0]) continue;
      if (fkA.target === a.table.qualified || fkA.target === b.table.qualified) continue;
      const parent = fkA.target;
      findings.push({
        rule: 'sibling_join',
        severity: 'error',
        message: t(
          `${columnLabel(a)} = ${columnLabel(b)} 直接连接了 ${parent} 的两个子表：每个${parent}的行会相乘；应分别聚合后再连接，或经由父表 ${parent} 连接`,
          `${columnLabel(a)} = ${columnLabel(b)} joins two children of ${parent} directly: their rows multiply per ${parent} row; aggregate each before joining, or join through the parent ${parent}`,
        ),
        columns: [columnLabel(a), columnLabel(b)],
      });
    }
  }
  return dedupe(findings);
};
