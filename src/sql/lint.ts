// The semantic linter: checks that a question/SQL pair is a correct way to get its answer on this schema
// (../../shared/spec/pair-quality.md, the rules a program can check), beyond "it runs". It reads the parse
// tree (libpg-query, via ./analyze.ts: pass the analysis the parse gate made, so a pair is parsed once), the
// roles, entities, relationships and profiles of schema.json (./lint/facts.ts), and, when given a probe,
// bounded read-only data checks (./lint/probe.ts). Each finding is {rule, severity, message, columns}:
// an error means the pair teaches wrong SQL (repair or drop it), a warning is kept and recorded.
//
// Used by sql_validation on every pair, and by qa_generation as its self-check. The rules live beside
// the parse-tree model (./lint/rules/) rather than under one step, because both steps use them and
// steps never import each other.
import { analyzeSql, type SqlAnalysisOk } from './analyze.ts';
import { functionSafety } from './functions.ts';
import type { SchemaFacts } from './lint/facts.ts';
import { buildModel } from './lint/model.ts';
import { aggregateOnKey, sumNonAdditive } from './lint/rules/aggregates.ts';
import { fanOutSum, groupByLabelWithoutKey, ownGrainAggregation } from './lint/rules/grain.ts';
import { siblingJoin } from './lint/rules/joins.ts';
import { literalNotInData, rankTiesBeyondN } from './lint/rules/results.ts';
import { missingSoftDeleteFilter, partitionChild } from './lint/rules/tables.ts';
import { relativeWindowNoData, technicalTime } from './lint/rules/time.ts';
import type { LintFinding, LintOptions, LintRule, Rule } from './lint/types.ts';

export { schemaFactsFromSchemaFile, makeFacts, columnOf, rowKey } from './lint/facts.ts';
export type { SchemaFacts, SchemaFactsSource, TableFacts, ColumnFacts, ForeignKeyFacts, LintColumnRole } from './lint/facts.ts';
export { createReadOnlyProbe, type CountingProbe, type ProbeOptions } from './lint/probe.ts';
export { LINT_RULES, type LintFinding, type LintOptions, type LintRule, type LintSeverity, type LintDataProbe } from './lint/types.ts';

/** Every rule, in the order findings are listed. */
export const RULES: ReadonlyArray<[LintRule, Rule]> = [
  ['aggregate_on_key', aggregateOnKey],
  ['sum_non_additive', sumNonAdditive],
  ['group_by_label_without_key', groupByLabelWithoutKey],
  ['own_grain_aggregation', ownGrainAggregation],
  ['fan_out_sum', fanOutSum],
  ['technical_time', technicalTime],
  ['partition_child', partitionChild],
  ['missing_soft_delete_filter', missingSoftDeleteFilter],
  ['sibling_join', siblingJoin],
  ['relative_window_no_data', relativeWindowNoData],
  ['rank_ties_beyond_n', rankTiesBeyondN],
  ['literal_not_in_data', literalNotInData],
];

/**
 * Lints one pair. `sql` is the SQL text or, better, the analysis the parse gate already made (one parse
 * per pair). Returns the findings, errors first; none when the schema facts know nothing about the tables.
 */
export async function lintPair(sql: string | SqlAnalysisOk, facts: SchemaFacts, options: LintOptions = {}): Promise<LintFinding[]> {
  const lang = options.lang ?? 'zh';
  const t = (zh: string, en: string) => (lang === 'en' ? en : zh);
  let analysis: SqlAnalysisOk;
  if (typeof sql === 'string') {
    const parsed = await analyzeSql(sql);
    if (!parsed.ok) return [{ rule: 'not_a_select', severity: 'error', message: parsed.message, columns: [] }];
    analysis = parsed;
  } else analysis = sql;
  if (!analysis.tree) return [];
  const model = buildModel(analysis.tree, facts);
  const executable = options.executable ?? functionSafety(analysis.functions, analysis.operators).executable;
  const ctx = { analysis, model, facts, options: { ...options, executable }, t };
  const disabled = new Set(options.disabled ?? []);
  const findings: LintFinding[] = [];
  for (const [name, rule] of RULES) {
    if (disabled.has(name)) continue;
    findings.push(...(await rule(ctx)));
  }
  return [...findings.filter((f) => f.severity === 'error'), ...findings.filter((f) => f.severity === 'warning')];
}

/** Errors and warnings of a list of findings. */
export function lintCounts(findings: readonly LintFinding[]): { errors: number; warnings: number } {
  let errors = 0;
  for (const f of findings) if (f.severity === 'error') errors += 1;
  return { errors, warnings: findings.length - errors };
}
