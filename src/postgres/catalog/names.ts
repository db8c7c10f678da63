// Table names as users write them (`orders`, `public.orders`, `"Sales Ops"."Order"`, `销售.订单`) and the
// candidates they resolve to in the catalog. PostgreSQL's own rules come first: unquoted parts fold to
// lower case, quoted parts are kept as written. As a convenience a second candidate keeps unquoted
// parts as written, so `Orders` also finds a table created as "Orders" when no `orders` exists.
import { foldUnquoted, parseQualifiedName, type IdentifierPart, type QualifiedNameError } from '../identifiers.ts';

export interface RequestedName {
  /** The name as written. */
  input: string;
  /** Lookup candidates, most faithful first. `schema` undefined: search_path. */
  candidates: Array<{ schema: string | undefined; name: string }>;
}

export class TableNameError extends Error {
  constructor(
    readonly input: string,
    reason: string,
  ) {
    super(`invalid table name ${JSON.stringify(input)}: ${reason}`);
    this.name = 'TableNameError';
  }
}

const SPLIT_ERRORS: Record<QualifiedNameError, string> = {
  empty_part: 'empty part',
  unterminated_quote: 'unterminated double quote',
  empty_quoted: 'empty quoted identifier',
  unexpected_after_identifier: 'unexpected characters after an identifier',
  too_many_parts: 'at most schema.table',
};

/** Splits `a.b` / `"a.b"."c"` into parts; throws TableNameError on unbalanced quotes or empty parts. */
function splitParts(input: string): IdentifierPart[] {
  const { parts, error } = parseQualifiedName(input);
  if (error) throw new TableNameError(input, SPLIT_ERRORS[error]);
  if (parts.length > 2) throw new TableNameError(input, SPLIT_ERRORS.too_many_parts);
  return parts;
}

/** Parses one table name into its lookup candidates. */
export function parseTableName(input: string): RequestedName {
  const parts = splitParts(input);
  const [schemaPart, namePart] = parts.length === 2 ? [parts[0], parts[1]!] : [undefined, parts[0]!];
  const fold = (p: IdentifierPart) => (p.quoted ? p.value : foldUnquoted(p.value));
  const candidates: RequestedName['candidates'] = [{ schema: schemaPart ? fold(schemaPart) : undefined, name: fold(namePart) }];
  const asWritten = { schema: schemaPart?.value, name: namePart.value };
  if (asWritten.schema !== candidates[0]!.schema || asWritten.name !== candidates[0]!.name) candidates.push(asWritten);
  return { input, candidates };
}

/**
 * Reads a table-list text (the task's `table_list.txt`): one name per line; blank lines and lines
 * starting with `#` or `--` are skipped; duplicates (same text) dropped, order kept.
 */
export function readTableListText(text: string): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const raw of text.replace(/^\uFEFF/, '').split(/\r?\n/)) {
    const line = raw.trim();
    if (!line || line.startsWith('#') || line.startsWith('--')) continue;
    if (seen.has(line)) continue;
    seen.add(line);
    out.push(line);
  }
  return out;
}

/** `schema.name` unquoted, as users write it (TableInfo.full_name). */
export function fullName(schema: string, name: string): string {
  return `${schema}.${name}`;
}

/**
 * A `*`/`?` wildcard pattern as a LIKE pattern (escape character `\`): `bss_*` → `bss\_%`.
 * Text without wildcards matches itself exactly.
 */
export function wildcardToLike(pattern: string): string {
  let out = '';
  for (const ch of pattern) {
    if (ch === '*') out += '%';
    else if (ch === '?') out += '_';
    else if (ch === '%' || ch === '_' || ch === '\\') out += `\\${ch}`;
    else out += ch;
  }
  return out;
}
