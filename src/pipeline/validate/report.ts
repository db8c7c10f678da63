// sql_validation_<ts>_report.json (machine: per pair status, error class, attempts, timings, row check)
// and sql_validation_<ts>_summary.txt (human).
import { t as text, type Lang, type MessageKey } from '../../messages.ts';
import type { PairReport } from './validator.ts';

export interface ValidationReport {
  version: 1;
  generated_at: string;
  started_at: string;
  pair_file: string;
  validated_file: string;
  backup_file: string | null;
  modify_original_file: boolean;
  database: { kind: 'postgres' | 'pglite' };
  options: {
    execute_check: boolean;
    enable_llm_repair: boolean;
    llm_available: boolean;
    llm_model: string | null;
    max_repair_attempts: number;
    statement_timeout_ms: number;
    row_check_limit: number;
    max_execute_cost: number;
    concurrency: number;
  };
  /** Where the repair schema came from; null when no pair needed it. */
  catalog_source: 'schema.json' | 'database' | 'none' | null;
  totals: {
    total: number;
    valid: number;
    empty: number;
    repaired: number;
    invalid: number;
    kept: number;
    row_checked: number;
    explain_only: number;
    row_check_timeouts: number;
    shape_changed: number;
    deterministic_fix_attempts: number;
    llm_attempts: number;
    /** Pairs whose SQL text repeats an earlier pair's (checked once). */
    same_sql: number;
    /** Pairs not judged because the LLM was unreachable for their repair (the step failed; none dropped). */
    pending?: number;
  };
  error_classes: Record<string, number>;
  /** generated → parsed → EXPLAIN-valid → lint-clean → meaning-checked → repaired → deduplicated → kept. */
  funnel: { generated: number; parsed: number; explain_valid: number; lint_clean: number; meaning_checked: number; repaired: number; deduplicated: number; kept: number };
  /** Dropped pairs by `<stage>:<error class>`; each pair's own reason is its drop_reason. */
  drop_reasons: Record<string, number>;
  /** The semantic linter: findings per rule over all pairs (kept pairs: warnings; dropped: their errors). */
  lint: {
    enabled: boolean;
    skipped_reason: string | null;
    rules: Record<string, { errors: number; warnings: number }>;
    errors: number;
    warnings: number;
    /** Bounded read-only data checks it ran. */
    data_checks: number;
  };
  /** The LLM meaning check (semantic_check): verdicts on the stored (or dropped) SQL of each pair. */
  meaning_check: {
    enabled: boolean;
    skipped_reason: string | null;
    checked: number;
    matched: number;
    mismatched: number;
    unknown: number;
    /** Original SQL read back as another question (then repaired or dropped). */
    original_mismatches: number;
  };
  /** LLM calls and tokens of each kind of call (also in the step counters: meaning_check_*, repair_*). */
  llm_usage: {
    meaning_check: { calls: number; failures: number; prompt_tokens: number; completion_tokens: number; cache_hits: number };
    repair: { calls: number; failures: number; prompt_tokens: number; completion_tokens: number; cache_hits: number };
  };
  elapsed_ms: number;
  pairs: PairReport[];
}

const pct = (n: number, total: number) => (total ? `${((n / total) * 100).toFixed(1)}%` : '-');

