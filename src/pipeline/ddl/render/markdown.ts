// <table>_detail.md in the guide's style: a heading with the table comment, then every column as
// `- name (type) - comment [主键, 非空] [示例: ...]`, then notes on keys, enum values and relationships.
import type { ColumnInfo, ColumnRole, ForeignKeyInfo, TableInfo } from '../../artifacts.ts';
import { shownType } from '../model.ts';
import type { Lang } from '../../../messages.ts';


/** Foreign keys of other tables of the run that point at this one. */
export interface IncomingReference {
  source: string;
  fk: ForeignKeyInfo;
}

const MAX_VALUE = 60;
const MAX_ENUM_SHOWN = 20;

function v(value: string): string {
  const one = value.replace(/\s+/g, ' ');
  return one.length > MAX_VALUE ? `${one.slice(0, MAX_VALUE)}…` : one;
}

/** How a table is called in documents: `name` in schema public, `schema.name` elsewhere. */
export function displayName(table: Pick<TableInfo, 'schema' | 'name'>): string {
  return table.schema === 'public' ? table.name : `${table.schema}.${table.name}`;
}

function targetName(fk: ForeignKeyInfo): string {
  return fk.target_schema === 'public' ? fk.target_table : `${fk.target_schema}.${fk.target_table}`;
}

