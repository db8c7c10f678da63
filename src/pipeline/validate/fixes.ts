// Deterministic repairs, tried before (or without) an LLM. Each applies only where the fix is certain:
//   code_fence        — the SQL is wrapped in a Markdown code fence or prefixed with "SQL:": unwrap it;
//   identifier_case   — a table or column does not exist as written but exactly one does when case is
//                       ignored: write that one (quoted when it must be);
//   qualification     — `x.col` names a relation that lacks col (or no relation at all), and exactly one
//                       relation of the query has col: qualify with that one; or an unqualified `col` is
//                       ambiguous between relations whose `col` the query equates (inner join / WHERE):
//                       any of them gives the same value, so qualify with the first.
// Qualification fixes run only on single-scope queries (no subquery, CTE or set operation), where the
// relations a name may refer to are known for sure. A trailing semicolon is normalisation, not a fix: the
// stored SQL always ends with exactly one (see normalizeStoredSql).
import { positionToIndex, type SqlAnalysisOk } from '../../sql/analyze.ts';
import { identifier, type Catalog, type CatalogTable } from './catalog.ts';
import type { SqlCheckResult } from './checker.ts';

export type FixName = 'code_fence' | 'identifier_case' | 'qualification';

export interface DeterministicFix {
  fix: FixName;
  sql: string;
  description: string;
}

/** Unwraps ```sql ... ``` fences and a leading `SQL:` label; undefined when there is nothing to unwrap. */
export function unwrapCodeFence(sql: string): string | undefined {
  const fence = /```[ \t]*(?:sql|postgresql|postgres|pgsql)?[ \t]*\r?\n?([\s\S]*?)\r?\n?[ \t]*```/i.exec(sql);
  if (fence && fence[1]!.trim()) return fence[1]!.trim();
  const label = /^\s*(?:sql|SQL)\s*[:：]\s*([\s\S]+)$/.exec(sql);
  if (label) return label[1]!.trim();
  return undefined;
}

/** The stored form of a valid query: trimmed, ending with exactly one semicolon. */
export function normalizeStoredSql(sql: string): string {
  const trimmed = sql.trim().replace(/[\s;]+$/, '');
  // A trailing line comment would swallow the semicolon: put it on its own line.
  const lastLine = trimmed.slice(trimmed.lastIndexOf('\n') + 1);
  return /--/.test(stripLiterals(lastLine)) ? `${trimmed}\n;` : `${trimmed};`;
}

function stripLiterals(text: string): string {
  return text.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"/g, (m) => ' '.repeat(m.length));
}

/** Splits `a.b."C"` into its parts (quotes removed; unquoted parts folded to lower case). */
function identifierParts(token: string): Array<{ name: string; quoted: boolean }> {
  const parts: Array<{ name: string; quoted: boolean }> = [];
  const re = /\s*(?:"((?:[^"]|"")*)"|([^."\s]+))\s*(?:\.|$)/gy;
  let m: RegExpExecArray | null;
  while ((m = re.exec(token)) && m[0] !== '') {
    if (m[1] !== undefined) parts.push({ name: m[1].replace(/""/g, '"'), quoted: true });
    else parts.push({ name: m[2]!.toLowerCase(), quoted: false });
    if (re.lastIndex >= token.length) break;
  }
  return parts;
}

function replaceAt(sql: string, position: number, length: number, replacement: string): string {
  const index = positionToIndex(sql, position);
  return sql.slice(0, index) + replacement + sql.slice(index + length);
}

/** The relation of the query a qualifier means (alias first, then table name). */
function relationByQualifier(analysis: SqlAnalysisOk, qualifier: string) {
  return analysis.relations.find((r) => r.alias === qualifier) ?? analysis.relations.find((r) => !r.alias && r.name === qualifier);
}

function refName(r: SqlAnalysisOk['relations'][number]): string {
  return identifier(r.alias ?? r.name);
}

