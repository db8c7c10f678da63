// sql_validation_<ts>_report.json (machine: per pair status, error class, attempts, timings, row check)
// and sql_validation_<ts>_summary.txt (human).
import type { Lang } from '../../messages.ts';
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
  const zh = lang === 'zh';
  const lines: string[] = [];
  lines.push(zh ? 'SQL验证报告 (sql_validation)' : 'SQL validation report (sql_validation)');
  lines.push('='.repeat(48));
  lines.push(`${zh ? '时间' : 'Time'}: ${report.started_at} → ${report.generated_at} (${(report.elapsed_ms / 1000).toFixed(1)}s)`);
  lines.push(`${zh ? '问答对文件' : 'Pair file'}: ${report.pair_file}`);
  lines.push(`${zh ? '验证后文件' : 'Validated file'}: ${report.validated_file}${report.backup_file ? ` (${zh ? '原文件备份' : 'original backed up as'} ${report.backup_file})` : ''}`);
  lines.push(`${zh ? '数据库' : 'Database'}: ${report.database.kind}`);
  lines.push(
    `${zh ? '选项' : 'Options'}: execute_check=${report.options.execute_check}, enable_llm_repair=${report.options.enable_llm_repair}` +
      ` (LLM ${report.options.llm_available ? report.options.llm_model : zh ? '未配置' : 'not configured'}), max_repair_attempts=${report.options.max_repair_attempts},` +
      ` statement_timeout=${report.options.statement_timeout_ms}ms, modify_original_file=${report.modify_original_file}`,
  );
  lines.push('');
  lines.push(`${zh ? '总数' : 'Total'}:          ${t.total}`);
  lines.push(`${zh ? '有效' : 'Valid'}:          ${t.valid} (${pct(t.valid, t.total)})`);
  lines.push(`${zh ? '空结果(保留)' : 'Empty (kept)'}:   ${t.empty} (${pct(t.empty, t.total)})`);
  lines.push(`${zh ? '已修复' : 'Repaired'}:       ${t.repaired} (${pct(t.repaired, t.total)})`);
  lines.push(`${zh ? '无效(已丢弃)' : 'Invalid (dropped)'}: ${t.invalid} (${pct(t.invalid, t.total)})`);
  lines.push(`${zh ? '保留' : 'Kept'}:           ${t.kept} (${pct(t.kept, t.total)})`);
  if (t.pending) lines.push(`${zh ? '待修复(LLM不可用,未丢弃)' : 'Pending (LLM unavailable, not dropped)'}: ${t.pending}`);
  lines.push('');
  lines.push(
    `${zh ? '行检查' : 'Row check'}: ${t.row_checked} ${zh ? '条已执行' : 'executed'}, ${t.explain_only} ${zh ? '条仅EXPLAIN' : 'EXPLAIN only'}, ${t.row_check_timeouts} ${zh ? '条超时' : 'timed out'}`,
  );
  if (t.same_sql) lines.push(`${zh ? '重复SQL(只验证一次)' : 'Repeated SQL (checked once)'}: ${t.same_sql}`);
  lines.push(
    `${zh ? '修复尝试' : 'Repair attempts'}: ${t.deterministic_fix_attempts} ${zh ? '次确定性修复' : 'deterministic'}, ${t.llm_attempts} LLM${t.shape_changed ? `; ${t.shape_changed} ${zh ? '条修复改变了结果列' : 'repairs changed the result columns'}` : ''}`,
  );
  const f = report.funnel;
  lines.push('');
  lines.push(
    `${zh ? '漏斗' : 'Funnel'}: ${zh ? '生成' : 'generated'} ${f.generated} → ${zh ? '可解析' : 'parsed'} ${f.parsed} → ${zh ? 'EXPLAIN通过' : 'EXPLAIN-valid'} ${f.explain_valid} → ` +
      `${zh ? '语义检查通过' : 'lint-clean'} ${f.lint_clean} → ${zh ? '含义核对通过' : 'meaning-checked'} ${f.meaning_checked} → ${zh ? '修复' : 'repaired'} +${f.repaired} → ${zh ? '去重后' : 'deduplicated'} ${f.deduplicated} → ${zh ? '保留' : 'kept'} ${f.kept}`,
  );
  if (report.lint.enabled) {
    const rules = Object.entries(report.lint.rules).sort((a, b) => b[1].errors + b[1].warnings - (a[1].errors + a[1].warnings));
    lines.push(`${zh ? '语义检查' : 'Semantic lint'}: ${report.lint.errors} ${zh ? '个错误' : 'errors'}, ${report.lint.warnings} ${zh ? '个警告' : 'warnings'}, ${report.lint.data_checks} ${zh ? '次数据检查' : 'data checks'}`);
    for (const [rule, n] of rules) lines.push(`  ${rule.padEnd(28)} ${zh ? '错误' : 'errors'} ${n.errors}, ${zh ? '警告' : 'warnings'} ${n.warnings}`);
  } else lines.push(`${zh ? '语义检查未运行' : 'Semantic lint not run'}: ${report.lint.skipped_reason}`);
  const m = report.meaning_check;
  const mu = report.llm_usage.meaning_check;
  if (m.enabled) {
    lines.push(
      `${zh ? '含义核对 (LLM反向翻译)' : 'Meaning check (LLM back-translation)'}: ${m.matched} ${zh ? '一致' : 'match'}, ${m.mismatched} ${zh ? '不一致' : 'mismatch'}, ${m.unknown} ${zh ? '未判定' : 'no verdict'}; ` +
        `${zh ? '原始SQL不一致' : 'original SQL mismatched'} ${m.original_mismatches}; ${mu.calls} ${zh ? '次调用' : 'calls'}, ${mu.prompt_tokens}+${mu.completion_tokens} tokens, ${mu.cache_hits} ${zh ? '次缓存命中' : 'cache hits'}`,
    );
  } else lines.push(`${zh ? '含义核对未运行' : 'Meaning check not run'}: ${m.skipped_reason}`);
  const ru = report.llm_usage.repair;
  if (ru.calls || ru.cache_hits) lines.push(`${zh ? 'LLM修复' : 'LLM repair'}: ${ru.calls} ${zh ? '次调用' : 'calls'}, ${ru.prompt_tokens}+${ru.completion_tokens} tokens, ${ru.cache_hits} ${zh ? '次缓存命中' : 'cache hits'}`);
  const classes = Object.entries(report.error_classes).sort((a, b) => b[1] - a[1]);
  if (classes.length) {
    lines.push('');
    lines.push(zh ? '错误类别 (原始SQL):' : 'Error classes (original SQL):');
    for (const [cls, n] of classes) lines.push(`  ${cls.padEnd(20)} ${n}`);
  }
  const invalid = report.pairs.filter((p) => p.status === 'invalid');
  if (invalid.length) {
    lines.push('');
    lines.push(zh ? '无效问答对:' : 'Invalid pairs:');
    for (const p of invalid) {
      lines.push(`  #${p.index + 1} [${p.error_class}${p.error?.sqlstate ? ` ${p.error.sqlstate}` : ''}] ${p.question}`);
      lines.push(`      ${oneLine(p.error?.message ?? '')}${p.error?.token ? ` (near "${p.error.token}")` : ''}`);
      if (p.drop_reason) lines.push(`      ${zh ? '丢弃原因' : 'dropped'}: ${oneLine(p.drop_reason)}`);
      if (p.meaning_check?.verdict === 'mismatch') lines.push(`      ${zh ? 'SQL实际回答' : 'the SQL answers'}: ${oneLine(p.meaning_check.back_translation)}`);
      if (p.attempts.length) lines.push(`      ${zh ? '修复尝试' : 'repair attempts'}: ${p.attempts.length}, ${zh ? '最后' : 'last'}: ${oneLine(p.attempts.at(-1)!.message ?? '')}`);
    }
  }
  const repaired = report.pairs.filter((p) => p.status === 'repaired');
  if (repaired.length) {
    lines.push('');
    lines.push(zh ? '已修复问答对:' : 'Repaired pairs:');
    for (const p of repaired) {
      const last = p.attempts.at(-1);
      lines.push(`  #${p.index + 1} [${p.error_class}] ${p.question} — ${last?.method}${last?.fix ? `:${last.fix}` : ''}, ${p.attempts.length} ${zh ? '次尝试' : 'attempt(s)'}${p.shape_changed ? (zh ? ' ⚠️ 结果列已改变' : ' ⚠️ result columns changed') : ''}`);
    }
  }
  return `${lines.join('\n')}\n`;
}

function oneLine(text: string): string {
  const s = text.replace(/\s+/g, ' ').trim();
  return s.length > 200 ? `${s.slice(0, 197)}...` : s;
}
