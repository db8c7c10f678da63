// SQL text analysis with the real PostgreSQL parser (libpg-query, WASM). This is the parse gate of
// sql_validation: a text passes only when it is exactly one SELECT statement (WITH and VALUES included)
// that neither writes (SELECT ... INTO, data-modifying CTEs) nor locks rows (FOR UPDATE/SHARE). Every
// rejection says why. On success it lists what the query touches: relations, columns, functions,
// operators and its output column names, plus the statement text and a fingerprint.
//
// Positions follow PostgreSQL's convention: 1-based, counted in characters of the text given
// (libpg-query reports byte offsets; they are converted here).
import { fingerprint as pgFingerprint, parse } from 'libpg-query';

export type SqlRejectReason =
  | 'parse_error'
  | 'multiple_statements'
  | 'not_select'
  | 'select_into'
  | 'locking_clause'
  | 'data_modifying_cte'
  | 'empty';

/** A relation named in FROM/JOIN (CTE references excluded). */
export interface SqlRelationRef {
  schema?: string;
  name: string;
  /** `schema.name` or `name`: as in `tables`. */
  qualified: string;
  alias?: string;
  /** 1-based character position of the reference. */
  position: number;
}

export interface SqlAnalysisOk {
  ok: true;
  kind: 'select';
  /** Distinct relations in order of appearance: `schema.name` when written so; unquoted names lower-cased
   * (as PostgreSQL folds them), quoted names exact. CTE names are excluded. */
  tables: string[];
  /** Distinct column references as written (folded): `x`, `a.x`, `a.*`, `*`. */
  columns: string[];
  /** Distinct function names called (lower-cased, schema-qualified when written so; functions with SQL
   * syntax such as EXTRACT appear as `pg_catalog.extract`). */
  functions: string[];
  /** Distinct operators used: symbols as written (`=`, `||`, `->>`), SQL forms as words (`like`, `ilike`, `between`, `in`). */
  operators: string[];
  /** Names of the common table expressions defined anywhere in the statement. */
  ctes: string[];
  /** Every relation reference with its alias and position. */
  relations: SqlRelationRef[];
  /** Output column names as PostgreSQL would name them (alias, column, function name, `?column?`);
   * `*` / `a.*` when the target list expands a star. For a set operation, the left branch's names. */
  outputColumns: string[];
  /** Column pairs known equal in the result: `x.a = y.b` conjuncts of INNER JOIN ... ON conditions and of
   * WHERE clauses (top-level AND only), as written (folded). */
  equalities: Array<[string, string]>;
  /** SELECT bodies in the statement (1 = no subquery, CTE or set operation: one name scope). */
  scopes: number;
  /** The statement text alone: leading/trailing whitespace and a trailing semicolon removed; a trailing
   * comment is kept (wrap it with a newline before appending anything). */
  statement: string;
  /** libpg-query fingerprint: equal for queries that differ only in constants and formatting. */
  fingerprint: string;
  hasLocking: boolean;
  hasInto: boolean;
  statementCount: number;
  /** The parse tree of the statement (the `SelectStmt` node), for the semantic linter (./lint.ts): one
   * parse per pair. Not enumerable, so reports and comparisons of an analysis do not carry it. */
  readonly tree: SqlTree;
}

/** A libpg-query parse-tree node (`{SelectStmt: {...}}`): shapes as PostgreSQL's parsenodes.h. */
export type SqlTree = Record<string, any>;

export interface SqlAnalysisRejected {
  ok: false;
  reason: SqlRejectReason;
  message: string;
  /** 1-based character position (parse errors, offending clause or second statement). */
  position?: number;
  /** The statement type(s) found, e.g. `DeleteStmt`, when the reason is not_select / multiple_statements. */
  statementTypes?: string[];
}

export type SqlAnalysis = SqlAnalysisOk | SqlAnalysisRejected;

type AnyNode = Record<string, any>;

