/**
 * Table-list files: decoding (UTF-8 / BOMs / GBK), parsing (lines, commas, comments, quoted identifiers),
 * de-duplication and validation of `table` / `schema.table` names with PostgreSQL identifier rules.
 */
import iconv from 'iconv-lite';
import { foldUnquoted, parseQualifiedName, type QualifiedNameError } from '../postgres/identifiers.ts';

/** Maximum number of distinct table names a list may hold. */
export const MAX_TABLES = 10_000;

/** PostgreSQL's NAMEDATALEN - 1: the longest identifier, in bytes. */
export const MAX_IDENTIFIER_BYTES = 63;

export type TableListErrorCode = 'INVALID_TABLE_NAME' | 'EMPTY_TABLE_LIST' | 'TOO_MANY_TABLES';

export type InvalidTableNameReason =
  | 'EMPTY'
  | 'EMPTY_PART'
  | 'TOO_MANY_PARTS'
  | 'UNTERMINATED_QUOTE'
  | 'INVALID_CHARACTER'
  | 'STARTS_WITH_DIGIT'
  | 'TOO_LONG'
  | 'CONTROL_CHARACTER';

export interface InvalidTableName {
  /** The name as written. */
  name: string;
  reason: InvalidTableNameReason;
  /** Chinese explanation. */
  message: string;
  /** English explanation. */
  message_en: string;
}

export interface ParsedTableName {
  schema?: string;
  table: string;
}

const REASON_TEXT: Record<InvalidTableNameReason, { zh: string; en: string }> = {
  EMPTY: { zh: '表名为空', en: 'the name is empty' },
  EMPTY_PART: { zh: '表名包含空的部分', en: 'the name has an empty part' },
  TOO_MANY_PARTS: { zh: '表名最多只能是 schema.table 两部分', en: 'at most two parts (schema.table) are allowed' },
  UNTERMINATED_QUOTE: { zh: '双引号未闭合', en: 'unterminated double quote' },
  INVALID_CHARACTER: {
    zh: '未加引号的标识符只能包含字母、数字、下划线和 $',
    en: 'unquoted identifiers may only contain letters, digits, "_" and "$"',
  },
  STARTS_WITH_DIGIT: { zh: '未加引号的标识符不能以数字或 $ 开头', en: 'unquoted identifiers may not start with a digit or "$"' },
  TOO_LONG: { zh: `标识符超过 ${MAX_IDENTIFIER_BYTES} 字节`, en: `an identifier is longer than ${MAX_IDENTIFIER_BYTES} bytes` },
  CONTROL_CHARACTER: { zh: '表名包含控制字符', en: 'the name contains control characters' },
};

/** How many invalid names are spelled out in an error message (all are in `invalidNames`). */
const MAX_NAMES_IN_MESSAGE = 20;

export class TableListError extends Error {
  readonly code: TableListErrorCode;
  /** English variant of `message` (the default message is Chinese, like the API guide). */
  readonly messageEn: string;
  /** The offending name, when a single name is at fault (validateTableName). */
  readonly tableName?: string;
  /** Every invalid name found (INVALID_TABLE_NAME). */
  readonly invalidNames: InvalidTableName[];
  /** Limit and actual count (TOO_MANY_TABLES). */
  readonly limit?: number;
  readonly count?: number;

  constructor(
    code: TableListErrorCode,
    message: string,
    options: {
      messageEn?: string;
      tableName?: string;
      invalidNames?: InvalidTableName[];
      limit?: number;
      count?: number;
    } = {},
  ) {
    super(message);
    this.name = 'TableListError';
    this.code = code;
    this.messageEn = options.messageEn ?? message;
    this.tableName = options.tableName;
    this.invalidNames = options.invalidNames ?? [];
    this.limit = options.limit;
    this.count = options.count;
  }
}

function invalid(name: string, reason: InvalidTableNameReason): TableListError {
  const text = REASON_TEXT[reason];
  const item: InvalidTableName = { name, reason, message: text.zh, message_en: text.en };
  return new TableListError('INVALID_TABLE_NAME', `无效的表名 ${JSON.stringify(name)}：${text.zh}`, {
    messageEn: `Invalid table name ${JSON.stringify(name)}: ${text.en}`,
    tableName: name,
    invalidNames: [item],
  });
}

// ---------------------------------------------------------------------------------------------------------
// Decoding

const utf8Fatal = new TextDecoder('utf-8', { fatal: true });
const utf8Lenient = new TextDecoder('utf-8');

/**
 * Decodes the bytes of a table-list file: UTF-16 LE/BE with a BOM, UTF-8 (a BOM is stripped), and anything
 * that is not valid UTF-8 is read as GBK (via GB18030, its superset, so every GBK file decodes the same).
 */
