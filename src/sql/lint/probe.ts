// The linter's bounded data checks, through the one read-only way into the business database
// (src/postgres/read-only.ts): each question is one short statement in a READ ONLY transaction with a
// statement timeout, reading a bounded number of rows; answers are cached for the run, and a check that
// fails or times out answers undefined (the rule then says nothing rather than guess).
import type { Database } from '../../postgres/connect.ts';
import { quoteIdent } from '../../postgres/identifiers.ts';
import { readOnly } from '../../postgres/read-only.ts';
import type { TableFacts } from './facts.ts';
import { nearest } from './rules/results.ts';
import type { LintDataProbe } from './types.ts';

export interface ProbeOptions {
  /** Statement timeout of each check (real PostgreSQL; PGlite relies on the row bounds). Default 2000 ms. */
  timeoutMs?: number;
  /** Rows a check reads at most from a table. Default 100,000. */
  scanRows?: number;
}

export interface CountingProbe extends LintDataProbe {
  /** Checks run against the database (cache hits excluded). */
  readonly queries: number;
}

export function createReadOnlyProbe(db: Database, options: ProbeOptions = {}): CountingProbe {
  const timeoutMs = options.timeoutMs ?? 2000;
  const scan = Math.max(1, Math.floor(options.scanRows ?? 100_000));
  const cache = new Map<string, Promise<unknown>>();
  let queries = 0;
  const rel = (t: TableFacts) => `${quoteIdent(t.schema)}.${quoteIdent(t.name)}`;
  const ask = <T>(key: string, text: string, params: unknown[], read: (rows: Array<Record<string, unknown>>) => T): Promise<T | undefined> => {
    let hit = cache.get(key) as Promise<T | undefined> | undefined;
    if (!hit) {
      queries += 1;
      hit = readOnly(db, async (client) => read((await client.query(text, params)).rows as Array<Record<string, unknown>>), { statementTimeoutMs: timeoutMs })
        .then((r) => r.value)
        .catch(() => undefined);
      cache.set(key, hit);
    }
    return hit;
  };
  return {
    get queries() {
      return queries;
    },
    valueExists(table, column, value) {
      const c = quoteIdent(column);
      return ask(`exists|${table.qualified}|${column}|${value}`, `SELECT EXISTS (SELECT 1 FROM ${rel(table)} WHERE ${c}::text = $1) AS found`, [value], (rows) => rows[0]?.found === true);
    },
    async nearestValues(table, column, value, limit) {
      const c = quoteIdent(column);
      const values = await ask(
        `values|${table.qualified}|${column}`,
        `SELECT v FROM (SELECT ${c}::text AS v FROM ${rel(table)} WHERE ${c} IS NOT NULL LIMIT ${scan}) s GROUP BY v LIMIT 2000`,
        [],
        (rows) => rows.map((r) => String(r.v)),
      );
      return values ? nearest(value, values, limit) : [];
    },
    sharedLabels(table, label, key, limit) {
      const l = quoteIdent(label);
      const k = quoteIdent(key);
      return ask(
        `shared|${table.qualified}|${label}|${key}`,
        `SELECT v FROM (SELECT ${l}::text AS v, ${k} AS k FROM ${rel(table)} WHERE ${l} IS NOT NULL LIMIT ${scan}) s GROUP BY v HAVING count(DISTINCT k) > 1 ORDER BY v LIMIT ${Math.max(1, Math.floor(limit))}`,
        [],
        (rows) => rows.map((r) => String(r.v)),
      );
    },
    rowsInWindow(table, column, lower, upper) {
      const c = quoteIdent(column);
      const conds = [`${c} IS NOT NULL`];
      const params: unknown[] = [];
      if (lower) conds.push(`${c}::timestamp >= $${params.push(lower)}::timestamp`);
      if (upper) conds.push(`${c}::timestamp < $${params.push(upper)}::timestamp`);
      return ask(`window|${table.qualified}|${column}|${lower}|${upper}`, `SELECT EXISTS (SELECT 1 FROM ${rel(table)} WHERE ${conds.join(' AND ')}) AS found`, params, (rows) => rows[0]?.found === true);
    },
    countRows(statement, cap) {
      const n = Math.max(1, Math.floor(cap)) + 1;
      return ask(`count|${statement}|${n}`, `SELECT count(*)::int AS n FROM (SELECT 1 FROM (\n${statement}\n) AS dp_lint_q LIMIT ${n}) AS dp_lint_c`, [], (rows) => Number(rows[0]?.n));
    },
  };
}
