// The query as the linter sees it: one scope per SELECT body (subqueries, CTEs and set-operation branches
// each have their own), with the relations it reads, every column reference resolved to a table column of
// the schema facts where possible (through aliases, derived tables and CTEs that pass a column through),
// the clause each reference sits in, aggregates and window functions, GROUP BY, and the join equalities.
import type { SqlTree } from '../analyze.ts';
import { columnOf, type ColumnFacts, type SchemaFacts, type TableFacts } from './facts.ts';

type Node = SqlTree;
export type Clause = 'select' | 'join' | 'where' | 'group' | 'having' | 'order' | 'window';

export interface RangeRef {
  /** The name the query refers to it by: alias, else the relation name. */
  alias: string;
  table: TableFacts | undefined;
  /** A derived table or CTE: the scope that produces it. */
  derived: Scope | undefined;
  /** `ONLY t` (no inheritance children). */
  only: boolean;
  /** The relation as written (`schema.name` or `name`). */
  written: string;
}

export interface ColumnUse {
  ref: RangeRef | undefined;
  /** The table column this reference reads (through derived tables when passed through unchanged). */
  table: TableFacts | undefined;
  column: ColumnFacts | undefined;
  /** As written, folded: `o.amount`. */
  written: string;
  clause: Clause;
  /** Inside a time function's arguments (date_trunc, extract, date_part, to_char, date_bin). */
  inTimeFunction: boolean;
}

export interface AggregateUse {
  func: string;
  /** The argument when it is one plain column (casts allowed), else undefined (an expression). */
  column: ColumnUse | undefined;
  /** Every column referenced in the arguments. */
  argColumns: ColumnUse[];
  star: boolean;
  distinct: boolean;
  window: boolean;
  clause: Clause;
}

export interface WindowUse {
  func: string;
  /** Output alias when the window function is a target of its own (`RANK() OVER (...) AS rnk`). */
  alias: string | undefined;
  partitioned: boolean;
}

export interface Comparison {
  op: string;
  column: ColumnUse;
  /** The other side: a literal (string form), a list of literals (IN), or an expression node. */
  literals: string[];
  other: Node | undefined;
  clause: Clause;
}

export interface Scope {
  body: Node;
  parent: Scope | undefined;
  refs: RangeRef[];
  columns: ColumnUse[];
  aggregates: AggregateUse[];
  windows: WindowUse[];
  groupBy: ColumnUse[];
  /** `a.x = b.y` between columns, from JOIN ... ON (any join type) and WHERE (top-level AND). */
  equalities: Array<[ColumnUse, ColumnUse]>;
  /** Column-versus-value comparisons in WHERE / JOIN ON / HAVING (top-level AND). */
  comparisons: Comparison[];
  limit: number | undefined;
  /** Output name → the column it passes through unchanged (for resolving references from outside). */
  outputs: Map<string, ColumnUse | undefined>;
  /** Output names of aggregate/window targets: name → function. */
  outputFunctions: Map<string, string>;
  children: Scope[];
}

export interface QueryModel {
  scopes: Scope[];
  root: Scope;
}

const AGGREGATES = new Set([
  'sum', 'avg', 'min', 'max', 'count', 'stddev', 'stddev_pop', 'stddev_samp', 'variance', 'var_pop', 'var_samp',
  'string_agg', 'array_agg', 'bool_and', 'bool_or', 'every', 'percentile_cont', 'percentile_disc', 'mode', 'json_agg', 'jsonb_agg',
]);
const TIME_FUNCTIONS = new Set(['date_trunc', 'date_part', 'extract', 'to_char', 'date_bin', 'age']);

function kind(node: unknown): string | undefined {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
  const keys = Object.keys(node);
  return keys.length === 1 && /^[A-Z]/.test(keys[0]!) ? keys[0] : undefined;
}

export function strings(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((i: Node) => (i?.String?.sval as string | undefined) ?? (i?.A_Star ? '*' : '')).filter((s) => s !== '');
}

export function funcName(call: Node): string {
  return strings(call.funcname).at(-1)?.toLowerCase() ?? '';
}

