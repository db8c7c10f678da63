// What Vanna's PG_VectorStore reads (spec/vector-store.md): collection names, document texts and ids.
// Ids are `<uuid>-<suffix>` like Vanna's, but the uuid is derived from (collection, normalised content),
// so loading the same item twice is a no-op instead of a duplicate row.
import { createHash } from 'node:crypto';

export const COLLECTIONS = ['sql', 'ddl', 'documentation'] as const;
export type CollectionName = (typeof COLLECTIONS)[number];
/** Vanna also knows `error_sql`; searches may name it. */
export const SEARCHABLE_COLLECTIONS = ['sql', 'ddl', 'documentation', 'error_sql'] as const;
export type SearchableCollection = (typeof SEARCHABLE_COLLECTIONS)[number];

export const ID_SUFFIX: Record<string, string> = { sql: '-sql', ddl: '-ddl', documentation: '-doc', error_sql: '-error_sql' };

/** Fixed namespace of our name-based (version 5) UUIDs. */
const NAMESPACE = Buffer.from('6f1b7f4e2c8a4d3b9a5e0d2c1b3a4f5e', 'hex');

/** RFC 4122 version-5 UUID of `name` in our namespace. */
export function uuidV5(name: string): string {
  const hash = createHash('sha1').update(NAMESPACE).update(name, 'utf8').digest();
  hash[6] = (hash[6]! & 0x0f) | 0x50;
  hash[8] = (hash[8]! & 0x3f) | 0x80;
  const hex = hash.subarray(0, 16).toString('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Unicode NFC, LF line ends, no trailing blanks on lines, no leading/trailing blank lines. */
export function normaliseText(text: string): string {
  return text
    .normalize('NFC')
    .replace(/\r\n?/g, '\n')
    .replace(/[ \t\u3000]+$/gm, '')
    .trim();
}

/** The deterministic row id of a document: `<uuid5(collection + content)>-<suffix>`. */
export function documentId(collection: string, normalisedContent: string): string {
  const suffix = ID_SUFFIX[collection] ?? `-${collection}`;
  return `${uuidV5(`${collection}\n${normalisedContent}`)}${suffix}`;
}

/** The collection uuid we use when we create a collection (an existing one keeps its own). */
export function collectionUuid(name: string): string {
  return uuidV5(`collection\n${name}`);
}

/**
 * Vanna's sql document: JSON text of a plain object of two strings, non-ASCII kept as is (Vanna reads it
 * with Python's ast.literal_eval, and JSON.stringify's escapes are all valid Python string escapes).
 */
export function questionSqlDocument(question: string, sql: string): string {
  return JSON.stringify({ question, sql });
}

/** Reads a sql document back; null parts for a row someone else wrote in another format. */
export function parseQuestionSqlDocument(document: string): { question: string | null; sql: string | null } {
  let pair: { question?: unknown; sql?: unknown } = {};
  try {
    pair = JSON.parse(document) ?? {};
  } catch {
    // not our format: no question, no sql
  }
  return { question: typeof pair.question === 'string' ? pair.question : null, sql: typeof pair.sql === 'string' ? pair.sql : null };
}

export interface PreparedDocument {
  id: string;
  collection: CollectionName;
  document: string;
}

export function prepareDocument(collection: CollectionName, content: string): PreparedDocument {
  const document = normaliseText(content);
  return { id: documentId(collection, document), collection, document };
}

export function prepareQuestionSql(question: string, sql: string): PreparedDocument {
  const document = questionSqlDocument(normaliseText(question), normaliseText(sql));
  return { id: documentId('sql', document), collection: 'sql', document };
}
