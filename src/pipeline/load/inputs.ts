// What training_load loads: exactly the outputs of this task, as the shared contract names them
// (pipeline/artifacts.ts) — never "every file in the folder":
//   ddl            ← each table's files.ddl in schema.json
//   documentation  ← each table's files.detail in schema.json, and the business-level documents below
//   sql            ← the validated pairs (sql_validation_result.json → validated_file), or, when
//                    validation is disabled, the newest pair file as generated
import fs from 'node:fs/promises';
import path from 'node:path';
import {
  latestPairFile,
  PAIR_REVIEW_FILE,
  pairMetaFileName,
  pairMetaFileSchema,
  pairReviewFileSchema,
  pairFileSchema,
  readArtifact,
  readSchemaFile,
  readValidationResult,
  resolveArtifactPath,
  SCHEMA_FILE,
  VALIDATION_RESULT_FILE,
} from '../artifacts.ts';
import { stepError, type TaskParameters } from '../context.ts';
import { loadLexicon } from '../../embed/lexicon.ts';
import { prepareDocument, prepareQuestionSql, type CollectionName, type PreparedDocument } from '../../vector/documents.ts';
import { ddlDocument, detailDocument, schemaLinks, tableHeaderLines } from './documents.ts';

/** Business-level documents written by qa_generation that belong in `documentation` when present. */
export const BUSINESS_DOC_FILES = ['db_query_decision_prompt.txt'] as const;

export type ItemKind = 'ddl' | 'table_detail' | 'business_doc' | 'question_sql';

export interface LoadItem {
  collection: CollectionName;
  kind: ItemKind;
  /** Relative to the task directory. */
  file: string;
  table?: string;
  /** Position in the pair file (question_sql items). */
  index?: number;
  /** Set when the item is usable. */
  doc?: PreparedDocument;
  /** Set when it is not: why. Such an item counts as a failed row. */
  error?: string;
}

export interface LoadInputs {
  items: LoadItem[];
  /** Rows of pairs the review rejected or replaced (pair_review.json): they leave the store. */
  removedIds: string[];
  review: { rejected: number; edited: number; added: number } | null;
  pairFile: string | null;
  /** Where the pair file choice came from. */
  pairSource: 'validated' | 'generated' | null;
}

export async function collectInputs(dir: string, parameters: Pick<TaskParameters, 'enable_sql_validation'>): Promise<LoadInputs> {
  const items: LoadItem[] = await tableItems(dir);
  for (const file of BUSINESS_DOC_FILES) {
    if (await fs.lstat(path.join(dir, file)).then((s) => s.isFile(), () => false)) items.push(await fileItem(dir, 'documentation', 'business_doc', file));
  }

  let pairFile: string | null = null;
  let pairSource: LoadInputs['pairSource'] = null;
  if (parameters.enable_sql_validation === false) {
    pairFile = (await latestPairFile(dir)) ?? null;
    pairSource = 'generated';
    if (!pairFile) throw stepError('TRAINING_INPUT_MISSING', 'step.pair_file_missing');
  } else {
    const result = await readValidationResult(dir, 'TRAINING_INPUT_INVALID');
    if (!result) {
      throw stepError('TRAINING_INPUT_MISSING', 'step.validation_result_missing', { file: VALIDATION_RESULT_FILE });
    }
    pairFile = result.validated_file;
    pairSource = 'validated';
  }
  const pairs = await reviewedPairItems(dir, pairFile, await pairItems(dir, pairFile));
  items.push(...pairs.items);
  return { items, removedIds: pairs.removedIds, review: pairs.review, pairFile, pairSource };
}

/** The `ddl` and `documentation` items of every table in schema.json (with their word headers). */
export async function tableItems(dir: string): Promise<LoadItem[]> {
  const items: LoadItem[] = [];
  const schema = await readSchemaFile(dir, 'TRAINING_INPUT_INVALID');
  if (!schema) {
    throw stepError('TRAINING_INPUT_MISSING', 'step.schema_missing', { file: SCHEMA_FILE });
  }
  const lexicon = await loadLexicon();
  let links: ReturnType<typeof schemaLinks> | undefined;
  try {
    links = schemaLinks(schema);
  } catch {
    // Tables without the usual fields: no relationships in words.
  }
  for (const table of schema.tables) {
    const name = typeof table?.full_name === 'string' ? table.full_name : String(table?.name ?? '?');
    let header: string[] = [];
    try {
      header = tableHeaderLines(table, schema, lexicon, links ?? []);
    } catch {
      // A table entry without the usual fields: its files load as they are.
    }
    items.push(await fileItem(dir, 'ddl', 'ddl', table?.files?.ddl, name, (text) => ddlDocument(text, header)));
    items.push(await fileItem(dir, 'documentation', 'table_detail', table?.files?.detail, name, (text) => detailDocument(text, header)));
  }
  return items;
}