/** A constant's text (strings, numbers, booleans), or undefined. Casts of constants keep the constant. */
export function constantText(node: unknown): string | undefined {
  const k = kind(node);
  if (!k) return undefined;
  const body = (node as Node)[k];
  if (k === 'TypeCast') return constantText(body.arg);
  if (k !== 'A_Const' || body.isnull) return undefined;
  if (body.sval) return String(body.sval.sval ?? '');
  if (body.ival) return String(body.ival.ival ?? 0);
  if (body.fval) return String(body.fval.fval);
  if (body.boolval) return String(body.boolval.boolval ?? false);
  return undefined;
}

export function buildModel(tree: SqlTree, facts: SchemaFacts): QueryModel {
  const scopes: Scope[] = [];
  const root = buildScope(tree.SelectStmt ?? tree, undefined, new Map(), facts, scopes);
  return { scopes, root };
}

function newScope(body: Node, parent: Scope | undefined): Scope {
  return {
    body,
    parent,
    refs: [],
    columns: [],
    aggregates: [],
    windows: [],
    groupBy: [],
    equalities: [],
    comparisons: [],
    limit: undefined,
    outputs: new Map(),
    outputFunctions: new Map(),
    children: [],
  };
}

function buildScope(body: Node, parent: Scope | undefined, ctes: Map<string, Scope>, facts: SchemaFacts, all: Scope[]): Scope {
  const scope = newScope(body, parent);
  all.push(scope);
  const visibleCtes = new Map(ctes);
  for (const cte of body.withClause?.ctes ?? []) {
    const c = cte.CommonTableExpr;
    const q = c?.ctequery?.SelectStmt;
    if (!q) continue;
    const child = buildScope(q, scope, visibleCtes, facts, all);
    scope.children.push(child);
    visibleCtes.set(c.ctename, child);
  }
  if (body.op && body.op !== 'SETOP_NONE') {
    // Set operation: each branch is a scope; the outputs are the left branch's.
    const left = body.larg ? buildScope(body.larg, scope, visibleCtes, facts, all) : undefined;
    const right = body.rarg ? buildScope(body.rarg, scope, visibleCtes, facts, all) : undefined;
    for (const s of [left, right]) if (s) scope.children.push(s);
    if (left) scope.outputs = left.outputs;
    return scope;
  }

  // FROM: relations first, so that column references can be resolved.
  const joinQuals: Node[] = [];
  const addFrom = (item: Node) => {
    const k = kind(item);
    if (!k) return;
    const b = item[k];
    if (k === 'RangeVar') {
      const name = b.relname as string;
      const schema = b.schemaname as string | undefined;
      const cte = !schema ? visibleCtes.get(name) : undefined;
      const written = schema ? `${schema}.${name}` : name;
      scope.refs.push({
        alias: b.alias?.aliasname ?? name,
        table: cte ? undefined : facts.resolve(written),
        derived: cte,
        only: b.inh === false,
        written,
      });
    } else if (k === 'RangeSubselect') {
      const q = b.subquery?.SelectStmt;
      const child = q ? buildScope(q, scope, visibleCtes, facts, all) : undefined;
      if (child) scope.children.push(child);
      scope.refs.push({ alias: b.alias?.aliasname ?? '?subquery?', table: undefined, derived: child, only: false, written: '(subquery)' });
    } else if (k === 'JoinExpr') {
      addFrom(b.larg);
      addFrom(b.rarg);
      if (b.quals) joinQuals.push(b.quals);
    }
  };
  for (const item of body.fromClause ?? []) addFrom(item);

  const resolve = (fields: string[], clause: Clause, inTimeFunction: boolean): ColumnUse => {
    const written = fields.join('.');
    const use: ColumnUse = { ref: undefined, table: undefined, column: undefined, written, clause, inTimeFunction };
    const colName = fields.at(-1)!;
    if (colName === '*') return use;
    const qualifier = fields.length > 1 ? fields.at(-2)! : undefined;
    for (let s: Scope | undefined = scope; s; s = s.parent) {
      let ref: RangeRef | undefined;
      if (qualifier) ref = s.refs.find((r) => r.alias === qualifier) ?? s.refs.find((r) => r.alias.toLowerCase() === qualifier.toLowerCase());
      else {
        const having = s.refs.filter((r) => (r.table ? columnOf(r.table, colName) : r.derived?.outputs.has(colName)));
        if (having.length === 1) ref = having[0];
        else if (having.length > 1) return use; // ambiguous: the database says so
      }
      if (!ref) continue;
      use.ref = ref;
      if (ref.table) {
        use.table = ref.table;
        use.column = columnOf(ref.table, colName);
      } else if (ref.derived) {
        const through = ref.derived.outputs.get(colName);
        if (through) {
          use.table = through.table;
          use.column = through.column;
        }
      }
      return use;
    }
    return use;
  };

  // Expressions: every column reference, aggregate and window function, with its clause. Subqueries in
  // expressions (SubLink) are scopes of their own.
  const visit = (node: unknown, clause: Clause, inTimeFunction = false): void => {
    if (Array.isArray(node)) {
      for (const n of node) visit(n, clause, inTimeFunction);
      return;
    }
    if (!node || typeof node !== 'object') return;
    const k = kind(node);
    if (!k) {
      for (const v of Object.values(node as Node)) visit(v, clause, inTimeFunction);
      return;
    }
    const b = (node as Node)[k];
    switch (k) {
      case 'ColumnRef': {
        scope.columns.push(resolve(strings(b.fields), clause, inTimeFunction));
        return;
      }
      case 'SubLink': {
        const q = b.subselect?.SelectStmt;
        if (q) scope.children.push(buildScope(q, scope, visibleCtes, facts, all));
        visit(b.testexpr, clause, inTimeFunction);
        return;
      }
      case 'SelectStmt':
        return;
      case 'FuncCall': {
        const name = funcName(b);
        const time = inTimeFunction || TIME_FUNCTIONS.has(name);
        const before = scope.columns.length;
        visit(b.args, clause, time);
        visit(b.agg_order, clause, time);
        visit(b.agg_filter, clause, time);
        const argColumns = scope.columns.slice(before);
        if (b.over) {
          visit(b.over.partitionClause, 'window');
          visit(b.over.orderClause, 'window');
        }
        if (AGGREGATES.has(name) && (b.args?.length || b.agg_star)) {
          scope.aggregates.push({
            func: name,
            column: plainColumnArg(b.args) ? argColumns[0] : undefined,
            argColumns,
            star: Boolean(b.agg_star),
            distinct: Boolean(b.agg_distinct),
            window: Boolean(b.over),
            clause,
          });
        }
        return;
      }
      default:
        for (const v of Object.values(b ?? {})) visit(v, clause, inTimeFunction);
    }
  };

  for (const target of body.targetList ?? []) {
    const rt = target.ResTarget;
    if (!rt) continue;
    const before = scope.columns.length;
    const windowsBefore = scope.windows.length;
    visit(rt.val, 'select');
    const val = rt.val;
    const name: string | undefined = rt.name ?? (kind(val) === 'ColumnRef' ? strings(val.ColumnRef.fields).at(-1) : kind(val) === 'FuncCall' ? funcName(val.FuncCall) : undefined);
    if (kind(val) === 'FuncCall' && val.FuncCall.over) {
      const f = funcName(val.FuncCall);
      scope.windows.push({ func: f, alias: name, partitioned: Boolean(val.FuncCall.over.partitionClause?.length) });
    }
    if (name) {
      if (kind(unwrapCast(val)) === 'ColumnRef') scope.outputs.set(name, scope.columns[before]);
      else {
        scope.outputs.set(name, undefined);
        const fn = kind(unwrapCast(val)) === 'FuncCall' ? funcName(unwrapCast(val).FuncCall) : undefined;
        if (fn && (AGGREGATES.has(fn) || scope.windows.length > windowsBefore)) scope.outputFunctions.set(name, fn);
      }
    } else if (kind(val) === 'ColumnRef' && strings(val.ColumnRef.fields).at(-1) === '*') {
      // SELECT * / t.*: every column of the relations passes through.
      for (const ref of scope.refs) {
        if (ref.table) for (const c of ref.table.columns.values()) scope.outputs.set(c.name, { ref, table: ref.table, column: c, written: c.name, clause: 'select', inTimeFunction: false });
        else if (ref.derived) for (const [n, u] of ref.derived.outputs) scope.outputs.set(n, u);
      }
    }
  }
  for (const q of joinQuals) {
    visit(q, 'join');
    collectPredicates(q, 'join', scope, resolve);
  }
  visit(body.whereClause, 'where');
  collectPredicates(body.whereClause, 'where', scope, resolve);
  for (const item of body.groupClause ?? []) {
    const target = groupTarget(item, body, scope);
    const before = scope.columns.length;
    visit(target, 'group');
    if (kind(unwrapCast(target)) === 'ColumnRef') scope.groupBy.push(scope.columns[before]!);
  }
  visit(body.havingClause, 'having');
  collectPredicates(body.havingClause, 'having', scope, resolve);
  for (const s of body.sortClause ?? []) visit(groupTarget(s.SortBy?.node, body, scope, true), 'order');
  visit(body.windowClause, 'window');
  const limit = constantText(body.limitCount);
  if (limit !== undefined && /^\d+$/.test(limit)) scope.limit = Number(limit);
  return scope;
}

