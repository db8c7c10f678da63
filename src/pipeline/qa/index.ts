// Step 2, qa_generation: themed question–SQL pairs from schema.json. With an LLM configured: themes from a
// compact schema summary, then pairs per theme in parallel. Without one: the offline synthesizer (table
// clusters → themes; column roles and relationships → pairs, checked against the database). Either way
// every pair passes the parse gate and the run-wide duplicate check before it is written.
import { lintPair, schemaFactsFromSchemaFile } from '../../sql/lint.ts';
import { localIso, localStamp } from '../../time.ts';
import fs from 'node:fs/promises';
import path from 'node:path';
import { writeFileAtomic } from '../../files.ts';
import type { Lang } from '../../messages.ts';
import { GLOSSARY_TODO_FILE, readSchemaFile, resolveArtifactPath, SCHEMA_FILE, type SchemaFile } from '../artifacts.ts';
import { stepError, type PipelineStep, type StepContext, type StepResult } from '../context.ts';
import { buildCatalog, type CatalogModel } from './catalog.ts';
import { PairCollector } from './collector.ts';
import { createExecutionChecker, type ExecutionChecker } from './execution-check.ts';
import { llmPairsForTheme, llmThemes, type PairsPromptInfo } from './llm-generator.ts';
import { offlinePairsForTheme, type OfflineThemeOutcome, type PairLinter } from './offline-generator.ts';
import { writeOutputs } from './outputs.ts';
import { COMPLEXITY_LEVELS, loadParser } from './sql-analysis.ts';
import { DEFAULT_MAX_PAIRS, defaultThemeSizes, offlineThemes } from './themes-offline.ts';
import { DEFAULT_QUESTIONS_PER_THEME, DEFAULT_THEME_COUNT } from './parameters.ts';
import type { GeneratedPair, QaSettings, Theme, ThemeOutcome } from './types.ts';

export function qaSettings(ctx: Pick<StepContext, 'params'>, schema: SchemaFile): QaSettings {
  const p = ctx.params;
  return {
    themeCount: p.theme_count ?? DEFAULT_THEME_COUNT,
    questionsPerTheme: p.questions_per_theme ?? DEFAULT_QUESTIONS_PER_THEME,
    language: p.language,
    dbName: p.db_name?.trim() || schema.database?.name || 'database',
    businessContext: p.business_context?.trim() || schema.business_context || null,
    seed: p.qa_seed,
    executionCheck: p.qa_execution_check,
    allowOfflineFallback: p.allow_offline_fallback,
  };
}

