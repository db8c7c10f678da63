// The catalog as the generator sees it: schema.json's tables with the ddl step's role for every column
// (identifier, foreign key, code, label, additive / non-additive measure, business / technical time, flag,
// soft delete …; older schema.json files without roles get them from names and types here), human labels
// from the comments, the entity noun of each table, the relationships (declared, inferred, user) as a
// graph, and name resolution for what an LLM writes.
import type { Lang } from '../../messages.ts';
import type { ColumnInfo, ColumnRole, ForeignKeyInfo, SchemaFile, TableInfo } from '../artifacts.ts';
import { nameContext, nameWords, splitWords, translateWords } from '../../text/translate.ts';
import { BUILTIN_GLOSSARY } from '../../text/glossary.ts';
import { ident, literal, tableRef } from './sql-text.ts';
import { singularNoun } from '../../text/singular.ts';

export type { ColumnRole };
/** The older role names this module derived before schema.json carried roles (fallback only). */
type LegacyRole = 'key' | 'fk' | 'audit' | 'soft_delete' | 'time' | 'audit_time' | 'measure' | 'enum' | 'name' | 'code' | 'text' | 'other';

export interface ColumnModel {
  info: ColumnInfo;
  name: string;
  role: ColumnRole;
  /** The column's term per language, whole: the comment's first clause when it is in that language, else
   * the name words through the glossary (phrase level first); an untranslatable name stays whole. */
  label: Record<Lang, string>;
  hasComment: boolean;
  /** For role 'name': the entity noun it names (服务区名称 → 服务区). */
  noun: Record<Lang, string> | null;
  /** Enum values usable in filters (role enum, or a name/code column with few values). */
  values: string[];
  /** Smallest and largest value: the profile's range, else (older schema.json) the sampled values'. */
  range: { min: string; max: string } | null;
  /** Name words no glossary translates, per language of the term (they stay whole in questions). */
  untranslated: Record<Lang, string[]>;
}

export interface Relationship {
  from: TableModel;
  fromColumns: string[];
  to: TableModel;
  toColumns: string[];
  inferred: boolean;
}

export interface TableModel {
  info: TableInfo;
  key: string;
  schema: string;
  name: string;
  /** How SQL refers to it (quoted when needed, schema omitted for public). */
  ref: string;
  label: Record<Lang, string>;
  /** The entity a row is (服务区, 公司 …), from the name column's comment or the table comment. */
  noun: Record<Lang, string>;
  columns: ColumnModel[];
  byName: Map<string, ColumnModel>;
  measures: ColumnModel[];
  enums: ColumnModel[];
  times: ColumnModel[];
  names: ColumnModel[];
  codes: ColumnModel[];
  softDelete: ColumnModel | null;
  /** Relationships where this table holds the referencing columns (many-to-one). */
  parents: Relationship[];
  /** Relationships where this table is referenced. */
  children: Relationship[];
  /** A table made of two or more references and nothing else worth asking about. */
  isLink: boolean;
  /** Has measures (and usually a time column): what analysts aggregate. */
  isFact: boolean;
  rows: number;
  /** The business noun of one row (schema.json `entity`, else derived). */
  entity: Record<Lang, string>;
  /** The single-column key that identifies a row (primary key or identifier), if any. */
  keyColumn: ColumnModel | null;
  /** Columns shown next to the key (first and last name, or the name column matching the table). */
  display: ColumnModel[];
  additive: ColumnModel[];
  nonAdditive: ColumnModel[];
  /** An inheritance child or partition (`partition_of`): never queried, its parent is. */
  partition: boolean;
  /** Not empty, not a partition, not purely technical: must appear in at least one pair. */
  business: boolean;
}

export interface CatalogModel {
  schema: SchemaFile;
  tables: TableModel[];
  relationships: Relationship[];
  table(key: string): TableModel | undefined;
  /** Resolves a name as an LLM or a user writes it: `schema.table`, `table`, quoted, any case. */
  resolveTable(name: string): TableModel | undefined;
}