function unwrapCast(node: Node): Node {
  let n = node;
  while (kind(n) === 'TypeCast') n = n.TypeCast.arg;
  return n;
}

function plainColumnArg(args: unknown): boolean {
  return Array.isArray(args) && args.length === 1 && kind(unwrapCast(args[0])) === 'ColumnRef';
}

/** GROUP BY / ORDER BY items: `1` means the first target; a bare name that is no input column may name a target. */
function groupTarget(item: Node, body: Node, scope: Scope, order = false): Node {
  const text = kind(item) === 'A_Const' ? constantText(item) : undefined;
  if (text !== undefined && /^\d+$/.test(text)) {
    const target = body.targetList?.[Number(text) - 1]?.ResTarget?.val;
    return target ?? item;
  }
  if (kind(item) === 'ColumnRef') {
    const fields = strings(item.ColumnRef.fields);
    if (fields.length === 1) {
      const inputHas = scope.refs.some((r) => (r.table ? columnOf(r.table, fields[0]!) : r.derived?.outputs.has(fields[0]!)));
      if (!inputHas || order) {
        const target = (body.targetList ?? []).find((t: Node) => t.ResTarget?.name === fields[0]);
        if (target && !(order && inputHas)) return target.ResTarget.val;
      }
    }
  }
  return item;
}

