// Results: top-N by RANK()/DENSE_RANK() returns every tie, so more than N rows; an empty result caused by
// a literal that does not occur in the data (a misspelt status, a date outside the range).
import type { TableFacts } from '../facts.ts';
import type { Comparison } from '../model.ts';
import type { LintFinding, Rule } from '../types.ts';
import { columnLabel, dedupe, TEXT_TYPES, TIME_TYPES } from './shared.ts';

const TIES_MENTIONED = /并列|相同名次|同名次|ties?\b|tied|including ties|with ties/i;

export const rankTiesBeyondN: Rule = async ({ model, analysis, options, t }) => {
  const findings: LintFinding[] = [];
  if (options.question && TIES_MENTIONED.test(options.question)) return [];
  for (const scope of model.scopes) {
    for (const c of scope.comparisons) {
      if (c.clause !== 'where' || !['<=', '<', '='].includes(c.op) || c.literals.length !== 1 || !/^\d+$/.test(c.literals[0]!)) continue;
      const derived = c.column.ref?.derived;
      const name = c.column.written.split('.').at(-1)!;
      const func = derived?.outputFunctions.get(name);
      if (func !== 'rank' && func !== 'dense_rank') continue;
      const n = c.op === '<' ? Number(c.literals[0]) - 1 : Number(c.literals[0]);
      if (c.op === '=' && n !== 1) continue;
      const partitioned = derived!.windows.some((w) => w.alias === name && w.partitioned);
      let rows: number | undefined;
      if (options.probe && options.executable && !partitioned && scope === model.root) rows = await options.probe.countRows(analysis.statement, n);
      if (rows !== undefined && rows <= n && func === 'rank') continue; // no ties in the data now
      const proven = rows !== undefined && rows > n;
      findings.push({
        rule: 'rank_ties_beyond_n',
        severity: proven ? 'error' : 'warning',
        message: t(
          `${func.toUpperCase()}() ${c.op} ${c.literals[0]} 取前 ${n} 名时会包含所有并列${proven ? `（实际返回 ${rows! > n ? `超过 ${n}` : rows} 行）` : ''}，可能多于 ${n} 行：应在问题中说明包含并列，或改用 ROW_NUMBER()`,
          `${func.toUpperCase()}() ${c.op} ${c.literals[0]} keeps every tie, so the top ${n} can be more than ${n} rows${proven ? ` (it returns more than ${n} now)` : ''}: say so in the question or use ROW_NUMBER()`,
        ),
        columns: [c.column.written],
      });
    }
  }
  return dedupe(findings);
};

// -------------------------------------------------------------------------- literals not in the data

/** Similarity of two values for "did you mean": case-insensitive edit distance, containment first. */
export function nearest(value: string, candidates: Iterable<string>, limit: number): string[] {
  const v = value.toLowerCase();
  const scored: Array<{ c: string; score: number }> = [];
  for (const c of new Set(candidates)) {
    const l = c.toLowerCase();
    const contains = l.includes(v) || v.includes(l) ? 0 : 1;
    scored.push({ c, score: contains * 1000 + editDistance(v, l) });
  }
  scored.sort((a, b) => a.score - b.score || a.c.localeCompare(b.c));
  return scored.slice(0, limit).map((s) => s.c);
}

function editDistance(a: string, b: string): number {
  if (a === b) return 0;
  const x = Array.from(a).slice(0, 64);
  const y = Array.from(b).slice(0, 64);
  let prev = Array.from({ length: y.length + 1 }, (_, i) => i);
  for (let i = 1; i <= x.length; i += 1) {
    const cur = [i];
    for (let j = 1; j <= y.length; j += 1) cur[j] = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (x[i - 1] === y[j - 1] ? 0 : 1));
    prev = cur;
  }
  return prev[y.length]!;
}

const MAX_LITERAL_PROBES = 4;