async function run(ctx: StepContext): Promise<StepResult> {
  await loadParser();
  const schema = await readSchemaFile(ctx.workspaceDir, 'SCHEMA_INVALID');
  if (!schema) {
    throw stepError('SCHEMA_NOT_FOUND', 'step.schema_missing', { file: SCHEMA_FILE });
  }
  if (schema.tables.length === 0) {
    throw stepError('QA_NO_TABLES', 'step.schema_no_tables', { file: SCHEMA_FILE });
  }
  const settings = qaSettings(ctx, schema);
  const catalog = buildCatalog(schema);
  const started = new Date();
  let requested = settings.themeCount * settings.questionsPerTheme;
  const mode = ctx.llm ? 'llm' : 'offline';
  ctx.log.info(
    `开始生成问答对: ${catalog.tables.length} 张表, ${catalog.relationships.length} 个关联, 主题 ${settings.themeCount} × 每主题 ${settings.questionsPerTheme} 个问题, 语言 ${settings.language}, 生成方式 ${mode === 'llm' ? `LLM (${ctx.llm!.model})` : '离线规则生成器'}`,
  );
  const collector = new PairCollector(catalog);
  let themes: Theme[];
  let outcomes: ThemeOutcome[];
  const prompts: Record<string, unknown> = {};
  let droppedThemes: Array<{ name: string; tables: string[] }> = [];
  let themesFallback = false;

  ctx.progress(0, settings.themeCount, 'themes');
  let done = 0;
  const finished = (outcome: ThemeOutcome) => {
    done += 1;
    ctx.progress(done, themes.length, 'themes');
    if (outcome.pairs.length) ctx.count({ pairs: outcome.pairs.length });
    if (outcome.status === 'failed') ctx.log.warn(`主题“${outcome.theme.name}”失败 (theme failed): ${outcome.error ?? 'unknown error'}`);
    else ctx.log.info(`主题“${outcome.theme.name}”完成: ${outcome.pairs.length} 个问答对 (${done}/${themes.length})`);
  };

  if (ctx.llm) {
    const llm = ctx.llm;
    const result = await llmThemes(llm, catalog, settings, ctx.log, ctx.signal);
    themes = result.themes;
    droppedThemes = result.droppedThemes;
    prompts.themes = { ...result.prompt, fallback_to_offline: result.fallback, completed_offline: result.completedOffline };
    // Shown in the status, never only in the log: a fallback the user allowed, and themes completed offline.
    if (result.fallback) ctx.count({ themes_offline_fallback: 1 });
    if (result.completedOffline) ctx.count({ themes_completed_offline: result.completedOffline });
    themesFallback = result.fallback;
    await ctx.checkpoint();
    logThemes(ctx, themes);
    ctx.progress(0, themes.length, 'themes');
    const pairPrompts: PairsPromptInfo[] = [];
    // All themes at once; the client's concurrency limit (DATA_PIPELINE_LLM_CONCURRENCY) bounds the calls.
    outcomes = await Promise.all(
      themes.map(async (theme) => {
        const outcome = await llmPairsForTheme({ llm, catalog, theme, settings, collector, log: ctx.log, signal: ctx.signal, onPrompt: (p) => pairPrompts.push(p) });
        finished(outcome);
        return outcome;
      }),
    );
    prompts.pairs = { id: pairPrompts[0]?.id, version: pairPrompts[0]?.version, requests: pairPrompts.length, max_chars: Math.max(0, ...pairPrompts.map((p) => p.chars)) };
  } else {
    // The size the user gave is kept exactly; without one it scales with the schema (≈ 2.5 pairs per
    // business table, as many themes as there are table clusters).
    // Without a size, a large schema gets at most DEFAULT_MAX_PAIRS / 2 themes (two pairs each at least).
    themes = offlineThemes(catalog, ctx.params.theme_count ?? (ctx.params.questions_per_theme === undefined ? maxDefaultThemes(catalog) : undefined), settings.language);
    const sizes = ctx.params.questions_per_theme !== undefined ? themes.map(() => settings.questionsPerTheme) : defaultThemeSizes(catalog, themes);
    if (ctx.params.theme_count === undefined || ctx.params.questions_per_theme === undefined) {
      settings.themeCount = themes.length;
      settings.questionsPerTheme = Math.round(sizes.reduce((a, b) => a + b, 0) / Math.max(1, themes.length));
      requested = sizes.reduce((a, b) => a + b, 0);
    }
    logThemes(ctx, themes);
    ctx.progress(0, themes.length, 'themes');
    const check = settings.executionCheck ? await openChecker(ctx) : undefined;
    const offline: OfflineThemeOutcome[] = [];
    const anchors = new Set(themes.map((t) => t.anchor).filter((a): a is string => Boolean(a)));
    const lint = selfCheck(schema, settings.language);
    for (let i = 0; i < themes.length; i++) {
      await ctx.checkpoint();
      const outcome = await offlinePairsForTheme({ catalog, theme: themes[i]!, themeIndex: i, lang: settings.language, seed: settings.seed, count: sizes[i]!, collector, check, lint, anchors, signal: ctx.signal });
      finished(outcome);
      offline.push(outcome);
    }
    // Themes that came back short leave room: the others fill it from their remaining candidates.
    // Statements that return no row for the sampled values come last, and only if still short.
    let shortfall = requested - offline.reduce((n, o) => n + o.pairs.length, 0);
    // Statements without a row are taken only to meet a size the user asked for.
    const explicitSize = ctx.params.theme_count !== undefined || ctx.params.questions_per_theme !== undefined;
    const phases = explicitSize ? [{ allowEmpty: false, allowRepeats: false }, { allowEmpty: false, allowRepeats: true }, { allowEmpty: true, allowRepeats: true }] : [{ allowEmpty: false, allowRepeats: false }];
    for (const { allowEmpty, allowRepeats } of phases) {
      for (const o of offline) {
        if (shortfall <= 0) break;
        await ctx.checkpoint();
        const added = await o.topUp(shortfall, allowEmpty, allowRepeats);
        if (added) {
          ctx.count({ pairs: added });
          ctx.log.info(`主题“${o.theme.name}”补充 ${added} 个问答对 (topped up to fill shorter themes)`);
        }
        shortfall -= added;
      }
    }
    for (const o of offline) if (o.pairs.length === 0) Object.assign(o, { status: 'failed', error: o.error ?? 'no candidate question could be built for this theme' });
    outcomes = offline;
  }
  await ctx.checkpoint();

  const pairs = outcomes.flatMap((o) => o.pairs);
  const failed = outcomes.filter((o) => o.status === 'failed');
  // A small schema (two or three tables) supports fewer distinct questions than the default 5 × 10. When
  // the user asked for no particular size and the offline generator used up every candidate, what it has
  // is the answer, not a failure; an explicit size keeps the half-of-requested rule.
  const sizeGiven = ctx.params.theme_count !== undefined || ctx.params.questions_per_theme !== undefined;
  const exhausted = mode === 'offline' && pairs.length < requested;
  const minimum = exhausted && !sizeGiven ? 1 : Math.ceil(requested / 2);
  if (exhausted && !sizeGiven && pairs.length > 0 && pairs.length < Math.ceil(requested / 2)) {
    ctx.log.warn(`该表结构只能生成 ${pairs.length} 个不同的问答对（默认请求 ${requested} 个） (the schema supports only ${pairs.length} distinct pairs)`);
  }
  // A size the user asked for and could not get is said, not hidden in the counts.
  if (exhausted && sizeGiven && pairs.length >= minimum) {
    ctx.log.warn(`只生成了 ${pairs.length} 个问答对（请求 ${requested} 个）：该表结构的不同问题已用尽，重复的问法不会被凑数 (only ${pairs.length} of ${requested} requested pairs: the schema has no more distinct questions)`);
  }
  if (pairs.length < minimum) {
    const reasons = failed.map((o) => `${o.theme.name}: ${o.error}`).join('; ');
    throw stepError('QA_TOO_FEW_PAIRS', reasons ? 'step.too_few_pairs_failed_themes' : 'step.too_few_pairs', { count: pairs.length, requested, reasons });
  }

  const coverage = coverageOf(pairs, catalog);
  const untranslated = settings.language === 'zh' ? await recordUntranslated(ctx, catalog, pairs) : [];
  const generatedAt = localIso(started)!;
  const dropped = sumDropped(outcomes);
  const usage = (ctx.llm as { usage?: unknown } | undefined)?.usage;
  const meta = {
    version: 1,
    generated_at: generatedAt,
    generator: mode,
    themes_source: mode === 'llm' ? (themesFallback ? 'offline_fallback' : 'llm') : 'offline',
    model: ctx.llm?.model ?? null,
    language: settings.language,
    seed: mode === 'offline' ? settings.seed : null,
    db_name: settings.dbName,
    business_context: settings.businessContext,
    requested: { theme_count: settings.themeCount, questions_per_theme: settings.questionsPerTheme, pairs: requested },
    produced: pairs.length,
    prompts: mode === 'llm' ? prompts : null,
    execution_check: mode === 'offline' ? settings.executionCheck : null,
    themes: outcomes.map((o) => ({
      name: o.theme.name,
      description: o.theme.description,
      related_tables: o.theme.tables,
      entities: o.theme.entities,
      metrics: o.theme.metrics,
      keywords: o.theme.keywords,
      source: o.theme.source,
      repaired_tables: o.theme.repaired,
      dropped_tables: o.theme.dropped,
      status: o.status,
      error: o.error ?? null,
      pairs: o.pairs.length,
      dropped: o.dropped,
    })),
    dropped_themes: droppedThemes,
    dropped,
    coverage,
    untranslated_terms: untranslated,
    llm_usage: usage ?? null,
  };
  const stamp = localStamp(new Date());
  const written = await writeOutputs({ dir: ctx.workspaceDir, stamp, settings, catalog, outcomes, pairs, meta, generatedAt });
  ctx.log.info(
    `问答对已写入 ${written.pairFile}: ${pairs.length} 个 (请求 ${requested})，覆盖 ${coverage.tables_covered}/${catalog.tables.length} 张表，多表查询占 ${(coverage.multi_table_ratio * 100).toFixed(0)}%，复杂度 ${JSON.stringify(coverage.complexity)}`,
  );
  if (coverage.uncovered_tables.length) ctx.log.warn(`未被任何问题覆盖的表 (tables without a pair): ${coverage.uncovered_tables.join(', ')}`);
  return {
    summary:
      `${pairs.length} 个问答对，${outcomes.length - failed.length}/${outcomes.length} 个主题成功，输出 ${written.pairFile}` +
      (themesFallback ? '；LLM 主题生成失败，按 allow_offline_fallback 改用离线主题 (LLM themes failed: offline themes used)' : ''),
    counters: {
      pairs: pairs.length,
      themes: outcomes.length - failed.length,
      themes_failed: failed.length,
      dropped: Object.values(dropped).reduce((a, b) => a + b, 0),
      tables_covered: coverage.tables_covered,
      ...(themesFallback ? { themes_offline_fallback: 1 } : {}),
    },
  };
}

