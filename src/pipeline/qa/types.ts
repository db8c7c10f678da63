// Shapes of qa_generation: themes, pairs with their metadata, and the step's settings.
import type { Lang } from '../../messages.ts';
import type { Complexity } from './sql-analysis.ts';

export const QUESTION_STYLES = ['imperative', 'question', 'colloquial', 'business'] as const;
export type QuestionStyle = (typeof QUESTION_STYLES)[number] | 'other';

export interface QaSettings {
  themeCount: number;
  questionsPerTheme: number;
  language: Lang;
  dbName: string;
  businessContext: string | null;
  /** Seed of the offline generator (same seed, same pairs). */
  seed: number;
  /** Offline generator: check candidates with EXPLAIN and a bounded row check before choosing. */
  executionCheck: boolean;
  /** LLM mode: a themes call that fails after its retries falls back to offline themes (shown in the
   * counters and the summary) instead of failing the step. */
  allowOfflineFallback: boolean;
}

export interface Theme {
  name: string;
  description: string;
  /** Table keys (`schema.name`) that exist in schema.json. */
  tables: string[];
  entities: string[];
  metrics: string[];
  keywords: string[];
  source: 'llm' | 'offline';
  /** Names the LLM gave that were mapped to real tables (`given → schema.table`) or dropped. */
  repaired: string[];
  dropped: string[];
  /** Offline: the table the theme is about, and which kind of questions it leans to. */
  anchor?: string;
  focus?: 'fact' | 'dimension' | 'link' | 'trend' | 'structure';
}

export interface GeneratedPair {
  question: string;
  sql: string;
  theme: string;
  /** Table keys used (from the parser, resolved against the catalog). */
  tables: string[];
  /** `table.column` used (from the parser, resolved against the catalog where possible). */
  columns: string[];
  functions: string[];
  complexity: Complexity;
  /** What the model said, when it differs from what the parser found. */
  declared_complexity?: string;
  style: string;
  fingerprint: string;
  source: 'llm' | 'offline';
  /** Tables the SQL names that are not in schema.json (kept: sql_validation repairs or drops them). */
  unknown_tables?: string[];
  /** Offline: which template produced it, and what it is about (entity|measure|aggregate|grouping|filter). */
  template?: string;
  signature?: string;
  /** Offline execution check: rows (at least one row), empty, unchecked. */
  check?: 'rows' | 'empty' | 'unchecked';
}

export interface ThemeOutcome {
  theme: Theme;
  status: 'ok' | 'failed';
  error?: string;
  pairs: GeneratedPair[];
  dropped: Record<string, number>;
}
