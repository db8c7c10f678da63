// The schema description of a set of tables, as one pipeline per table: catalog (one fixed series of
// queries for all tables) → bounded profile → inferred relationships → annotation (LLM or offline) →
// the contract entry. Profiles run a few at a time against the database while LLM calls run at the
// LLM's concurrency, so the database and the model work at the same time. Used by the ddl_generation
// step and by the database tools API.
import pLimit from 'p-limit';
import type { Database } from '../../postgres/connect.ts';
import { OverlapProber, profileRelation, readCatalog, type CatalogRelation, type CatalogResult, type RelationProfile } from '../../postgres/catalog/index.ts';
import { maskSecretsInText } from '../../postgres/connection-string.ts';
import { LlmError, type LlmClient } from '../../llm/types.ts';
import type { ColumnRole, ForeignKeyInfo, TableInfo, UserRelationship } from '../artifacts.ts';
import { StepCancelledError, stepError, type StepLogger } from '../context.ts';
import type { Glossary } from '../../text/glossary.ts';
import { annotateWithLlm } from './annotate/llm.ts';
import type { Lang } from '../../messages.ts';
import { GlossaryTodo, nameContext, offlineColumnComment, offlineEntity, offlineTableComment } from './annotate/offline.ts';
import { assignRoles } from './roles.ts';
import { tableInfo } from './model.ts';
import { applyProfile, DEFAULT_ENUM_THRESHOLD, keepEnumForRole } from './profile.ts';
import { columnPrefix, dependencyOrder, discoverRelationships, probeNeedsCap, runTablePrefix, type DiscoveryResult, type ProposedRelationship } from './relations.ts';
import { tableFiles } from './render/files.ts';

export interface GenerateOptions {
  db: Database;
  /** Table names as written (table_list.txt lines, or one name from the API). */
  names: string[];
  language: Lang;
  businessContext: string | null;
  glossary: Glossary;
  llm: LlmClient | undefined;
  enumThreshold?: number;
  /** Rows a profile reads at most per table. */
  rowBudget?: number;
  inferRelations?: boolean;
  /** Missing tables and failing tables become warnings instead of failing the whole run. */
  continueOnError?: boolean;
  log: StepLogger;
  signal?: AbortSignal;
  /** Called after each table is done. */
  onProgress?: (done: number, total: number) => void;
  /** Database reads in flight at once (default: 4 on PostgreSQL, 1 on PGlite). */
  dbConcurrency?: number;
  /** LLM calls in flight at once (default 8). */
  llmConcurrency?: number;
  /** Relationships the user declares or vetoes (task parameter and relationships.json). */
  userRelationships?: UserRelationship[];
}

export interface GeneratedTable {
  info: TableInfo;
  relation: CatalogRelation;
  profile: RelationProfile | undefined;
  /** What this table's LLM call said beyond comments (roles, relationship proposals). */
  llmRoles?: Map<string, ColumnRole>;
}

export interface TableFailure {
  name: string;
  code: string;
  message: string;
}

export interface GenerateResult {
  catalog: CatalogResult;
  /** In dependency order (what filename_mapping.txt lists). */
  tables: GeneratedTable[];
  failures: TableFailure[];
  /** Name words no glossary could translate (glossary_todo.json). */
  glossaryTodo: GlossaryTodo;
  /** `statements`: the SQL statements the probes took (batched); `ms`: the schema-wide passes (joins, roles, entities, comments). */
  discovery: DiscoveryResult['stats'] & { statements: number; ms: number; unknownUser: string[] };
  counters: {
    tables: number;
    columns: number;
    comments_db: number;
    comments_llm: number;
    comments_offline: number;
    inferred_relationships: number;
    user_relationships: number;
    llm_failures: number;
    llm_fallback_tables: number;
    glossary_todo: number;
  };
  timings: { catalog_ms: number; total_ms: number };
}

function errorMessage(error: unknown): string {
  return maskSecretsInText(error instanceof Error ? error.message : String(error));
}

function pgCode(error: unknown): string | undefined {
  return typeof (error as { code?: unknown })?.code === 'string' ? (error as { code: string }).code : undefined;
}

