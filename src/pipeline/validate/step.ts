// Step 3, sql_validation: every stored SQL proven against the real database, safely.
//   reads   the newest qs_<db>_<ts>_pair.json (+ schema.json for repairs)
//   writes  modify_original_file=true : <pair>.backup (the file as it was), then the pair file rewritten
//                                       (repaired SQL in place, failed pairs removed)
//           modify_original_file=false: <pair>_validated.json beside the untouched original
//           sql_validation_<ts>_report.json (per pair), sql_validation_<ts>_summary.txt (human),
//           and last sql_validation_result.json: which file training_load must load.
import fsp from 'node:fs/promises';
import path from 'node:path';
import {
  latestPairFile,
  pairFileSchema,
  pairMetaFileName,
  pairMetaFileSchema,
  readArtifact,
  readSchemaFile,
  validatedPairFileName,
  VALIDATION_RESULT_FILE,
  type QuestionSqlPair,
  type ValidationResultFile,
} from '../artifacts.ts';
import { stepError, type PipelineStep, type StepContext, type StepResult, type TaskParameters } from '../context.ts';
import { localIso, localStamp } from '../../time.ts';
import { loadCatalog, type Catalog } from './catalog.ts';
import { SqlChecker } from './checker.ts';
import { renderSummary, type ValidationReport } from './report.ts';
import { validatePairs, type InputPair, type PairReport } from './validator.ts';
import { writeFileAtomic } from '../../files.ts';
import { MeaningChecker } from './meaning.ts';
import { UsageTally } from './usage.ts';
import { createReadOnlyProbe, lintCounts, schemaFactsFromSchemaFile, type CountingProbe, type SchemaFacts } from '../../sql/lint.ts';

export interface ValidationSettings {
  enableLlmRepair: boolean;
  modifyOriginalFile: boolean;
  executeCheck: boolean;
  maxRepairAttempts: number;
  timeoutMs: number;
  rowLimit: number;
  concurrency: number | undefined;
  maxExecuteCost: number | undefined;
  semanticLint: boolean;
  /** undefined: on when an LLM is configured. */
  semanticCheck: boolean | undefined;
}

/** The step's settings from the task parameters (typed and range-checked by the runner, see ./parameters.ts). */
export function validationSettings(p: TaskParameters): ValidationSettings {
  return {
    enableLlmRepair: p.enable_llm_repair,
    modifyOriginalFile: p.modify_original_file,
    executeCheck: p.execute_check,
    maxRepairAttempts: p.max_repair_attempts,
    timeoutMs: p.sql_timeout_ms,
    rowLimit: p.row_check_limit,
    concurrency: p.validation_concurrency,
    maxExecuteCost: p.max_execute_cost,
    semanticLint: p.semantic_lint,
    semanticCheck: p.semantic_check,
  };
}

async function exists(file: string): Promise<boolean> {
  return fsp.lstat(file).then(
    () => true,
    () => false,
  );
}

