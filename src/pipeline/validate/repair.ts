// LLM repair of a failed query: the model gets the question, the SQL, the error (class, SQLSTATE,
// message, detail, hint, the offending token and where it is), the DDL and enum values of the relevant
// tables, and what earlier attempts tried and how they failed. It answers {"sql": "..."}; the caller
// re-validates every answer through the same checker (parse gate included), so a "repair" that is not a
// plain SELECT is refused like any other text.
import { z } from 'zod';
import { t as text, type Lang } from '../../messages.ts';
import { renderPrompt, type PromptTemplate } from '../../llm/prompts/template.ts';
import type { LlmCallOptions, LlmClient } from '../../llm/types.ts';
import { positionToIndex } from '../../sql/analyze.ts';
import { renderTableDdl, type Catalog, type CatalogTable } from './catalog.ts';
import type { SqlCheckError } from './checker.ts';

export const REPAIR_PROMPT: PromptTemplate = {
  id: 'sql_validation.repair',
  version: 3,
  system: {
    en: [
      'You repair PostgreSQL queries written for a question about a business database.',
      'Rules:',
      '- Answer with one JSON object: {"sql": "<the corrected query>", "explanation": "<one short sentence>"}.',
      '- The query must be exactly one read-only SELECT statement (WITH allowed) in PostgreSQL syntax: no INSERT, UPDATE, DELETE, DDL, SELECT INTO, FOR UPDATE, or several statements.',
      '- Use only the tables and columns of the schema given; quote identifiers exactly as the schema writes them.',
      '- Keep the meaning of the question and of the original query: the same filters, grouping and ordering, and the same output columns with the same aliases in the same order. Change only what the error requires.',
      '- Literal values must match the stored values (see the listed column values).',
      '- When the error lists semantic findings (class semantic), the query runs but answers wrongly: fix each finding (the right aggregate for the column role, group by the key, no fan-out, business time, soft-delete filter, a time window inside the data range, real literal values) while keeping the question\'s meaning.',
      '- When the error is a meaning mismatch (class meaning_mismatch), the query runs but answers another question (the error shows it read back): the question is right; rewrite the query so that it answers the question, whatever the original query did.',
    ].join('\n'),
    zh: [
      '你负责修复为业务数据库问题编写的 PostgreSQL 查询。',
      '规则：',
      '- 只回答一个 JSON 对象：{"sql": "<修正后的查询>", "explanation": "<一句简短说明>"}。',
      '- 查询必须是恰好一条只读 SELECT 语句（可含 WITH），使用 PostgreSQL 语法：不得包含 INSERT、UPDATE、DELETE、DDL、SELECT INTO、FOR UPDATE 或多条语句。',
      '- 只使用给出的表结构中的表和列；标识符的写法（含引号）与表结构一致。',
      '- 保持问题和原查询的含义：相同的过滤、分组和排序条件，相同的输出列、别名和顺序。只修改错误所需的部分。',
      '- 字面值必须与库中存储的取值一致（参见列出的列取值）。',
      '- 当错误列出语义问题（class semantic）时，查询能执行但答案错误：逐条修正（按列的角色选择聚合、按键分组、避免扇出重复、使用业务时间、过滤软删除、时间窗口落在数据范围内、使用真实存在的字面值），同时保持问题的含义。',
      '- 当错误是含义不符（class meaning_mismatch）时，查询能执行但回答的是另一个问题（错误中给出了按 SQL 反推的问题）：问题是对的，请改写查询使其回答该问题，不必保留原查询的做法。',
    ].join('\n'),
  },
  user: {
    en: [
      'Question: {{question}}',
      '',
      'Query that failed:',
      '{{sql}}',
      '',
      'Error: {{error}}',
      '{{previous}}',
      'Schema of the relevant tables:',
      '{{schema}}',
      '',
      'Return the corrected query as JSON {"sql": "..."}.',
    ].join('\n'),
    zh: [
      '问题：{{question}}',
      '',
      '执行失败的查询：',
      '{{sql}}',
      '',
      '错误：{{error}}',
      '{{previous}}',
      '相关表结构：',
      '{{schema}}',
      '',
      '以 JSON {"sql": "..."} 返回修正后的查询。',
    ].join('\n'),
  },
};

export const RepairAnswer = z.object({
  sql: z.string().trim().min(1),
  explanation: z.string().optional(),
});
export type RepairAnswer = z.infer<typeof RepairAnswer>;