/** Tries the deterministic fixes for a failed check; the first that applies is returned (unchecked). */
export function deterministicFix(result: SqlCheckResult, catalog: Catalog): DeterministicFix | undefined {
  const error = result.error;
  if (!error) return undefined;
  const sql = result.sql;

  if (error.class === 'syntax' || error.class === 'parse_gate') {
    const unwrapped = unwrapCodeFence(sql);
    if (unwrapped && unwrapped !== sql.trim()) return { fix: 'code_fence', sql: unwrapped, description: 'removed the Markdown code fence / label around the SQL' };
    return undefined;
  }
  const analysis = result.analysis;
  if (!analysis || !error.position || !error.token) return undefined;
  const tables = analysis.relations.map((r) => ({ ref: r, table: catalog.resolve(r.qualified) }));

  if (error.class === 'undefined_table') {
    const missingFrom = /missing FROM-clause entry for table "([^"]+)"/.exec(error.message);
    if (missingFrom) return requalify(sql, error.position, error.token, analysis, tables, catalog);
    const parts = identifierParts(error.token);
    const rel = parts.at(-1);
    if (!rel || parts.length > 2) return undefined;
    const schema = parts.length === 2 ? parts[0]!.name : undefined;
    const candidates = catalog.tables.filter(
      (t) => t.name.toLowerCase() === rel.name.toLowerCase() && (schema === undefined ? true : t.schema.toLowerCase() === schema.toLowerCase()),
    );
    const unique = schema === undefined && candidates.length > 1 ? candidates.filter((t) => t.schema === 'public') : candidates;
    if (unique.length !== 1) return undefined;
    const t = unique[0]!;
    const replacement = schema === undefined ? identifier(t.name) : `${identifier(t.schema)}.${identifier(t.name)}`;
    if (replacement === error.token) return undefined;
    return {
      fix: 'identifier_case',
      sql: replaceAt(sql, error.position, error.token.length, replacement),
      description: `table ${error.token} → ${replacement}`,
    };
  }

  if (error.class === 'undefined_column') {
    const parts = identifierParts(error.token);
    if (parts.length === 0 || parts.length > 2) return undefined;
    const col = parts.at(-1)!;
    if (parts.length === 2) {
      const rel = relationByQualifier(analysis, parts[0]!.name);
      const table = rel ? catalog.resolve(rel.qualified) : undefined;
      if (table) {
        const exact = table.columns.find((c) => c.name === col.name);
        if (!exact) {
          const loose = table.columns.filter((c) => c.name.toLowerCase() === col.name.toLowerCase());
          if (loose.length === 1) {
            const replacement = `${writeQualifier(error.token)}.${identifier(loose[0]!.name)}`;
            return { fix: 'identifier_case', sql: replaceAt(sql, error.position, error.token.length, replacement), description: `column ${error.token} → ${replacement}` };
          }
        }
      }
      return requalify(sql, error.position, error.token, analysis, tables, catalog);
    }
    // Unqualified: the one column of the query's relations that matches when case is ignored.
    if (analysis.scopes !== 1) return undefined;
    const loose = tables.flatMap(({ table }) => (table?.columns ?? []).filter((c) => c.name.toLowerCase() === col.name.toLowerCase()));
    const names = [...new Set(loose.map((c) => c.name))];
    if (names.length !== 1 || tables.some((t) => !t.table)) return undefined;
    const replacement = identifier(names[0]!);
    if (replacement === error.token) return undefined;
    return { fix: 'identifier_case', sql: replaceAt(sql, error.position, error.token.length, replacement), description: `column ${error.token} → ${replacement}` };
  }

  if (error.class === 'ambiguous' && error.sqlstate === '42702') {
    if (analysis.scopes !== 1) return undefined;
    const parts = identifierParts(error.token);
    if (parts.length !== 1) return undefined;
    const col = parts[0]!.name;
    const holders = tables.filter(({ table }) => table?.columns.some((c) => c.name === col));
    if (holders.length < 2 || tables.some((t) => !t.table)) return undefined;
    // Union-find over the equalities: all holders' `ref.col` must be equated.
    const parent = new Map<string, string>();
    const find = (x: string): string => {
      const p = parent.get(x);
      if (!p || p === x) return x;
      const r = find(p);
      parent.set(x, r);
      return r;
    };
    for (const [a, b] of analysis.equalities) parent.set(find(a), find(b));
    const keys = holders.map(({ ref }) => `${ref.alias ?? ref.name}.${col}`);
    const root = find(keys[0]!);
    if (!keys.every((k) => find(k) === root)) return undefined;
    const replacement = `${refName(holders[0]!.ref)}.${identifier(col)}`;
    return {
      fix: 'qualification',
      sql: replaceAt(sql, error.position, error.token.length, replacement),
      description: `ambiguous ${error.token} → ${replacement} (the query equates ${keys.join(' = ')})`,
    };
  }
  return undefined;
}

/** The qualifier part of a token as written (`s` of `s.col`, `"S"` of `"S".col`). */
function writeQualifier(token: string): string {
  const m = /^\s*("(?:[^"]|"")*"|[^."\s]+)\s*\./.exec(token);
  return m ? m[1]! : '';
}

function requalify(
  sql: string,
  position: number,
  token: string,
  analysis: SqlAnalysisOk,
  tables: Array<{ ref: SqlAnalysisOk['relations'][number]; table: CatalogTable | undefined }>,
  _catalog: Catalog,
): DeterministicFix | undefined {
  if (analysis.scopes !== 1 || tables.some((t) => !t.table)) return undefined;
  const parts = identifierParts(token);
  if (parts.length !== 2) return undefined;
  const col = parts[1]!.name;
  const holders = tables.filter(({ table }) => table!.columns.some((c) => c.name === col));
  if (holders.length !== 1) return undefined;
  const replacement = `${refName(holders[0]!.ref)}.${identifier(col)}`;
  if (replacement === token) return undefined;
  return {
    fix: 'qualification',
    sql: replaceAt(sql, position, token.length, replacement),
    description: `${token} → ${replacement} (the only relation of the query with column ${col})`,
  };
}