export async function runSqlValidation(ctx: StepContext): Promise<StepResult> {
  const dir = ctx.workspaceDir;
  const params = validationSettings(ctx.params);
  const pairFile = await latestPairFile(dir);
  if (!pairFile) {
    throw stepError('PAIR_FILE_NOT_FOUND', 'step.pair_file_missing');
  }
  const pairPath = path.join(dir, pairFile);
  // With modify_original_file, an earlier run may have rewritten the pair file; its backup holds the set as
  // qa_generation wrote it, and a re-run judges that full set again (the rewritten file never loses a pair
  // that this run did not judge).
  const backupName = `${pairFile}.backup`;
  const source = params.modifyOriginalFile && (await exists(path.join(dir, backupName))) ? backupName : pairFile;
  // Entries are checked one by one by the validator: a malformed one is that pair's failure.
  const pairs = (await readArtifact(dir, source, pairFileSchema, 'PAIR_FILE_INVALID')) as InputPair[] | undefined;
  if (!pairs) throw stepError('PAIR_FILE_INVALID', 'step.pair_file_unreadable', { file: source });

  // A previous run's result names pairs validated before; until this run finishes, training_load must not
  // load anything (a cancelled or failed run leaves no result rather than a stale one).
  await fsp.unlink(path.join(dir, VALIDATION_RESULT_FILE)).catch((error: NodeJS.ErrnoException) => {
    if (error.code !== 'ENOENT') throw error;
  });

  const db = await ctx.businessDatabase();
  const checker = new SqlChecker(db, {
    timeoutMs: params.timeoutMs,
    executeCheck: params.executeCheck,
    rowLimit: params.rowLimit,
    ...(params.maxExecuteCost !== undefined ? { maxExecuteCost: params.maxExecuteCost } : {}),
  });
  const concurrency = Math.min(params.concurrency ?? checker.poolSize, checker.poolSize);
  const useLlm = Boolean(ctx.llm && params.enableLlmRepair);
  let catalogPromise: Promise<Catalog> | undefined;
  const catalog = () => (catalogPromise ??= loadCatalog(dir, db));

  // The semantic linter needs the roles and relationships of schema.json; without that file it has nothing
  // to judge by (a catalog read from the database carries no roles), and the step says so.
  let facts: SchemaFacts | undefined;
  let lintSkipped: string | null = null;
  if (params.semanticLint) {
    const schema = await readSchemaFile(dir, 'SCHEMA_INVALID').catch(() => undefined);
    if (schema) facts = schemaFactsFromSchemaFile(schema);
    else lintSkipped = 'no valid schema.json in the task directory';
  } else lintSkipped = 'semantic_lint=false';
  const probe: CountingProbe | undefined = facts ? createReadOnlyProbe(db, { timeoutMs: Math.min(params.timeoutMs, 2000) }) : undefined;

  // The meaning check: on by default with an LLM; asked for without one, it cannot run and the report says so.
  const meaningUsage = new UsageTally('meaning_check_', (c) => ctx.count(c));
  const repairUsage = new UsageTally('repair_', (c) => ctx.count(c));
  const meaningWanted = params.semanticCheck ?? Boolean(ctx.llm);
  const meaningSkipped = !meaningWanted ? (params.semanticCheck === false ? 'semantic_check=false' : 'no LLM configured') : !ctx.llm ? 'semantic_check=true but no LLM configured' : null;
  if (meaningWanted && !ctx.llm) ctx.log.warn(`语义核对未运行 (meaning check not run): ${meaningSkipped}`);
  const meaning = meaningWanted && ctx.llm ? new MeaningChecker(ctx.llm, { lang: ctx.settings.lang, catalog, usage: meaningUsage, signal: ctx.signal, log: ctx.log }) : undefined;

  const started = new Date();
  const stamp = localStamp(started);
  ctx.log.info(
    `开始SQL验证: ${pairs.length} 个问答对 (${pairFile}; database=${db.kind}, concurrency=${concurrency}, execute_check=${params.executeCheck}, ` +
      `llm_repair=${useLlm ? `on, max_attempts=${params.maxRepairAttempts}` : ctx.llm ? 'off (enable_llm_repair=false)' : 'off (no LLM configured)'}, ` +
      `modify_original_file=${params.modifyOriginalFile}, semantic_lint=${facts ? 'on' : `off (${lintSkipped})`}, semantic_check=${meaning ? 'on' : `off (${meaningSkipped})`})`,
  );
  ctx.progress(0, pairs.length, 'pairs');
  const t0 = performance.now();
  const reports = await validatePairs(pairs, {
    checker,
    llm: ctx.llm,
    enableLlmRepair: params.enableLlmRepair,
    maxRepairAttempts: params.maxRepairAttempts,
    catalog,
    lang: ctx.settings.lang,
    concurrency,
    repairConcurrency: useLlm ? Math.max(1, ctx.settings.llm?.concurrency ?? 4) : concurrency,
    signal: ctx.signal,
    checkpoint: () => ctx.checkpoint(),
    log: ctx.log,
    ...(facts ? { lint: { facts, probe } } : {}),
    ...(meaning ? { meaning } : {}),
    repairUsage,
    onRepairStart: (index, check, willUseLlm) => {
      const what = `#${index + 1} [${check.error?.class}${check.error?.sqlstate ? ` ${check.error.sqlstate}` : ''}] ${check.error?.message}`;
      if (willUseLlm) ctx.log.error(`SQL验证失败，尝试LLM修复: ${what}`);
      else ctx.log.warn(`SQL验证失败，尝试确定性修复: ${what}`);
    },
    onPairDone: (report, done, total) => {
      ctx.count({ [report.status]: 1 });
      ctx.progress(done, total, 'pairs');
      logPair(ctx, report);
    },
  });
  const elapsedMs = performance.now() - t0;

  // Outputs. The report and summary first, the result file last: training_load trusts what it names.
  // Pairs left pending (the LLM was unreachable for their repair) were not judged: then no pair file is
  // rewritten and no result is named; the report says which pairs wait, and the step fails.
  const pending = reports.filter((r) => r.status === 'pending');
  const kept = reports.filter((r) => r.kept);
  const validatedPairs: QuestionSqlPair[] = kept.map((r) => ({ question: r.question, sql: r.final_sql! }));
  let validatedFile: string;
  let backupFile: string | null = null;
  if (pending.length) {
    validatedFile = '';
  } else if (params.modifyOriginalFile) {
    backupFile = `${pairFile}.backup`;
    // A re-run keeps the first backup: it holds the file as qa_generation wrote it.
    if (!(await exists(path.join(dir, backupFile)))) await fsp.copyFile(pairPath, path.join(dir, backupFile));
    await writeFileAtomic(pairPath, `${JSON.stringify(validatedPairs, null, 2)}\n`);
    validatedFile = pairFile;
  } else {
    validatedFile = validatedPairFileName(pairFile);
    await writeFileAtomic(path.join(dir, validatedFile), `${JSON.stringify(validatedPairs, null, 2)}\n`);
  }

  const reportFile = `sql_validation_${stamp}_report.json`;
  const summaryFile = `sql_validation_${stamp}_summary.txt`;
  const counts = { valid: 0, empty: 0, repaired: 0, invalid: 0 };
  for (const r of reports) if (r.status !== 'pending') counts[r.status] += 1;
  const funnel = funnelOf(reports);
  const lintRules: Record<string, { errors: number; warnings: number }> = {};
  for (const r of reports) {
    for (const f of r.lint ?? []) {
      const entry = (lintRules[f.rule] ??= { errors: 0, warnings: 0 });
      if (f.severity === 'error') entry.errors += 1;
      else entry.warnings += 1;
    }
  }
  const lintTotals = lintCounts(reports.flatMap((r) => r.lint ?? []));
  const report: ValidationReport = {
    version: 1,
    generated_at: localIso(new Date())!,
    started_at: localIso(started)!,
    pair_file: pairFile,
    validated_file: validatedFile,
    backup_file: backupFile,
    modify_original_file: params.modifyOriginalFile,
    database: { kind: db.kind },
    options: {
      execute_check: params.executeCheck,
      enable_llm_repair: params.enableLlmRepair,
      llm_available: Boolean(ctx.llm),
      llm_model: ctx.llm?.model ?? null,
      max_repair_attempts: params.maxRepairAttempts,
      statement_timeout_ms: checker.options.timeoutMs,
      row_check_limit: checker.options.rowLimit,
      max_execute_cost: checker.options.maxExecuteCost,
      concurrency,
    },
    catalog_source: catalogPromise ? (await catalogPromise).source : null,
    totals: {
      total: reports.length,
      ...counts,
      kept: kept.length,
      row_checked: reports.filter((r) => r.row_check.status === 'rows' || r.row_check.status === 'empty').length,
      explain_only: reports.filter((r) => r.kept && r.explain_only_reason !== null).length,
      row_check_timeouts: reports.filter((r) => r.row_check.status === 'timeout').length,
      shape_changed: reports.filter((r) => r.shape_changed === true).length,
      deterministic_fix_attempts: reports.reduce((n, r) => n + r.attempts.filter((a) => a.method === 'deterministic').length, 0),
      llm_attempts: reports.reduce((n, r) => n + r.attempts.filter((a) => a.method === 'llm').length, 0),
      same_sql: reports.filter((r) => r.same_sql_as !== null).length,
      pending: pending.length,
    },
    error_classes: countBy(reports.filter((r) => r.error_class).map((r) => r.error_class!)),
    funnel,
    drop_reasons: countBy(reports.filter((r) => r.drop_reason).map((r) => r.drop_reason!.split(':')[0]! + ':' + (r.error_class ?? 'other'))),
    lint: {
      enabled: Boolean(facts),
      skipped_reason: lintSkipped,
      rules: lintRules,
      errors: lintTotals.errors,
      warnings: lintTotals.warnings,
      data_checks: probe?.queries ?? 0,
    },
    meaning_check: {
      enabled: Boolean(meaning),
      skipped_reason: meaningSkipped,
      // Verdicts on the stored (or dropped) SQL of each pair.
      checked: reports.filter((r) => r.meaning_check).length,
      matched: reports.filter((r) => r.meaning_check?.verdict === 'match').length,
      mismatched: reports.filter((r) => r.meaning_check?.verdict === 'mismatch').length,
      unknown: reports.filter((r) => r.meaning_check?.verdict === 'unknown').length,
      // Original SQL the check read back as another question (repaired or dropped).
      original_mismatches: reports.filter((r) => r.error_class === 'meaning_mismatch').length,
    },
    llm_usage: { meaning_check: meaningUsage.totals, repair: repairUsage.totals },
    elapsed_ms: Math.round(elapsedMs),
    pairs: reports,
  };
  await writeFileAtomic(path.join(dir, reportFile), `${JSON.stringify(report, null, 2)}\n`);
  if (pending.length) {
    await writeFileAtomic(path.join(dir, summaryFile), renderSummary(report, ctx.settings.lang));
    const error = stepError('LLM_UNAVAILABLE', 'step.llm_pending', { count: pending.length, reason: pending[0]!.pending_reason });
    ctx.log.error(error.text(ctx.settings.lang));
    throw error;
  }
  await recordInPairMeta(dir, pairFile, reportFile, reports, ctx);
  await writeFileAtomic(path.join(dir, summaryFile), renderSummary(report, ctx.settings.lang));
  const result: ValidationResultFile = {
    pair_file: pairFile,
    validated_file: validatedFile,
    report_file: reportFile,
    summary_file: summaryFile,
    total: reports.length,
    valid: counts.valid,
    repaired: counts.repaired,
    invalid: counts.invalid,
    empty: counts.empty,
    generated_at: localIso(new Date())!,
  };
  await writeFileAtomic(path.join(dir, VALIDATION_RESULT_FILE), `${JSON.stringify(result, null, 2)}\n`);

  const summary = `${reports.length} 个问答对: 有效 ${counts.valid}, 空结果 ${counts.empty}, 已修复 ${counts.repaired}, 无效 ${counts.invalid} → ${validatedFile}`;
  ctx.log.info(`SQL验证完成: ${summary} (${(elapsedMs / 1000).toFixed(1)}s)`);
  return {
    summary,
    counters: {
      ...counts,
      generated: funnel.generated,
      parsed: funnel.parsed,
      explain_valid: funnel.explain_valid,
      lint_clean: funnel.lint_clean,
      meaning_checked: funnel.meaning_checked,
      meaning_mismatches: report.meaning_check.original_mismatches,
      repaired_in_funnel: funnel.repaired,
      deduplicated: funnel.deduplicated,
      kept: funnel.kept,
      lint_errors: lintTotals.errors,
      lint_warnings: lintTotals.warnings,
    },
  };
}

