// What the LLM sees of the schema. Themes: a compact summary within a fixed character budget — tables
// with their key columns while that fits, else tables with comments, else clusters (connected by
// relationships) with their most important tables named — so the prompt stays the same size from 20 to
// 500 tables and no table cap is needed. Pairs: the theme's tables in full (columns, types, comments, enum
// and sample values, soft-delete columns) and the relationships among them, each bounded too.
import { t as say, type Lang } from '../../messages.ts';
import { describeRelationship, type CatalogModel, type ColumnModel, type Relationship, type TableModel } from './catalog.ts';

export const THEME_SUMMARY_BUDGET = 12_000;
/** Tables shown in full in one pairs prompt, and columns per table. */
export const PAIR_PROMPT_MAX_TABLES = 6;
export const PAIR_PROMPT_MAX_COLUMNS = 60;

function clip(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}

function importance(t: TableModel): number {
  return (t.isFact ? 20 : 0) + t.measures.length * 2 + (t.times.length ? 4 : 0) + (t.parents.length + t.children.length) * 3 + Math.log10(1 + t.rows) * 2 + (t.info.comment ? 2 : 0);
}

/** The columns that say what a table is about: time, names, the main measures, enums, references, codes. */
function keyColumns(t: TableModel, max: number): ColumnModel[] {
  const ordered = [...t.times.slice(0, 1), ...t.names.slice(0, 2), ...t.measures.slice(0, 4), ...t.enums.slice(0, 2), ...t.columns.filter((c) => c.role === 'foreign_key'), ...t.codes.slice(0, 1), ...t.times.slice(1)];
  return ordered.filter((c, i) => ordered.indexOf(c) === i).slice(0, max);
}

function tableLineFull(t: TableModel, lang: Lang): string {
  const cols = keyColumns(t, 10).map((c) => (c.hasComment ? `${c.name}(${clip(c.label.zh, 16)})` : c.name));
  const rows = say('prompt.rows', lang, { rows: t.rows });
  return `- ${t.info.full_name}${t.info.comment ? ` — ${clip(t.info.comment, 40)}` : ''} (${rows})${cols.length ? `: ${cols.join(', ')}` : ''}`;
}

function tableLineShort(t: TableModel): string {
  return `- ${t.info.full_name}${t.info.comment ? ` — ${clip(t.info.comment, 30)}` : ''}`;
}

function relationshipLines(rels: Relationship[], max: number): string[] {
  const lines = rels.slice(0, max).map((r) => `- ${describeRelationship(r)}`);
  if (rels.length > max) lines.push(`- … (+${rels.length - max})`);
  return lines;
}

/** Connected components over relationships; isolated tables grouped by name prefix. */
export function clusters(catalog: CatalogModel): TableModel[][] {
  const parent = new Map<string, string>(catalog.tables.map((t) => [t.key, t.key]));
  const find = (k: string): string => {
    let r = k;
    while (parent.get(r) !== r) r = parent.get(r)!;
    parent.set(k, r);
    return r;
  };
  for (const rel of catalog.relationships) parent.set(find(rel.from.key), find(rel.to.key));
  const groups = new Map<string, TableModel[]>();
  for (const t of catalog.tables) {
    const root = find(t.key);
    const isolated = t.parents.length === 0 && t.children.length === 0;
    const key = isolated ? `prefix:${t.schema}.${/^([^_]+_)/.exec(t.name)?.[1] ?? t.name}` : root;
    groups.set(key, [...(groups.get(key) ?? []), t]);
  }
  return [...groups.values()]
    .map((g) => g.sort((a, b) => importance(b) - importance(a)))
    .sort((a, b) => b.reduce((s, t) => s + importance(t), 0) - a.reduce((s, t) => s + importance(t), 0));
}

export interface SchemaSummary {
  text: string;
  level: 'columns' | 'tables' | 'clusters';
  shownTables: number;
}

export function themeSchemaSummary(catalog: CatalogModel, lang: Lang, budget = THEME_SUMMARY_BUDGET): SchemaSummary {
  const tables = [...catalog.tables].sort((a, b) => importance(b) - importance(a));
  const relHeader = say('prompt.relationships_header', lang);

  const full = [...tables.map((t) => tableLineFull(t, lang)), relHeader, ...relationshipLines(catalog.relationships, 80)].join('\n');
  if (full.length <= budget) return { text: full, level: 'columns', shownTables: tables.length };

  const short = [...tables.map(tableLineShort), relHeader, ...relationshipLines(catalog.relationships, 60)].join('\n');
  if (short.length <= budget) return { text: short, level: 'tables', shownTables: tables.length };

  // Clusters: give each cluster a share of the budget by importance; name its best tables.
  const groups = clusters(catalog);
  const lines: string[] = [
    say('prompt.groups', lang, { tables: catalog.tables.length, groups: groups.length }),
  ];
  let used = lines[0]!.length;
  const shown = new Set<string>();
  const perGroupBudget = Math.max(300, Math.floor((budget * 0.8) / Math.max(1, Math.min(groups.length, 40))));
  let groupNo = 0;
  for (const g of groups) {
    groupNo += 1;
    const header = say('prompt.group_header', lang, { group: groupNo, tables: g.length });
    if (used + header.length + 80 > budget * 0.85) {
      const left = groups.slice(groupNo - 1).reduce((s, x) => s + x.length, 0);
      lines.push(say('prompt.groups_left', lang, { groups: groups.length - groupNo + 1, tables: left }));
      break;
    }
    const parts: string[] = [];
    let size = header.length;
    for (const t of g) {
      const line = tableLineShort(t).slice(2);
      if (size + line.length + 2 > perGroupBudget) break;
      parts.push(line);
      shown.add(t.key);
      size += line.length + 2;
    }
    const rest = g.length - parts.length;
    const text = `${header}${parts.join('; ')}${rest > 0 ? say('prompt.group_rest', lang, { rest }) : ''}`;
    lines.push(text);
    used += text.length + 1;
  }
  const rels = catalog.relationships.filter((r) => shown.has(r.from.key) && shown.has(r.to.key));
  const relText = [relHeader, ...relationshipLines(rels, 40)];
  for (const line of relText) {
    if (used + line.length + 1 > budget) break;
    lines.push(line);
    used += line.length + 1;
  }
  return { text: lines.join('\n'), level: 'clusters', shownTables: shown.size };
}

