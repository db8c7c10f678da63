// Validates a list of question/SQL pairs: every SQL is checked (checker.ts); failures are repaired
// deterministically where certain (fixes.ts), then by the LLM when allowed (repair.ts), each candidate
// re-validated; the outcome of each pair is one of valid / empty / repaired / invalid, with the attempts
// that led there — or pending, when the LLM could not be reached for its repair: such a pair was not
// judged, so it is never dropped (after the first such failure, later repairs that need the LLM are not
// tried). Every pair that runs is linted (../../sql/lint.ts): a lint error is a failure of class semantic,
// repaired by the LLM only. With the meaning check (./meaning.ts), every SQL that lints clean — original
// or repaired — is read back by the LLM; a mismatch (class meaning_mismatch) is repaired by the LLM with
// both questions in the prompt. No file I/O here (see step.ts), so benches and tests can drive it directly.
import pLimit from 'p-limit';
import type { Lang } from '../../messages.ts';
import type { LlmClient } from '../../llm/types.ts';
import type { Catalog } from './catalog.ts';
import type { OutputColumn, RowCheck, SqlCheckError, SqlCheckResult, SqlChecker } from './checker.ts';
import { REPAIRABLE_CLASSES, type ErrorClass } from './errors.ts';
import { deterministicFix, normalizeStoredSql, unwrapCodeFence, type FixName } from './fixes.ts';
import { askRepair, type PreviousAttempt } from './repair.ts';
import { lintPair, type LintDataProbe, type LintFinding, type SchemaFacts } from '../../sql/lint.ts';
import { isUnavailable, mismatchMessage, type MeaningCheck, type MeaningChecker } from './meaning.ts';
import type { UsageTally } from './usage.ts';

export type PairStatus = 'valid' | 'empty' | 'repaired' | 'invalid' | 'pending';

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
  /** The meaning check of this candidate (when it ran and lint was clean). */
  meaning_check?: MeaningCheck;
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
  /** The meaning check of the stored SQL (kept pairs) or of the SQL it dropped (a mismatch); null when it
   * did not run (semantic_check off, or the SQL failed earlier). */
  meaning_check: MeaningCheck | null;
  /** How far the original SQL got: parse gate, EXPLAIN, linter without errors, meaning check without a
   * mismatch (true when the check is off). */
  stages: { parsed: boolean; explain_valid: boolean; lint_clean: boolean; meaning_checked: boolean };
  /** Why the pair is not in the validated set (null when kept): `<stage>: <reason>`. */
  drop_reason: string | null;
  /** Status pending: why the pair could not be judged (the LLM was unreachable). */
  pending_reason?: string;
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
  /** The meaning check on every SQL that lints clean; absent: not checked. */
  meaning?: MeaningChecker;
  /** Accounting of the repair calls (the meaning check has its own, in its checker). */
  repairUsage?: UsageTally;
}

export interface InputPair {
  question: unknown;
  sql: unknown;
}

const MAX_DETERMINISTIC_FIXES = 4;

export async function validatePairs(pairs: InputPair[], options: ValidateOptions): Promise<PairReport[]> {
  const total = pairs.length;
  const reports: PairReport[] = new Array(total);
  const llmState: LlmState = { unavailable: undefined };
  let done = 0;
  const finish = (report: PairReport) => {
    reports[report.index] = report;
    done += 1;
    options.onPairDone?.(report, done, total);
  };

  // Phase 1: check every pair (bounded by the database pool).
  const failed: Array<{ index: number; question: string; sql: string; check: SqlCheckResult; sameAs: number | null }> = [];
  // Lint-clean pairs waiting for the meaning check.
  const clean: typeof failed = [];
  // A SQL text that occurs more than once (several questions, one query) is checked once.
  const seen = new Map<string, { index: number; check: Promise<SqlCheckResult> }>();
  const lintOnce = new Map<string, Promise<SqlCheckResult>>();
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
      // The same SQL under the same question is linted once (the findings depend on both).
      const lintKey = `${key}\u0000${pair.question}`;
      let once = lintOnce.get(lintKey);
      if (!once) {
        once = lintCheck(check, pair.question, options);
        lintOnce.set(lintKey, once);
      }
      const linted = await once;
      if (!linted.ok) failed.push({ index, question: pair.question, sql: pair.sql, check: linted, sameAs });
      else if (options.meaning) clean.push({ index, question: pair.question, sql: pair.sql, check: linted, sameAs });
      else finish(markSame(passed(index, pair.question, pair.sql, linted, linted, [], 0), sameAs));
    } else failed.push({ index, question: pair.question, sql: pair.sql, check, sameAs });
  });

  // Phase 2: repair what failed (deterministic fixes, then the LLM), bounded by the LLM's concurrency. A pair
  // that failed its check is repaired at once; one the meaning check finds answering another question, as
  // soon as its batch is back, while later batches are still asked (1b).
  const repairSlots = pLimit(Math.max(1, options.repairConcurrency));
  const repairing: Array<Promise<void>> = [];
  const repair = (f: (typeof failed)[number]) =>
    repairing.push(
      repairSlots(async () => {
        await options.checkpoint?.();
        finish(markSame(await repairPair(f.index, f.question, f.sql, f.check, options, llmState), f.sameAs));
      }),
    );
  failed.sort((a, b) => a.index - b.index);
  failed.forEach(repair);

  // Phase 1b: the meaning check of what linted clean, in batches. A mismatch goes to repair; a batch the
  // LLM could not answer leaves its pairs pending (not judged, never dropped).
  const judging: Array<Promise<void>> = [];
  if (options.meaning && clean.length) {
    await options.checkpoint?.();
    clean.sort((a, b) => a.index - b.index);
    const verdicts = options.meaning.checkEach(clean.map((c) => ({ question: c.question, sql: c.check.sql, tables: c.check.analysis?.tables ?? [] })));
    clean.forEach((c, i) =>
      judging.push(
        verdicts[i]!.then((verdict) => {
          if (isUnavailable(verdict)) {
            llmState.unavailable ??= verdict.unavailable;
            const report = pendingReport(c.index, c.question, c.sql, c.check, [], 0, verdict.unavailable);
            finish(markSame({ ...report, stages: { ...report.stages, lint_clean: true, meaning_checked: false } }, c.sameAs));
          } else if (verdict.verdict === 'mismatch') {
            repair({ ...c, check: mismatchCheck(c.check, c.question, verdict, options.lang) });
          } else {
            finish(markSame(passed(c.index, c.question, c.sql, c.check, c.check, [], 0, verdict), c.sameAs));
          }
        }),
      ),
    );
  }
  // Settled, not raced: a cancelled run rejects many of these at once, and none may go unhandled.
  const outcomes = [...(await Promise.allSettled(judging))];
  // Every repair is queued by now (a mismatch is queued before its verdict's promise settles).
  outcomes.push(...(await Promise.allSettled(repairing)));
  const failure = outcomes.find((o): o is PromiseRejectedResult => o.status === 'rejected');
  if (failure) throw failure.reason;

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