/** The pair file's sidecar (qa_generation's meta) gets each pair's outcome and lint findings, by the index
 * of the pair as generated, so warnings travel with the pair. A missing or foreign sidecar is left alone. */
async function recordInPairMeta(dir: string, pairFile: string, reportFile: string, reports: PairReport[], ctx: StepContext): Promise<void> {
  const metaFile = pairMetaFileName(pairFile);
  let meta;
  try {
    meta = await readArtifact(dir, metaFile, pairMetaFileSchema, 'PAIR_META_INVALID');
  } catch (error) {
    ctx.log.warn(`${metaFile} 未更新 (not updated): ${(error as Error).message}`);
    return;
  }
  if (!meta) return;
  const byIndex = new Map(reports.map((r) => [r.index, r]));
  const pairs = meta.pairs.map((p) => {
    const r = byIndex.get(p.index);
    if (!r) return p;
    return { ...p, validation: { status: r.status, kept: r.kept, final_sql: r.final_sql, drop_reason: r.drop_reason, lint: r.lint ?? [], meaning_check: r.meaning_check } };
  });
  await writeFileAtomic(path.join(dir, metaFile), `${JSON.stringify({ ...meta, validation_report: reportFile, pairs }, null, 2)}\n`);
}

function logPair(ctx: StepContext, r: PairReport): void {
  const n = `#${r.index + 1}`;
  if (r.status === 'repaired') {
    const last = r.attempts.at(-1);
    ctx.log.info(`SQL已修复 ${n} (${last?.method}${last?.fix ? `: ${last.fix}` : ''}, ${r.attempts.length} 次尝试)${r.shape_changed ? ' ⚠️ 结果列已改变' : ''}`);
  } else if (r.status === 'invalid') {
    ctx.log.warn(`SQL验证失败，已丢弃 ${n} [${r.error_class}] ${r.error?.message ?? ''}${r.attempts.length ? ` (${r.attempts.length} 次修复尝试)` : ''}`);
  } else if (r.status === 'empty') {
    ctx.log.debug(`SQL结果为空 ${n}`);
  }
}

