// The `ddl` and `documentation` documents of a table, as training_load stores them: the step's own files,
// headed by a few lines that carry the table in words for retrieval — its entity name and comment in the
// task language, its identifiers split into words (camelCase, snake_case, flat compounds such as
// `numcitedby`), and its key relationships in words. In a .ddl the additions are SQL comments, so the
// document stays valid DDL that Vanna can show as it is; in the markdown they are plain lines.
import type { Lexicon } from '../../embed/lexicon.ts';
import { identifierWords } from '../../embed/words.ts';
import type { SchemaFile, TableInfo } from '../artifacts.ts';

type Lang = 'zh' | 'en';

/** schema.json fields the ddl step may add (issue 10); absent in older files. */
interface EntityName {
  zh?: string;
  en?: string;
}

const LABELS: Record<Lang, { table: string; entity: string; words: string; columns: string; relations: string; references: string; referencedBy: string }> = {
  zh: { table: '表', entity: '实体', words: '名称词', columns: '字段词', relations: '关联', references: '引用', referencedBy: '被引用' },
  en: { table: 'table', entity: 'entity', words: 'name words', columns: 'column words', relations: 'relationships', references: 'references', referencedBy: 'referenced by' },
};

/** A one-line text safe inside an SQL line comment. */
function line(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/\s+/g, ' ').trim();
}

function words(identifier: string, lexicon: Pick<Lexicon, 'isWord'>): string {
  return identifierWords(identifier, lexicon).join(' ');
}

/** The header lines of a table's documents (without comment markers), in the task language. */
export function tableHeaderLines(table: TableInfo, schema: Pick<SchemaFile, 'tables' | 'language'>, lexicon: Pick<Lexicon, 'isWord'>): string[] {
  const lang: Lang = schema.language === 'en' ? 'en' : 'zh';
  const l = LABELS[lang];
  const out: string[] = [];
  const entity = (table as TableInfo & { entity?: EntityName }).entity;
  const entityName = entity ? [entity[lang], entity[lang === 'zh' ? 'en' : 'zh']].filter((x): x is string => typeof x === 'string' && x.trim() !== '') : [];
  const title = [entityName.length ? entityName.join(' / ') : null, table.comment].filter(Boolean).map((x) => line(String(x)));
  out.push(`${l.table} ${table.full_name}${title.length ? `: ${[...new Set(title)].join('; ')}` : ''}`);
  if (entityName.length) out.push(`${l.entity}: ${entityName.map(line).join(' / ')}`);
  out.push(`${l.words}: ${words(table.name, lexicon)}`);
  const columnWords = table.columns.map((c) => words(c.name, lexicon)).filter(Boolean);
  if (columnWords.length) out.push(`${l.columns}: ${columnWords.join('; ')}`);

  const relations: string[] = [];
  const nameOf = (schemaName: string, tableName: string) => (schemaName === table.schema ? tableName : `${schemaName}.${tableName}`);
  for (const fk of table.foreign_keys ?? []) {
    const target = schema.tables.find((t) => t.schema === fk.target_schema && t.name === fk.target_table);
    const targetWords = target?.comment ? `${words(fk.target_table, lexicon)}, ${line(target.comment)}` : words(fk.target_table, lexicon);
    relations.push(
      `${table.name}.${fk.columns.join(',')} → ${nameOf(fk.target_schema, fk.target_table)}.${fk.target_columns.join(',')} ` +
        `(${words(table.name, lexicon)} ${l.references} ${targetWords})`,
    );
  }
  for (const other of schema.tables) {
    if (other === table) continue;
    for (const fk of other.foreign_keys ?? []) {
      if (fk.target_schema !== table.schema || fk.target_table !== table.name) continue;
      relations.push(
        `${nameOf(other.schema, other.name)}.${fk.columns.join(',')} → ${table.name}.${fk.target_columns.join(',')} ` +
          `(${words(table.name, lexicon)} ${l.referencedBy} ${words(other.name, lexicon)}${other.comment ? `, ${line(other.comment)}` : ''})`,
      );
    }
  }
  if (relations.length) out.push(`${l.relations}: ${relations.join('; ')}`);
  return out.map(line);
}

/** A .ddl text with the header as SQL line comments in front: still valid DDL. */
export function ddlDocument(ddl: string, header: string[]): string {
  return `${header.map((h) => `-- ${h}`).join('\n')}\n${ddl}`;
}

/** A table's markdown with the header lines in front. */
export function detailDocument(markdown: string, header: string[]): string {
  return `${header.join('\n')}\n\n${markdown}`;
}
