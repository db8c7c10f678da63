// What a generated SQL statement is, read by the real PostgreSQL parser (libpg-query): its fingerprint
// (constants ignored: two queries that differ only in literal values are duplicates), the tables, columns
// and functions it uses, and its complexity level. Synchronous, for ranking candidates; the parse gate a
// pair must pass before it is written is sql_validation's (src/sql/analyze.ts), applied by the collector.
import libpg from 'libpg-query';
import { loadParser } from './sql-text.ts';

export { loadParser };

export const COMPLEXITY_LEVELS = ['single_table', 'join', 'aggregate', 'window_cte'] as const;
export type Complexity = (typeof COMPLEXITY_LEVELS)[number];

export interface TableRef {
  schema: string | null;
  name: string;
  alias: string | null;
}

export interface ColumnRef {
  qualifier: string | null;
  name: string;
}

export interface SqlAnalysis {
  fingerprint: string;
  /** Real relations referenced (CTE names excluded), in first-seen order, without duplicates. */
  tables: TableRef[];
  columns: ColumnRef[];
  functions: string[];
  hasJoin: boolean;
  hasAggregate: boolean;
  hasGroupBy: boolean;
  hasWindow: boolean;
  hasCte: boolean;
  hasSubquery: boolean;
  complexity: Complexity;
}

export type ParseOutcome =
  | { ok: true; analysis: SqlAnalysis }
  | { ok: false; reason: 'empty' | 'parse_error' | 'multiple_statements' | 'not_select'; message: string };

const AGGREGATES = new Set([
  'count', 'sum', 'avg', 'min', 'max', 'string_agg', 'array_agg', 'bool_and', 'bool_or', 'every', 'stddev', 'stddev_pop',
  'stddev_samp', 'variance', 'var_pop', 'var_samp', 'percentile_cont', 'percentile_disc', 'mode', 'json_agg', 'jsonb_agg',
  'json_object_agg', 'jsonb_object_agg', 'corr', 'covar_pop', 'covar_samp', 'regr_slope', 'regr_intercept', 'regr_count',
  'regr_r2', 'regr_avgx', 'regr_avgy', 'bit_and', 'bit_or', 'xmlagg',
]);

const WRITE_NODES = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

/** Trims whitespace and trailing semicolons (one statement is expected). */
export function stripTrailingSemicolons(sql: string): string {
  return sql.trim().replace(/(;\s*)+$/, '').trim();
}

/** Parses and classifies one statement. Requires loadParser() to have resolved. `fingerprint: false`
 * skips the fingerprint (another parse) when the caller has it already. */
