// Table names as users write them (`orders`, `public.orders`, `"Sales Ops"."Order"`, `销售.订单`) and the
// candidates they resolve to in the catalog. PostgreSQL's own rules come first: unquoted parts fold to
// lower case, quoted parts are kept as written. As a convenience a second candidate keeps unquoted
// parts as written, so `Orders` also finds a table created as "Orders" when no `orders` exists.

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

function foldAscii(part: string): string {
  return part.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

interface Part {
  text: string;
  quoted: boolean;
}

/** Splits `a.b` / `"a.b"."c"` into parts; throws TableNameError on unbalanced quotes or empty parts. */
function splitParts(input: string): Part[] {
  const text = input.trim();
  const parts: Part[] = [];
  let i = 0;
  for (;;) {
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) throw new TableNameError(input, 'empty part');
    if (text[i] === '"') {
      i++;
      let value = '';
      let closed = false;
      while (i < text.length) {
        if (text[i] === '"') {
          if (text[i + 1] === '"') {
            value += '"';
            i += 2;
            continue;
          }
          closed = true;
          i++;
          break;
        }
        value += text[i];
        i++;
      }
      if (!closed) throw new TableNameError(input, 'unterminated double quote');
      if (value === '') throw new TableNameError(input, 'empty quoted identifier');
      parts.push({ text: value, quoted: true });
    } else {
      const start = i;
      while (i < text.length && text[i] !== '.' && text[i] !== '"') i++;
      const word = text.slice(start, i).trim();
      if (word === '') throw new TableNameError(input, 'empty part');
      parts.push({ text: word, quoted: false });
    }
    while (i < text.length && /\s/.test(text[i]!)) i++;
    if (i >= text.length) break;
    if (text[i] !== '.') throw new TableNameError(input, 'unexpected characters after an identifier');
    i++;
  }
  if (parts.length > 2) throw new TableNameError(input, 'at most schema.table');
  return parts;
}

/** Parses one table name into its lookup candidates. */
export function parseTableName(input: string): RequestedName {
  const parts = splitParts(input);
  const [schemaPart, namePart] = parts.length === 2 ? [parts[0], parts[1]!] : [undefined, parts[0]!];
  const fold = (p: Part) => (p.quoted ? p.text : foldAscii(p.text));
  const candidates: RequestedName['candidates'] = [{ schema: schemaPart ? fold(schemaPart) : undefined, name: fold(namePart) }];
  const asWritten = { schema: schemaPart?.text, name: namePart.text };
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
