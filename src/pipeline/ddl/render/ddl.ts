// <table>.ddl: executable SQL that recreates the relation — schema, the user-defined types, functions
// and sequences it needs (guarded: repeating them is harmless), CREATE TABLE / VIEW with keys, checks,
// partitions and indexes, COMMENT ON statements (each comment's source noted), and last the foreign
// keys to other tables. Executing every file of a run in filename_mapping.txt order recreates all of
// them in an empty database. Identifiers are quoted by the server (quote_ident) and every expression is
// schema-qualified, so any name works.
import type { CatalogConstraint, CatalogRelation, CatalogType } from '../../../postgres/catalog/index.ts';
import { quoteLiteral } from '../../../postgres/identifiers.ts';
import type { ColumnInfo, CommentSource, ForeignKeyInfo, TableInfo } from '../../artifacts.ts';
import { compactType } from '../model.ts';
import { isMessageKey, t, type Lang, type MessageKey, type MessageParams } from '../../../messages.ts';


export interface DdlTable {
  info: TableInfo;
  relation: CatalogRelation;
}

export interface DdlContext {
  language: Lang;
  /** oid → position in the run's order (filename_mapping.txt). */
  position: Map<number, number>;
  /** Every table of the run, by oid. */
  byOid: Map<number, DdlTable>;
}

/** A dollar-quote tag that does not occur in the text. */
function dollarTag(text: string, base = 'ddl'): string {
  let tag = `$${base}$`;
  for (let i = 1; text.includes(tag); i++) tag = `$${base}${i}$`;
  return tag;
}

function sourceNote(source: CommentSource | null, lang: Lang): string {
  if (!source || source === 'db') return '';
  return t(source === 'llm' ? 'ddl.source_llm' : 'ddl.source_offline', lang);
}

function oneLine(text: string): string {
  return text.replace(/\s+/g, ' ').trim();
}

function plainIdent(name: string): string {
  return /^[a-z_][a-z0-9_]*$/.test(name) ? name : `"${name.replace(/"/g, '""')}"`;
}

function typeStatement(type: CatalogType): string | undefined {
  if (type.extension) {
    return `CREATE EXTENSION IF NOT EXISTS ${plainIdent(type.extension)}${type.extensionSchema ? ` WITH SCHEMA ${type.extensionSchema}` : ''};`;
  }
  let create: string;
  if (type.kind === 'e') {
    create = `CREATE TYPE ${type.qName} AS ENUM (${(type.enumLabels ?? []).map(quoteLiteral).join(', ')});`;
  } else if (type.kind === 'd') {
    const parts = [`CREATE DOMAIN ${type.qName} AS ${type.domainBase}`];
    if (type.domainCollation) parts.push(`COLLATE ${type.domainCollation}`);
    if (type.domainDefault) parts.push(`DEFAULT ${type.domainDefault}`);
    if (type.domainNotNull) parts.push('NOT NULL');
    for (const check of type.domainChecks ?? []) parts.push(`CONSTRAINT ${check.replace(/\s+NOT VALID$/, '')}`);
    create = `${parts.join(' ')};`;
  } else if (type.kind === 'c') {
    create = `CREATE TYPE ${type.qName} AS (${(type.compositeAttributes ?? []).join(', ')});`;
  } else if (type.kind === 'r') {
    create = `CREATE TYPE ${type.qName} AS RANGE (SUBTYPE = ${type.rangeSubtype});`;
  } else {
    return `-- ${type.qName}: base type defined outside SQL; it must exist before this file runs`;
  }
  const tag = dollarTag(create);
  return `DO ${tag}\nBEGIN\n  ${create}\nEXCEPTION WHEN duplicate_object OR duplicate_table THEN NULL;\nEND\n${tag};`;
}