const AUDIT_NAMES = new Set([
  'version', 'created_by', 'updated_by', 'deleted_by', 'creator', 'modifier', 'create_by', 'update_by', 'delete_by',
  'create_user', 'update_user', 'created_user', 'updated_user', 'tenant_id', 'revision', 'row_version', 'lock_version',
]);
const AUDIT_TIME_NAMES = /^(create|created|update|updated|modify|modified|gmt_create|gmt_modified|insert|inserted|last_modified|last_update|etl|load|sync)(_ts|_at|_time|_date|_dt|_on)?$/;
const SOFT_DELETE_TIME = /^(delete|deleted|remove|removed)(_ts|_at|_time|_date|_dt|_on)$/;
const SOFT_DELETE_FLAG = /^(is_deleted|is_delete|deleted|del_flag|delete_flag|is_del|del|is_removed|removed)$/;
const NUMERIC_TYPES = new Set(['int2', 'int4', 'int8', 'numeric', 'float4', 'float8', 'money', 'decimal', 'integer', 'bigint', 'smallint', 'real', 'double precision']);
const TIME_TYPES = new Set(['date', 'timestamp', 'timestamptz']);
const TEXT_TYPES = new Set(['varchar', 'text', 'bpchar', 'char', 'name', 'citext']);

/** English words for common column-name tokens, for labels when a column has no comment. */
function humanize(name: string): string {
  return name
    .replace(/([a-z0-9])([A-Z])/g, '$1 $2')
    .replace(/[_\s]+/g, ' ')
    .trim()
    .toLowerCase();
}