function flags(table: TableInfo, column: ColumnInfo, lang: Lang): string[] {
  const zh = lang === 'zh';
  const out: string[] = [];
  if (column.is_primary_key) out.push(zh ? '主键' : 'PK');
  if (!column.nullable) out.push(zh ? '非空' : 'NOT NULL');
  if (table.unique_constraints.some((u) => u.length === 1 && u[0] === column.name)) out.push(zh ? '唯一' : 'unique');
  if (column.identity || /^nextval\(/.test(column.default ?? '')) out.push(zh ? '自增' : 'auto-increment');
  if (column.generated) out.push(zh ? '生成列' : 'generated');
  return out;
}

/** Short role tags as `_detail.md` shows them (`[角色: 可加度量]`). */
const ROLE_TAGS: Record<ColumnRole, [string, string]> = {
  identifier: ['标识', 'identifier'],
  foreign_key: ['外键', 'foreign key'],
  code: ['编码', 'code'],
  label: ['名称', 'label'],
  additive_measure: ['可加度量', 'additive measure'],
  non_additive_measure: ['不可加度量', 'non-additive measure'],
  business_time: ['业务时间', 'business time'],
  technical_time: ['技术时间', 'technical time'],
  flag: ['标志', 'flag'],
  soft_delete: ['软删除', 'soft delete'],
  text: ['文本', 'text'],
  contact: ['联系方式', 'contact'],
  other: ['其他', 'other'],
};

function rangeText(column: ColumnInfo, lang: Lang): string {
  if (!column.range) return '';
  const zh = lang === 'zh';
  const approx = column.range.source === 'exact' ? '' : zh ? '约' : '~';
  return ` [${zh ? '范围' : 'range'}: ${approx}${v(column.range.min)} ~ ${v(column.range.max)}]`;
}

function commentSourceTag(column: { comment_source: string | null }, lang: Lang): string {
  if (column.comment_source === 'llm') return lang === 'zh' ? ' [LLM生成]' : ' [LLM]';
  if (column.comment_source === 'offline') return lang === 'zh' ? ' [规则生成]' : ' [rule-based]';
  return '';
}

function fkText(fk: ForeignKeyInfo, lang: Lang): string {
  const zh = lang === 'zh';
  const target = `${targetName(fk)}.${fk.target_columns.join(', ')}`;
  if (!fk.inferred) return target;
  const overlap = fk.overlap ? (zh ? `样本值匹配 ${fk.overlap.matched}/${fk.overlap.sampled}` : `${fk.overlap.matched}/${fk.overlap.sampled} sampled values match`) : '';
  return zh ? `${target}（推断${overlap ? `，${overlap}` : ''}）` : `${target} (inferred${overlap ? `, ${overlap}` : ''})`;
}

export function renderMarkdown(table: TableInfo, incoming: IncomingReference[], lang: Lang): string {
  const zh = lang === 'zh';
  const out: string[] = [];
  const name = displayName(table);
  out.push(`## ${name}${table.comment ? (zh ? `（${table.comment}）` : ` (${table.comment})`) : ''}`);
  const kinds: Record<string, [string, string]> = {
    table: ['表', 'table'],
    view: ['视图', 'view'],
    materialized_view: ['物化视图', 'materialized view'],
    partitioned_table: ['分区表', 'partitioned table'],
    foreign_table: ['外部表', 'foreign table'],
  };
  const [kindZh, kindEn] = kinds[table.kind] ?? ['表', 'table'];
  const rows = `${table.rows_exact ? '' : zh ? '约 ' : '~'}${table.estimated_rows}`;
  if (table.comment) {
    out.push(
      zh
        ? `${name} ${kindZh}${table.comment}${commentSourceTag(table, lang)}（${rows} 行）`
        : `${name} ${kindEn}: ${table.comment}${commentSourceTag(table, lang)} (${rows} rows)`,
    );
  } else {
    out.push(zh ? `${name} ${kindZh}（${rows} 行）` : `${name} ${kindEn} (${rows} rows)`);
  }
  if (table.entity) out.push(zh ? `业务实体：${table.entity.zh}（${table.entity.en}）` : `Entity: ${table.entity.en} (${table.entity.zh})`);
  if (table.partition_of) out.push(zh ? `继承自 ${table.partition_of}（查询请使用父表）` : `Inherits from ${table.partition_of} (query the parent)`);
  out.push(zh ? '字段列表：' : 'Columns:');

  const fkByColumn = new Map<string, ForeignKeyInfo[]>();
  for (const fk of table.foreign_keys) if (fk.columns.length === 1) fkByColumn.set(fk.columns[0]!, [...(fkByColumn.get(fk.columns[0]!) ?? []), fk]);

  for (const column of table.columns) {
    let line = `- ${column.name} (${shownType(column.data_type)})`;
    if (column.comment) line += ` - ${column.comment.replace(/\s+/g, ' ')}`;
    const f = flags(table, column, lang);
    if (f.length) line += ` [${f.join(', ')}]`;
    if (column.role) line += ` [${zh ? '角色' : 'role'}: ${ROLE_TAGS[column.role][zh ? 0 : 1]}]`;
    if (column.sample_values.length) line += ` [${zh ? '示例' : 'e.g.'}: ${column.sample_values.slice(0, 3).map(v).join(', ')}]`;
    line += rangeText(column, lang);
    if (column.enum_values?.length) {
      const shown = column.enum_values.slice(0, MAX_ENUM_SHOWN).map(v);
      line += ` [${zh ? '枚举' : 'values'}: ${shown.join(', ')}${column.enum_values.length > MAX_ENUM_SHOWN ? ', …' : ''}]`;
    }
    for (const fk of fkByColumn.get(column.name) ?? []) line += ` [${zh ? '关联' : 'references'}: ${fkText(fk, lang)}]`;
    line += commentSourceTag(column, lang);
    out.push(line);
  }

  const notes: string[] = [];
  if (table.primary_key.length) notes.push(zh ? `- 主键: ${table.primary_key.join(', ')}` : `- Primary key: ${table.primary_key.join(', ')}`);
  for (const u of table.unique_constraints) notes.push(zh ? `- 唯一约束: (${u.join(', ')})` : `- Unique: (${u.join(', ')})`);
  for (const column of table.columns) {
    if (!column.enum_values?.length) continue;
    notes.push(
      zh
        ? `- ${column.name} 为枚举字段，包含取值：${column.enum_values.map(v).join('、')}`
        : `- ${column.name} is an enumeration with values: ${column.enum_values.map(v).join(', ')}`,
    );
  }
  for (const fk of table.foreign_keys) {
    const cols = fk.columns.join(', ');
    const target = `${targetName(fk)}.${fk.target_columns.join(', ')}`;
    if (fk.origin === 'user') {
      notes.push(zh ? `- ${cols} 关联 ${target}（用户声明）` : `- ${cols} references ${target} (declared by the user)`);
    } else if (fk.inferred) {
      notes.push(zh ? `- ${cols} 关联 ${target}（推断: ${fk.evidence ?? ''}）` : `- ${cols} references ${target} (inferred: ${fk.evidence ?? ''})`);
    } else {
      notes.push(zh ? `- ${cols} 关联 ${target}（外键 ${fk.name ?? ''}）` : `- ${cols} references ${target} (foreign key ${fk.name ?? ''})`);
    }
  }
  for (const ref of incoming) {
    const source = `${ref.source}.${ref.fk.columns.join(', ')}`;
    notes.push(
      zh
        ? `- 被 ${source} 引用${ref.fk.inferred ? '（推断）' : ''}: ${ref.fk.target_columns.join(', ')}`
        : `- Referenced by ${source}${ref.fk.inferred ? ' (inferred)' : ''}: ${ref.fk.target_columns.join(', ')}`,
    );
  }
  for (const check of table.check_constraints ?? []) notes.push(zh ? `- 约束 ${check.name}: ${check.definition}` : `- Constraint ${check.name}: ${check.definition}`);
  if (table.partition_key) {
    notes.push(zh ? `- 分区方式: ${table.partition_key}` : `- Partitioned by: ${table.partition_key}`);
    for (const p of table.partitions ?? []) notes.push(`  - ${p.full_name}: ${p.bound}`);
  }
  for (const index of table.indexes) {
    if (index.is_primary) continue;
    notes.push(zh ? `- 索引 ${index.name}${index.is_unique ? '（唯一）' : ''}` : `- Index ${index.name}${index.is_unique ? ' (unique)' : ''}`);
  }
  if (notes.length) out.push(zh ? '字段补充说明：' : 'Notes:', ...notes);
  if (table.view_definition) {
    out.push(zh ? '视图定义：' : 'View definition:', '```sql', table.view_definition, '```');
  }
  return `${out.join('\n')}\n`;
}
