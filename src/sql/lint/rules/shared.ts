// Helpers shared by the rules: table references, relationships between them, column names for findings.
import { rowKey, type TableFacts } from '../facts.ts';
import type { ColumnUse, RangeRef, Scope } from '../model.ts';

export const KEY_ROLES = new Set(['identifier', 'foreign_key', 'code']);
export const TIME_TYPES = new Set(['date', 'timestamp', 'timestamptz']);
export const TEXT_TYPES = new Set(['varchar', 'text', 'bpchar', 'citext', 'name']);

export function columnLabel(use: ColumnUse): string {
  return use.column?.label ?? use.written;
}

/** The foreign key of `child` on exactly `column`, pointing at `parent`. */
export function foreignKeyTo(child: TableFacts, column: string, parent: TableFacts, parentColumn?: string) {
  return child.foreignKeys.find(
    (fk) => fk.columns.length === 1 && fk.columns[0] === column && fk.target === parent.qualified && (parentColumn === undefined || fk.targetColumns[0] === parentColumn),
  );
}

export interface JoinEdge {
  parent: RangeRef;
  child: RangeRef;
  childColumn: ColumnUse;
  /** The child's key column is unique (one-to-one): no fan-out. */
  oneToOne: boolean;
}

/** Parent→child edges among the scope's joins, by the relationships in the facts. */
export function joinEdges(scope: Scope): JoinEdge[] {
  const edges: JoinEdge[] = [];
  for (const [a, b] of scope.equalities) {
    for (const [x, y] of [
      [a, b],
      [b, a],
    ] as const) {
      if (!x.ref || !y.ref || x.ref === y.ref || !x.table || !y.table || !x.column || !y.column) continue;
      if (x.ref.table !== x.table || y.ref.table !== y.table) continue; // through a derived table: not a plain join
      if (foreignKeyTo(x.table, x.column.name, y.table, y.column.name)) {
        edges.push({ parent: y.ref, child: x.ref, childColumn: x, oneToOne: x.column.unique || (x.table.primaryKey.length === 1 && x.table.primaryKey[0] === x.column.name) });
      }
    }
  }
  return edges;
}

/** Columns of `ref` that the scope groups by. */
export function groupedColumnsOf(scope: Scope, ref: RangeRef): string[] {
  return scope.groupBy.filter((g) => g.ref === ref && g.column).map((g) => g.column!.name);
}

/** Whether the scope groups by the whole row key of `ref`. */
export function groupsByRowKey(scope: Scope, ref: RangeRef): boolean {
  if (!ref.table) return false;
  const key = rowKey(ref.table);
  if (!key.length) return false;
  const grouped = new Set(groupedColumnsOf(scope, ref));
  return key.every((k) => grouped.has(k));
}

export function dedupe<T extends { rule: string; columns: string[] }>(findings: T[]): T[] {
  const seen = new Set<string>();
  return findings.filter((f) => {
    const key = `${f.rule}|${f.columns.join(',')}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
}
