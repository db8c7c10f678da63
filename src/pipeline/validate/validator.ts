// Validates a list of question/SQL pairs: every SQL is checked (checker.ts); failures are repaired
// deterministically where certain (fixes.ts), then by the LLM when allowed (repair.ts), each candidate
// re-validated; the outcome of each pair is one of valid / empty / repaired / invalid, with the attempts
// that led there. No file I/O here (see step.ts), so benches and tests can drive it directly.
import pLimit from 'p-limit';
import type { Lang } from '../../config.ts';
import type { LlmClient } from '../../llm/types.ts';
import type { Catalog } from './catalog.ts';
import type { OutputColumn, RowCheck, SqlCheckError, SqlCheckResult, SqlChecker } from './checker.ts';
import { REPAIRABLE_CLASSES, type ErrorClass } from './errors.ts';
import { deterministicFix, normalizeStoredSql, unwrapCodeFence, type FixName } from './fixes.ts';
import { askRepair, type PreviousAttempt } from './repair.ts';
import { lintPair, type LintDataProbe, type LintFinding, type SchemaFacts } from '../../sql/lint.ts';

export type PairStatus = 'valid' | 'empty' | 'repaired' | 'invalid';

export interface AttemptRecord {
  attempt: number;
  method: 'deterministic' | 'llm';
  fix?: FixName;
  description?: string;
  sql: string | null;
  ok: boolean;
  error_class?: ErrorClass;
  sqlstate?: string;
  message?: string;
  position?: number;
  token?: string;
  row_check?: RowCheck;
  explanation?: string;
  /** Tables whose DDL the repair prompt carried. */
  prompt_tables?: string[];
  ms: number;
}

export interface PairReport {
  index: number;
  question: string;
  status: PairStatus;
  /** In the validated set (valid, empty, repaired). */
  kept: boolean;
  original_sql: string;
  /** The SQL stored in the validated set (normalised: one trailing semicolon); null when dropped. */
  final_sql: string | null;
  /** Class of the original failure (repaired and invalid pairs). */
  error_class: ErrorClass | null;
  error: SqlCheckError | null;
  /** Repair attempts: deterministic fixes and LLM answers, in order. */
  attempts: AttemptRecord[];
  /** Checks of the original SQL and of the final (passing) SQL. */
  timings: { parse_ms: number; explain_ms: number; execute_ms: number; total_ms: number; repair_ms: number };
  row_check: RowCheck;
  /** Set when the row check did not run because the query is not known to be side-effect free. */
  explain_only_reason: string | null;
  cost: number | null;
  fingerprint: string | null;
  output_columns: string[] | null;
  /** Repaired pairs: whether the output columns (names, count) differ from the original's. */
  shape_changed: boolean | null;
  columns: OutputColumn[] | null;
  /** Index of the earlier pair with the same SQL text, whose check this pair shares; else null. */
  same_sql_as: number | null;
  /** The semantic linter's findings on the stored SQL (kept pairs: warnings) or on the original (dropped
   * pairs); null when the linter did not run (no schema.json, semantic_lint=false, or the SQL failed earlier). */
  lint: LintFinding[] | null;
  /** How far the original SQL got: parse gate, EXPLAIN, linter without errors. */
  stages: { parsed: boolean; explain_valid: boolean; lint_clean: boolean };
  /** Why the pair is not in the validated set (null when kept): `<stage>: <reason>`. */
  drop_reason: string | null;
}

export interface ValidateOptions {
  checker: SqlChecker;
  /** Null: no repair by LLM. */
  llm: LlmClient | undefined;
  enableLlmRepair: boolean;
  maxRepairAttempts: number;
  /** Loaded on first use (only failures need it). */
  catalog: () => Promise<Catalog>;
  lang: Lang;
  /** Pairs checked at once (DB-bound). */
  concurrency: number;
  /** Repairs in flight at once (LLM-bound). */
  repairConcurrency: number;
  signal?: AbortSignal;
  checkpoint?: () => Promise<void>;
  /** Called once per pair when its outcome is final. */
  onPairDone?: (report: PairReport, done: number, total: number) => void;
  onRepairStart?: (index: number, check: SqlCheckResult, willUseLlm: boolean) => void;
  log?: { debug(m: string): void; info(m: string): void; warn(m: string): void; error(m: string): void };
  /** The semantic linter (../../sql/lint.ts) on every pair that runs; absent: not linted. */
  lint?: { facts: SchemaFacts; probe?: LintDataProbe; now?: Date };
}

export interface InputPair {
  question: unknown;
  sql: unknown;
}

const MAX_DETERMINISTIC_FIXES = 4;

