// The LLM generator: themes from a compact schema summary (a theme naming a table that does not exist is
// repaired to the real table it most likely means, or that name is dropped; a theme left without tables
// is dropped and replaced by an offline theme; a themes call that fails fails the step unless
// allow_offline_fallback is set), then pairs per theme in parallel, each answer going
// through the parse gate and the run-wide duplicate check; a theme that comes back short gets one top-up
// request; a theme whose requests fail is reported, not fatal.
import { z } from 'zod';
import { t as text, type Lang } from '../../messages.ts';
import { QA_PAIRS_PROMPT, QA_THEMES_PROMPT } from '../../llm/prompts/qa.ts';
import { renderPrompt } from '../../llm/prompts/template.ts';
import type { LlmClient } from '../../llm/types.ts';
import { stepError, type StepLogger } from '../context.ts';
import type { CatalogModel, TableModel } from './catalog.ts';
import type { PairCollector } from './collector.ts';
import { levelQuotas } from './offline-generator.ts';
import { softDeleteText, themeRelationshipsText, themeSchemaSummary, themeTablesText } from './summary.ts';
import { offlineThemes } from './themes-offline.ts';
import type { GeneratedPair, QaSettings, Theme, ThemeOutcome } from './types.ts';

const stringList = z
  .union([z.array(z.unknown()), z.string()])
  .optional()
  .transform((v) => (typeof v === 'string' ? v.split(/[,，、;；]/) : (v ?? [])).map((x) => String(x ?? '').trim()).filter(Boolean));

const ThemesAnswer = z.union([
  z.object({ themes: z.array(z.unknown()) }),
  z.array(z.unknown()).transform((themes) => ({ themes })),
]);

const ThemeItem = z.object({
  name: z.string().trim().min(1),
  description: z.string().optional().default(''),
  related_tables: stringList,
  entities: stringList,
  metrics: stringList,
  keywords: stringList,
});

const PairsAnswer = z.union([
  z.object({ pairs: z.array(z.unknown()) }),
  z.object({ questions: z.array(z.unknown()) }).transform((v) => ({ pairs: v.questions })),
  z.array(z.unknown()).transform((pairs) => ({ pairs })),
]);

const PairItem = z.object({
  question: z.string(),
  sql: z.string(),
  complexity: z.string().optional(),
  style: z.string().optional(),
});

// ------------------------------------------------------------------------------------------ themes

function levenshtein(a: string, b: string): number {
  const dp = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    let prev = dp[0]!;
    dp[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = dp[j]!;
      dp[j] = Math.min(dp[j]! + 1, dp[j - 1]! + 1, prev + (a[i - 1] === b[j - 1] ? 0 : 1));
      prev = tmp;
    }
  }
  return dp[b.length]!;
}