export function decodeTableListFile(bytes: Buffer | Uint8Array): string {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length >= 3 && buf[0] === 0xef && buf[1] === 0xbb && buf[2] === 0xbf) {
    return utf8Lenient.decode(buf.subarray(3));
  }
  if (buf.length >= 2 && buf[0] === 0xff && buf[1] === 0xfe) {
    return iconv.decode(buf.subarray(2), 'utf-16le');
  }
  if (buf.length >= 2 && buf[0] === 0xfe && buf[1] === 0xff) {
    return iconv.decode(buf.subarray(2), 'utf-16be');
  }
  try {
    return utf8Fatal.decode(buf);
  } catch {
    return iconv.decode(buf, 'gb18030');
  }
}

// ---------------------------------------------------------------------------------------------------------
// Parsing

function isLineBreak(ch: string): boolean {
  return ch === '\n' || ch === '\r' || ch === '\u2028' || ch === '\u2029';
}

/**
 * Splits a table-list text into names: one per line and/or separated by ',' or '，'; '#' and '--' start a
 * comment up to the end of the line unless inside a double-quoted identifier; a double quote never spans
 * lines (an unterminated quote ends with its line and is reported by validation). Names are trimmed, blank
 * entries ignored, duplicates (after PostgreSQL normalisation) dropped keeping the first occurrence.
 * The names are returned as written.
 */
export function parseTableList(text: string): string[] {
  const raw: string[] = [];
  let current = '';
  let inQuote = false;
  let inComment = false;
  const flush = (): void => {
    const name = current.trim();
    if (name !== '') raw.push(name);
    current = '';
  };
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (isLineBreak(ch)) {
      flush();
      inQuote = false;
      inComment = false;
      continue;
    }
    if (inComment) continue;
    if (inQuote) {
      current += ch;
      if (ch === '"') inQuote = false; // '""' re-opens on the next character: an escaped quote
      continue;
    }
    if (ch === '"') {
      inQuote = true;
      current += ch;
    } else if (ch === '#' || (ch === '-' && text[i + 1] === '-')) {
      flush();
      inComment = true;
    } else if (ch === ',' || ch === '，') {
      flush();
    } else {
      current += ch;
    }
  }
  flush();
  return dedupeTableNames(raw);
}

/** Drops duplicates (compared by `tableNameKey`), keeping the first occurrence and the order. */
export function dedupeTableNames(names: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const name of names) {
    const key = tableNameKey(name);
    if (seen.has(key)) continue;
    seen.add(key);
    out.push(name);
  }
  return out;
}

/**
 * Comparison key of a name: its PostgreSQL-normalised parts for a valid name (so `Orders`, `orders` and
 * `"orders"` are one table, `"Orders"` another); the trimmed text itself for an invalid one.
 */
export function tableNameKey(name: string): string {
  try {
    const { schema, table } = validateTableName(name);
    return JSON.stringify(schema === undefined ? [table] : [schema, table]);
  } catch {
    return `invalid:${name.trim()}`;
  }
}

// ---------------------------------------------------------------------------------------------------------
// Validation

// C0/C1 controls; also DEL. (Tabs inside a name are control characters too.)
// eslint-disable-next-line no-control-regex
const CONTROL_CHARS = /[\u0000-\u001f\u007f-\u009f]/;
const UNQUOTED_START = /^[\p{L}_]/u;
const UNQUOTED_BODY = /^[\p{L}\p{M}_0-9$]*$/u;

function isSpace(ch: string | undefined): boolean {
  return ch === ' ' || ch === '\t' || ch === '\u3000' || ch === '\u00a0';
}

const SPLIT_ERRORS: Record<QualifiedNameError, InvalidTableNameReason> = {
  empty_part: 'EMPTY_PART',
  unterminated_quote: 'UNTERMINATED_QUOTE',
  empty_quoted: 'EMPTY_PART', // PostgreSQL: zero-length delimited identifier
  unexpected_after_identifier: 'INVALID_CHARACTER', // e.g. `a b`, `"a"b`, `a"b"`
  too_many_parts: 'TOO_MANY_PARTS',
};

/**
 * Parses `table` or `schema.table` with PostgreSQL's identifier rules: unquoted parts are folded to lower
 * case and may contain letters (any script), digits, '_' and '$' but not start with a digit; quoted parts
 * are kept as written with '""' unescaped. Spaces around the dot are allowed. Each part is at most 63 bytes.
 * Throws TableListError('INVALID_TABLE_NAME') otherwise.
 */