/** Name words the questions carry untranslated (whole): added to glossary_todo.json for the user's
 * business glossary, next to what ddl_generation listed. Returns the words added. */
async function recordUntranslated(ctx: StepContext, catalog: CatalogModel, pairs: GeneratedPair[]): Promise<string[]> {
  const used = new Map<string, Set<string>>();
  const columns = new Set(pairs.flatMap((p) => p.columns));
  for (const t of catalog.tables) {
    for (const c of t.columns) {
      if (!c.untranslated.zh.length || !columns.has(`${t.info.full_name}.${c.name}`)) continue;
      for (const w of c.untranslated.zh) used.set(w, (used.get(w) ?? new Set()).add(`${t.name}.${c.name}`));
    }
  }
  if (!used.size) return [];
  let list: Array<{ word: string; used_by: string[] }> = [];
  try {
    // A regular file inside the task directory, never a symlink (resolveArtifactPath throws otherwise).
    const existing = await resolveArtifactPath(ctx.workspaceDir, GLOSSARY_TODO_FILE);
    if (existing) {
      const parsed: unknown = JSON.parse(await fs.readFile(existing, 'utf8'));
      if (Array.isArray(parsed)) list = parsed.filter((e) => e && typeof e.word === 'string' && Array.isArray(e.used_by));
    }
  } catch (error) {
    ctx.log.warn(`${GLOSSARY_TODO_FILE} 无法读取，未追加问题中未翻译的词 (not updated): ${(error as Error).message}`);
    return [...used.keys()].sort();
  }
  const added: string[] = [];
  for (const [word, where] of used) {
    const entry = list.find((e) => e.word === word);
    if (entry) entry.used_by = [...new Set([...entry.used_by, ...where])].sort();
    else {
      list.push({ word, used_by: [...where].sort() });
      added.push(word);
    }
  }
  await writeFileAtomic(path.join(ctx.workspaceDir, GLOSSARY_TODO_FILE), `${JSON.stringify(list, null, 2)}\n`, { fsync: false });
  if (added.length) ctx.log.info(`问题中有 ${added.length} 个词没有译名，已列入 ${GLOSSARY_TODO_FILE}: ${added.slice(0, 20).join(', ')}`);
  return [...used.keys()].sort();
}