export function renderSummary(report: ValidationReport, lang: Lang): string {
  const t = report.totals;
  const w = (key: MessageKey) => text(key, lang);
  const lines: string[] = [];
  lines.push(w('report.sql_validation_report_sql_validation'));
  lines.push('='.repeat(48));
  lines.push(`${w('report.time')}: ${report.started_at} → ${report.generated_at} (${(report.elapsed_ms / 1000).toFixed(1)}s)`);
  lines.push(`${w('report.pair_file')}: ${report.pair_file}`);
  lines.push(`${w('report.validated_file')}: ${report.validated_file}${report.backup_file ? ` (${w('report.original_backed_up_as')} ${report.backup_file})` : ''}`);
  lines.push(`${w('report.database')}: ${report.database.kind}`);
  lines.push(
    `${w('report.options')}: execute_check=${report.options.execute_check}, enable_llm_repair=${report.options.enable_llm_repair}` +
      ` (LLM ${report.options.llm_available ? report.options.llm_model : w('report.not_configured')}), max_repair_attempts=${report.options.max_repair_attempts},` +
      ` statement_timeout=${report.options.statement_timeout_ms}ms, modify_original_file=${report.modify_original_file}`,
  );
  lines.push('');
  lines.push(`${w('report.total')}:          ${t.total}`);
  lines.push(`${w('report.valid')}:          ${t.valid} (${pct(t.valid, t.total)})`);
  lines.push(`${w('report.empty_kept')}:   ${t.empty} (${pct(t.empty, t.total)})`);
  lines.push(`${w('report.repaired')}:       ${t.repaired} (${pct(t.repaired, t.total)})`);
  lines.push(`${w('report.invalid_dropped')}: ${t.invalid} (${pct(t.invalid, t.total)})`);
  lines.push(`${w('report.kept')}:           ${t.kept} (${pct(t.kept, t.total)})`);
  if (t.pending) lines.push(`${w('report.pending_llm_unavailable_not_dropped')}: ${t.pending}`);
  lines.push('');
  lines.push(
    `${w('report.row_check')}: ${t.row_checked} ${w('report.executed')}, ${t.explain_only} ${w('report.explain_only')}, ${t.row_check_timeouts} ${w('report.timed_out')}`,
  );
  if (t.same_sql) lines.push(`${w('report.repeated_sql_checked_once')}: ${t.same_sql}`);
  lines.push(
    `${w('report.repair_attempts')}: ${t.deterministic_fix_attempts} ${w('report.deterministic')}, ${t.llm_attempts} LLM${t.shape_changed ? `; ${t.shape_changed} ${w('report.repairs_changed_the_result_columns')}` : ''}`,
  );
  const f = report.funnel;
  lines.push('');
  lines.push(
    `${w('report.funnel')}: ${w('report.generated')} ${f.generated} → ${w('report.parsed')} ${f.parsed} → ${w('report.explain_valid')} ${f.explain_valid} → ` +
      `${w('report.lint_clean')} ${f.lint_clean} → ${w('report.meaning_checked')} ${f.meaning_checked} → ${w('report.repaired_2')} +${f.repaired} → ${w('report.deduplicated')} ${f.deduplicated} → ${w('report.kept_2')} ${f.kept}`,
  );
  if (report.lint.enabled) {
    const rules = Object.entries(report.lint.rules).sort((a, b) => b[1].errors + b[1].warnings - (a[1].errors + a[1].warnings));
    lines.push(`${w('report.semantic_lint')}: ${report.lint.errors} ${w('report.errors')}, ${report.lint.warnings} ${w('report.warnings')}, ${report.lint.data_checks} ${w('report.data_checks')}`);
    for (const [rule, n] of rules) lines.push(`  ${rule.padEnd(28)} ${w('report.errors_2')} ${n.errors}, ${w('report.warnings_2')} ${n.warnings}`);
  } else lines.push(`${w('report.semantic_lint_not_run')}: ${report.lint.skipped_reason}`);
  const m = report.meaning_check;
  const mu = report.llm_usage.meaning_check;
  if (m.enabled) {
    lines.push(
      `${w('report.meaning_check_llm_back_translation')}: ${m.matched} ${w('report.match')}, ${m.mismatched} ${w('report.mismatch')}, ${m.unknown} ${w('report.no_verdict')}; ` +
        `${w('report.original_sql_mismatched')} ${m.original_mismatches}; ${mu.calls} ${w('report.calls')}, ${mu.prompt_tokens}+${mu.completion_tokens} tokens, ${mu.cache_hits} ${w('report.cache_hits')}`,
    );
  } else lines.push(`${w('report.meaning_check_not_run')}: ${m.skipped_reason}`);
  const ru = report.llm_usage.repair;
  if (ru.calls || ru.cache_hits) lines.push(`${w('report.llm_repair')}: ${ru.calls} ${w('report.calls')}, ${ru.prompt_tokens}+${ru.completion_tokens} tokens, ${ru.cache_hits} ${w('report.cache_hits')}`);
  const classes = Object.entries(report.error_classes).sort((a, b) => b[1] - a[1]);
  if (classes.length) {
    lines.push('');
    lines.push(w('report.error_classes_original_sql'));
    for (const [cls, n] of classes) lines.push(`  ${cls.padEnd(20)} ${n}`);
  }
  const invalid = report.pairs.filter((p) => p.status === 'invalid');
  if (invalid.length) {
    lines.push('');
    lines.push(w('report.invalid_pairs'));
    for (const p of invalid) {
      lines.push(`  #${p.index + 1} [${p.error_class}${p.error?.sqlstate ? ` ${p.error.sqlstate}` : ''}] ${p.question}`);
      lines.push(`      ${oneLine(p.error?.message ?? '')}${p.error?.token ? ` (near "${p.error.token}")` : ''}`);
      if (p.drop_reason) lines.push(`      ${w('report.dropped')}: ${oneLine(p.drop_reason)}`);
      if (p.meaning_check?.verdict === 'mismatch') lines.push(`      ${w('report.the_sql_answers')}: ${oneLine(p.meaning_check.back_translation)}`);
      if (p.attempts.length) lines.push(`      ${w('report.repair_attempts_2')}: ${p.attempts.length}, ${w('report.last')}: ${oneLine(p.attempts.at(-1)!.message ?? '')}`);
    }
  }
  const repaired = report.pairs.filter((p) => p.status === 'repaired');
  if (repaired.length) {
    lines.push('');
    lines.push(w('report.repaired_pairs'));
    for (const p of repaired) {
      const last = p.attempts.at(-1);
      lines.push(`  #${p.index + 1} [${p.error_class}] ${p.question} — ${last?.method}${last?.fix ? `:${last.fix}` : ''}, ${p.attempts.length} ${w('report.attempt_s')}${p.shape_changed ? w('report.result_columns_changed') : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function oneLine(text: string): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}
