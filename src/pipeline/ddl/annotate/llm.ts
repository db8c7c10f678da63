// LLM annotation: one call per table writes the table comment (when missing) and every missing column
// comment. The prompt is domain-neutral: what the table is about comes only from the task's business
// context, its optional glossary, and the table itself (types, keys, samples, enum values). Answers are
// matched to columns BY NAME — reordered, partial or wrapped answers land on the right columns, names
// the table does not have are ignored, and existing comments are never replaced.
import { z } from 'zod';
import type { LlmClient } from '../../../llm/types.ts';
import { COLUMN_ROLES, type ColumnRole, type TableInfo } from '../../artifacts.ts';
import type { StepLogger } from '../../context.ts';
import { shownType } from '../model.ts';
import type { Glossary } from '../../../text/glossary.ts';
import type { Lang } from '../../../messages.ts';

export interface LlmAnnotation {
  tableComment: string | undefined;
  /** The business noun of one row, when the model gave one. */
  entity?: { zh: string; en: string };
  /** Column name → role, for columns whose role the model gave (valid roles only). */
  roles: Map<string, ColumnRole>;
  /** References the model proposes (`column` → `table.column`); confirmed by join discovery like any other. */
  relationships: Array<{ column: string; references: string }>;
  /** Column name → comment, for columns that were asked for. */
  columns: Map<string, string>;
  /** Names in the answer that match no asked-for column (ignored). */
  unknown: string[];
}

interface RawAnswer {
  tableComment: string | undefined;
  columns: Array<[string, string]>;
  entity?: { zh: string; en: string };
  roles: Array<[string, ColumnRole]>;
  relationships: Array<{ column: string; references: string }>;
}

const ROLE_SET = new Set<string>(COLUMN_ROLES);

function roleEntries(value: unknown, columnsValue: unknown): Array<[string, ColumnRole]> {
  const out: Array<[string, ColumnRole]> = [];
  const add = (name: unknown, role: unknown) => {
    if (typeof name === 'string' && typeof role === 'string' && ROLE_SET.has(role.trim())) out.push([name, role.trim() as ColumnRole]);
  };
  if (value && typeof value === 'object' && !Array.isArray(value)) for (const [k, v] of Object.entries(value)) add(k, v);
  if (Array.isArray(value)) for (const item of value) if (item && typeof item === 'object') add(pick(item, COLUMN_KEYS), (item as Record<string, unknown>).role);
  // Columns given as objects may carry their role.
  if (columnsValue && typeof columnsValue === 'object' && !Array.isArray(columnsValue))
    for (const [k, v] of Object.entries(columnsValue)) if (v && typeof v === 'object') add(k, (v as Record<string, unknown>).role);
  if (Array.isArray(columnsValue)) for (const item of columnsValue) if (item && typeof item === 'object' && !Array.isArray(item)) add(pick(item, COLUMN_KEYS), (item as Record<string, unknown>).role);
  return out;
}

function entityOf(value: unknown): { zh: string; en: string } | undefined {
  if (!value || typeof value !== 'object') return undefined;
  const zh = cleanComment((value as Record<string, unknown>).zh);
  const en = cleanComment((value as Record<string, unknown>).en);
  if (!zh || !en || zh.length > 20 || en.length > 40) return undefined;
  return { zh, en };
}

function relationshipEntries(value: unknown): Array<{ column: string; references: string }> {
  if (!Array.isArray(value)) return [];
  const out: Array<{ column: string; references: string }> = [];
  for (const item of value) {
    if (!item || typeof item !== 'object') continue;
    const column = pick(item as Record<string, unknown>, COLUMN_KEYS);
    const references = pick(item as Record<string, unknown>, ['references', 'target', 'to', 'ref']);
    if (typeof column === 'string' && typeof references === 'string' && references.includes('.')) out.push({ column, references });
  }
  return out.slice(0, 20);
}

const MAX_COMMENT = 200;