/** A lint-clean check that the meaning check found answering another question: a failure of class
 * meaning_mismatch (phase meaning), with both questions in its message for the repair prompt. */
function mismatchCheck(check: SqlCheckResult, question: string, verdict: MeaningCheck, lang: Lang): LintedCheck {
  return {
    ...check,
    ok: false,
    meaning: verdict,
    error: { class: 'meaning_mismatch', phase: 'meaning', message: mismatchMessage(question, verdict, lang), findings: (check as LintedCheck).findings },
  };
}

/** A candidate SQL (a deterministic fix or an LLM answer) judged like an original: checked, linted, and
 * read back by the meaning check when it is on. Throws MeaningCheckUnavailable when that call failed. */
async function judgeCandidate(sql: string, question: string, options: ValidateOptions): Promise<LintedCheck> {
  const ran = await options.checker.check(sql);
  if (!ran.ok) return ran;
  const linted: LintedCheck = await lintCheck(ran, question, options);
  if (!linted.ok || !options.meaning) return linted;
  const [verdict] = await options.meaning.check([{ question, sql: linted.sql, tables: linted.analysis?.tables ?? [] }]);
  if (isUnavailable(verdict!)) throw new MeaningCheckUnavailable(verdict!.unavailable);
  if (verdict!.verdict === 'mismatch') return mismatchCheck(linted, question, verdict!, options.lang);
  return { ...linted, meaning: verdict! };
}

class MeaningCheckUnavailable extends Error {}

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

interface LlmState {
  /** Set by the first repair whose LLM call failed after the client's retries: the reason. */
  unavailable: string | undefined;
}