export function validateTableName(name: string): ParsedTableName {
  if (typeof name !== 'string') throw invalid(String(name), 'EMPTY');
  const text = name.trim();
  if (text === '') throw invalid(name, 'EMPTY');
  if (CONTROL_CHARS.test(text)) throw invalid(name, 'CONTROL_CHARACTER');

  const { parts: split, error } = parseQualifiedName(text, { isSpace, spaceEndsUnquoted: true, maxParts: 2 });
  // The parts before an error come first in the text, so their own errors are reported first.
  const parts: string[] = [];
  for (const { value, quoted } of split) {
    if (!quoted) {
      // The regexes use the `u` flag on the whole word, so letters outside the BMP are handled.
      if (!UNQUOTED_BODY.test(value)) throw invalid(name, 'INVALID_CHARACTER');
      if (!UNQUOTED_START.test(value)) {
        throw invalid(name, /^[0-9$]/.test(value) ? 'STARTS_WITH_DIGIT' : 'INVALID_CHARACTER');
      }
    }
    const part = quoted ? value : foldUnquoted(value);
    if (Buffer.byteLength(part, 'utf8') > MAX_IDENTIFIER_BYTES) throw invalid(name, 'TOO_LONG');
    parts.push(part);
  }
  if (error) throw invalid(name, SPLIT_ERRORS[error]);
  if (parts.length === 1) return { table: parts[0] };
  return { schema: parts[0], table: parts[1] };
}

/**
 * Validates a list of names (trimmed, de-duplicated, capped at `maxTables`): returns them as written, or
 * throws TableListError — TOO_MANY_TABLES, INVALID_TABLE_NAME (listing every invalid name) or
 * EMPTY_TABLE_LIST.
 */
export function validateTableNames(
  names: readonly string[],
  options: { maxTables?: number } = {},
): { tables: string[] } {
  const maxTables = options.maxTables ?? MAX_TABLES;
  const trimmed = names.map((s) => (typeof s === 'string' ? s.trim() : String(s))).filter((s) => s !== '');
  const tables = dedupeTableNames(trimmed);
  if (tables.length > maxTables) {
    throw new TableListError(
      'TOO_MANY_TABLES',
      `表清单包含 ${tables.length} 个表，超过上限 ${maxTables}`,
      {
        messageEn: `The table list holds ${tables.length} tables, more than the limit of ${maxTables}`,
        limit: maxTables,
        count: tables.length,
      },
    );
  }
  const invalidNames: InvalidTableName[] = [];
  for (const t of tables) {
    try {
      validateTableName(t);
    } catch (err) {
      if (err instanceof TableListError) invalidNames.push(...err.invalidNames);
      else throw err;
    }
  }
  if (invalidNames.length > 0) {
    const shown = invalidNames.slice(0, MAX_NAMES_IN_MESSAGE);
    const more = invalidNames.length - shown.length;
    const zh = shown.map((x) => `${JSON.stringify(x.name)}（${x.message}）`).join('；');
    const en = shown.map((x) => `${JSON.stringify(x.name)} (${x.message_en})`).join('; ');
    throw new TableListError(
      'INVALID_TABLE_NAME',
      `表清单包含 ${invalidNames.length} 个无效表名：${zh}${more > 0 ? `；另有 ${more} 个` : ''}`,
      {
        messageEn: `The table list has ${invalidNames.length} invalid table name(s): ${en}${more > 0 ? `; and ${more} more` : ''}`,
        invalidNames,
        tableName: invalidNames.length === 1 ? invalidNames[0].name : undefined,
      },
    );
  }
  if (tables.length === 0) {
    throw new TableListError('EMPTY_TABLE_LIST', '表清单为空：没有任何表名', {
      messageEn: 'The table list is empty: no table names',
    });
  }
  return { tables };
}

/** parseTableList + validateTableNames. */
export function parseAndValidateTableList(text: string, options: { maxTables?: number } = {}): { tables: string[] } {
  return validateTableNames(parseTableList(text), options);
}

/** Schemas of PostgreSQL's own catalogs: a task reads them only when asked to (include_system_schemas). */
export const SYSTEM_SCHEMAS = ['pg_catalog', 'information_schema', 'pg_toast'] as const;

/** The names that are written as `<system schema>.table` (unqualified names are resolved by the database). */
export function systemSchemaTables(tables: readonly string[]): string[] {
  return tables.filter((name) => {
    try {
      const schema = validateTableName(name).schema;
      return schema !== undefined && (SYSTEM_SCHEMAS as readonly string[]).includes(schema);
    } catch {
      return false;
    }
  });
}

/** 1-based line of `text` where `name` is written, for messages about a file; undefined when not found. */
export function lineOfName(text: string, name: string): number | undefined {
  const index = text.split(/\r\n|\n|\r/).findIndex((line) => line.includes(name));
  return index < 0 ? undefined : index + 1;
}

/** The canonical file form of a list (one name per line, trailing newline), e.g. for `table_list.txt`. */
export function formatTableList(tables: readonly string[]): string {
  return tables.length === 0 ? '' : `${tables.join('\n')}\n`;
}