function firstClause(comment: string): string {
  return comment.split(/[（(，,；;。:：\n]/)[0]!.trim() || comment.trim();
}

function tableLabelZh(info: TableInfo): string {
  if (!info.comment) return info.name;
  const clause = firstClause(info.comment);
  return clause.replace(/(信息|基础信息|数据)?表$/, '').trim() || clause;
}

/** How a column's label is read in each language (the generator's own rules, one entry per language). */
const LABEL_RULES: Record<Lang, {
  /** A name column's label without its "name" word: 公司名称 → 公司, company name → company. */
  noun(label: string): string;
  /** Whether a comment is written in this language (so it can be the label as it is). */
  isWrittenIn(text: string): boolean;
  /** Whether name words without a term are recorded (glossary_todo.json); English names are their own words. */
  recordsUntranslated: boolean;
}> = {
  zh: { noun: (label) => label.replace(/(名称|名字|姓名|全名|名)$/, '').trim(), isWrittenIn: (text) => /[\u4e00-\u9fff]/.test(text), recordsUntranslated: true },
  en: { noun: (label) => label.replace(/\s*(name|title)$/, '').trim(), isWrittenIn: (text) => !/[^\x00-\x7f]/.test(text), recordsUntranslated: false },
};

function stripNameSuffix(label: string, lang: Lang): string {
  return LABEL_RULES[lang].noun(label);
}

function tableLabelEn(info: TableInfo, prefixes: string[]): string {
  let name = info.name;
  for (const p of prefixes) if (name.startsWith(p)) name = name.slice(p.length);
  return humanize(name);
}

function sampleRange(c: ColumnInfo): { min: string; max: string } | null {
  if (!TIME_TYPES.has(c.udt_name) || c.sample_values.length === 0) return null;
  const sorted = [...c.sample_values].sort();
  return { min: sorted[0]!, max: sorted.at(-1)! };
}

function enumValues(column: ColumnInfo): string[] {
  return (column.enum_values ?? []).filter((v) => v !== null && v !== undefined && String(v).trim() !== '').map(String);
}

const NON_ADDITIVE = /(price|rate|ratio|pct|percent|avg|average|score|rating|temperature|age|limit|balance|stock|level|单价|均价|比例|比率|率|平均|评分|温度|年龄|余额|库存|额度)/i;

/** The role of a column: the ddl step's when schema.json has one, else derived from names and types. */
function columnRole(column: ColumnInfo, table: TableInfo, fkColumns: Set<string>): ColumnRole {
  if (column.role) return column.role;
  const legacy = legacyRole(column, table, fkColumns);
  switch (legacy) {
    case 'key':
      return 'identifier';
    case 'fk':
      return 'foreign_key';
    case 'audit':
      return 'other';
    case 'time':
      return 'business_time';
    case 'audit_time':
      return 'technical_time';
    case 'measure':
      return NON_ADDITIVE.test(`${column.name} ${column.comment ?? ''}`) ? 'non_additive_measure' : 'additive_measure';
    case 'enum':
      return column.udt_name === 'bool' ? 'flag' : 'code';
    case 'name':
      return 'label';
    default:
      return legacy;
  }
}

function legacyRole(column: ColumnInfo, table: TableInfo, fkColumns: Set<string>): LegacyRole {
  const name = column.name.toLowerCase();
  const udt = column.udt_name.toLowerCase();
  if (SOFT_DELETE_TIME.test(name) && TIME_TYPES.has(udt)) return 'soft_delete';
  if (SOFT_DELETE_FLAG.test(name) && (udt === 'bool' || NUMERIC_TYPES.has(udt) || TEXT_TYPES.has(udt))) return 'soft_delete';
  if (column.comment && /软删除|soft.?delete/i.test(column.comment) && TIME_TYPES.has(udt)) return 'soft_delete';
  if (fkColumns.has(column.name)) return 'fk';
  if (column.is_primary_key || name === 'id' || table.primary_key.includes(column.name)) return 'key';
  if (AUDIT_NAMES.has(name)) return 'audit';
  if (TIME_TYPES.has(udt)) return AUDIT_TIME_NAMES.test(name) ? 'audit_time' : 'time';
  if (/(_id|_uuid|_guid)$/.test(name) || name === 'uuid') return 'key';
  const values = enumValues(column);
  if (NUMERIC_TYPES.has(udt)) {
    if (values.length > 0 && values.length <= 12) return 'enum';
    if (/(_no|_code|_type|_status|_state|_flag|_level|_year|_month|_seq|_sort|_order_no|^type|^status)$/.test(name)) return values.length ? 'enum' : 'other';
    return 'measure';
  }
  if (udt === 'bool') return 'enum';
  if (TEXT_TYPES.has(udt)) {
    if (/(name|title)$/.test(name) || (column.comment && /(名称|名字|姓名|全名)$/.test(firstClause(column.comment)))) return 'name';
    const codeLike = /(^|_)(no|code|num|number|sn)$/.test(name) || Boolean(column.comment && /(编码|编号|代码)$/.test(firstClause(column.comment)));
    const few = values.length >= 1 && values.length <= 30 && !uniqueish(column, table, values.length);
    if (few) return 'enum';
    if (codeLike) return 'code';
    return 'text';
  }
  return 'other';
}

/** Words every column of a table starts with (`crm cust` in crmCustName, crmCustCity): not the meaning. */
function columnPrefixWords(info: TableInfo): string[] {
  const all = info.columns.map((c) => nameWords(c.name));
  if (all.length < 2) return [];
  const prefix: string[] = [];
  for (let i = 0; ; i++) {
    const w = all[0]![i];
    if (!w || !all.every((words) => words.length > i + 1 && words[i] === w)) break;
    prefix.push(w);
  }
  return prefix.filter((w) => !BUILTIN_GLOSSARY[w] || prefix.length > 1).length === prefix.length ? prefix : [];
}

/** Every row has its own value (a code or identifier, not a category). */
function uniqueish(column: ColumnInfo, table: TableInfo, distinctValues: number): boolean {
  const nd = column.stats?.n_distinct;
  if (nd !== null && nd !== undefined && nd < 0 && -nd >= 0.9) return true;
  const rows = table.estimated_rows ?? 0;
  return rows > 0 && distinctValues >= 0.9 * rows;
}

function key(schema: string, name: string): string {
  return `${schema}.${name}`;
}

export function buildCatalog(schema: SchemaFile): CatalogModel {
  const prefixes = commonPrefixes(schema.tables.map((t) => t.name));
  const sameLanguage = (text: string, lang: Lang) => LABEL_RULES[lang].isWrittenIn(text);
  const tables: TableModel[] = schema.tables.map((info) => {
    const fkColumns = new Set(info.foreign_keys.flatMap((fk) => fk.columns));
    const prefixWords = columnPrefixWords(info);
    const context = nameContext(info);
    const columns: ColumnModel[] = info.columns.map((c) => {
      const role = columnRole(c, info, fkColumns);
      const untranslated: Record<Lang, string[]> = { zh: [], en: [] };
      const term = (lang: Lang) => {
        const clause = c.comment ? firstClause(c.comment) : '';
        if (clause && sameLanguage(clause, lang)) return lang === 'en' ? clause.toLowerCase() : clause;
        const words = nameWords(c.name);
        const own = words.length > prefixWords.length ? words.slice(prefixWords.length) : words;
        const translated = translateWords(own, lang, new Map(), context);
        if (LABEL_RULES[lang].recordsUntranslated) untranslated[lang] = translated.unknown;
        return translated.text || c.name;
      };
      const zh = term('zh');
      const en = term('en');
      return {
        info: c,
        name: c.name,
        role,
        label: { zh, en },
        hasComment: Boolean(c.comment),
        noun: role === 'label' ? { zh: stripNameSuffix(zh, 'zh') || zh, en: stripNameSuffix(en, 'en') || en } : null,
        values: enumValues(c),
        range: c.range ?? sampleRange(c),
        untranslated,
      };
    });
    const byName = new Map(columns.map((c) => [c.name, c]));
    const names = columns.filter((c) => c.role === 'label');
    const tableLabel = { zh: tableLabelZh(info), en: tableLabelEn(info, prefixes) };
    // The entity noun: the name column that best matches the table, else the table label.
    const baseName = info.name.replace(new RegExp(`^(${prefixes.map(escapeRe).join('|') || '^$'})`), '');
    const primaryName = names.find((c) => c.name === `${baseName}_name`) ?? names.find((c) => c.name.endsWith('_name') && baseName.includes(c.name.replace(/_name$/, ''))) ?? names.find((c) => /^(name|title)$/i.test(c.name)) ?? names[0];
    const ordered = primaryName ? [primaryName, ...names.filter((c) => c !== primaryName)] : names;
    const measures = columns
      .filter((c) => c.role === 'additive_measure' || c.role === 'non_additive_measure')
      .sort((a, b) => rankMeasure(b) - rankMeasure(a) || a.info.position - b.info.position);
    const noun = entityNoun(primaryName, tableLabel, baseName);
    const pk = info.primary_key.length === 1 ? byName.get(info.primary_key[0]!) : undefined;
    // Without a primary key: an identifier, else a reference whose values are all distinct and present
    // (a per-customer view keyed by customer_id).
    const oneToOne = (c: ColumnModel) => c.role === 'foreign_key' && (c.info.distinct_share ?? 0) >= 0.98 && c.info.null_share === 0;
    const keyColumn = pk ?? (info.primary_key.length === 0 ? columns.find((c) => c.role === 'identifier') ?? columns.find(oneToOne) : undefined) ?? null;
    const first = names.find((c) => /first/i.test(c.name));
    const last = names.find((c) => /last|family|surname/i.test(c.name));
    // A text key that is the thing's name (state.state_name) is its label as well.
    const namedKey = pk && ['text', 'varchar', 'bpchar'].includes(pk.info.udt_name) && /(^|_)(name|title)$/i.test(pk.name) ? pk : undefined;
    const display = first && last ? [first, last] : primaryName ? [primaryName] : namedKey ? [namedKey] : [];
    const rows = Math.max(0, info.estimated_rows ?? 0);
    const businessColumns = columns.filter((c) => !['identifier', 'technical_time', 'soft_delete', 'other'].includes(c.role));
    return {
      info,
      key: key(info.schema, info.name),
      schema: info.schema,
      name: info.name,
      ref: '',
      label: tableLabel,
      noun,
      columns,
      byName,
      measures,
      enums: columns.filter((c) => (c.role === 'code' || c.role === 'flag') && c.values.length >= 2),
      times: columns.filter((c) => c.role === 'business_time'),
      names: ordered,
      codes: columns.filter((c) => c.role === 'code'),
      softDelete: columns.find((c) => c.role === 'soft_delete') ?? null,
      parents: [],
      children: [],
      isLink: false,
      isFact: measures.length > 0,
      rows,
      entity: info.entity ? { zh: info.entity.zh, en: info.entity.en } : { zh: noun.zh, en: noun.en },
      keyColumn,
      display,
      additive: measures.filter((c) => c.role === 'additive_measure'),
      nonAdditive: measures.filter((c) => c.role === 'non_additive_measure'),
      partition: Boolean(info.partition_of),
      business: !info.partition_of && rows > 0 && businessColumns.length > 0,
    };
  });
  const byKey = new Map(tables.map((t) => [t.key, t]));
  for (const t of tables) {
    t.ref = tableRef(t.schema, t.name);
    for (const c of t.names) if (!c.noun || isGenericNoun(c.noun)) c.noun = t.noun;
  }

  const relationships: Relationship[] = [];
  for (const t of tables) {
    for (const fk of t.info.foreign_keys) {
      const target = byKey.get(key(fk.target_schema, fk.target_table));
      if (!target || fk.columns.length === 0 || fk.columns.length !== fk.target_columns.length) continue;
      if (!fk.columns.every((c) => t.byName.has(c)) || !fk.target_columns.every((c) => target.byName.has(c))) continue;
      const rel: Relationship = { from: t, fromColumns: fk.columns, to: target, toColumns: fk.target_columns, inferred: fk.inferred };
      relationships.push(rel);
      // A self-reference (employee.manager_id → employee.id) is described but not walked by templates.
      if (target !== t) {
        t.parents.push(rel);
        target.children.push(rel);
      }
    }
  }
  for (const t of tables) {
    // A one-to-one extension (highlow keyed by state_name → state) holds more facts about its parent's
    // rows: a row is the parent's thing, unless the database or a model named it.
    const extended = t.parents.find(keyedByReference);
    // A subtype keyed the same way (employees.id → persons) is a thing of its own and keeps its noun.
    if (extended && t.info.entity?.source !== 'db' && t.info.entity?.source !== 'llm' && isExtensionName(t.name)) t.entity = { ...extended.to.entity };
    const interesting = t.columns.filter((c) => ['additive_measure', 'non_additive_measure', 'code', 'flag', 'label', 'business_time', 'text'].includes(c.role));
    t.isLink = t.parents.length >= 2 && interesting.length === 0;
  }

  const resolve = (raw: string): TableModel | undefined => {
    const cleaned = raw.trim().replace(/[`"]/g, '');
    if (!cleaned) return undefined;
    const exact = byKey.get(cleaned) ?? tables.find((t) => t.name === cleaned);
    if (exact) return exact;
    const lower = cleaned.toLowerCase();
    const matches = tables.filter((t) => t.key.toLowerCase() === lower || t.name.toLowerCase() === lower);
    return matches.length >= 1 ? matches[0] : undefined;
  };
  return { schema, tables, relationships, table: (k) => byKey.get(k), resolveTable: resolve };
}

/** The referencing table's primary key is the reference (employees.person_id → persons, region_stats.region_id
 * → regions): one row per target row, a subtype or an extension of it. */
export function keyedByReference(rel: Relationship): boolean {
  const pk = rel.from.info.primary_key;
  return pk.length > 0 && rel.fromColumns.length === pk.length && rel.fromColumns.every((c) => pk.includes(c));
}

/** Words that name more facts about a thing rather than a kind of thing (region_stats, highlow). */
const EXTENSION_WORDS = new Set(['stat', 'statistic', 'info', 'detail', 'details', 'ext', 'extra', 'extension', 'profile', 'attr', 'attribute', 'data', 'metric', 'fact']);
const DEGREE_WORDS = new Set(['high', 'low', 'max', 'min', 'top', 'bottom', 'highest', 'lowest', 'avg', 'average']);

export function isExtensionName(name: string): boolean {
  const words = splitWords(nameWords(name), new Map()).map((w) => w.toLowerCase().replace(/s$/, ''));
  return EXTENSION_WORDS.has(words.at(-1) ?? '') || (words.length > 0 && words.every((w) => DEGREE_WORDS.has(w)));
}

const GENERIC_NOUNS = new Set(['', '名称', '名字', '名', '称', 'name', 'title', 'full', '完整', '全']);

function isGenericNoun(noun: Record<Lang, string>): boolean {
  return GENERIC_NOUNS.has(noun.zh.trim().toLowerCase()) || GENERIC_NOUNS.has(noun.en.trim().toLowerCase());
}

/** What a row of the table is: the main name column's noun when it fits the table, else the table label. */
function entityNoun(primary: ColumnModel | undefined, label: Record<Lang, string>, baseName: string): Record<Lang, string> {
  const fallback = { zh: label.zh, en: singularNoun(label.en) };
  if (!primary?.noun || isGenericNoun(primary.noun)) return fallback;
  const matchesName = primary.name.toLowerCase() === `${baseName.toLowerCase()}_name`;
  const inLabel = label.zh.includes(primary.noun.zh) || label.en.includes(primary.noun.en);
  return matchesName || inLabel || label.zh === baseName ? primary.noun : fallback;
}

function rankMeasure(c: ColumnModel): number {
  let score = c.hasComment ? 10 : 0;
  const text = `${c.name} ${c.info.comment ?? ''}`;
  if (/(sum|total|总|合计)/i.test(text)) score += 6;
  if (/(amount|revenue|sales|金额|收入|营业额)/i.test(text)) score += 3;
  if (/(count|qty|quantity|数量|次数|人数|车辆)/i.test(text)) score += 2;
  if (c.info.udt_name === 'numeric') score += 1;
  return score;
}

function escapeRe(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** Name prefixes shared by many tables (bss_, t_, dim_ …), stripped from English labels. */
function commonPrefixes(names: string[]): string[] {
  const counts = new Map<string, number>();
  for (const n of names) {
    const m = /^([a-z0-9]{1,5}_)/i.exec(n);
    if (m) counts.set(m[1]!, (counts.get(m[1]!) ?? 0) + 1);
  }
  return [...counts.entries()].filter(([, n]) => n >= 2 && n >= names.length / 3).map(([p]) => p);
}

// ----------------------------------------------------------------------------------------- SQL pieces

/** `alias.column` (or just the column when alias is empty), quoted as needed. */
export function col(alias: string, column: ColumnModel | string): string {
  const name = typeof column === 'string' ? column : column.name;
  return alias ? `${alias}.${ident(name)}` : ident(name);
}

/** The "live rows" condition of a table (soft delete), or null when it has no such column. */
export function liveCondition(table: TableModel, alias: string): string | null {
  const sd = table.softDelete;
  if (!sd) return null;
  const udt = sd.info.udt_name.toLowerCase();
  const c = col(alias, sd);
  if (TIME_TYPES.has(udt)) return `${c} IS NULL`;
  if (udt === 'bool') return `${c} IS NOT TRUE`;
  if (NUMERIC_TYPES.has(udt)) return `COALESCE(${c}, 0) = 0`;
  // Text flags: '0'/'N' mean live in most systems; only use the filter when the data shows such a value.
  const live = sd.values.find((v) => /^(0|n|no|false|f)$/i.test(v));
  return live !== undefined ? `(${c} IS NULL OR ${c} = ${literal(live)})` : null;
}

/** The join condition of a relationship, child alias first. */
export function joinCondition(rel: Relationship, childAlias: string, parentAlias: string): string {
  return rel.fromColumns.map((c, i) => `${col(childAlias, c)} = ${col(parentAlias, rel.toColumns[i]!)}`).join(' AND ');
}

export function describeRelationship(rel: Relationship): string {
  return `${rel.from.info.full_name}(${rel.fromColumns.join(', ')}) → ${rel.to.info.full_name}(${rel.toColumns.join(', ')})${rel.inferred ? ' [inferred]' : ''}`;
}

export type { ForeignKeyInfo };