function dateOf(text: string): Date | undefined {
  const d = new Date(/^\d{4}-\d{2}-\d{2}$/.test(text) ? `${text}T00:00:00Z` : /[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text.replace(' ', 'T') : `${text.replace(' ', 'T')}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

export const literalNotInData: Rule = async ({ model, options, t }) => {
  // An aggregate without GROUP BY returns its one row (0, NULL) even when nothing matched: rows prove nothing there.
  const root = model.root;
  const alwaysOneRow = root.aggregates.some((a) => !a.window) && !root.groupBy.length && !root.body.havingClause;
  if (options.rowCheck === 'rows' && !alwaysOneRow) return [];
  const findings: LintFinding[] = [];
  let probes = 0;
  const probe = options.probe;
  const confirm = async (table: TableFacts, column: string, value: string): Promise<boolean | undefined> => {
    if (!probe || probes >= MAX_LITERAL_PROBES) return undefined;
    probes += 1;
    return probe.valueExists(table, column, value);
  };
  for (const scope of model.scopes) {
    for (const c of scope.comparisons as Comparison[]) {
      const col = c.column.column;
      const table = c.column.table;
      if (!col || !table || !c.literals.length) continue;
      if ((c.op === '=' || c.op === 'in') && (TEXT_TYPES.has(col.type) || col.role === 'code' || col.role === 'label')) {
        for (const value of c.literals) {
          let absent: boolean | undefined;
          const known = col.enumValues;
          if (known && !known.includes(value)) absent = true;
          if (known?.includes(value)) absent = false;
          const inData = await (absent === false ? Promise.resolve(true) : confirm(table, col.name, value));
          if (inData !== undefined) absent = !inData;
          if (!absent) continue;
          let near = nearest(value, [...(known ?? []), ...col.sampleValues], 3);
          if (probe) {
            const fromData = await probe.nearestValues(table, col.name, value, 3);
            if (fromData.length) near = fromData;
          }
          const proven = inData === false || options.rowCheck === 'empty';
          findings.push({
            rule: 'literal_not_in_data',
            severity: proven ? 'error' : 'warning',
            message: t(
              `${columnLabel(c.column)} 中没有值 '${value}'${options.rowCheck === 'empty' ? '，因此结果为空' : ''}${near.length ? `；最接近的实际值：${near.map((v) => `'${v}'`).join(', ')}` : ''}`,
              `'${value}' does not occur in ${columnLabel(c.column)}${options.rowCheck === 'empty' ? ', so the result is empty' : ''}${near.length ? `; nearest real values: ${near.map((v) => `'${v}'`).join(', ')}` : ''}`,
            ),
            columns: [columnLabel(c.column)],
            nearest: near,
          });
        }
        continue;
      }
      if (TIME_TYPES.has(col.type) && col.range && ['=', '>', '>=', '<', '<=', 'between'].includes(c.op)) {
        const min = dateOf(col.range.min);
        const max = dateOf(col.range.max);
        const dates = c.literals.map(dateOf);
        if (!min || !max || dates.some((d) => !d)) continue;
        const lo = dates[0]!;
        const hi = dates.at(-1)!;
        const outside =
          c.op === 'between' ? hi < min || lo > max : c.op === '=' ? lo < min || lo > max : c.op.startsWith('>') ? lo > max : hi < min;
        if (!outside) continue;
        let confirmed: boolean | undefined;
        if (probe && col.range.source !== 'exact' && probes < MAX_LITERAL_PROBES) {
          probes += 1;
          const has = await probe.rowsInWindow(table, col.name, c.op.startsWith('>') || c.op === 'between' ? c.literals[0] : undefined, c.op.startsWith('<') ? c.literals[0] : c.op === 'between' ? `${c.literals.at(-1)} 23:59:59.999` : undefined);
          if (has === true) continue;
          confirmed = has === false;
        }
        findings.push({
          rule: 'literal_not_in_data',
          severity: options.rowCheck === 'empty' || alwaysOneRow || confirmed || col.range.source === 'exact' ? 'error' : 'warning',
          message: t(
            `${columnLabel(c.column)} ${c.op} ${c.literals.map((v) => `'${v}'`).join(' AND ')} 超出数据范围 ${col.range.min} .. ${col.range.max}，因此结果为空`,
            `${columnLabel(c.column)} ${c.op} ${c.literals.map((v) => `'${v}'`).join(' AND ')} lies outside the data range ${col.range.min} .. ${col.range.max}, so the result is empty`,
          ),
          columns: [columnLabel(c.column)],
          nearest: [col.range.min, col.range.max],
        });
      }
    }
  }
  return dedupe(findings);
};