/** Fills missing comments with the offline annotator (source `offline`). */
export function fillOffline(
  info: TableInfo,
  language: Lang,
  glossary: Glossary,
  options: { todo?: GlossaryTodo; runPrefix?: string[]; columnPrefix?: string[]; entityOfKey?: (info: TableInfo, column: string) => { zh: string; en: string } | undefined } = {},
): void {
  const context = nameContext(info);
  if (!info.comment) {
    info.comment = offlineTableComment(info, language, glossary, { todo: options.todo, runPrefix: options.runPrefix });
    info.comment_source = 'offline';
  }
  for (const column of info.columns) {
    if (column.comment) continue;
    const probe = new GlossaryTodo();
    let comment = offlineColumnComment(column, language, glossary, { context, todo: probe, where: info.name, columnPrefix: options.columnPrefix });
    // A key named by an abbreviation (`aid`, `cid`) is named after the entity it identifies (作者ID).
    const keyEntity = probe.words.size && (column.role === 'identifier' || column.role === 'foreign_key') ? options.entityOfKey?.(info, column.name) : undefined;
    if (keyEntity) comment = language === 'zh' ? `${keyEntity.zh}ID` : `${keyEntity.en[0]!.toUpperCase()}${keyEntity.en.slice(1)} ID`;
    else for (const [word, used] of probe.words) for (const where of used) options.todo?.add(word, where);
    column.comment = comment;
    column.comment_source = 'offline';
  }
}

/** The entity a key column identifies: its table's for the primary key, the target's for a reference. */
export function keyEntityLookup(tables: TableInfo[]): (info: TableInfo, column: string) => { zh: string; en: string } | undefined {
  const byName = new Map(tables.map((t) => [`${t.schema}.${t.name}`, t]));
  return (info, column) => {
    const fk = info.foreign_keys.find((f) => f.columns.length === 1 && f.columns[0] === column);
    const owner = fk ? byName.get(`${fk.target_schema}.${fk.target_table}`) : info.primary_key.length === 1 && info.primary_key[0] === column ? info : undefined;
    const entity = owner?.entity;
    if (!entity || /[A-Za-z]/.test(entity.zh)) return undefined;
    return entity;
  };
}

