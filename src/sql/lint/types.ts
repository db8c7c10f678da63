// The linter's vocabulary: rules, findings, options and the bounded data checks it may ask for.
import type { Lang } from '../../messages.ts';
import type { SqlAnalysisOk } from '../analyze.ts';
import type { SchemaFacts, TableFacts } from './facts.ts';
import type { QueryModel } from './model.ts';

export const LINT_RULES = [
  'aggregate_on_key',
  'sum_non_additive',
  'group_by_label_without_key',
  'own_grain_aggregation',
  'fan_out_sum',
  'technical_time',
  'partition_child',
  'missing_soft_delete_filter',
  'sibling_join',
  'relative_window_no_data',
  'rank_ties_beyond_n',
  'literal_not_in_data',
  'not_a_select',
] as const;
export type LintRule = (typeof LINT_RULES)[number];

export type LintSeverity = 'error' | 'warning';

export interface LintFinding {
  rule: LintRule;
  /** error: the pair teaches wrong SQL (repair it or drop it); warning: keep it, but record why. */
  severity: LintSeverity;
  message: string;
  /** `table.column` of the columns at fault (a table name alone for table-level findings). */
  columns: string[];
  /** For literal_not_in_data: the nearest values that do occur (repair prompts offer them). */
  nearest?: string[];
}

/** Bounded, read-only questions about the data (see ./probe.ts). Each answer may be undefined when the
 * check could not run (timeout, error): the rule then falls back to the profile or says nothing. */
export interface LintDataProbe {
  /** Whether `value` occurs in the column (as text, exactly). */
  valueExists(table: TableFacts, column: string, value: string): Promise<boolean | undefined>;
  /** Up to `limit` distinct values of the column most like `value`. */
  nearestValues(table: TableFacts, column: string, value: string, limit: number): Promise<string[]>;
  /** Up to `limit` values of `label` shared by more than one distinct `key`. */
  sharedLabels(table: TableFacts, label: string, key: string, limit: number): Promise<string[] | undefined>;
  /** Whether any row has the time column within [lower, upper) (ISO texts; either may be absent). */
  rowsInWindow(table: TableFacts, column: string, lower: string | undefined, upper: string | undefined): Promise<boolean | undefined>;
  /** Rows the statement returns, counted up to `cap` + 1. */
  countRows(statement: string, cap: number): Promise<number | undefined>;
}

export interface LintOptions {
  /** The pair's question: some rules accept what the question says (ties mentioned, a partition named). */
  question?: string;
  /** Bounded data checks; without it the rules use the profile in schema.json only. */
  probe?: LintDataProbe;
  /** What the row check found, when it ran: `empty` makes the literal check look for the cause. */
  rowCheck?: 'rows' | 'empty';
  /** Whether the statement may be executed for counts (functions and operators on the allow-list). */
  executable?: boolean;
  /** "Today" for relative windows (default: the clock). */
  now?: Date;
  lang?: Lang;
  /** Rules not to run. */
  disabled?: readonly LintRule[];
}

export interface RuleContext {
  analysis: SqlAnalysisOk;
  model: QueryModel;
  facts: SchemaFacts;
  options: LintOptions;
  /** The message in the task's language. */
  t(zh: string, en: string): string;
}

export type Rule = (ctx: RuleContext) => LintFinding[] | Promise<LintFinding[]>;
