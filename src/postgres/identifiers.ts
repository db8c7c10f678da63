/** Quotes an identifier the way PostgreSQL's quote_ident does: always, so any name is safe. */
export function quoteIdent(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

export function quoteLiteral(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

// ---------------------------------------------------------------------------------------------------------
// Parsing `name` / `schema.name` as written by users (the one parser behind catalog/names.ts and
// tasks/table-list.ts).

/** PostgreSQL folds unquoted identifiers to lower case; for multi-byte encodings only ASCII letters. */
export function foldUnquoted(part: string): string {
  return part.replace(/[A-Z]+/g, (s) => s.toLowerCase());
}

export interface IdentifierPart {
  /** Quoted: the text between the quotes with `""` unescaped. Unquoted: the word as written (not folded). */
  value: string;
  quoted: boolean;
}

/**
 * Why a qualified name could not be split:
 * - `empty_part`: nothing (or a dot) where an identifier should start;
 * - `unterminated_quote`: a `"` without its closing `"`;
 * - `empty_quoted`: `""` (PostgreSQL: zero-length delimited identifier);
 * - `unexpected_after_identifier`: an identifier followed by something other than a dot;
 * - `too_many_parts`: a dot after `maxParts` parts.
 */
export type QualifiedNameError = 'empty_part' | 'unterminated_quote' | 'empty_quoted' | 'unexpected_after_identifier' | 'too_many_parts';

export interface ParsedQualifiedName {
  /** The parts read, in order; with `error`, the parts completed before the error was found. */
  parts: IdentifierPart[];
  error?: QualifiedNameError;
}

export interface ParseQualifiedNameOptions {
  /** What counts as space around parts and dots. Default: `/\s/`. */
  isSpace?: (ch: string) => boolean;
  /**
   * True: an unquoted part ends at a space (so `a b` is `a` followed by unexpected text). False (default):
   * it runs to the next `.` or `"` and is trimmed, so `a b` is one part.
   */
  spaceEndsUnquoted?: boolean;
  /** Report `too_many_parts` at the dot after this many parts. Default: no limit. */
  maxParts?: number;
}

const isJsSpace = (ch: string): boolean => /\s/.test(ch);

/**
 * Splits `a.b` / `"a.b"."c"` into its parts (the text is trimmed first). Stops at the first error and returns
 * it with the parts completed before it, so callers that check each part can report errors in text order.
 */
export function parseQualifiedName(input: string, options: ParseQualifiedNameOptions = {}): ParsedQualifiedName {
  const isSpace = options.isSpace ?? isJsSpace;
  const maxParts = options.maxParts ?? Infinity;
  const text = input.trim();
  const n = text.length;
  const parts: IdentifierPart[] = [];
  const space = (at: number) => at < n && isSpace(text[at]!);
  let i = 0;
  for (;;) {
    while (space(i)) i++;
    if (i >= n) return { parts, error: 'empty_part' };
    if (text[i] === '"') {
      i++;
      let value = '';
      let closed = false;
      while (i < n) {
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
      if (!closed) return { parts, error: 'unterminated_quote' };
      if (value === '') return { parts, error: 'empty_quoted' };
      parts.push({ value, quoted: true });
    } else {
      const start = i;
      while (i < n && text[i] !== '.' && text[i] !== '"' && !(options.spaceEndsUnquoted && space(i))) i++;
      let end = i;
      while (end > start && isSpace(text[end - 1]!)) end--;
      const word = text.slice(start, end);
      if (word === '') return { parts, error: 'empty_part' };
      parts.push({ value: word, quoted: false });
    }
    while (space(i)) i++;
    if (i >= n) return { parts };
    if (text[i] !== '.') return { parts, error: 'unexpected_after_identifier' };
    i++; // the dot
    if (parts.length >= maxParts) return { parts, error: 'too_many_parts' };
  }
}