export async function validatePairs(pairs: InputPair[], options: ValidateOptions): Promise<PairReport[]> {
  const total = pairs.length;
  const reports: PairReport[] = new Array(total);
  let done = 0;
  const finish = (report: PairReport) => {
    reports[report.index] = report;
    done += 1;
    options.onPairDone?.(report, done, total);
  };

  // Phase 1: check every pair (bounded by the database pool).
  const failed: Array<{ index: number; question: string; sql: string; check: SqlCheckResult; sameAs: number | null }> = [];
  // A SQL text that occurs more than once (several questions, one query) is checked once.
  const seen = new Map<string, { index: number; check: Promise<SqlCheckResult> }>();
  await forEachLimited(pairs, options.concurrency, async (pair, index) => {
    await options.checkpoint?.();
    if (typeof pair?.question !== 'string' || typeof pair?.sql !== 'string' || !pair.question.trim()) {
      finish(malformed(index, pair));
      return;
    }
    const key = pair.sql.trim();
    let first = seen.get(key);
    const sameAs = first ? first.index : null;
    if (!first) {
      first = { index, check: options.checker.check(pair.sql) };
      seen.set(key, first);
    }
    const check = await first.check;
    if (check.ok) {
      const linted = await lintCheck(check, pair.question, options);
      if (linted.ok) finish(markSame(passed(index, pair.question, pair.sql, linted, linted, [], 0), sameAs));
      else failed.push({ index, question: pair.question, sql: pair.sql, check: linted, sameAs });
    } else failed.push({ index, question: pair.question, sql: pair.sql, check, sameAs });
  });

  // Phase 2: repair what failed (deterministic fixes, then the LLM), bounded by the LLM's concurrency.
  failed.sort((a, b) => a.index - b.index);
  await forEachLimited(failed, options.repairConcurrency, async (f) => {
    await options.checkpoint?.();
    finish(markSame(await repairPair(f.index, f.question, f.sql, f.check, options), f.sameAs));
  });

  // Phase 3: the same question with the same SQL twice teaches nothing new: the later one is dropped.
  const keptBefore = new Map<string, number>();
  for (const r of reports) {
    if (!r.kept) continue;
    const key = `${r.question.trim()}\u0000${r.final_sql}`;
    const earlier = keptBefore.get(key);
    if (earlier === undefined) {
      keptBefore.set(key, r.index);
      continue;
    }
    r.kept = false;
    r.status = 'invalid';
    r.error_class = 'duplicate';
    r.error = { class: 'duplicate', phase: 'dedup', message: `the same question and SQL as pair #${earlier + 1}` };
    r.drop_reason = `duplicate: same question and SQL as #${earlier + 1}`;
    r.final_sql = null;
  }
  return reports;
}

/** A SQL text that runs, linted: errors make it a failed check of class semantic (repairable); warnings
 * stay on the passing check. Without a linter, the check as it is. */
async function lintCheck(check: SqlCheckResult, question: string, options: ValidateOptions): Promise<SqlCheckResult & { findings?: LintFinding[] }> {
  if (!options.lint || !check.analysis) return check;
  const findings = await lintPair(check.analysis, options.lint.facts, {
    question,
    probe: options.lint.probe,
    rowCheck: check.rowCheck.status === 'rows' || check.rowCheck.status === 'empty' ? check.rowCheck.status : undefined,
    lang: options.lang,
    ...(options.lint.now ? { now: options.lint.now } : {}),
  });
  const errors = findings.filter((f) => f.severity === 'error');
  if (!errors.length) return { ...check, findings };
  return {
    ...check,
    ok: false,
    findings,
    error: {
      class: 'semantic',
      phase: 'lint',
      message: errors.map((f) => `[${f.rule}] ${f.message}`).join('\n'),
      findings,
    },
  };
}

/** Runs fn over items with at most `concurrency` at once. On the first failure (e.g. cancellation) the
 * items not started yet are skipped, those running finish (no check is left holding a connection), then
 * that failure is rethrown. */
async function forEachLimited<T>(items: T[], concurrency: number, fn: (item: T, index: number) => Promise<void>): Promise<void> {
  const limit = pLimit(Math.max(1, concurrency));
  let failure: { error: unknown } | undefined;
  await Promise.all(
    items.map((item, index) =>
      limit(async () => {
        if (failure) return;
        try {
          await fn(item, index);
        } catch (error) {
          failure ??= { error };
        }
      }),
    ),
  );
  if (failure) throw failure.error;
}

/** A pair whose SQL was checked for an earlier pair: it says so, and its check took no time of its own. */
function markSame(report: PairReport, sameAs: number | null): PairReport {
  if (sameAs === null) return report;
  return { ...report, same_sql_as: sameAs, timings: { ...report.timings, parse_ms: 0, explain_ms: report.attempts.length ? report.timings.explain_ms : 0, execute_ms: report.attempts.length ? report.timings.execute_ms : 0, total_ms: report.timings.repair_ms } };
}