async function repairPair(index: number, question: string, sql: string, original: SqlCheckResult, options: ValidateOptions, llmState: LlmState): Promise<PairReport> {
  const started = performance.now();
  const attempts: AttemptRecord[] = [];
  const fenced = original.error?.class === 'parse_gate' && unwrapCodeFence(sql) !== undefined;
  if (!repairable(original.error) && !fenced) return failedReport(index, question, sql, original, attempts, 0);

  const useLlm = Boolean(options.llm && options.enableLlmRepair && options.maxRepairAttempts > 0);
  // A query that runs but answers wrongly has no deterministic fix: only the LLM may rewrite it.
  if ((original.error?.class === 'semantic' || original.error?.class === 'meaning_mismatch') && !useLlm) return failedReport(index, question, sql, original, attempts, 0);
  options.onRepairStart?.(index, original, useLlm);
  let catalog: Catalog | undefined;
  const getCatalog = async () => (catalog ??= await options.catalog());

  // Deterministic fixes: each one certain; they may chain (e.g. unwrap a fence, then fix a name's case).
  let current = original;
  for (let i = 0; i < MAX_DETERMINISTIC_FIXES && !current.ok; i += 1) {
    const fix = deterministicFix(current, await getCatalog());
    if (!fix) break;
    const t0 = performance.now();
    let check: LintedCheck;
    try {
      check = await judgeCandidate(fix.sql, question, options);
    } catch (error) {
      if (!(error instanceof MeaningCheckUnavailable)) throw error;
      llmState.unavailable ??= error.message;
      return pendingReport(index, question, sql, original, attempts, performance.now() - started, error.message);
    }
    attempts.push(attemptRecord(attempts.length + 1, 'deterministic', check, performance.now() - t0, { fix: fix.fix, description: fix.description, ...(check.meaning ? { meaning_check: check.meaning } : {}) }));
    current = check;
  }
  if (current.ok) return passed(index, question, sql, original, current, attempts, performance.now() - started);
  if (!repairable(current.error)) return failedReport(index, question, sql, original, attempts, performance.now() - started);

  if (useLlm) {
    const previous: PreviousAttempt[] = [];
    let base = current; // the text the model repairs: the latest that got through deterministic fixes
    for (let n = 0; n < options.maxRepairAttempts; n += 1) {
      await options.checkpoint?.();
      if (llmState.unavailable) return pendingReport(index, question, sql, original, attempts, performance.now() - started, llmState.unavailable);
      const t0 = performance.now();
      let answer;
      try {
        answer = await askRepair(
          options.llm!,
          await getCatalog(),
          { question, sql: base.sql, error: base.error!, tables: base.analysis?.tables ?? original.analysis?.tables ?? [], previous },
          { lang: options.lang, signal: options.signal, log: options.log, onUsage: options.repairUsage?.listener },
        );
      } catch (error) {
        if (options.signal?.aborted) throw error;
        const message = `LLM call failed: ${(error as Error).message}`;
        attempts.push({
          attempt: attempts.length + 1,
          method: 'llm',
          sql: null,
          ok: false,
          error_class: 'other',
          message,
          ms: Math.round(performance.now() - t0),
        });
        // The client already retried: the pair was not judged, so it is kept for a re-run, and no further
        // repair calls are made in this run (they would fail the same way).
        llmState.unavailable ??= message;
        return pendingReport(index, question, sql, original, attempts, performance.now() - started, message);
      }
      let check: LintedCheck;
      try {
        check = await judgeCandidate(answer.sql, question, options);
      } catch (error) {
        if (!(error instanceof MeaningCheckUnavailable)) throw error;
        llmState.unavailable ??= error.message;
        return pendingReport(index, question, sql, original, attempts, performance.now() - started, error.message);
      }
      attempts.push(
        attemptRecord(attempts.length + 1, 'llm', check, performance.now() - t0, {
          explanation: answer.explanation,
          prompt_tables: answer.prompt_tables,
          ...(check.meaning ? { meaning_check: check.meaning } : {}),
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
  meaning?: MeaningCheck,
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
    meaning_check: meaning ?? (final as LintedCheck).meaning ?? null,
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
    meaning_check: (original as LintedCheck).meaning ?? null,
    stages: stagesOf(original),
    drop_reason: dropReason(original, attempts),
  };
}

/** A pair whose repair could not be asked for: not judged, not dropped (the step fails and a re-run starts
 * from the full original set). */
function pendingReport(index: number, question: string, sql: string, original: SqlCheckResult, attempts: AttemptRecord[], repairMs: number, why: string): PairReport {
  return {
    ...failedReport(index, question, sql, original, attempts, repairMs),
    status: 'pending',
    drop_reason: null,
    pending_reason: why,
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
    meaning_check: null,
    stages: { parsed: false, explain_valid: false, lint_clean: false, meaning_checked: false },
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

type LintedCheck = SqlCheckResult & { findings?: LintFinding[]; meaning?: MeaningCheck };

function stagesOf(original: SqlCheckResult): PairReport['stages'] {
  const phase = original.error?.phase;
  const parsed = original.ok || (phase !== 'parse' && phase !== 'input');
  const explainValid = original.ok || phase === 'lint' || phase === 'meaning';
  const lintClean = original.ok || phase === 'meaning';
  return { parsed, explain_valid: explainValid, lint_clean: lintClean, meaning_checked: original.ok };
}

function dropReason(original: SqlCheckResult, attempts: AttemptRecord[]): string {
  const error = original.error;
  const stage = !error ? 'check' : error.phase === 'lint' ? 'lint' : error.phase === 'meaning' ? 'meaning' : error.phase === 'parse' || error.phase === 'safety' ? 'parse' : error.phase === 'input' ? 'input' : 'explain';
  const what =
    error?.phase === 'lint'
      ? (error.findings ?? []).filter((f) => f.severity === 'error').map((f) => f.rule).join(', ')
      : error?.phase === 'meaning'
        ? `meaning_mismatch: the SQL answers "${(original as LintedCheck).meaning?.back_translation ?? '?'}" (${(original as LintedCheck).meaning?.reason ?? ''})`
        : `${error?.class ?? 'other'}: ${(error?.message ?? '').split('\n')[0]}`;
  const tried = attempts.length
    ? `; ${attempts.length} repair attempt(s) failed, last: ${(attempts.at(-1)!.message ?? '').split('\n')[0]}`
    : error?.phase === 'lint' || error?.phase === 'meaning'
      ? '; no LLM repair (offline): dropped'
      : '';
  return `${stage}: ${what}${tried}`;
}
