// Step 1, ddl_generation: reads table_list.txt, describes every table (catalog, bounded profile,
// inferred relationships, comments from the database / LLM / offline annotator) and writes
// <table>.ddl, <table>_detail.md, schema.json and filename_mapping.txt into the task directory.
//
// Task parameters read (typed in ctx.params; ranges and defaults in ./parameters.ts and ../parameters.ts):
// business_context, db_name, language, continue_on_error (missing or failing tables become warnings),
// enum_threshold, business_glossary (object or text; also read from business_glossary.txt / glossary.txt /
// business_glossary.json in the task directory).
import fs from 'node:fs/promises';
import path from 'node:path';
import { readTableListText } from '../../postgres/catalog/index.ts';
import type { Database } from '../../postgres/connect.ts';
import { maskSecretsInText } from '../../postgres/connection-string.ts';
import { StepCancelledError, stepError, type PipelineStep, type StepContext, type StepResult } from '../context.ts';
import { mergeGlossaries, parseGlossary, type Glossary } from '../../text/glossary.ts';
import { generateSchema } from './generate.ts';
import { writeOutputs } from './write.ts';
import { GLOSSARY_TODO_FILE, resolveArtifactPath, TABLE_LIST_FILE } from '../artifacts.ts';
import { writeFileAtomic } from '../../files.ts';
import { readUserRelationships } from './user-relationships.ts';

export const GLOSSARY_FILES = ['business_glossary.txt', 'glossary.txt', 'business_glossary.json'];
const CONNECT_TIMEOUT_MS = 10_000;

async function readGlossary(ctx: StepContext): Promise<Glossary> {
  const parts: Glossary[] = [];
  for (const file of GLOSSARY_FILES) {
    const text = await readTaskFile(ctx.workspaceDir, file, (reason) => ctx.log.warn(`${file} 未读取 (not read): ${reason}`));
    if (text === undefined) continue;
    let value: unknown = text;
    if (file.endsWith('.json')) {
      try {
        value = JSON.parse(text);
      } catch {
        ctx.log.warn(`${file} 不是有效的 JSON，已忽略`);
        continue;
      }
    }
    parts.push(parseGlossary(value));
  }
  parts.push(parseGlossary(ctx.params.business_glossary));
  return mergeGlossaries(...parts);
}

/** Opens the business database and checks it answers (within 10 s), or fails with DATABASE_CONNECTION_ERROR. */
async function openDatabase(ctx: StepContext): Promise<Database> {
  let db: Database;
  try {
    db = await ctx.businessDatabase();
    let timer: NodeJS.Timeout | undefined;
    await Promise.race([
      db.pool.query('SELECT 1'),
      new Promise((_, reject) => {
        timer = setTimeout(() => reject(new Error(`no answer within ${CONNECT_TIMEOUT_MS / 1000} s`)), CONNECT_TIMEOUT_MS);
      }),
    ]).finally(() => clearTimeout(timer));
  } catch (error) {
    throw stepError('DATABASE_CONNECTION_ERROR', 'step.business_db_unreachable', { reason: maskSecretsInText((error as Error).message) });
  }
  return db;
}

/** A file of the task directory, read like every contract file: inside it, never through a symlink. */
async function readTaskFile(dir: string, file: string, refused: (reason: string) => void): Promise<string | undefined> {
  try {
    const full = await resolveArtifactPath(dir, file);
    return full === undefined ? undefined : await fs.readFile(full, 'utf8');
  } catch (error) {
    refused((error as Error).message);
    return undefined;
  }
}