/** `character varying(32)` → `varchar(32)`, `timestamp without time zone` → `timestamp` … */
export function compactType(type: string): string {
  return type
    .replace(/^character varying/, 'varchar')
    .replace(/^character\b/, 'char')
    .replace(/^timestamp(\(\d+\))? without time zone/, 'timestamp$1')
    .replace(/^timestamp(\(\d+\))? with time zone/, 'timestamptz$1')
    .replace(/^time(\(\d+\))? without time zone/, 'time$1')
    .replace(/^double precision/, 'float8');
}

function columnLine(c: ColumnModel, lang: Lang): string {
  const bits: string[] = [`${c.name} ${c.info.display_type ?? compactType(c.info.data_type)}`];
  const flags: string[] = [];
  if (c.info.is_primary_key) flags.push(say('md.flag_pk', lang));
  if (!c.info.nullable) flags.push('NOT NULL');
  if (c.role === 'soft_delete') flags.push(say('prompt.soft_delete_flag', lang));
  // The ddl step's role (schema.json): what aggregates and filters the column allows (pair-quality.md).
  if (c.info.role) flags.push(`${say('md.role', lang)} ${c.info.role}`);
  if (flags.length) bits.push(`[${flags.join(', ')}]`);
  if (c.info.comment) bits.push(`— ${clip(c.info.comment, 60)}`);
  if (c.info.range) bits.push(say('prompt.range', lang, { min: clip(c.info.range.min, 30), max: clip(c.info.range.max, 30) }));
  const values = c.values.length ? c.values : [];
  if (values.length) bits.push(say('prompt.values', lang, { values: `${values.slice(0, 12).map((v) => clip(v, 30)).join(', ')}${values.length > 12 ? ', …' : ''}` }));
  else if (c.info.sample_values.length && !['identifier', 'foreign_key', 'other', 'technical_time', 'soft_delete'].includes(c.role)) {
    bits.push(say('prompt.examples', lang, { values: c.info.sample_values.slice(0, 3).map((v) => clip(v, 30)).join(', ') }));
  }
  return `  - ${bits.join(' ')}`;
}

/** The theme's tables in full, for the pairs prompt. */
export function themeTablesText(tables: TableModel[], lang: Lang): string {
  const blocks: string[] = [];
  for (const t of tables.slice(0, PAIR_PROMPT_MAX_TABLES)) {
    const head = `${say('prompt.table', lang)} ${t.info.full_name}${t.info.comment ? ` — ${clip(t.info.comment, 80)}` : ''} (${say('prompt.rows', lang, { rows: t.rows })})`;
    const ordered = [...t.columns].sort((a, b) => Number(['other', 'technical_time'].includes(a.role)) - Number(['other', 'technical_time'].includes(b.role)) || a.info.position - b.info.position);
    const shown = ordered.slice(0, PAIR_PROMPT_MAX_COLUMNS).sort((a, b) => a.info.position - b.info.position);
    const lines = [head, ...shown.map((c) => columnLine(c, lang))];
    if (t.columns.length > shown.length) lines.push(say('prompt.columns_left', lang, { columns: t.columns.length - shown.length }));
    blocks.push(lines.join('\n'));
  }
  if (tables.length > PAIR_PROMPT_MAX_TABLES) {
    blocks.push(say('prompt.tables_left', lang, { count: tables.length - PAIR_PROMPT_MAX_TABLES, tables: tables.slice(PAIR_PROMPT_MAX_TABLES).map((t) => t.info.full_name).join(', ') }));
  }
  return blocks.join('\n\n');
}

/** Relationships touching the theme's tables (both ends shown, the far end by name only). */
export function themeRelationshipsText(tables: TableModel[], lang: Lang): string {
  const keys = new Set(tables.map((t) => t.key));
  const rels = new Set<Relationship>();
  for (const t of tables) for (const r of [...t.parents, ...t.children]) if (keys.has(r.from.key) || keys.has(r.to.key)) rels.add(r);
  const inside = [...rels].filter((r) => keys.has(r.from.key) && keys.has(r.to.key));
  const outside = [...rels].filter((r) => !(keys.has(r.from.key) && keys.has(r.to.key)));
  const lines = [...relationshipLines(inside, 30), ...relationshipLines(outside, 10)];
  return lines.length ? lines.join('\n') : say('prompt.no_relationships', lang);
}

/** The soft-delete rule of the theme's tables, as an instruction. */
export function softDeleteText(tables: TableModel[], lang: Lang): string {
  const soft = tables.filter((t) => t.softDelete).map((t) => `${t.info.full_name}.${t.softDelete!.name}`);
  if (!soft.length) return say('prompt.no_soft_delete', lang);
  return say('prompt.soft_delete', lang, { columns: soft.join(', ') });
}
