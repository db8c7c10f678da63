// <table>_detail.md in the guide's style: a heading with the table comment, then every column as
// `- name (type) - comment [主键, 非空] [示例: ...]`, then notes on keys, enum values and relationships.
import type { ColumnInfo, ColumnRole, ForeignKeyInfo, TableInfo } from '../../artifacts.ts';
import { shownType } from '../model.ts';
import { t, type Lang, type MessageKey, type MessageParams } from '../../../messages.ts';


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
  const out: string[] = [];
  if (column.is_primary_key) out.push(t('md.flag_pk', lang));
  if (!column.nullable) out.push(t('md.flag_not_null', lang));
  if (table.unique_constraints.some((u) => u.length === 1 && u[0] === column.name)) out.push(t('md.flag_unique', lang));
  if (column.identity || /^nextval\(/.test(column.default ?? '')) out.push(t('md.flag_auto_increment', lang));
  if (column.generated) out.push(t('md.flag_generated', lang));
  return out;
}

/** Short role tags as `_detail.md` shows them (`[角色: 可加度量]`). */
const ROLE_TAGS: Record<ColumnRole, MessageKey> = {
  identifier: 'role.identifier',
  foreign_key: 'role.foreign_key',
  code: 'role.code',
  label: 'role.label',
  additive_measure: 'role.additive_measure',
  non_additive_measure: 'role.non_additive_measure',
  business_time: 'role.business_time',
  technical_time: 'role.technical_time',
  flag: 'role.flag',
  soft_delete: 'role.soft_delete',
  text: 'role.text',
  contact: 'role.contact',
  other: 'role.other',
};

const KINDS: Record<string, MessageKey> = {
  table: 'kind.table',
  view: 'kind.view',
  materialized_view: 'kind.materialized_view',
  partitioned_table: 'kind.partitioned_table',
  foreign_table: 'kind.foreign_table',
};

function rangeText(column: ColumnInfo, lang: Lang): string {
  if (!column.range) return '';
  const approx = column.range.source === 'exact' ? '' : t('md.approx', lang);
  return t('md.range', lang, { min: `${approx}${v(column.range.min)}`, max: v(column.range.max) });
}

function commentSourceTag(column: { comment_source: string | null }, lang: Lang): string {
  if (column.comment_source === 'llm') return t('md.source_llm', lang);
  if (column.comment_source === 'offline') return t('md.source_offline', lang);
  return '';
}

function fkText(fk: ForeignKeyInfo, lang: Lang): string {
  const target = `${targetName(fk)}.${fk.target_columns.join(', ')}`;
  if (!fk.inferred) return target;
  if (!fk.overlap) return t('md.fk_inferred', lang, { target });
  return t('md.fk_inferred_overlap', lang, { target, matched: fk.overlap.matched, sampled: fk.overlap.sampled });
}

export function renderMarkdown(table: TableInfo, incoming: IncomingReference[], lang: Lang): string {
  const say = (key: MessageKey, params?: MessageParams) => t(key, lang, params);
  const out: string[] = [];
  const name = displayName(table);
  out.push(table.comment ? say('md.heading_comment', { name, comment: table.comment }) : `## ${name}`);
  const kind = say(KINDS[table.kind] ?? 'kind.table');
  const rows = `${table.rows_exact ? '' : say('md.approx_rows')}${table.estimated_rows}`;
  if (table.comment) out.push(say('md.summary_comment', { name, kind, comment: table.comment, source: commentSourceTag(table, lang), rows }));
  else out.push(say('md.summary', { name, kind, rows }));
  if (table.entity) out.push(say('md.entity', { zh: table.entity.zh, en: table.entity.en }));
  if (table.partition_of) out.push(say('md.inherits', { parent: table.partition_of }));
  out.push(say('md.columns'));

  const fkByColumn = new Map<string, ForeignKeyInfo[]>();
  for (const fk of table.foreign_keys) if (fk.columns.length === 1) fkByColumn.set(fk.columns[0]!, [...(fkByColumn.get(fk.columns[0]!) ?? []), fk]);

  for (const column of table.columns) {
    let line = `- ${column.name} (${shownType(column.data_type)})`;
    if (column.comment) line += ` - ${column.comment.replace(/\s+/g, ' ')}`;
    const f = flags(table, column, lang);
    if (f.length) line += ` [${f.join(', ')}]`;
    if (column.role) line += ` [${say('md.role')}: ${say(ROLE_TAGS[column.role])}]`;
    if (column.sample_values.length) line += ` [${say('md.examples')}: ${column.sample_values.slice(0, 3).map(v).join(', ')}]`;
    line += rangeText(column, lang);
    if (column.enum_values?.length) {
      const shown = column.enum_values.slice(0, MAX_ENUM_SHOWN).map(v);
      line += ` [${say('md.enum')}: ${shown.join(', ')}${column.enum_values.length > MAX_ENUM_SHOWN ? ', …' : ''}]`;
    }
    for (const fk of fkByColumn.get(column.name) ?? []) line += ` [${say('md.references')}: ${fkText(fk, lang)}]`;
    line += commentSourceTag(column, lang);
    out.push(line);
  }

  const notes: string[] = [];
  if (table.primary_key.length) notes.push(say('md.note_pk', { columns: table.primary_key.join(', ') }));
  for (const u of table.unique_constraints) notes.push(say('md.note_unique', { columns: u.join(', ') }));
  for (const column of table.columns) {
    if (!column.enum_values?.length) continue;
    notes.push(say('md.note_enum', { column: column.name, values: column.enum_values.map(v).join(say('md.enum_separator')) }));
  }
  for (const fk of table.foreign_keys) {
    const cols = fk.columns.join(', ');
    const target = `${targetName(fk)}.${fk.target_columns.join(', ')}`;
    if (fk.origin === 'user') notes.push(say('md.note_fk_user', { columns: cols, target }));
    else if (fk.inferred) notes.push(say('md.note_fk_inferred', { columns: cols, target, evidence: fk.evidence ?? '' }));
    else notes.push(say('md.note_fk', { columns: cols, target, name: fk.name ?? '' }));
  }
  for (const ref of incoming) {
    const source = `${ref.source}.${ref.fk.columns.join(', ')}`;
    notes.push(say(ref.fk.inferred ? 'md.note_referenced_inferred' : 'md.note_referenced', { source, columns: ref.fk.target_columns.join(', ') }));
  }
  for (const check of table.check_constraints ?? []) notes.push(say('md.note_check', { name: check.name, definition: check.definition }));
  if (table.partition_key) {
    notes.push(say('md.note_partitioned', { key: table.partition_key }));
    for (const p of table.partitions ?? []) notes.push(`  - ${p.full_name}: ${p.bound}`);
  }
  for (const index of table.indexes) {
    if (index.is_primary) continue;
    notes.push(say(index.is_unique ? 'md.note_index_unique' : 'md.note_index', { name: index.name }));
  }
  if (notes.length) out.push(say('md.notes'), ...notes);
  if (table.view_definition) {
    out.push(say('md.view_definition'), '```sql', table.view_definition, '```');
  }
  return `${out.join('\n')}\n`;
}
