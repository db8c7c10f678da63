// Renders a generated schema into the task directory: <table>.ddl, <table>_detail.md, schema.json and
// filename_mapping.txt. Each file is written atomically (temp file + rename), so a re-run replaces the
// previous files in place — never `_1` copies — and files of tables a previous run wrote but this one
// does not are removed.
import fs from 'node:fs/promises';
import path from 'node:path';
import { FILENAME_MAPPING_FILE, readSchemaFile, resolveArtifactPath, SCHEMA_FILE, type SchemaFile, type TableInfo } from '../artifacts.ts';
import type { Lang } from '../../messages.ts';
import type { GeneratedTable, TableFailure } from './generate.ts';
import { renderDdl, type DdlTable } from './render/ddl.ts';
import { parseMapping, renderMapping } from './render/files.ts';
import { displayName, renderMarkdown, type IncomingReference } from './render/markdown.ts';
import { writeFileAtomic } from '../../files.ts';

const writeOutput = (file: string, content: string) => writeFileAtomic(file, content, { fsync: false });

export interface RenderedTable {
  info: TableInfo;
  ddl: string;
  md: string;
}

/** Incoming references of every table of the run (declared and inferred FKs of the others). */
export function incomingReferences(tables: TableInfo[]): Map<string, IncomingReference[]> {
  const out = new Map<string, IncomingReference[]>();
  for (const t of tables) {
    for (const fk of t.foreign_keys) {
      const key = `${fk.target_schema}.${fk.target_table}`;
      if (key === t.full_name) continue;
      out.set(key, [...(out.get(key) ?? []), { source: displayName(t), fk }]);
    }
  }
  return out;
}

/** .ddl and .md text of each table (tables in dependency order). */
export function renderTables(tables: GeneratedTable[], language: Lang): RenderedTable[] {
  const position = new Map(tables.map((t, i) => [t.relation.oid, i]));
  const byOid = new Map<number, DdlTable>(tables.map((t) => [t.relation.oid, { info: t.info, relation: t.relation }]));
  const incoming = incomingReferences(tables.map((t) => t.info));
  return tables.map((t) => ({
    info: t.info,
    ddl: renderDdl({ info: t.info, relation: t.relation }, { language, position, byOid }),
    md: renderMarkdown(t.info, incoming.get(t.info.full_name) ?? [], language),
  }));
}

export interface WriteOptions {
  dir: string;
  language: Lang;
  database: { name: string; server_version: string };
  businessContext: string | null;
  llmModel: string | null;
  failures: TableFailure[];
}

/** Writes every output file; returns the schema file written and the names of stale files removed. */
export async function writeOutputs(tables: GeneratedTable[], options: WriteOptions): Promise<{ schema: SchemaFile; removed: string[] }> {
  const generatedAt = new Date().toISOString();
  const rendered = renderTables(tables, options.language);
  const previous = await previousFiles(options.dir);
  await fs.mkdir(options.dir, { recursive: true });
  const written = new Set<string>();
  for (const r of rendered) {
    await writeOutput(path.join(options.dir, r.info.files.ddl), r.ddl);
    await writeOutput(path.join(options.dir, r.info.files.detail), r.md);
    written.add(r.info.files.ddl);
    written.add(r.info.files.detail);
  }
  const schema: SchemaFile = {
    version: 1,
    generated_at: generatedAt,
    database: options.database,
    business_context: options.businessContext,
    language: options.language,
    tables: rendered.map((r) => r.info),
    ...(options.failures.length ? { failed_tables: options.failures } : {}),
    llm_model: options.llmModel,
  };
  await writeOutput(path.join(options.dir, SCHEMA_FILE), `${JSON.stringify(schema, null, 2)}\n`);
  await writeOutput(path.join(options.dir, FILENAME_MAPPING_FILE), renderMapping(schema.tables, options.language, generatedAt));
  const removed: string[] = [];
  for (const file of previous) {
    if (written.has(file) || !/\.(ddl|md)$/.test(file) || file.includes('/') || file.includes('\\') || file.startsWith('.')) continue;
    await fs.rm(path.join(options.dir, file), { force: true });
    removed.push(file);
  }
  return { schema, removed };
}

/** Files a previous run listed (schema.json and filename_mapping.txt). */
async function previousFiles(dir: string): Promise<string[]> {
  const files = new Set<string>();
  try {
    // Only names a previous run wrote: read through the contract reader (no symlink, checked shape).
    const schema = (await readSchemaFile(dir, 'SCHEMA_INVALID'))!;
    for (const t of schema.tables ?? []) {
      if (typeof t?.files?.ddl === 'string') files.add(t.files.ddl);
      if (typeof t?.files?.detail === 'string') files.add(t.files.detail);
    }
  } catch {
    // no previous run
  }
  try {
    const mapping = await resolveArtifactPath(dir, FILENAME_MAPPING_FILE);
    for (const entry of parseMapping(mapping ? await fs.readFile(mapping, 'utf8') : '')) {
      files.add(entry.ddl);
      files.add(entry.detail);
    }
  } catch {
    // no previous run
  }
  return [...files];
}