/** The real table a name most likely means, and how it was found; undefined when nothing is close. */
export function repairTableName(name: string, catalog: CatalogModel): { table: TableModel; how: string } | undefined {
  const exact = catalog.resolveTable(name);
  if (exact) return { table: exact, how: 'exact' };
  const bare = name.trim().replace(/[`"]/g, '').split('.').at(-1)!.toLowerCase();
  if (!bare) return undefined;
  // 1. one table's name contains it, or it contains one table's name
  const containing = catalog.tables.filter((t) => t.name.toLowerCase().includes(bare) || bare.includes(t.name.toLowerCase()));
  if (containing.length === 1) return { table: containing[0]!, how: 'name contains' };
  // 2. close spelling
  let best: { table: TableModel; distance: number } | undefined;
  for (const t of catalog.tables) {
    const d = levenshtein(bare, t.name.toLowerCase());
    if (!best || d < best.distance) best = { table: t, distance: d };
  }
  if (best && best.distance <= Math.max(1, Math.floor(Math.max(bare.length, best.table.name.length) * 0.2))) return { table: best.table, how: `spelling (distance ${best.distance})` };
  // 3. the entity lives in another table's columns (e.g. "bss_branch" → the table with branch_no, branch_name)
  const stem = bare.replace(/^[a-z0-9]{1,5}_/, '').replace(/s$/, '');
  if (stem.length >= 3) {
    const owners = catalog.tables.filter((t) => t.columns.some((c) => new RegExp(`^${stem}_(name|no|code|id)$`).test(c.name.toLowerCase())) && !t.isLink);
    const ranked = owners.sort((a, b) => Number(b.isFact) - Number(a.isFact) || b.rows - a.rows);
    if (ranked.length) return { table: ranked[0]!, how: `columns ${stem}_*` };
  }
  return undefined;
}

export function repairTheme(raw: z.infer<typeof ThemeItem>, catalog: CatalogModel): Theme {
  const tables: string[] = [];
  const repaired: string[] = [];
  const dropped: string[] = [];
  for (const name of raw.related_tables) {
    const found = repairTableName(name, catalog);
    if (!found) {
      dropped.push(name);
      continue;
    }
    if (found.how !== 'exact') repaired.push(`${name} → ${found.table.key} (${found.how})`);
    if (!tables.includes(found.table.key)) tables.push(found.table.key);
  }
  return {
    name: raw.name.slice(0, 100),
    description: raw.description,
    tables,
    entities: raw.entities,
    metrics: raw.metrics,
    keywords: raw.keywords,
    source: 'llm',
    repaired,
    dropped,
  };
}

export interface LlmThemesResult {
  themes: Theme[];
  /** Themes the LLM proposed that had no real table left. */
  droppedThemes: Array<{ name: string; tables: string[] }>;
  prompt: { id: string; version: number; chars: number };
  /** The themes call failed and allow_offline_fallback let offline themes stand in for all of them. */
  fallback: boolean;
  /** Offline themes added because the LLM gave fewer usable themes than asked for. */
  completedOffline: number;
}

export async function llmThemes(llm: LlmClient, catalog: CatalogModel, settings: QaSettings, log: StepLogger, signal?: AbortSignal): Promise<LlmThemesResult> {
  const lang = settings.language;
  const summary = themeSchemaSummary(catalog, lang);
  const prompt = renderPrompt(QA_THEMES_PROMPT, lang, {
    business_context: settings.businessContext ?? text('prompt.context_missing_infer', lang),
    db_name: settings.dbName,
    table_count: catalog.tables.length,
    schema_summary: summary.text,
    theme_count: settings.themeCount,
  });
  const chars = prompt.messages.reduce((n, m) => n + m.content.length, 0);
  const info = { id: prompt.id, version: prompt.version, chars };
  let items: unknown[];
  try {
    const answer = await llm.chatJson(prompt.messages, ThemesAnswer, { purpose: 'qa.themes', signal, log });
    items = answer.themes;
  } catch (error) {
    if (signal?.aborted) throw error;
    const reason = error instanceof Error ? error.message : String(error);
    // Never silently: offline themes only when the task allows them, and then counted by the caller.
    if (!settings.allowOfflineFallback) {
      throw stepError('LLM_UNAVAILABLE', 'step.llm_themes_failed', { reason });
    }
    log.warn(`主题生成失败，按 allow_offline_fallback 改用基于表关联的离线主题 (LLM themes failed, offline themes used as allowed): ${reason}`);
    return { themes: offlineThemes(catalog, settings.themeCount, lang), droppedThemes: [], prompt: info, fallback: true, completedOffline: 0 };
  }
  const themes: Theme[] = [];
  const droppedThemes: LlmThemesResult['droppedThemes'] = [];
  for (const item of items) {
    const parsed = ThemeItem.safeParse(item);
    if (!parsed.success) continue;
    const theme = repairTheme(parsed.data, catalog);
    for (const r of theme.repaired) log.warn(`主题“${theme.name}”中的表名已修正 (table name repaired): ${r}`);
    if (theme.dropped.length) log.warn(`主题“${theme.name}”中不存在的表已移除 (unknown tables dropped): ${theme.dropped.join(', ')}`);
    if (theme.tables.length === 0) {
      droppedThemes.push({ name: theme.name, tables: parsed.data.related_tables });
      log.warn(`主题“${theme.name}”没有可用的表，已丢弃 (theme dropped: none of its tables exist)`);
      continue;
    }
    if (themes.some((t) => t.name === theme.name)) continue;
    themes.push(theme);
    if (themes.length >= settings.themeCount) break;
  }
  // Short of themes: complete with offline themes on tables the LLM's themes do not cover yet.
  let completedOffline = 0;
  if (themes.length < settings.themeCount) {
    const covered = new Set(themes.flatMap((t) => t.tables));
    const extra = offlineThemes(catalog, settings.themeCount * 2, lang)
      .filter((t) => !themes.some((x) => x.name === t.name))
      .sort((a, b) => b.tables.filter((k) => !covered.has(k)).length - a.tables.filter((k) => !covered.has(k)).length);
    const added = extra.slice(0, settings.themeCount - themes.length);
    if (added.length) log.warn(`LLM 只给出 ${themes.length} 个可用主题，已补充 ${added.length} 个离线主题 (completed with offline themes)`);
    themes.push(...added);
    completedOffline = added.length;
  }
  return { themes, droppedThemes, prompt: info, fallback: false, completedOffline };
}

// ------------------------------------------------------------------------------------------ pairs

/** The complexity spread asked of the model: a theme whose tables have no relationship among them (one
 * table, or unrelated ones) gets no join quota — asking for joins there makes the model invent them. */
function spreadText(count: number, lang: Lang, tables: TableModel[]): string {
  const inTheme = new Set(tables);
  const joinable = tables.some((t) => t.parents.some((r) => r.to !== t && inTheme.has(r.to)));
  const q = levelQuotas(count, joinable ? [] : ['join']);
  return [
    `- single_table: ${q.single_table} ${text('prompt.spread_single_table', lang)}`,
    `- join: ${q.join} ${text('prompt.spread_join', lang)}`,
    `- aggregate: ${q.aggregate} ${text('prompt.spread_aggregate', lang)}`,
    `- window_cte: ${q.window_cte} ${text('prompt.spread_window_cte', lang)}`,
  ].join('\n');
}

export interface PairsPromptInfo {
  id: string;
  version: number;
  chars: number;
}

export function pairsPrompt(catalog: CatalogModel, theme: Theme, settings: QaSettings, count: number, avoid: string[]) {
  const lang = settings.language;
  const tables = theme.tables.map((k) => catalog.table(k)).filter((t): t is TableModel => Boolean(t));
  const separator = text('list.separator', lang);
  return renderPrompt(QA_PAIRS_PROMPT, lang, {
    business_context: settings.businessContext ?? text('prompt.context_missing', lang),
    theme_name: theme.name,
    theme_description: theme.description || '-',
    entities: theme.entities.join(separator) || '-',
    metrics: theme.metrics.join(separator) || '-',
    tables: themeTablesText(tables, lang),
    relationships: themeRelationshipsText(tables, lang),
    count,
    spread: spreadText(count, lang, tables),
    soft_delete: softDeleteText(tables, lang),
    avoid: avoid.length
      ? `${text('prompt.avoid_questions', lang)}\n${avoid.slice(0, 30).map((q) => `- ${q}`).join('\n')}\n`
      : '',
  });
}

export async function llmPairsForTheme(args: {
  llm: LlmClient;
  catalog: CatalogModel;
  theme: Theme;
  settings: QaSettings;
  collector: PairCollector;
  log: StepLogger;
  signal?: AbortSignal;
  onPrompt?: (info: PairsPromptInfo) => void;
}): Promise<ThemeOutcome> {
  const { llm, catalog, theme, settings, collector, log, signal } = args;
  const want = settings.questionsPerTheme;
  const pairs: GeneratedPair[] = [];
  const dropped: Record<string, number> = {};
  const drop = (reason: string, n = 1) => (dropped[reason] = (dropped[reason] ?? 0) + n);
  let lastError: string | undefined;

  const ask = async (count: number, attempt: number) => {
    const prompt = pairsPrompt(catalog, theme, settings, count, pairs.map((p) => p.question));
    args.onPrompt?.({ id: prompt.id, version: prompt.version, chars: prompt.messages.reduce((n, m) => n + m.content.length, 0) });
    const answer = await llm.chatJson(prompt.messages, PairsAnswer, { purpose: `qa.pairs[${theme.name}]${attempt ? '.topup' : ''}`, signal, log });
    for (const raw of answer.pairs) {
      if (pairs.length >= want) {
        drop('surplus');
        continue;
      }
      const item = PairItem.safeParse(raw);
      if (!item.success) {
        drop('malformed_item');
        continue;
      }
      const examined = await collector.examine({
        question: item.data.question,
        sql: item.data.sql,
        theme: theme.name,
        style: normalizeStyle(item.data.style),
        source: 'llm',
        declaredComplexity: item.data.complexity,
      });
      const rejected = examined.ok ? collector.accept(examined.pair) : examined;
      if (rejected) {
        drop(rejected.reason);
        if (!rejected.reason.startsWith('duplicate')) log.debug(`主题“${theme.name}”丢弃一条问答对 (${rejected.reason}): ${rejected.message}`);
        continue;
      }
      if (examined.ok) pairs.push(examined.pair);
    }
  };

  for (let attempt = 0; attempt < 2 && pairs.length < want; attempt++) {
    try {
      await ask(want - pairs.length, attempt);
    } catch (error) {
      if (signal?.aborted) throw error;
      lastError = error instanceof Error ? error.message : String(error);
      log.warn(`主题“${theme.name}”的问答生成失败 (theme failed): ${lastError}`);
      break;
    }
  }
  if (pairs.length < want) log.info(`主题“${theme.name}”生成 ${pairs.length}/${want} 个问答对 (dropped: ${JSON.stringify(dropped)})`);
  return {
    theme,
    status: pairs.length > 0 ? 'ok' : 'failed',
    ...(pairs.length === 0 ? { error: lastError ?? `no usable pair (dropped: ${JSON.stringify(dropped)})` } : lastError ? { error: lastError } : {}),
    pairs,
    dropped,
  };
}

function normalizeStyle(style: string | undefined): string {
  const s = (style ?? '').trim().toLowerCase();
  if (['imperative', 'question', 'colloquial', 'business'].includes(s)) return s;
  return s ? 'other' : 'unspecified';
}