const STATEMENT_LABELS: Record<string, string> = {
  InsertStmt: 'INSERT',
  UpdateStmt: 'UPDATE',
  DeleteStmt: 'DELETE',
  MergeStmt: 'MERGE',
  DropStmt: 'DROP',
  CreateStmt: 'CREATE TABLE',
  CreateTableAsStmt: 'CREATE TABLE AS / SELECT INTO / CREATE MATERIALIZED VIEW',
  AlterTableStmt: 'ALTER',
  TruncateStmt: 'TRUNCATE',
  CopyStmt: 'COPY',
  ExplainStmt: 'EXPLAIN',
  TransactionStmt: 'a transaction command',
  VariableSetStmt: 'SET',
  VariableShowStmt: 'SHOW',
  DoStmt: 'DO',
  CallStmt: 'CALL',
  GrantStmt: 'GRANT/REVOKE',
  VacuumStmt: 'VACUUM/ANALYZE',
  LockStmt: 'LOCK',
  PrepareStmt: 'PREPARE',
  ExecuteStmt: 'EXECUTE',
  DeclareCursorStmt: 'DECLARE CURSOR',
  ViewStmt: 'CREATE VIEW',
  IndexStmt: 'CREATE INDEX',
  CreateFunctionStmt: 'CREATE FUNCTION',
  RenameStmt: 'ALTER ... RENAME',
  NotifyStmt: 'NOTIFY',
  ListenStmt: 'LISTEN',
  CheckPointStmt: 'CHECKPOINT',
  RefreshMatViewStmt: 'REFRESH MATERIALIZED VIEW',
};

const DATA_MODIFYING = new Set(['InsertStmt', 'UpdateStmt', 'DeleteStmt', 'MergeStmt']);

function statementLabel(type: string): string {
  return STATEMENT_LABELS[type] ?? type.replace(/Stmt$/, '').replace(/([a-z])([A-Z])/g, '$1 $2').toUpperCase();
}

/** Maps UTF-8 byte offsets of `text` to JS string indices. */
class OffsetMap {
  readonly #bytes: Buffer;
  constructor(readonly text: string) {
    this.#bytes = Buffer.from(text, 'utf8');
  }
  get byteLength(): number {
    return this.#bytes.length;
  }
  /** JS string index of a byte offset. */
  index(byteOffset: number): number {
    const clamped = Math.max(0, Math.min(byteOffset, this.#bytes.length));
    return this.#bytes.subarray(0, clamped).toString('utf8').length;
  }
  /** PostgreSQL-style 1-based character position of a byte offset. */
  position(byteOffset: number): number {
    return indexToPosition(this.text, this.index(byteOffset));
  }
}

/** 1-based character (code point) position of a JS string index. */
export function indexToPosition(text: string, index: number): number {
  return Array.from(text.slice(0, index)).length + 1;
}

/** JS string index of a 1-based character (code point) position, as PostgreSQL reports them. */
export function positionToIndex(text: string, position: number): number {
  let index = 0;
  let chars = 1;
  for (const ch of text) {
    if (chars >= position) break;
    index += ch.length;
    chars += 1;
  }
  return index;
}

/** The token at a 1-based character position (an identifier, quoted identifier, literal or symbol). */
export function tokenAt(text: string, position: number): string | undefined {
  const index = positionToIndex(text, position);
  if (index >= text.length) return undefined;
  const rest = text.slice(index);
  const match =
    /^"(?:[^"]|"")*"(?:\s*\.\s*(?:"(?:[^"]|"")*"|[\p{L}_][\p{L}\p{N}_$]*))*/u.exec(rest) ??
    /^[\p{L}_][\p{L}\p{N}_$]*(?:\s*\.\s*(?:"(?:[^"]|"")*"|[\p{L}_][\p{L}\p{N}_$]*|\*))*/u.exec(rest) ??
    /^'(?:[^']|'')*'/.exec(rest) ??
    /^\d+(?:\.\d+)?/.exec(rest) ??
    /^(?:::|<=|>=|<>|!=|\|\||[^\s])/.exec(rest);
  return match?.[0];
}

function nodeType(node: AnyNode): string | undefined {
  const keys = Object.keys(node);
  return keys.length === 1 && /^[A-Z]/.test(keys[0]!) ? keys[0] : undefined;
}

/** Visits every object in the tree with the name of the node type that holds it (if any). */
function walk(value: unknown, visit: (type: string, body: AnyNode) => void): void {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
    return;
  }
  if (!value || typeof value !== 'object') return;
  const node = value as AnyNode;
  const type = nodeType(node);
  if (type) {
    const body = node[type];
    if (body && typeof body === 'object' && !Array.isArray(body)) visit(type, body);
    walk(body, visit);
    return;
  }
  for (const key of Object.keys(node)) walk(node[key], visit);
}

function stringsOf(list: unknown): string[] {
  if (!Array.isArray(list)) return [];
  return list.map((item: AnyNode) => (item?.String?.sval as string | undefined) ?? (item?.A_Star ? '*' : '')).filter((s) => s !== '');
}