async function readContractFile(dir: string, file: unknown): Promise<string> {
  const full = await resolveArtifactPath(dir, file);
  if (!full) throw new Error(`${String(file)} not found`);
  const text = await fs.readFile(full, 'utf8');
  return text.replace(/^\uFEFF/, '');
}

async function fileItem(dir: string, collection: CollectionName, kind: ItemKind, file: unknown, table?: string, withHeader?: (text: string) => string): Promise<LoadItem> {
  const shown = typeof file === 'string' ? file : '(missing)';
  const base: LoadItem = { collection, kind, file: shown, ...(table ? { table } : {}) };
  try {
    const text = await readContractFile(dir, file);
    if (!text.trim()) return { ...base, error: `${shown} is empty` };
    const doc = prepareDocument(collection, withHeader ? withHeader(text) : text);
    if (!doc.document) return { ...base, error: `${shown} is empty` };
    return { ...base, doc };
  } catch (error) {
    return { ...base, error: (error as Error).message };
  }
}

/**
 * The pairs as the review left them (pair_review.json, when it names this task's pair file): rejected
 * pairs are left out and edited ones replaced, pairs added by hand appended; the rows of what was left
 * out or replaced are returned for removal (their ids are deterministic, so this is exact).
 */
async function reviewedPairItems(dir: string, loadedFile: string, items: LoadItem[]): Promise<{ items: LoadItem[]; removedIds: string[]; review: LoadInputs['review'] }> {
  const review = await readArtifact(dir, PAIR_REVIEW_FILE, pairReviewFileSchema, 'TRAINING_INPUT_INVALID');
  if (!review) return { items, removedIds: [], review: null };
  const meta = await readArtifact(dir, pairMetaFileName(review.pair_file), pairMetaFileSchema, 'TRAINING_INPUT_INVALID').catch(() => undefined);
  if (!meta || (loadedFile !== review.pair_file && !loadedFile.startsWith(review.pair_file.replace(/\.json$/, '')))) return { items, removedIds: [], review: null };
  // The loaded file holds the kept pairs in the meta's order (or all of them when nothing was validated).
  const kept = meta.pairs.filter((p) => ((p as { validation?: { kept?: boolean } }).validation?.kept ?? true)).map((p) => p.index);
  if (kept.length !== items.length) throw stepError('TRAINING_INPUT_INVALID', 'step.review_mismatch', { review: PAIR_REVIEW_FILE, file: loadedFile, count: items.length, meta: pairMetaFileName(review.pair_file), kept: kept.length });
  const out: LoadItem[] = [];
  const removedIds: string[] = [];
  const counts = { rejected: 0, edited: 0, added: 0 };
  items.forEach((item, k) => {
    const entry = review.pairs[String(kept[k])];
    if (!entry) return void out.push(item);
    if (entry.rejected) {
      counts.rejected += 1;
      if (item.doc) removedIds.push(item.doc.id);
      return;
    }
    if (entry.edit) {
      counts.edited += 1;
      if (item.doc) removedIds.push(item.doc.id);
      return void out.push({ ...item, doc: prepareQuestionSql(entry.edit.question, entry.edit.sql) });
    }
    out.push(item);
  });
  review.added.forEach((a, i) => {
    const doc = prepareQuestionSql(a.question, a.sql);
    if (a.rejected) return void removedIds.push(doc.id);
    counts.added += 1;
    out.push({ collection: 'sql', kind: 'question_sql', file: PAIR_REVIEW_FILE, index: i, doc });
  });
  const keep = new Set(out.map((i) => i.doc?.id));
  return { items: out, removedIds: [...new Set(removedIds)].filter((id) => !keep.has(id)), review: counts };
}

async function pairItems(dir: string, file: string): Promise<LoadItem[]> {
  const parsed = await readArtifact(dir, file, pairFileSchema, 'TRAINING_INPUT_INVALID');
  if (!parsed) throw stepError('TRAINING_INPUT_INVALID', 'step.pair_file_unreadable', { file });
  return parsed.map((entry, index): LoadItem => {
    const base: LoadItem = { collection: 'sql', kind: 'question_sql', file, index };
    const question = (entry as { question?: unknown })?.question;
    const sql = (entry as { sql?: unknown })?.sql;
    if (typeof question !== 'string' || !question.trim()) return { ...base, error: `pair #${index + 1} has no question` };
    if (typeof sql !== 'string' || !sql.trim()) return { ...base, error: `pair #${index + 1} has no sql` };
    return { ...base, doc: prepareQuestionSql(question, sql) };
  });
}