/** Undefined (one theme per cluster) unless the clusters would need more than the default maximum. */
function maxDefaultThemes(catalog: CatalogModel): number | undefined {
  const business = catalog.tables.filter((t) => t.business).length;
  return business * 2.5 > DEFAULT_MAX_PAIRS ? Math.floor(DEFAULT_MAX_PAIRS / 2) : undefined;
}

function logThemes(ctx: StepContext, themes: Theme[]): void {
  themes.forEach((t, i) => ctx.log.info(`主题 ${i + 1}/${themes.length}: ${t.name} [${t.tables.join(', ')}] (${t.source})`));
}

async function openChecker(ctx: StepContext): Promise<ExecutionChecker | undefined> {
  try {
    const db = await ctx.businessDatabase();
    return createExecutionChecker(db.pool);
  } catch (error) {
    ctx.log.warn(`无法连接业务数据库，跳过候选 SQL 的执行检查 (execution check skipped): ${error instanceof Error ? error.message : String(error)}`);
    return undefined;
  }
}

export interface Coverage {
  tables_covered: number;
  uncovered_tables: string[];
  table_pairs: Record<string, number>;
  complexity: Record<string, number>;
  styles: Record<string, number>;
  multi_table_ratio: number;
  /** Business columns (measures, codes, labels, business times) of covered tables that some pair uses. */
  business_columns_used: number;
  business_columns: number;
  unused_business_columns: string[];
}