function columnDefinition(column: ColumnInfo, relation: CatalogRelation): string {
  const catalog = relation.columns.find((c) => c.name === column.name)!;
  const parts = [catalog.qName, compactType(catalog.dataType)];
  if (catalog.collation) parts.push(`COLLATE ${catalog.collation}`);
  if (catalog.generated && catalog.generationExpr) {
    parts.push(`GENERATED ALWAYS AS (${catalog.generationExpr}) ${catalog.generated === 'v' ? 'VIRTUAL' : 'STORED'}`);
  } else if (catalog.identity) {
    parts.push(`GENERATED ${catalog.identity === 'a' ? 'ALWAYS' : 'BY DEFAULT'} AS IDENTITY`);
  }
  if (catalog.notNull) parts.push('NOT NULL');
  if (catalog.default !== null && !catalog.generated) parts.push(`DEFAULT ${catalog.default}`);
  return parts.join(' ');
}

function tableConstraint(c: CatalogConstraint): string {
  return `CONSTRAINT ${c.qName} ${c.definition.replace(/\s+NOT VALID$/, '')}`;
}

function guarded(condition: string, statements: string[], notice: string): string {
  const body = statements.map((s) => s.trim()).join('\n');
  const inner = statements.map((s) => {
    const tag = dollarTag(s, 'stmt');
    return `    EXECUTE ${tag}${s.trim().replace(/;\s*$/, '')}${tag};`;
  });
  const tag = dollarTag(body + inner.join('') + notice);
  return `DO ${tag}\nBEGIN\n  IF ${condition} THEN\n${inner.join('\n')}\n  ELSE\n    RAISE NOTICE '%', ${quoteLiteral(notice)};\n  END IF;\nEND\n${tag};`;
}

function regclassExists(qualified: string): string {
  return `to_regclass(${quoteLiteral(qualified)}) IS NOT NULL`;
}

function fkStatement(source: CatalogRelation, c: CatalogConstraint): string {
  return `ALTER TABLE ${source.qualified} ADD CONSTRAINT ${c.qName} ${c.definition};`;
}

/** A foreign key whose target may not exist yet: added only when it does, and only once. */
function guardedFk(source: CatalogRelation, c: CatalogConstraint, targetQualified: string, lang: Lang): string {
  const condition = [
    regclassExists(source.qualified),
    regclassExists(targetQualified),
    `NOT EXISTS (SELECT 1 FROM pg_catalog.pg_constraint WHERE conrelid = to_regclass(${quoteLiteral(source.qualified)}) AND conname = ${quoteLiteral(c.name)})`,
  ].join('\n     AND ');
  const notice = t('ddl.fk_deferred', lang, { name: c.name, target: targetQualified });
  return guarded(condition, [fkStatement(source, c)], notice);
}

function commentTarget(relation: CatalogRelation): string {
  switch (relation.relkind) {
    case 'v':
      return 'VIEW';
    case 'm':
      return 'MATERIALIZED VIEW';
    default:
      return 'TABLE';
  }
}

function kindLabel(kind: string, lang: Lang): string {
  const key = `kind.${kind}`;
  return isMessageKey(key) ? t(key, lang) : kind;
}

function sourceCounts(info: TableInfo): Record<CommentSource, number> {
  const counts: Record<CommentSource, number> = { db: 0, llm: 0, offline: 0 };
  if (info.comment_source) counts[info.comment_source] += 1;
  for (const c of info.columns) if (c.comment_source) counts[c.comment_source] += 1;
  return counts;
}

function describeFk(fk: ForeignKeyInfo): string {
  return `${fk.columns.join(', ')} → ${fk.target_schema}.${fk.target_table}(${fk.target_columns.join(', ')})`;
}