function repairable(error: SqlCheckError | undefined): boolean {
  if (!error) return false;
  return REPAIRABLE_CLASSES.has(error.class);
}

async function repairPair(index: number, question: string, sql: string, original: SqlCheckResult, options: ValidateOptions): Promise<PairReport> {
  const started = performance.now();
  const attempts: AttemptRecord[] = [];
  const fenced = original.error?.class === 'parse_gate' && unwrapCodeFence(sql) !== undefined;
  if (!repairable(original.error) && !fenced) return failedReport(index, question, sql, original, attempts, 0);

  const useLlm = Boolean(options.llm && options.enableLlmRepair && options.maxRepairAttempts > 0);
  // A query that runs but answers wrongly has no deterministic fix: only the LLM may rewrite it.
  if (original.error?.class === 'semantic' && !useLlm) return failedReport(index, question, sql, original, attempts, 0);
  options.onRepairStart?.(index, original, useLlm);
  let catalog: Catalog | undefined;
  const getCatalog = async () => (catalog ??= await options.catalog());

  // Deterministic fixes: each one certain; they may chain (e.g. unwrap a fence, then fix a name's case).
  let current = original;
  for (let i = 0; i < MAX_DETERMINISTIC_FIXES && !current.ok; i += 1) {
    const fix = deterministicFix(current, await getCatalog());
    if (!fix) break;
    const t0 = performance.now();
    const ran = await options.checker.check(fix.sql);
    const check = ran.ok ? await lintCheck(ran, question, options) : ran;
    attempts.push(attemptRecord(attempts.length + 1, 'deterministic', check, performance.now() - t0, { fix: fix.fix, description: fix.description }));
    current = check;
  }
  if (current.ok) return passed(index, question, sql, original, current, attempts, performance.now() - started);
  if (!repairable(current.error)) return failedReport(index, question, sql, original, attempts, performance.now() - started);

  if (useLlm) {
    const previous: PreviousAttempt[] = [];
    let base = current; // the text the model repairs: the latest that got through deterministic fixes
    for (let n = 0; n < options.maxRepairAttempts; n += 1) {
      await options.checkpoint?.();
      const t0 = performance.now();
      let answer;
      try {
        answer = await askRepair(
          options.llm!,
          await getCatalog(),
          { question, sql: base.sql, error: base.error!, tables: base.analysis?.tables ?? original.analysis?.tables ?? [], previous },
          { lang: options.lang, signal: options.signal, log: options.log },
        );
      } catch (error) {
        if (options.signal?.aborted) throw error;
        attempts.push({
          attempt: attempts.length + 1,
          method: 'llm',
          sql: null,
          ok: false,
          error_class: 'other',
          message: `LLM call failed: ${(error as Error).message}`,
          ms: Math.round(performance.now() - t0),
        });
        break; // the client already retried; further attempts would fail the same way
      }
      const ran = await options.checker.check(answer.sql);
      const check = ran.ok ? await lintCheck(ran, question, options) : ran;
      attempts.push(
        attemptRecord(attempts.length + 1, 'llm', check, performance.now() - t0, {
          explanation: answer.explanation,
          prompt_tables: answer.prompt_tables,
        }),
      );
      if (check.ok) return passed(index, question, sql, original, check, attempts, performance.now() - started);
      previous.push({ sql: answer.sql, error: check.error! });
      // A refused answer (not a SELECT, unsafe function) is not something to build on: keep repairing the
      // previous text, with the refusal listed among the earlier attempts.
      if (repairable(check.error)) base = check;
    }
  }
  return failedReport(index, question, sql, original, attempts, performance.now() - started);
}

function attemptRecord(
  attempt: number,
  method: AttemptRecord['method'],
  check: SqlCheckResult,
  ms: number,
  extra: Partial<AttemptRecord>,
): AttemptRecord {
  return {
    attempt,
    method,
    ...extra,
    sql: check.sql,
    ok: check.ok,
    ...(check.error
      ? {
          error_class: check.error.class,
          ...(check.error.sqlstate ? { sqlstate: check.error.sqlstate } : {}),
          message: check.error.message,
          ...(check.error.position ? { position: check.error.position, token: check.error.token } : {}),
        }
      : {}),
    row_check: check.rowCheck,
    ms: Math.round(ms),
  };
}

function sameShape(a: string[] | undefined, b: string[] | undefined): boolean | null {
  if (!a || !b) return null;
  return a.length === b.length && a.every((name, i) => name === b[i]);
}