/** generated → parsed → EXPLAIN-valid → lint-clean → meaning-checked (the original SQL's stages; without
 * the meaning check it equals lint-clean) → repaired (pairs a repair brought back) → deduplicated (after
 * exact duplicates are removed) → kept. */
export function funnelOf(reports: PairReport[]): ValidationReport['funnel'] {
  const duplicates = reports.filter((r) => r.error_class === 'duplicate').length;
  const lintClean = reports.filter((r) => r.stages.lint_clean).length;
  const meaningChecked = reports.filter((r) => r.stages.meaning_checked).length;
  const repaired = reports.filter((r) => r.status === 'repaired' || (r.error_class === 'duplicate' && r.attempts.some((a) => a.ok))).length;
  return {
    generated: reports.length,
    parsed: reports.filter((r) => r.stages.parsed).length,
    explain_valid: reports.filter((r) => r.stages.explain_valid).length,
    lint_clean: lintClean,
    meaning_checked: meaningChecked,
    repaired,
    deduplicated: meaningChecked + repaired - duplicates,
    kept: reports.filter((r) => r.kept).length,
  };
}

function countBy(values: string[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const v of values) out[v] = (out[v] ?? 0) + 1;
  return out;
}

export const sqlValidationStep: PipelineStep = {
  name: 'sql_validation',
  run: runSqlValidation,
};