/** FigureColname of PostgreSQL, simplified: the name a target column gets when it has no alias. */
function figureColname(node: unknown): string {
  if (!node || typeof node !== 'object') return '?column?';
  const type = nodeType(node as AnyNode);
  if (!type) return '?column?';
  const body = (node as AnyNode)[type] as AnyNode;
  switch (type) {
    case 'ColumnRef': {
      const fields = stringsOf(body.fields);
      if (fields.at(-1) === '*') return fields.join('.');
      return fields.at(-1) ?? '?column?';
    }
    case 'FuncCall': {
      const name = stringsOf(body.funcname).at(-1) ?? '?column?';
      return name;
    }
    case 'TypeCast': {
      const inner = figureColname(body.arg);
      if (inner !== '?column?') return inner;
      return stringsOf(body.typeName?.names).at(-1) ?? '?column?';
    }
    case 'CaseExpr':
      return 'case';
    case 'CoalesceExpr':
      return 'coalesce';
    case 'MinMaxExpr':
      return body.op === 'IS_GREATEST' ? 'greatest' : 'least';
    case 'NullIfExpr':
      return 'nullif';
    case 'SubLink':
      if (body.subLinkType === 'EXISTS_SUBLINK') return 'exists';
      if (body.subLinkType === 'ARRAY_SUBLINK') return 'array';
      if (body.subLinkType === 'EXPR_SUBLINK') {
        const targets = body.subselect?.SelectStmt?.targetList;
        if (Array.isArray(targets) && targets.length > 0) return targetName(targets[0]);
      }
      return '?column?';
    case 'A_ArrayExpr':
      return 'array';
    case 'RowExpr':
      return 'row';
    case 'A_Indirection':
      return figureColname(body.arg);
    case 'CollateClause':
      return figureColname(body.arg);
    case 'SQLValueFunction': {
      const op = String(body.op ?? '').replace(/^SVFOP_/, '').toLowerCase();
      return op.replace(/_n$/, '') || '?column?';
    }
    default:
      return '?column?';
  }
}

function targetName(target: AnyNode): string {
  const rt = target?.ResTarget as AnyNode | undefined;
  if (!rt) return '?column?';
  if (typeof rt.name === 'string') return rt.name;
  return figureColname(rt.val);
}

function outputColumnsOf(select: AnyNode | undefined): string[] {
  if (!select) return [];
  if (select.op && select.op !== 'SETOP_NONE') return outputColumnsOf(select.larg);
  if (Array.isArray(select.valuesLists)) {
    const first = select.valuesLists[0]?.List?.items;
    return Array.isArray(first) ? first.map((_: unknown, i: number) => `column${i + 1}`) : [];
  }
  return Array.isArray(select.targetList) ? select.targetList.map(targetName) : [];
}

function operatorName(body: AnyNode): string | undefined {
  const names = stringsOf(body.name);
  const kind = String(body.kind ?? '');
  switch (kind) {
    case 'AEXPR_LIKE':
      return names[0] === '!~~' ? 'not like' : 'like';
    case 'AEXPR_ILIKE':
      return names[0] === '!~~*' ? 'not ilike' : 'ilike';
    case 'AEXPR_SIMILAR':
      return 'similar to';
    case 'AEXPR_BETWEEN':
    case 'AEXPR_NOT_BETWEEN':
    case 'AEXPR_BETWEEN_SYM':
    case 'AEXPR_NOT_BETWEEN_SYM':
      return 'between';
    case 'AEXPR_IN':
      return 'in';
    case 'AEXPR_DISTINCT':
    case 'AEXPR_NOT_DISTINCT':
      return 'is distinct from';
    case 'AEXPR_NULLIF':
      return 'nullif';
    default:
      return names.length ? names.join('.') : undefined;
  }
}

function reject(reason: SqlRejectReason, message: string, extra: Partial<SqlAnalysisRejected> = {}): SqlAnalysisRejected {
  return { ok: false, reason, message, ...extra };
}

/** Strips leading/trailing whitespace and trailing semicolons (and whitespace between them). */
function trimStatement(text: string): string {
  return text.replace(/^\s+/, '').replace(/[\s;]+$/, '');
}

/**
 * The parse gate. Accepts exactly one SELECT (WITH / VALUES / set operations included) that does not
 * write or lock; everything else is rejected with a reason and a message saying why.
 */