function passed(
  index: number,
  question: string,
  sql: string,
  original: SqlCheckResult,
  final: SqlCheckResult,
  attempts: AttemptRecord[],
  repairMs: number,
): PairReport {
  const repaired = final !== original;
  const status: PairStatus = repaired ? 'repaired' : final.rowCheck.status === 'empty' ? 'empty' : 'valid';
  const skipped = final.rowCheck.status === 'skipped' ? final.rowCheck.reason ?? null : null;
  const shape = repaired ? sameShape(original.analysis?.outputColumns, final.analysis?.outputColumns) : null;
  return {
    index,
    question,
    status,
    kept: true,
    original_sql: sql,
    final_sql: normalizeStoredSql(final.analysis?.statement ?? final.sql),
    error_class: repaired ? original.error?.class ?? null : null,
    error: repaired ? original.error ?? null : null,
    attempts,
    timings: timingsOf(original, final, repairMs),
    row_check: final.rowCheck,
    explain_only_reason: skipped,
    cost: final.cost ?? null,
    fingerprint: final.analysis?.fingerprint ?? null,
    output_columns: final.analysis?.outputColumns ?? null,
    shape_changed: shape === null ? null : !shape,
    columns: final.columns ?? null,
    same_sql_as: null,
    lint: (final as LintedCheck).findings ?? null,
    stages: stagesOf(original),
    drop_reason: null,
  };
}

function failedReport(index: number, question: string, sql: string, original: SqlCheckResult, attempts: AttemptRecord[], repairMs: number): PairReport {
  return {
    index,
    question,
    status: 'invalid',
    kept: false,
    original_sql: sql,
    final_sql: null,
    error_class: original.error?.class ?? 'other',
    error: original.error ?? null,
    attempts,
    timings: timingsOf(original, original, repairMs),
    row_check: original.rowCheck,
    explain_only_reason: null,
    cost: original.cost ?? null,
    fingerprint: original.analysis?.fingerprint ?? null,
    output_columns: original.analysis?.outputColumns ?? null,
    shape_changed: null,
    columns: null,
    same_sql_as: null,
    lint: (original as LintedCheck).findings ?? null,
    stages: stagesOf(original),
    drop_reason: dropReason(original, attempts),
  };
}

function malformed(index: number, pair: InputPair | undefined): PairReport {
  const message = 'pair is not {"question": non-empty string, "sql": string}';
  return {
    index,
    question: typeof pair?.question === 'string' ? pair.question : '',
    status: 'invalid',
    kept: false,
    original_sql: typeof pair?.sql === 'string' ? pair.sql : JSON.stringify(pair?.sql ?? null),
    final_sql: null,
    error_class: 'malformed_pair',
    error: { class: 'malformed_pair', phase: 'input', message },
    attempts: [],
    timings: { parse_ms: 0, explain_ms: 0, execute_ms: 0, total_ms: 0, repair_ms: 0 },
    row_check: { status: 'skipped', reason: 'malformed pair' },
    explain_only_reason: null,
    cost: null,
    fingerprint: null,
    output_columns: null,
    shape_changed: null,
    columns: null,
    same_sql_as: null,
    lint: null,
    stages: { parsed: false, explain_valid: false, lint_clean: false },
    drop_reason: `input: ${message}`,
  };
}

function timingsOf(original: SqlCheckResult, final: SqlCheckResult, repairMs: number): PairReport['timings'] {
  const t = final.timings;
  return {
    parse_ms: original.timings.parse_ms,
    explain_ms: t.explain_ms,
    execute_ms: t.execute_ms,
    total_ms: Math.round((original.timings.total_ms + repairMs) * 100) / 100,
    repair_ms: Math.round(repairMs * 100) / 100,
  };
}

type LintedCheck = SqlCheckResult & { findings?: LintFinding[] };

function stagesOf(original: SqlCheckResult): PairReport['stages'] {
  const phase = original.error?.phase;
  const parsed = original.ok || (phase !== 'parse' && phase !== 'input');
  const explainValid = original.ok || phase === 'lint';
  return { parsed, explain_valid: explainValid, lint_clean: original.ok };
}

function dropReason(original: SqlCheckResult, attempts: AttemptRecord[]): string {
  const error = original.error;
  const stage = !error ? 'check' : error.phase === 'lint' ? 'lint' : error.phase === 'parse' || error.phase === 'safety' ? 'parse' : error.phase === 'input' ? 'input' : 'explain';
  const what =
    error?.phase === 'lint'
      ? (error.findings ?? []).filter((f) => f.severity === 'error').map((f) => f.rule).join(', ')
      : `${error?.class ?? 'other'}: ${(error?.message ?? '').split('\n')[0]}`;
  const tried = attempts.length ? `; ${attempts.length} repair attempt(s) failed, last: ${(attempts.at(-1)!.message ?? '').split('\n')[0]}` : error?.phase === 'lint' ? '; no LLM repair (offline): dropped' : '';
  return `${stage}: ${what}${tried}`;
}