export function coverageOf(pairs: GeneratedPair[], catalog: CatalogModel): Coverage {
  const tablePairs: Record<string, number> = Object.fromEntries(catalog.tables.map((t) => [t.key, 0]));
  const complexity: Record<string, number> = Object.fromEntries(COMPLEXITY_LEVELS.map((l) => [l, 0]));
  const styles: Record<string, number> = {};
  for (const p of pairs) {
    for (const t of p.tables) tablePairs[t] = (tablePairs[t] ?? 0) + 1;
    complexity[p.complexity] = (complexity[p.complexity] ?? 0) + 1;
    styles[p.style] = (styles[p.style] ?? 0) + 1;
  }
  const uncovered = Object.entries(tablePairs).filter(([, n]) => n === 0).map(([k]) => k);
  const used = new Set(pairs.flatMap((p) => p.columns));
  const businessColumns = catalog.tables
    .filter((t) => t.business)
    .flatMap((t) => t.columns.filter((c) => ['additive_measure', 'non_additive_measure', 'code', 'label', 'business_time', 'flag'].includes(c.role)).map((c) => `${t.info.full_name}.${c.name}`));
  return {
    tables_covered: catalog.tables.length - uncovered.length,
    uncovered_tables: uncovered,
    table_pairs: tablePairs,
    complexity,
    styles,
    multi_table_ratio: pairs.length ? Number((pairs.filter((p) => p.tables.length >= 2).length / pairs.length).toFixed(4)) : 0,
    business_columns_used: businessColumns.filter((c) => used.has(c)).length,
    business_columns: businessColumns.length,
    unused_business_columns: businessColumns.filter((c) => !used.has(c)),
  };
}

function sumDropped(outcomes: ThemeOutcome[]): Record<string, number> {
  const out: Record<string, number> = {};
  for (const o of outcomes) for (const [k, v] of Object.entries(o.dropped)) out[k] = (out[k] ?? 0) + v;
  return out;
}

/** The generator's self-check: the semantic linter (src/sql/lint.ts, the one sql_validation runs) on the
 * profile in schema.json; a candidate with a lint error is dropped and counted as `lint:<rule>`. */
function selfCheck(schema: SchemaFile, lang: Lang): PairLinter {
  const facts = schemaFactsFromSchemaFile(schema);
  return async ({ question, sql }) => {
    const findings = await lintPair(sql, facts, { question, lang });
    return findings.find((f) => f.severity === 'error')?.rule ?? null;
  };
}

export const qaGenerationStep: PipelineStep = { name: 'qa_generation', run };