type Resolver = (fields: string[], clause: Clause, inTimeFunction: boolean) => ColumnUse;

/** Top-level AND conjuncts: column = column (joins), column <op> value (filters). */
function collectPredicates(expr: unknown, clause: Clause, scope: Scope, resolve: Resolver): void {
  const node = expr as Node | undefined;
  if (!node) return;
  if (node.BoolExpr?.boolop === 'AND_EXPR') {
    for (const arg of node.BoolExpr.args ?? []) collectPredicates(arg, clause, scope, resolve);
    return;
  }
  const e = node.A_Expr;
  if (!e) return;
  const op = e.kind === 'AEXPR_IN' ? 'in' : e.kind === 'AEXPR_LIKE' ? 'like' : e.kind === 'AEXPR_ILIKE' ? 'ilike' : e.kind?.startsWith('AEXPR_BETWEEN') ? 'between' : e.kind === 'AEXPR_OP' ? strings(e.name).join('.') : undefined;
  if (!op) return;
  const l = unwrapCast(e.lexpr);
  const r = e.rexpr && !Array.isArray(e.rexpr) ? unwrapCast(e.rexpr) : e.rexpr;
  const colOf = (n: Node) => (kind(n) === 'ColumnRef' ? resolve(strings(n.ColumnRef.fields), clause, false) : undefined);
  const left = l ? colOf(l) : undefined;
  const right = r && !Array.isArray(r) ? colOf(r) : undefined;
  if (op === '=' && left && right) {
    scope.equalities.push([left, right]);
    return;
  }
  const literalsOf = (n: unknown): string[] => {
    if (Array.isArray(n)) return n.map(constantText).filter((v): v is string => v !== undefined);
    if (kind(n) === 'List') return literalsOf((n as Node).List.items);
    const v = constantText(n);
    return v === undefined ? [] : [v];
  };
  if (left) scope.comparisons.push({ op, column: left, literals: literalsOf(e.rexpr), other: Array.isArray(e.rexpr) ? undefined : e.rexpr, clause });
  else if (right && l) scope.comparisons.push({ op: flip(op), column: right, literals: literalsOf(e.lexpr), other: e.lexpr, clause });
}

function flip(op: string): string {
  return ({ '<': '>', '>': '<', '<=': '>=', '>=': '<=' } as Record<string, string>)[op] ?? op;
}