export async function generateSchema(options: GenerateOptions): Promise<GenerateResult> {
  const started = performance.now();
  const { db, log, language, glossary, llm } = options;
  const enumThreshold = options.enumThreshold ?? DEFAULT_ENUM_THRESHOLD;
  const continueOnError = options.continueOnError ?? false;
  const failures: TableFailure[] = [];

  const catalog = await readCatalog(db, options.names);
  log.info(
    `读取数据库目录: ${catalog.relations.length} 个对象，${catalog.stats.roundTrips} 次查询往返，${catalog.stats.ms} ms (PostgreSQL ${catalog.serverVersion})`,
  );
  for (const f of catalog.folded) log.info(`${f.input} 合并到 ${f.into}（分区并入其父表，或重复）`);
  const notFound = [...catalog.missing, ...catalog.unreadable];
  if (notFound.length) {
    const notFoundError = stepError('TABLES_NOT_FOUND', 'step.tables_not_found', { tables: notFound.join(', ') });
    if (!continueOnError) throw notFoundError;
    log.warn(`${notFoundError.text('zh')}; continue_on_error: 跳过`);
    for (const name of catalog.missing) failures.push({ name, code: 'TABLE_NOT_FOUND', message: 'table not found' });
    for (const name of catalog.unreadable) failures.push({ name, code: 'TABLE_NOT_READABLE', message: 'no SELECT privilege' });
  }
  const relations = catalog.relations.filter((r) => r.readable);
  if (!relations.length) throw stepError('TABLES_NOT_FOUND', 'step.no_tables', { tables: options.names.join(', ') });

  const byOid = new Map(relations.map((r) => [r.oid, r]));
  const dbLimit = pLimit(options.dbConcurrency ?? (db.kind === 'pglite' ? 1 : 4));
  // Overlap probes have their own lane: they sit between a table's profile and its LLM call, so they
  // must not queue behind every other table's profile.
  const prober = new OverlapProber(db, { lanes: db.kind === 'pglite' ? 1 : 2 });
  const llmLimit = pLimit(options.llmConcurrency ?? 8);
  const total = relations.length;
  let done = 0;
  let llmFailures = 0;
  let firstError: unknown;
  const stop = () => firstError !== undefined || options.signal?.aborted;

  const probe = (candidate: { target: CatalogRelation; targetColumn: { name: string; qName: string; dataType: string } }, values: string[]) =>
    prober.count({
      target: { qualified: candidate.target.qualified, qColumn: candidate.targetColumn.qName, dataType: candidate.targetColumn.dataType },
      values,
      bounded: probeNeedsCap(candidate.target, candidate.targetColumn.name),
    });

  let llmSuccesses = 0;
  const proposed: ProposedRelationship[] = [];
  const processOne = async (relation: CatalogRelation): Promise<GeneratedTable | undefined> => {
    const name = `${relation.schema}.${relation.name}`;
    if (stop()) return undefined;
    log.info(`开始处理表: ${name}`);
    const info = tableInfo(relation);
    info.files = tableFiles(relation.schema, relation.name);
    if (relation.inheritsFrom) info.partition_of = relation.inheritsFrom;
    let profile: RelationProfile | undefined;
    try {
      if (stop()) return undefined;
      profile = await dbLimit(() => (stop() ? Promise.resolve(undefined) : profileRelation(db, relation, catalog.blockSize, { rowBudget: options.rowBudget, topK: enumThreshold + 1 })));
      if (stop()) return undefined;
      applyProfile(info, relation, profile, { enumThreshold });
      log.debug(
        `${name}: ${profile?.rows ?? 0} 行样本 (${profile?.plan.method}${profile?.plan.percent ? ` ${profile.plan.percent}%` : ''}), ${profile?.ms ?? 0} ms`,
      );
    } catch (error) {
      if (stop()) return undefined;
      const message = `${name}: ${errorMessage(error)}`;
      if (!continueOnError) throw stepError(pgCode(error) === '57014' ? 'TABLE_TIMEOUT' : 'TABLE_FAILED', 'step.table_failed', { reason: message });
      log.warn(`表处理失败，已跳过 (continue_on_error): ${message}`);
      failures.push({ name, code: 'TABLE_FAILED', message: errorMessage(error) });
      return undefined;
    }

    let llmRoles: Map<string, ColumnRole> | undefined;
    if (llm) {
      try {
        const annotation = await llmLimit(() =>
          stop() ? Promise.resolve(undefined) : annotateWithLlm(llm, info, { language, businessContext: options.businessContext, glossary, signal: options.signal, log }),
        );
        if (!annotation) return undefined;
        llmSuccesses += 1;
        info.annotation = 'llm';
        if (annotation.tableComment && !info.comment) {
          info.comment = annotation.tableComment;
          info.comment_source = 'llm';
        }
        for (const column of info.columns) {
          const comment = annotation.columns.get(column.name);
          if (comment && !column.comment) {
            column.comment = comment;
            column.comment_source = 'llm';
          }
        }
        if (annotation.entity) info.entity = { ...annotation.entity, source: 'llm' };
        llmRoles = annotation.roles;
        for (const r of annotation.relationships) proposed.push({ from: `${relation.schema}.${relation.name}.${r.column}`, to: r.references });
        if (annotation.unknown.length) log.debug(`${name}: LLM 返回了不存在的字段，已忽略: ${annotation.unknown.join(', ')}`);
        const left = info.columns.filter((c) => !c.comment).map((c) => c.name);
        if (left.length) log.debug(`${name}: LLM 未给出注释的字段由离线规则补充: ${left.join(', ')}`);
      } catch (error) {
        if (stop() || (error as Error)?.name === 'AbortError') return undefined;
        // One table's failed call does not sink the step: this table gets offline comments, marked and counted.
        llmFailures += 1;
        info.annotation = 'offline';
        const message = `${name}: ${errorMessage(error)}`;
        log.warn(`LLM 注释生成失败，该表改用离线规则 (LLM annotation failed, offline comments used) [${error instanceof LlmError ? error.code : 'LLM_ERROR'}]: ${message}`);
        failures.push({ name, code: error instanceof LlmError ? error.code : 'LLM_ERROR', message: `${errorMessage(error)} (offline comments used)` });
      }
    }
    done += 1;
    options.onProgress?.(done, total);
    return { info, relation, profile, llmRoles };
  };

  const settled = await Promise.allSettled(
    relations.map((relation) =>
      processOne(relation).catch((error) => {
        firstError ??= error;
        throw error;
      }),
    ),
  );
  if (options.signal?.aborted) throw new StepCancelledError(String(options.signal.reason ?? 'cancelled'));
  if (firstError !== undefined) throw firstError;
  if (llm && llmSuccesses === 0 && llmFailures > 0 && !continueOnError) {
    throw stepError('LLM_ERROR', 'step.llm_annotation_failed', { failures: failures.filter((f) => f.code !== 'TABLE_FAILED').map((f) => `${f.name}: ${f.message}`).slice(0, 3).join('; ') });
  }
  const generated = new Map<number, GeneratedTable>();
  for (const s of settled) if (s.status === 'fulfilled' && s.value) generated.set(s.value.relation.oid, s.value);

  // The schema-wide passes: joins (they need every table's profile), then roles, entities and comments.
  const discoveryStarted = performance.now();
  const discovered = [...generated.values()];
  const found = options.inferRelations === false
    ? { byRelation: new Map<number, ForeignKeyInfo[]>(), stats: { candidates: 0, probes: 0, confirmed: 0, vetoed: 0, user: 0, ambiguous: 0 }, unknownUser: [] as string[] }
    : await discoverRelationships(
        discovered.map((g) => ({ relation: g.relation, profile: g.profile })),
        (candidate, values) => probe({ target: candidate.target, targetColumn: candidate.targetColumn }, values),
        { proposed, user: options.userRelationships },
      );
  if (options.signal?.aborted) throw new StepCancelledError(String(options.signal.reason ?? 'cancelled'));
  for (const entry of found.unknownUser) log.warn(`relationships 中的关联无法对应到本次的表和字段，已忽略 (unknown relationship ignored): ${entry}`);
  const runPrefix = runTablePrefix(discovered.map((g) => g.relation.name));
  const todo = new GlossaryTodo();
  for (const g of discovered) {
    const fks = found.byRelation.get(g.relation.oid) ?? [];
    for (const fk of fks) log.info(`${fk.origin === 'user' ? '用户声明关联' : '推断关联'}: ${g.info.full_name}.${fk.columns.join(',')} → ${fk.target_schema}.${fk.target_table}.${fk.target_columns.join(',')} (${fk.evidence})`);
    g.info.foreign_keys.push(...fks);
    assignRoles(g.info, g.llmRoles);
    keepEnumForRole(g.info);
    g.info.entity ??= offlineEntity(g.info, glossary, runPrefix);
  }
  const entityOfKey = keyEntityLookup(discovered.map((g) => g.info));
  for (const g of discovered) fillOffline(g.info, language, glossary, { todo, runPrefix, columnPrefix: columnPrefix(g.relation), entityOfKey });
  const discoveryMs = Math.round(performance.now() - discoveryStarted);

  // Order: dependencies first; record them in the contract.
  const kept = relations.filter((r) => generated.has(r.oid));
  const { order, dependsOn } = dependencyOrder(kept);
  const tables = order.map((r) => generated.get(r.oid)!);
  const position = new Map(order.map((r, i) => [r.oid, i]));
  for (const t of tables) {
    // Only what runs earlier: a foreign key into a cycle is added later, by the target's own file.
    const deps = (dependsOn.get(t.relation.oid) ?? [])
      .filter((oid) => (position.get(oid) ?? Infinity) < position.get(t.relation.oid)!)
      .map((oid) => byOid.get(oid)!)
      .map((r) => `${r.schema}.${r.name}`);
    if (deps.length) t.info.depends_on = deps;
  }

  const counters = {
    tables: tables.length,
    columns: 0,
    comments_db: 0,
    comments_llm: 0,
    comments_offline: 0,
    inferred_relationships: 0,
    user_relationships: found.stats.user,
    llm_failures: llmFailures,
    llm_fallback_tables: tables.filter((t) => t.info.annotation === 'offline').length,
    glossary_todo: todo.words.size,
  };
  for (const { info } of tables) {
    counters.columns += info.columns.length;
    for (const item of [info, ...info.columns]) {
      if (item.comment_source === 'db') counters.comments_db += 1;
      else if (item.comment_source === 'llm') counters.comments_llm += 1;
      else if (item.comment_source === 'offline') counters.comments_offline += 1;
    }
    counters.inferred_relationships += info.foreign_keys.filter((fk: ForeignKeyInfo) => fk.inferred).length;
  }
  return { catalog, tables, failures, glossaryTodo: todo, discovery: { ...found.stats, statements: prober.statements, ms: discoveryMs, unknownUser: found.unknownUser }, counters, timings: { catalog_ms: catalog.stats.ms, total_ms: Math.round(performance.now() - started) } };
}