export interface PreviousAttempt {
  sql: string;
  error: SqlCheckError;
}

export interface RepairInput {
  question: string;
  sql: string;
  error: SqlCheckError;
  /** Tables the query refers to (resolved in the catalog); others are chosen by name. */
  tables: string[];
  previous: PreviousAttempt[];
}

/** Describes an error for the prompt: class, SQLSTATE, message, detail, hint, and where. */
export function describeError(error: SqlCheckError, sql: string): string {
  const parts = [`[${error.class}${error.sqlstate ? `, SQLSTATE ${error.sqlstate}` : ''}${error.reason ? `, ${error.reason}` : ''}] ${error.message}`];
  for (const f of error.findings ?? []) {
    parts.push(`- ${f.severity} ${f.rule} (${f.columns.join(', ')}): ${f.message}${f.nearest?.length ? ` [nearest real values: ${f.nearest.map((v) => `'${v.replace(/'/g, "''")}'`).join(', ')}]` : ''}`);
  }
  if (error.detail) parts.push(`Detail: ${error.detail}`);
  if (error.hint) parts.push(`Hint: ${error.hint}`);
  if (error.position) {
    const index = positionToIndex(sql, error.position);
    const lineStart = sql.lastIndexOf('\n', index - 1) + 1;
    const lineEnd = sql.indexOf('\n', index);
    const line = sql.slice(lineStart, lineEnd < 0 ? undefined : lineEnd);
    const lineNo = sql.slice(0, lineStart).split('\n').length;
    parts.push(
      `At character ${error.position} (line ${lineNo})${error.token ? `, near "${error.token}"` : ''}:\n${line}\n${' '.repeat(Math.max(0, index - lineStart))}^`,
    );
  }
  return parts.join('\n');
}

/** The tables whose DDL goes into the prompt: those the query names, else those its text mentions, else
 * all (the error may be an unknown table); capped at about maxChars of DDL. */
export function relevantTables(catalog: Catalog, input: Pick<RepairInput, 'tables' | 'sql' | 'question' | 'error'>, maxChars = 16_000): CatalogTable[] {
  const chosen: CatalogTable[] = [];
  const add = (t: CatalogTable | undefined) => {
    if (t && !chosen.includes(t)) chosen.push(t);
  };
  for (const name of input.tables) add(catalog.resolve(name) ?? catalog.findTables(name)[0]);
  for (const t of catalog.tablesMentioned(input.sql)) add(t);
  if (chosen.length === 0 || input.error.class === 'undefined_table') {
    for (const t of catalog.tablesMentioned(input.question)) add(t);
    for (const t of catalog.tables) add(t);
  }
  const out: CatalogTable[] = [];
  let size = 0;
  for (const t of chosen) {
    const ddl = renderTableDdl(t).length;
    if (out.length > 0 && size + ddl > maxChars) break;
    out.push(t);
    size += ddl;
  }
  return out;
}

export function buildRepairMessages(catalog: Catalog, input: RepairInput, lang: Lang) {
  const tables = relevantTables(catalog, input);
  const schema = tables.length ? tables.map((t) => renderTableDdl(t)).join('\n\n') : text('prompt.no_schema', lang);
  const previous = input.previous.length
    ? `\n${text('prompt.previous_repairs', lang)}\n${input.previous
        .map((p, i) => `${i + 1}. ${p.sql}\n   → ${describeError(p.error, p.sql).replace(/\n/g, '\n     ')}`)
        .join('\n')}\n`
    : '';
  const rendered = renderPrompt(REPAIR_PROMPT, lang, {
    question: input.question,
    sql: input.sql,
    error: describeError(input.error, input.sql),
    previous,
    schema,
  });
  return { ...rendered, tables: tables.map((t) => `${t.schema}.${t.name}`) };
}

export async function askRepair(
  llm: LlmClient,
  catalog: Catalog,
  input: RepairInput,
  options: { lang: Lang; signal?: AbortSignal; log?: { debug(m: string): void; warn(m: string): void }; onUsage?: LlmCallOptions['onUsage'] },
): Promise<RepairAnswer & { prompt_tables: string[] }> {
  const prompt = buildRepairMessages(catalog, input, options.lang);
  const answer = await llm.chatJson(prompt.messages, RepairAnswer, {
    purpose: 'sql_validation.repair',
    temperature: 0,
    signal: options.signal,
    log: options.log,
    allowPartial: false,
    onUsage: options.onUsage,
  });
  return { ...answer, prompt_tables: prompt.tables };
}
