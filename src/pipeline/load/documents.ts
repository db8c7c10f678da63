// The `ddl` and `documentation` documents of a table, as training_load stores them: the step's own files,
// headed by a few lines that carry the table in words for retrieval — its entity name and comment in the
// task language, its identifiers split into words (camelCase, snake_case, flat compounds such as
// `numcitedby`), and its key relationships in words. In a .ddl the additions are SQL comments, so the
// document stays valid DDL that Vanna can show as it is; in the markdown they are plain lines.
import type { Lexicon } from '../../embed/lexicon.ts';
import { identifierWords } from '../../embed/words.ts';
import type { SchemaFile, TableInfo } from '../artifacts.ts';
import { OTHER_LANG, type Lang } from '../../messages.ts';


/** schema.json fields the ddl step may add (issue 10); absent in older files. */
interface EntityName {
  zh?: string;
  en?: string;
}

// Labels are scaffolding the hashing-zh-v3 and -v4 embedders skip (src/embed/hashing.ts SCAFFOLDING); relationships
// are arrows, not words: 引用 / "references" would make every table with a key look like a citation table.
const LABELS: Record<Lang, { table: string; entity: string; words: string; columns: string; relations: string; joins: string; byName: string }> = {
  zh: { table: '表', entity: '实体', words: '名称词', columns: '字段词', relations: '关联', joins: '连接', byName: '按名称推测' },
  en: { table: 'table', entity: 'entity', words: 'name words', columns: 'column words', relations: 'relationships', joins: 'joins', byName: 'by name' },
};

/** Key names too generic to tell which table a same-named column points to. */
const GENERIC_KEYS = new Set(['id', 'key', 'code', 'no', 'num', 'uuid', 'guid', 'pk']);

/** A one-line text safe inside an SQL line comment. */
function line(text: string): string {
  return text.replace(/[\r\n]+/g, ' ').replace(/\s+/g, ' ').trim();
}

type Words = (identifier: string) => string[];

/** A relationship as the header tells it: from a column of one table to a key of another. */
interface Link {
  from: TableInfo;
  columns: string[];
  to: TableInfo | undefined;
  toSchema: string;
  toTable: string;
  toColumns: string[];
  byName: boolean;
}

/**
 * Relationships of the schema: the declared (and confirmed inferred) foreign keys, plus, for a column no key
 * covers, the table whose single-column primary key has its name (`writes.aid` → `author.aid`) or ends it
 * (`cite.citingpid` → `paper.pid`) when exactly one table's does — what exported research databases
 * without declared keys look like. The name-only ones are marked as such.
 */
export function schemaLinks(schema: Pick<SchemaFile, 'tables'>): Link[] {
  const links: Link[] = [];
  const keyOwners = new Map<string, TableInfo[]>();
  for (const t of schema.tables) {
    if (t.primary_key?.length !== 1) continue;
    const key = t.primary_key[0]!.toLowerCase();
    if (key.length < 3 || GENERIC_KEYS.has(key)) continue;
    keyOwners.set(key, [...(keyOwners.get(key) ?? []), t]);
  }
  for (const t of schema.tables) {
    const covered = new Set<string>();
    for (const fk of t.foreign_keys ?? []) {
      const to = schema.tables.find((x) => x.schema === fk.target_schema && x.name === fk.target_table);
      links.push({ from: t, columns: fk.columns, to, toSchema: fk.target_schema, toTable: fk.target_table, toColumns: fk.target_columns, byName: false });
      for (const c of fk.columns) covered.add(c);
    }
    for (const column of t.columns ?? []) {
      if (covered.has(column.name)) continue;
      const name = column.name.toLowerCase();
      if (t.primary_key?.length === 1 && t.primary_key[0] === column.name) continue;
      let owners = keyOwners.get(name)?.filter((o) => o !== t);
      if (!owners?.length) {
        owners = [];
        for (const [key, list] of keyOwners) if (name.length > key.length && name.endsWith(key)) owners.push(...list.filter((o) => o !== t));
      }
      if (owners.length !== 1) continue;
      const to = owners[0]!;
      links.push({ from: t, columns: [column.name], to, toSchema: to.schema, toTable: to.name, toColumns: [to.primary_key[0]!], byName: true });
    }
  }
  return links;
}

/**
 * A first name word every table of a larger schema shares (`tbl` of tblDoctor, tblVisit …) says nothing about
 * any of them: it is left out of the words.
 */
function sharedPrefix(schema: Pick<SchemaFile, 'tables'>, split: (name: string) => string[]): string | undefined {
  if (schema.tables.length < 4) return undefined;
  const counts = new Map<string, number>();
  for (const t of schema.tables) {
    const words = split(t.name);
    if (words.length > 1) counts.set(words[0]!, (counts.get(words[0]!) ?? 0) + 1);
  }
  for (const [word, n] of counts) if (n > schema.tables.length / 2) return word;
  return undefined;
}

/** Initials of a table's words (`keyphrase` → kp, `grantagency` → ga). */
function initials(words: string[]): string {
  return words.map((w) => w[0] ?? '').join('');
}