export function renderDdl(table: DdlTable, ctx: DdlContext): string {
  const { info, relation } = table;
  const say = (key: MessageKey, params?: MessageParams) => t(key, ctx.language, params);
  const out: string[] = [];
  const counts = sourceCounts(info);
  const me = ctx.position.get(relation.oid) ?? 0;

  // Header.
  out.push(say('ddl.name', { name: oneLine(info.comment ?? info.name) }));
  out.push(
    say('ddl.description', {
      table: info.full_name,
      kind: kindLabel(info.kind, ctx.language),
      rows: `${info.rows_exact ? '' : say('ddl.about')}${info.estimated_rows}`,
      db: counts.db,
      llm: counts.llm,
      offline: counts.offline,
    }),
  );
  if (info.depends_on?.length) out.push(say('ddl.depends_on', { tables: info.depends_on.join(', ') }));
  if (relation.relkind === 'f') out.push(say('ddl.foreign_table', { server: relation.foreignServer ?? '?' }));
  out.push('');

  // Schemas.
  const schemas = new Set<string>();
  const addSchema = (schema: string, q: string) => {
    if (schema !== 'public') schemas.add(q);
  };
  addSchema(relation.schema, relation.qSchema);
  for (const t of relation.types) if (!t.extension) addSchema(t.schema, t.qSchema);
  for (const s of relation.sequences) addSchema(s.schema, s.qSchema);
  for (const p of relation.partitions) addSchema(p.schema, p.qSchema);
  for (const f of relation.functions) if (!f.extension) addSchema(f.schema, f.qSchema);
  for (const q of schemas) out.push(`CREATE SCHEMA IF NOT EXISTS ${q};`);
  if (schemas.size) out.push('');

  // Types, extensions, functions, sequences.
  const extensions = new Set<string>();
  const prelude: string[] = [];
  for (const type of relation.types) {
    const statement = typeStatement(type);
    if (!statement) continue;
    if (type.extension) {
      if (extensions.has(type.extension)) continue;
      extensions.add(type.extension);
    }
    prelude.push(statement);
  }
  const functions = relation.functions.filter((f) => f.extension || f.definition);
  if (functions.some((f) => !f.extension)) prelude.push('SET check_function_bodies = false;');
  for (const f of functions) {
    if (f.extension) {
      if (extensions.has(f.extension)) continue;
      extensions.add(f.extension);
      prelude.push(`CREATE EXTENSION IF NOT EXISTS ${plainIdent(f.extension)}${f.extensionSchema ? ` WITH SCHEMA ${f.extensionSchema}` : ''};`);
    } else {
      prelude.push(`${f.definition!.trim().replace(/;\s*$/, '')};`);
    }
  }
  for (const s of relation.sequences) {
    prelude.push(
      `CREATE SEQUENCE IF NOT EXISTS ${s.qName} AS ${s.dataType} INCREMENT BY ${s.increment} MINVALUE ${s.min} MAXVALUE ${s.max} START WITH ${s.start} CACHE ${s.cache}${s.cycle ? ' CYCLE' : ' NO CYCLE'};`,
    );
  }
  if (prelude.length) {
    out.push(say('ddl.prelude'));
    out.push(...prelude, '');
  }

  // The relation itself.
  const main: string[] = [];
  if (relation.relkind === 'v' || relation.relkind === 'm') {
    const body = (info.view_definition ?? relation.viewDefinition ?? '').trim().replace(/;\s*$/, '');
    main.push(
      relation.relkind === 'v'
        ? `CREATE VIEW ${relation.qualified} AS\n${body};`
        : `CREATE MATERIALIZED VIEW ${relation.qualified} AS\n${body}\nWITH NO DATA;`,
    );
  } else {
    const lines = info.columns.map((c) => `  ${columnDefinition(c, relation)}`);
    for (const c of relation.constraints) if (c.type === 'p' || c.type === 'u' || c.type === 'x' || c.type === 'c') lines.push(`  ${tableConstraint(c)}`);
    main.push(`CREATE TABLE ${relation.qualified} (\n${lines.join(',\n')}\n)${relation.partitionKey ? ` PARTITION BY ${relation.partitionKey}` : ''};`);
    const qByOid = new Map<number, string>([[relation.oid, relation.qualified], ...relation.partitions.map((p) => [p.oid, p.qName] as [number, string])]);
    for (const p of relation.partitions) {
      main.push(`CREATE TABLE ${p.qName} PARTITION OF ${qByOid.get(p.parent) ?? relation.qualified} ${p.bound ?? 'DEFAULT'}${p.partitionKey ? ` PARTITION BY ${p.partitionKey}` : ''};`);
    }
    for (const s of relation.sequences) {
      if (s.ownerRelid !== relation.oid || !s.ownerColumn) continue;
      const column = relation.columns.find((c) => c.name === s.ownerColumn);
      if (column) main.push(`ALTER SEQUENCE ${s.qName} OWNED BY ${relation.qualified}.${column.qName};`);
    }
  }
  for (const index of relation.indexes) {
    if (index.ownedByConstraint) continue;
    main.push(`${index.definition.replace(/ ON ONLY /, ' ON ')};`);
  }
  const kind = commentTarget(relation);
  if (info.comment) main.push(`COMMENT ON ${kind} ${relation.qualified} IS ${quoteLiteral(info.comment)};${sourceNote(info.comment_source, ctx.language)}`);
  for (const column of info.columns) {
    if (!column.comment) continue;
    const q = relation.columns.find((c) => c.name === column.name)!.qName;
    main.push(`COMMENT ON COLUMN ${relation.qualified}.${q} IS ${quoteLiteral(column.comment)};${sourceNote(column.comment_source, ctx.language)}`);
  }

  const missingViewDeps =
    relation.relkind === 'v' || relation.relkind === 'm'
      ? relation.viewDependencies.filter((d) => !ctx.byOid.has(d.oid) || (ctx.position.get(d.oid) ?? Infinity) > me)
      : [];
  if (missingViewDeps.length) {
    // Reads relations outside this run: create it only where they exist.
    out.push(
      say('ddl.view_outside_run', { tables: missingViewDeps.map((d) => `${d.schema}.${d.name}`).join(', ') }),
    );
    out.push(
      guarded(
        missingViewDeps.map((d) => regclassExists(d.qName)).join(' AND '),
        main.map((s) => s.replace(/;\s*--.*$/, ';')),
        say('ddl.view_skipped', { table: info.full_name }),
      ),
    );
  } else {
    out.push(main.join('\n'));
  }

  // Foreign keys: to earlier tables (or itself) directly; to later or absent ones guarded.
  const fkLines: string[] = [];
  for (const c of relation.constraints) {
    if (c.type !== 'f') continue;
    const targetPos = c.targetOid !== null ? ctx.position.get(c.targetOid) : undefined;
    if (c.targetOid === relation.oid || (targetPos !== undefined && targetPos < me)) fkLines.push(fkStatement(relation, c));
    else fkLines.push(guardedFk(relation, c, c.targetQName!, ctx.language));
  }
  // Foreign keys of earlier tables that point here (a cycle): added now that this table exists.
  for (const other of ctx.byOid.values()) {
    const otherPos = ctx.position.get(other.relation.oid) ?? 0;
    if (otherPos >= me) continue;
    for (const c of other.relation.constraints) {
      if (c.type === 'f' && c.targetOid === relation.oid) fkLines.push(guardedFk(other.relation, c, relation.qualified, ctx.language));
    }
  }
  if (fkLines.length) {
    out.push('', say('ddl.foreign_keys'), ...fkLines);
  }

  const inferred = info.foreign_keys.filter((fk) => fk.inferred || fk.origin === 'user');
  if (inferred.length) {
    out.push('', say('ddl.inferred'));
    for (const fk of inferred) out.push(`--   ${describeFk(fk)}${fk.evidence ? ` [${oneLine(fk.evidence)}]` : ''}`);
  }
  return `${out.join('\n').replace(/\n{3,}/g, '\n\n').trimEnd()}\n`;
}