/** Cleans one comment of the answer; undefined when there is nothing usable. */
export function cleanComment(value: unknown): string | undefined {
  if (typeof value !== 'string') return undefined;
  let text = value.replace(/<think>[\s\S]*?<\/think>/gi, ' ').replace(/<\/?think>/gi, ' ');
  text = text.replace(/\s+/g, ' ').trim();
  text = text.replace(/^["'“”‘’`「『]+|["'“”‘’`」』]+$/g, '').trim();
  if (!text || /^(null|none|n\/a|todo|tbd|\.\.\.|…|无|未知|-+)$/i.test(text)) return undefined;
  return text.length > MAX_COMMENT ? `${text.slice(0, MAX_COMMENT - 1)}…` : text;
}

const COLUMN_KEYS = ['name', 'column', 'column_name', 'columnName', 'field', 'field_name'];
const COMMENT_KEYS = ['comment', 'description', 'desc', 'remark', 'meaning', 'column_comment'];
const TABLE_KEYS = ['table_comment', 'tableComment', 'table_description', 'table'];
const EXTRA_KEYS = ['entity', 'roles', 'column_roles', 'relationships', 'references'];

function pick(obj: Record<string, unknown>, keys: string[]): unknown {
  for (const k of keys) if (obj[k] !== undefined && obj[k] !== null) return obj[k];
  return undefined;
}

function columnEntries(value: unknown): Array<[string, string]> {
  const out: Array<[string, string]> = [];
  if (Array.isArray(value)) {
    for (const item of value) {
      if (Array.isArray(item) && item.length >= 2 && typeof item[0] === 'string') {
        const c = cleanComment(item[1]);
        if (c) out.push([item[0], c]);
      } else if (item && typeof item === 'object') {
        const name = pick(item as Record<string, unknown>, COLUMN_KEYS);
        const comment = cleanComment(pick(item as Record<string, unknown>, COMMENT_KEYS));
        if (typeof name === 'string' && comment) out.push([name, comment]);
      }
    }
  } else if (value && typeof value === 'object') {
    for (const [name, v] of Object.entries(value)) {
      const comment = cleanComment(v && typeof v === 'object' ? pick(v as Record<string, unknown>, COMMENT_KEYS) : v);
      if (comment) out.push([name, comment]);
    }
  }
  return out;
}

/** Any reasonable JSON shape → table comment + (name, comment) pairs; undefined when nothing is usable. */
export function normaliseAnswer(raw: unknown): RawAnswer | undefined {
  if (Array.isArray(raw)) {
    const columns = columnEntries(raw);
    return columns.length ? { tableComment: undefined, columns, roles: roleEntries(undefined, raw), relationships: [] } : undefined;
  }
  if (!raw || typeof raw !== 'object') return undefined;
  const obj = raw as Record<string, unknown>;
  let tableComment = pick(obj, TABLE_KEYS);
  if (tableComment && typeof tableComment === 'object') tableComment = pick(tableComment as Record<string, unknown>, COMMENT_KEYS);
  const columnsValue = pick(obj, ['columns', 'fields', 'column_comments', 'columnComments']);
  let columns = columnsValue === undefined ? [] : columnEntries(columnsValue);
  if (columnsValue === undefined) {
    // A flat object: every other string-valued key is a column.
    const rest = Object.fromEntries(Object.entries(obj).filter(([k]) => !TABLE_KEYS.includes(k) && !EXTRA_KEYS.includes(k) && k !== 'comment'));
    columns = columnEntries(rest);
  }
  const table = cleanComment(tableComment);
  if (!table && !columns.length) return undefined;
  return {
    tableComment: table,
    columns,
    entity: entityOf(obj.entity),
    roles: roleEntries(obj.roles ?? obj.column_roles, columnsValue),
    relationships: relationshipEntries(obj.relationships ?? obj.references),
  };
}

export const annotationAnswerSchema = z.unknown().transform((raw, ctx): RawAnswer => {
  const answer = normaliseAnswer(raw);
  if (!answer) {
    ctx.addIssue({ code: 'custom', message: 'expected {"table_comment": "...", "columns": {"<column name>": "<comment>"}}' });
    return z.NEVER;
  }
  return answer;
});

function keyOf(name: string): string {
  let key = name.trim().replace(/^[`"'\[]+|[`"'\]]+$/g, '');
  const dot = key.lastIndexOf('.');
  if (dot > 0 && dot < key.length - 1) key = key.slice(dot + 1).replace(/^[`"'\[]+/, '');
  return key;
}

/** Assigns answer entries to the asked-for columns by name: exact, then unquoted/unqualified, then case-insensitive. */
export function matchByName(entries: Array<[string, string]>, wanted: string[]): { columns: Map<string, string>; unknown: string[] } {
  const columns = new Map<string, string>();
  const unknown: string[] = [];
  const exact = new Set(wanted);
  const folded = new Map<string, string[]>();
  for (const w of wanted) {
    const k = w.toLowerCase();
    folded.set(k, [...(folded.get(k) ?? []), w]);
  }
  for (const [name, comment] of entries) {
    let target: string | undefined;
    if (exact.has(name)) target = name;
    else {
      const key = keyOf(name);
      if (exact.has(key)) target = key;
      else {
        const candidates = folded.get(key.toLowerCase());
        if (candidates?.length === 1) target = candidates[0];
      }
    }
    if (!target) {
      unknown.push(name);
      continue;
    }
    if (!columns.has(target) || name === target) columns.set(target, comment);
  }
  return { columns, unknown };
}

function truncate(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** The prompt for one table: system rules + the table as a compact list. */
export function annotationPrompt(
  table: TableInfo,
  wanted: string[],
  wantTable: boolean,
  options: { language: Lang; businessContext: string | null; glossary: Glossary },
): Array<{ role: 'system' | 'user'; content: string }> {
  const zh = options.language === 'zh';
  const system = zh
    ? [
        '你是资深的数据库文档工程师，根据表结构、样例数据和业务背景，为数据库表和字段撰写准确、简洁的中文注释。',
        '规则：',
        '1. 只为要求的字段写注释，JSON 中的字段名必须与给出的字段名完全一致（区分大小写，不加引号或表名）；',
        '2. 注释说明业务含义，必要时包含单位或取值含义，不超过30个字，不要复述数据类型；',
        '3. 含义不确定时，根据字段名、样例值和关联关系给出最合理的描述，不要编造业务规则；',
        '4. entity 是这张表一行所代表的业务名词（如 客户、订单、商品），给出中文和英文；',
        `5. roles 给出每个字段的角色，取值之一：${COLUMN_ROLES.join(', ')}（单价、比率、余额、库存等是 non_additive_measure；金额、数量、次数是 additive_measure；加载/更新时间是 technical_time）；`,
        '6. relationships 列出未声明外键、但按字段含义引用其他表的字段（"references": "表名.字段名"），没有则为空数组；',
        '7. 只输出一个 JSON 对象，不要输出任何其他内容。',
      ].join('\n')
    : [
        'You are a senior database documentation engineer. From the table structure, sample data and business context, write accurate, concise English comments for a database table and its columns.',
        'Rules:',
        '1. Only comment the columns asked for; JSON keys must be exactly the given column names (case-sensitive, no quotes, no table prefix).',
        '2. Say what the column means for the business (units or value meanings when useful), at most 15 words; do not repeat the data type.',
        '3. When unsure, give the most plausible description from the name, samples and relationships; do not invent business rules.',
        '4. entity is the business noun for one row of the table (e.g. customer, order, product), in Chinese and English.',
        `5. roles gives every column's role, one of: ${COLUMN_ROLES.join(', ')} (unit prices, rates, balances, stock levels are non_additive_measure; amounts, quantities, counts are additive_measure; load/update timestamps are technical_time).`,
        '6. relationships lists columns that reference another table without a declared key ("references": "table.column"); an empty array when none.',
        '7. Output one JSON object and nothing else.',
      ].join('\n');

  const lines: string[] = [];
  const none = zh ? '（未提供）' : '(none)';
  lines.push(`${zh ? '业务背景' : 'Business context'}: ${options.businessContext?.trim() || none}`);
  if (options.glossary.size) {
    lines.push(zh ? '业务术语：' : 'Business glossary:');
    for (const [term, meaning] of [...options.glossary].slice(0, 200)) lines.push(`- ${term}: ${meaning}`);
  }
  const kindText: Record<string, [string, string]> = {
    table: ['表', 'table'],
    view: ['视图', 'view'],
    materialized_view: ['物化视图', 'materialized view'],
    partitioned_table: ['分区表', 'partitioned table'],
    foreign_table: ['外部表', 'foreign table'],
  };
  const kind = kindText[table.kind] ?? ['表', 'table'];
  lines.push(
    `${zh ? '表' : 'Table'}: ${table.full_name} (${zh ? kind[0] : kind[1]}, ${zh ? '约' : 'about'} ${table.estimated_rows} ${zh ? '行' : 'rows'})`,
  );
  lines.push(`${zh ? '表注释' : 'Table comment'}: ${table.comment ?? none}`);
  if (table.primary_key.length) lines.push(`${zh ? '主键' : 'Primary key'}: ${table.primary_key.join(', ')}`);
  for (const fk of table.foreign_keys) {
    lines.push(`${zh ? '关联' : 'Reference'}: ${fk.columns.join(', ')} → ${fk.target_schema}.${fk.target_table}(${fk.target_columns.join(', ')})${fk.inferred ? (zh ? '（推断）' : ' (inferred)') : ''}`);
  }
  lines.push(zh ? '字段（字段名 | 类型 | 现有注释 | 样例值 | 枚举值）：' : 'Columns (name | type | existing comment | sample values | enum values):');
  for (const c of table.columns) {
    const samples = c.sample_values.slice(0, 3).map((v) => truncate(v, 40)).join(', ');
    const enums = c.enum_values ? c.enum_values.slice(0, 12).map((v) => truncate(v, 30)).join(', ') : '';
    lines.push(`- ${c.name} | ${shownType(c.data_type)} | ${c.comment ?? '-'} | ${samples || '-'} | ${enums || '-'}`);
  }
  const asks: string[] = [];
  if (wantTable) asks.push(zh ? '表注释（table_comment）' : 'the table comment (table_comment)');
  if (wanted.length) asks.push(`${zh ? '以下字段的注释' : 'comments of these columns'}: ${wanted.join(', ')}`);
  lines.push('');
  lines.push(`${zh ? '请补充' : 'Write'}: ${asks.join(zh ? '；' : '; ')}`);
  lines.push(
    zh
      ? `输出格式：{"table_comment": ${wantTable ? '"表注释"' : 'null'}, "entity": {"zh": "业务名词", "en": "noun"}, "columns": {"字段名": "注释"}, "roles": {"字段名": "角色"}, "relationships": [{"column": "字段名", "references": "表名.字段名"}]}`
      : `Output format: {"table_comment": ${wantTable ? '"table comment"' : 'null'}, "entity": {"zh": "业务名词", "en": "noun"}, "columns": {"column name": "comment"}, "roles": {"column name": "role"}, "relationships": [{"column": "column name", "references": "table.column"}]}`,
  );
  return [
    { role: 'system', content: system },
    { role: 'user', content: lines.join('\n') },
  ];
}

/** One LLM call for one table; throws LlmError (code LLM_ERROR) when the call fails after its retries. */
export async function annotateWithLlm(
  llm: LlmClient,
  table: TableInfo,
  options: { language: Lang; businessContext: string | null; glossary: Glossary; signal?: AbortSignal; log?: StepLogger },
): Promise<LlmAnnotation> {
  const wanted = table.columns.filter((c) => !c.comment).map((c) => c.name);
  const wantTable = !table.comment;
  if (!wanted.length && !wantTable) return { tableComment: undefined, columns: new Map(), unknown: [], roles: new Map(), relationships: [] };
  const messages = annotationPrompt(table, wanted, wantTable, options);
  const answer = await llm.chatJson(messages, annotationAnswerSchema, {
    purpose: 'ddl.annotate',
    signal: options.signal,
    log: options.log,
    temperature: 0.1,
  });
  const { columns, unknown } = matchByName(answer.columns, wanted);
  const all = table.columns.map((c) => c.name);
  const roleNames = matchByName(answer.roles.map(([n, r]) => [n, r]), all).columns;
  const roles = new Map([...roleNames].map(([n, r]) => [n, r as ColumnRole]));
  const relationships = answer.relationships.filter((r) => all.includes(keyOf(r.column))).map((r) => ({ column: keyOf(r.column), references: r.references }));
  return { tableComment: wantTable ? answer.tableComment : undefined, entity: answer.entity, columns, unknown, roles, relationships };
}