export async function analyzeSql(sql: string): Promise<SqlAnalysis> {
  if (typeof sql !== 'string' || sql.trim() === '') return reject('empty', 'The SQL text is empty.');
  const map = new OffsetMap(sql);
  let tree: AnyNode;
  try {
    tree = (await parse(sql)) as unknown as AnyNode;
  } catch (error) {
    const details = (error as { sqlDetails?: { cursorPosition?: number; message?: string } }).sqlDetails;
    const message = details?.message ?? (error as Error).message;
    const cursor = details?.cursorPosition;
    return reject('parse_error', `Syntax error: ${message}`, {
      // libpg-query's cursorPosition is already a 0-based character offset (PostgreSQL's position - 1).
      position: typeof cursor === 'number' && cursor >= 0 ? cursor + 1 : undefined,
    });
  }
  const stmts: AnyNode[] = Array.isArray(tree.stmts) ? tree.stmts : [];
  if (stmts.length === 0) return reject('empty', 'The SQL text holds no statement (only comments or semicolons).');
  const types = stmts.map((s) => nodeType(s.stmt ?? {}) ?? 'Unknown');
  if (stmts.length > 1) {
    const second = stmts[1]!;
    return reject(
      'multiple_statements',
      `Exactly one statement is allowed; found ${stmts.length} (${types.map(statementLabel).join('; ')}).`,
      { position: map.position(second.stmt_location ?? 0) + leadingSpace(sql, map, second.stmt_location ?? 0), statementTypes: types },
    );
  }
  const type = types[0]!;
  const root = stmts[0]!.stmt as AnyNode;
  if (type !== 'SelectStmt') {
    const label = statementLabel(type);
    const detail =
      type === 'CreateTableAsStmt' && root.CreateTableAsStmt?.objtype === 'OBJECT_TABLE' && root.CreateTableAsStmt?.is_select_into
        ? ' (SELECT ... INTO creates a table)'
        : '';
    return reject('not_select', `Only a SELECT query is allowed; this is ${label}${detail}.`, { position: 1, statementTypes: types });
  }
  const select = root.SelectStmt as AnyNode;

  // Writes and locks anywhere in the tree.
  let into: AnyNode | undefined;
  let locking: { strength: string; location?: number } | undefined;
  let modifying: { cte: string; type: string; location?: number } | undefined;
  const cteNames = new Set<string>();
  walk(root, (nodeTypeName, body) => {
    if (nodeTypeName === 'SelectStmt') inspectSelect(body);
    if (nodeTypeName === 'CommonTableExpr') {
      cteNames.add(body.ctename);
      const qtype = body.ctequery ? nodeType(body.ctequery) : undefined;
      if (qtype && DATA_MODIFYING.has(qtype) && !modifying) modifying = { cte: body.ctename, type: qtype, location: body.location };
    }
  });
  function inspectSelect(body: AnyNode): void {
    if (body.intoClause && !into) into = body.intoClause;
    if (Array.isArray(body.lockingClause) && body.lockingClause.length && !locking) {
      const lc = body.lockingClause[0]?.LockingClause ?? {};
      locking = { strength: String(lc.strength ?? '') };
    }
    // set operation branches are plain objects, not wrapped nodes
    for (const side of ['larg', 'rarg']) if (body[side] && typeof body[side] === 'object') inspectSelect(body[side]);
  }
  if (modifying) {
    return reject(
      'data_modifying_cte',
      `The WITH query "${modifying.cte}" is ${statementLabel(modifying.type)}: data-modifying CTEs are not allowed.`,
      { position: modifying.location !== undefined ? map.position(modifying.location) : undefined },
    );
  }
  if (into) {
    const rel = into.rel as AnyNode | undefined;
    return reject('select_into', `SELECT ... INTO ${rel?.relname ?? ''} creates a table; only plain SELECT is allowed.`.replace('  ', ' '), {
      position: typeof rel?.location === 'number' ? map.position(rel.location) : undefined,
    });
  }
  if (locking) {
    const clause = { LCS_FORUPDATE: 'FOR UPDATE', LCS_FORNOKEYUPDATE: 'FOR NO KEY UPDATE', LCS_FORSHARE: 'FOR SHARE', LCS_FORKEYSHARE: 'FOR KEY SHARE' }[locking.strength] ?? 'FOR UPDATE/SHARE';
    const idx = findKeywordIndex(sql, /\bFOR\s+(NO\s+KEY\s+UPDATE|KEY\s+SHARE|UPDATE|SHARE)\b/i);
    return reject('locking_clause', `${clause} locks rows; only a SELECT without a locking clause is allowed.`, {
      position: idx >= 0 ? indexToPosition(sql, idx) : undefined,
    });
  }

  // What the query touches.
  const tables: string[] = [];
  const relations: SqlRelationRef[] = [];
  const columns: string[] = [];
  const functions: string[] = [];
  const operators: string[] = [];
  const addUnique = (list: string[], value: string) => {
    if (!list.includes(value)) list.push(value);
  };
  walk(root, (t, body) => {
    switch (t) {
      case 'RangeVar': {
        const name = body.relname as string;
        const schema = body.schemaname as string | undefined;
        if (!schema && cteNames.has(name)) return;
        const qualified = [body.catalogname as string | undefined, schema, name].filter(Boolean).join('.');
        relations.push({
          ...(schema ? { schema } : {}),
          name,
          qualified,
          ...(body.alias?.aliasname ? { alias: body.alias.aliasname as string } : {}),
          position: map.position(body.location ?? 0),
        });
        return;
      }
      case 'ColumnRef':
        addUnique(columns, stringsOf(body.fields).join('.'));
        return;
      case 'FuncCall':
        addUnique(functions, stringsOf(body.funcname).join('.').toLowerCase());
        return;
      case 'A_Expr': {
        const op = operatorName(body);
        if (op) addUnique(operators, op);
        return;
      }
      default:
        return;
    }
  });

  relations.sort((a, b) => a.position - b.position);
  tables.length = 0;
  for (const r of relations) addUnique(tables, r.qualified);
  const equalities: Array<[string, string]> = [];
  let scopes = 0;
  const addConjuncts = (expr: unknown) => {
    const node = expr as AnyNode | undefined;
    if (!node) return;
    if (node.BoolExpr?.boolop === 'AND_EXPR') {
      for (const arg of node.BoolExpr.args ?? []) addConjuncts(arg);
      return;
    }
    const op = node.A_Expr;
    if (op && op.kind === 'AEXPR_OP' && stringsOf(op.name).join('.') === '=' && op.lexpr?.ColumnRef && op.rexpr?.ColumnRef) {
      equalities.push([stringsOf(op.lexpr.ColumnRef.fields).join('.'), stringsOf(op.rexpr.ColumnRef.fields).join('.')]);
    }
  };
  const countScopes = (body: AnyNode) => {
    if (body.op && body.op !== 'SETOP_NONE') {
      for (const side of ['larg', 'rarg']) if (body[side]) countScopes(body[side]);
      return;
    }
    scopes += 1;
    addConjuncts(body.whereClause);
  };
  walk(root, (t, body) => {
    if (t === 'SelectStmt') countScopes(body);
    if (t === 'JoinExpr' && body.jointype === 'JOIN_INNER') addConjuncts(body.quals);
  });

  const first = stmts[0]!;
  const startByte = first.stmt_location ?? 0;
  const endByte = first.stmt_len ? startByte + first.stmt_len : map.byteLength;
  const statement = trimStatement(sql.slice(map.index(startByte), map.index(endByte)));
  let fp: string;
  try {
    fp = await pgFingerprint(sql);
  } catch {
    fp = '';
  }
  const analysis = {
    ok: true as const,
    kind: 'select' as const,
    tables,
    columns,
    functions,
    operators,
    ctes: [...cteNames],
    relations,
    outputColumns: outputColumnsOf(select),
    equalities,
    scopes,
    statement,
    fingerprint: fp,
    hasLocking: false,
    hasInto: false,
    statementCount: 1,
  };
  Object.defineProperty(analysis, 'tree', { value: root, enumerable: false });
  return analysis as SqlAnalysisOk;
}

/** Number of whitespace/semicolon characters between a statement's location and its first token. */
function leadingSpace(sql: string, map: OffsetMap, byteOffset: number): number {
  const rest = sql.slice(map.index(byteOffset));
  return Array.from(/^[\s;]*/.exec(rest)![0]).length;
}

/** Index of a keyword pattern outside string literals, quoted identifiers and comments; -1 if absent. */
function findKeywordIndex(sql: string, pattern: RegExp): number {
  const masked = maskNonCode(sql);
  const m = new RegExp(pattern.source, pattern.flags.replace('g', '')).exec(masked);
  return m ? m.index : -1;
}

/** Replaces string literals, quoted identifiers and comments with spaces (same length). */
export function maskNonCode(sql: string): string {
  return sql.replace(/'(?:[^']|'')*'|"(?:[^"]|"")*"|--[^\n]*|\/\*[\s\S]*?\*\//g, (m) => ' '.repeat(m.length));
}

/** The libpg-query fingerprint of a SQL text (equal for queries differing only in constants/layout);
 * undefined when the text does not parse. */
export async function fingerprintSql(sql: string): Promise<string | undefined> {
  try {
    return await pgFingerprint(sql);
  } catch {
    return undefined;
  }
}
