// Classification of what went wrong with a query: parse-gate rejections, refused functions, and database
// errors by SQLSTATE (https://www.postgresql.org/docs/current/errcodes-appendix.html).

export type ErrorClass =
  | 'parse_gate' // refused by the parse gate: not one plain SELECT (reason says which)
  | 'unsafe_function' // calls a function with effects outside the query (pg_sleep, set_config ...)
  | 'syntax'
  | 'undefined_table'
  | 'undefined_column'
  | 'undefined_function'
  | 'ambiguous'
  | 'type_mismatch'
  | 'grouping'
  | 'runtime' // a data exception while executing (division by zero, bad cast of a stored value ...)
  | 'timeout'
  | 'permission'
  | 'read_only'
  | 'malformed_pair' // the pair itself is not {question, sql} strings
  | 'semantic' // runs, but the semantic linter found an error (../../sql/lint.ts): wrong aggregate, grain, join, time ...
  | 'meaning_mismatch' // runs and lints clean, but the meaning check read back another question (./meaning.ts)
  | 'duplicate' // the same question and SQL as an earlier kept pair
  | 'other';

export type CheckPhase = 'input' | 'parse' | 'safety' | 'explain' | 'execute' | 'lint' | 'meaning' | 'dedup';

/** Classes an LLM (or a deterministic fix) may try to repair. Refusals (hostile or unsafe text),
 * timeouts and permission problems are final. */
export const REPAIRABLE_CLASSES: ReadonlySet<ErrorClass> = new Set<ErrorClass>([
  'syntax',
  'undefined_table',
  'undefined_column',
  'undefined_function',
  'ambiguous',
  'type_mismatch',
  'grouping',
  'runtime',
  'semantic',
  'meaning_mismatch',
  'other',
]);

export function classifySqlState(code: string | undefined, message: string, phase: CheckPhase): ErrorClass {
  if (!code) return 'other';
  switch (code) {
    case '42601':
    case '42P02': // $1 in a stored query: no parameters exist
      return 'syntax';
    case '42P01':
    case '3F000':
      return 'undefined_table';
    case '42703':
      return 'undefined_column';
    case '42883':
      return /operator does not exist/i.test(message) ? 'type_mismatch' : 'undefined_function';
    case '42702':
    case '42P08':
    case '42P09':
      return 'ambiguous';
    case '42725': // function/operator is not unique: needs explicit casts
      return 'type_mismatch';
    case '42804':
    case '42846':
    case '42P18':
    case '42809':
      return 'type_mismatch';
    case '42803':
      return 'grouping';
    case '57014': // query_canceled: statement_timeout
    case '55P03': // lock_not_available: lock_timeout
      return 'timeout';
    case '42501':
      return 'permission';
    case '25006':
      return 'read_only';
    default:
      break;
  }
  // Data exceptions: a literal that does not convert (found while planning) is a type mismatch; anything
  // else (division by zero, overflow, a stored value that does not cast) is a runtime error.
  if (code.startsWith('22')) return phase !== 'execute' && (code === '22P02' || code === '22007' || code === '22008') ? 'type_mismatch' : 'runtime';
  return 'other';
}