/** The header lines of a table's documents (without comment markers), in the task language. */
export function tableHeaderLines(table: TableInfo, schema: Pick<SchemaFile, 'tables' | 'language'>, lexicon: Pick<Lexicon, 'isWord'>, links: Link[] = schemaLinks(schema)): string[] {
  const lang: Lang = schema.language === 'en' ? 'en' : 'zh';
  const l = LABELS[lang];
  const prefix = sharedPrefix(schema, (name) => identifierWords(name, lexicon));
  const tableWords: Words = (name) => {
    const words = identifierWords(name, lexicon);
    return words.length > 1 && words[0] === prefix ? words.slice(1) : words;
  };
  const entityOf = (t: TableInfo | undefined): string[] => {
    const entity = (t as (TableInfo & { entity?: EntityName }) | undefined)?.entity;
    return entity ? [...new Set([entity[lang], entity[OTHER_LANG[lang]]].filter((x): x is string => typeof x === 'string' && x.trim() !== '').map(line))] : [];
  };
  /** How another table is called: its words, then its entity name or comment. */
  const called = (t: TableInfo | undefined, name: string): string => {
    const said = [tableWords(name).join(' '), ...(t ? entityOf(t).slice(0, 1) : [])];
    if (t?.comment && !said.includes(line(t.comment))) said.push(line(t.comment));
    return [...new Set(said.filter(Boolean))].join(' ');
  };
  const mine = links.filter((k) => k.from === table);
  const pointing = links.filter((k) => k.to === table && k.from !== table);

  /** A column's words, a short prefix read through the schema: `aid` → author id, `kpname` → key phrase name. */
  const ownWords = tableWords(table.name);
  const abbreviates = (head: string, words: string[]) => head.length >= 1 && head.length <= 3 && words.length > 0 && (head === initials(words) || head === words[0]![0] || head === words[0]!.slice(0, head.length));
  const columnWords = (column: string): string => {
    const words = identifierWords(column, lexicon);
    const lower = column.toLowerCase();
    const link = mine.find((k) => k.columns.length === 1 && k.columns[0] === column && k.to);
    if (link) {
      const key = link.toColumns[0]!.toLowerCase();
      const target = tableWords(link.to!.name);
      // citingpid → citing paper id: the words before the target's key, then the target.
      if (lower !== key && lower.endsWith(key)) return [...identifierWords(column.slice(0, column.length - key.length), lexicon), ...target, 'id'].join(' ');
      const head = /^([a-z]{1,3})_?id$/.exec(lower)?.[1];
      if (head && abbreviates(head, target)) return [...target, 'id'].join(' ');
    }
    // aid, kpname, jname in their own table: the prefix is the table's initials.
    const short = /^([a-z]{1,3})_?(id|name|no|type|code|num)$/.exec(lower);
    if (short && !lexicon.isWord(lower) || (short && table.primary_key.length === 1 && table.primary_key[0] === column)) {
      if (abbreviates(short![1]!, ownWords)) return [...ownWords, short![2]!].join(' ');
    }
    return words.join(' ');
  };

  const out: string[] = [];
  const entityName = entityOf(table);
  // The title (first line) is what the embedder weighs most: the table, its entity, its comment and, for a
  // table that joins others (its key is made of references), the entities it joins.
  const joined = table.primary_key.length >= 2 ? mine.filter((k) => k.columns.every((c) => table.primary_key.includes(c)) && k.to && k.to !== table) : [];
  const joins = joined.length >= 2 ? [...new Set(joined.map((k) => called(k.to, k.toTable)))] : [];
  const title = [entityName.length ? entityName.join(' / ') : null, table.comment, joins.length ? `${l.joins} ${joins.join(' ↔ ')}` : null].filter(Boolean).map((x) => line(String(x)));
  out.push(`${l.table} ${table.full_name}${title.length ? `: ${[...new Set(title)].join('; ')}` : ''}`);
  if (entityName.length) out.push(`${l.entity}: ${entityName.join(' / ')}`);
  out.push(`${l.words}: ${ownWords.join(' ')}`);
  const words = table.columns.map((c) => columnWords(c.name)).filter(Boolean);
  if (words.length) out.push(`${l.columns}: ${words.join('; ')}`);

  const relations: string[] = [];
  const nameOf = (schemaName: string, tableName: string) => (schemaName === table.schema ? tableName : `${schemaName}.${tableName}`);
  for (const k of mine) {
    relations.push(
      `${table.name}.${k.columns.join(',')} → ${nameOf(k.toSchema, k.toTable)}.${k.toColumns.join(',')} (→ ${called(k.to, k.toTable)}${k.byName ? `; ${l.byName}` : ''})`,
    );
  }
  for (const k of pointing) {
    relations.push(`${nameOf(k.from.schema, k.from.name)}.${k.columns.join(',')} → ${table.name}.${k.toColumns.join(',')} (← ${called(k.from, k.from.name)}${k.byName ? `; ${l.byName}` : ''})`);
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