export function classifySql(sql: string, options: { fingerprint?: boolean } = {}): ParseOutcome {
  const text = stripTrailingSemicolons(sql);
  if (!text) return { ok: false, reason: 'empty', message: 'empty SQL' };
  let tree: { stmts?: Array<{ stmt: Record<string, unknown> }> };
  try {
    tree = libpg.parseSync(text) as typeof tree;
  } catch (error) {
    return { ok: false, reason: 'parse_error', message: error instanceof Error ? error.message : String(error) };
  }
  const stmts = tree.stmts ?? [];
  if (stmts.length === 0) return { ok: false, reason: 'empty', message: 'no statement' };
  if (stmts.length > 1) return { ok: false, reason: 'multiple_statements', message: `${stmts.length} statements; exactly one SELECT is allowed` };
  const [kind] = Object.keys(stmts[0]!.stmt);
  if (kind !== 'SelectStmt') return { ok: false, reason: 'not_select', message: `${kind ?? 'unknown'} is not a SELECT` };
  const select = stmts[0]!.stmt.SelectStmt as Record<string, unknown>;
  if (select.intoClause) return { ok: false, reason: 'not_select', message: 'SELECT INTO creates a table' };

  const state = {
    tables: [] as TableRef[],
    columns: [] as ColumnRef[],
    functions: new Set<string>(),
    cteNames: new Set<string>(),
    hasJoin: false,
    hasAggregate: false,
    hasGroupBy: false,
    hasWindow: false,
    hasCte: false,
    hasSubquery: false,
    writes: [] as string[],
    locking: false,
  };
  walk(stmts[0]!.stmt, state);
  if (state.writes.length > 0) return { ok: false, reason: 'not_select', message: `contains ${state.writes.join(', ')}` };
  if (state.locking) return { ok: false, reason: 'not_select', message: 'SELECT ... FOR UPDATE/SHARE takes row locks' };

  const seen = new Set<string>();
  const tables = state.tables.filter((t) => {
    if (!t.schema && state.cteNames.has(t.name)) return false;
    const key = `${t.schema ?? ''}.${t.name}.${t.alias ?? ''}`;
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  const distinctRelations = new Set(tables.map((t) => `${t.schema ?? ''}.${t.name}`));
  const analysis: SqlAnalysis = {
    fingerprint: options.fingerprint === false ? '' : libpg.fingerprintSync(text),
    tables,
    columns: state.columns,
    functions: [...state.functions].sort(),
    hasJoin: state.hasJoin,
    hasAggregate: state.hasAggregate,
    hasGroupBy: state.hasGroupBy,
    hasWindow: state.hasWindow,
    hasCte: state.hasCte,
    hasSubquery: state.hasSubquery,
    complexity: state.hasCte || state.hasWindow
      ? 'window_cte'
      : state.hasAggregate || state.hasGroupBy
        ? 'aggregate'
        : distinctRelations.size >= 2
          ? 'join'
          : 'single_table',
  };
  return { ok: true, analysis };
}

type State = {
  tables: TableRef[];
  columns: ColumnRef[];
  functions: Set<string>;
  cteNames: Set<string>;
  hasJoin: boolean;
  hasAggregate: boolean;
  hasGroupBy: boolean;
  hasWindow: boolean;
  hasCte: boolean;
  hasSubquery: boolean;
  writes: string[];
  locking: boolean;
};

function sval(node: unknown): string | undefined {
  return (node as { String?: { sval?: string } })?.String?.sval;
}

function walk(node: unknown, state: State): void {
  if (Array.isArray(node)) {
    for (const item of node) walk(item, state);
    return;
  }
  if (!node || typeof node !== 'object') return;
  for (const [key, value] of Object.entries(node as Record<string, unknown>)) {
    if (WRITE_NODES.has(key)) state.writes.push(key);
    switch (key) {
      case 'RangeVar': {
        const rv = value as { relname: string; schemaname?: string; alias?: { aliasname?: string } };
        state.tables.push({ schema: rv.schemaname ?? null, name: rv.relname, alias: rv.alias?.aliasname ?? null });
        break;
      }
      case 'ColumnRef': {
        const fields = ((value as { fields?: unknown[] }).fields ?? []).map((f) => sval(f) ?? ((f as { A_Star?: unknown }).A_Star ? '*' : '?'));
        const name = fields.at(-1) ?? '?';
        state.columns.push({ qualifier: fields.length >= 2 ? fields.at(-2)! : null, name });
        break;
      }
      case 'FuncCall': {
        const fc = value as { funcname?: unknown[]; over?: unknown; agg_filter?: unknown };
        const name = (fc.funcname ?? []).map(sval).filter(Boolean).at(-1)?.toLowerCase();
        if (name) state.functions.add(name);
        if (fc.over) state.hasWindow = true;
        else if (name && AGGREGATES.has(name)) state.hasAggregate = true;
        break;
      }
      case 'CommonTableExpr': {
        const cte = value as { ctename?: string };
        if (cte.ctename) state.cteNames.add(cte.ctename);
        state.hasCte = true;
        break;
      }
      case 'JoinExpr':
        state.hasJoin = true;
        break;
      case 'SubLink':
      case 'RangeSubselect':
        state.hasSubquery = true;
        break;
      case 'SelectStmt': {
        const s = value as { groupClause?: unknown[]; fromClause?: unknown[]; lockingClause?: unknown[]; havingClause?: unknown };
        if (s.groupClause?.length || s.havingClause) state.hasGroupBy = true;
        if ((s.fromClause?.length ?? 0) > 1) state.hasJoin = true;
        if (s.lockingClause?.length) state.locking = true;
        break;
      }
      default:
        break;
    }
    walk(value, state);
  }
}

/** The same text a reviewer would call the same question: case, width, spacing and punctuation folded. */
export function normalizeQuestion(question: string): string {
  return question
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\s\p{P}\p{S}]+/gu, '');
}