export async function runDdlGeneration(ctx: StepContext): Promise<StepResult> {
  const text = await readTaskFile(ctx.workspaceDir, TABLE_LIST_FILE, (reason) => {
    throw stepError('TABLE_LIST_INVALID', 'step.file_unreadable', { file: TABLE_LIST_FILE, reason });
  });
  if (text === undefined) throw stepError('TABLE_LIST_REQUIRED', 'step.table_list_missing', { file: TABLE_LIST_FILE });
  const names = readTableListText(text);
  if (!names.length) throw stepError('EMPTY_TABLE_LIST', 'step.table_list_empty', { file: TABLE_LIST_FILE });

  const { language, enum_threshold: enumThreshold, continue_on_error: continueOnError } = ctx.params;
  const businessContext = ctx.params.business_context?.trim() || null;
  const glossary = await readGlossary(ctx);
  ctx.log.info(
    `开始生成DDL/MD文档: ${names.length} 个表，${ctx.llm ? `LLM ${ctx.llm.model}` : '离线注释（未配置LLM）'}，语言 ${language}，枚举阈值 ${enumThreshold}${continueOnError ? '，continue_on_error' : ''}`,
  );
  ctx.progress(0, names.length, 'tables');
  await ctx.checkpoint();

  const db = await openDatabase(ctx);
  const result = await generateSchema({
    db,
    names,
    language,
    businessContext,
    glossary,
    llm: ctx.llm,
    enumThreshold,
    continueOnError,
    log: ctx.log,
    signal: ctx.signal,
    llmConcurrency: ctx.settings.llm?.concurrency ?? 8,
    userRelationships: await readUserRelationships(ctx.workspaceDir, ctx.params.relationships),
    onProgress: (done, total) => ctx.progress(done, total, 'tables'),
  });
  if (ctx.signal.aborted) throw new StepCancelledError(String(ctx.signal.reason ?? 'cancelled'));
  await ctx.checkpoint();

  const { removed } = await writeOutputs(result.tables, {
    dir: ctx.workspaceDir,
    language,
    database: { name: ctx.params.db_name || result.catalog.database, server_version: result.catalog.serverVersion },
    businessContext,
    llmModel: ctx.llm && result.counters.comments_llm > 0 ? ctx.llm.model : null,
    failures: result.failures,
  });
  await writeFileAtomic(path.join(ctx.workspaceDir, GLOSSARY_TODO_FILE), `${JSON.stringify(result.glossaryTodo.toJSON(), null, 2)}\n`, { fsync: false });
  for (const t of result.tables) ctx.log.info(`已生成: ${t.info.full_name} -> ${t.info.files.ddl}, ${t.info.files.detail}`);
  if (result.glossaryTodo.words.size)
    ctx.log.info(`${result.glossaryTodo.words.size} 个字段名词没有译名，已列入 ${GLOSSARY_TODO_FILE}（补充 business_glossary 后重新运行）: ${[...result.glossaryTodo.words.keys()].slice(0, 20).join(', ')}`);
  const d = result.discovery;
  ctx.log.info(`关联发现: ${d.candidates} 个候选，${d.probes} 次包含度查询，确认 ${d.confirmed} 个，用户声明 ${d.user} 个，${d.ms} ms`);
  if (removed.length) ctx.log.info(`已删除上次运行遗留的文件: ${removed.join(', ')}`);
  ctx.progress(result.tables.length, result.tables.length + result.failures.filter((f) => f.code !== 'LLM_ERROR').length, 'tables');

  const c = result.counters;
  const summary =
    `${c.tables} 个表，${c.columns} 个字段；注释: 数据库 ${c.comments_db}，LLM ${c.comments_llm}，离线规则 ${c.comments_offline}；` +
    `推断关联 ${c.inferred_relationships} 个；目录查询 ${result.catalog.stats.roundTrips} 次往返` +
    (c.llm_fallback_tables ? `；LLM 失败改用离线注释的表 ${c.llm_fallback_tables} 个` : '') +
    (c.glossary_todo ? `；待补充译名 ${c.glossary_todo} 个` : '') +
    (result.failures.length ? `；警告 ${result.failures.length} 个` : '');
  return {
    summary,
    counters: { ...c, catalog_round_trips: result.catalog.stats.roundTrips, relationship_probes: d.probes, relationship_probe_statements: d.statements, relationship_discovery_ms: d.ms, warnings: result.failures.length },
  };
}

export const ddlGenerationStep: PipelineStep = {
  name: 'ddl_generation',
  run: runDdlGeneration,
};
