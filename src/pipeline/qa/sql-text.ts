// SQL text helpers of the generator: identifiers quoted exactly when PostgreSQL's quote_ident would quote
// them (anything but a lowercase ASCII name that is not a reserved, column-name or type/function-name
// keyword — the keyword kinds come from the real parser's scanner), and literals.
import libpg from 'libpg-query';

let loaded: Promise<void> | undefined;

/** Loads the libpg-query WASM module once; every sync call below needs it. */
export function loadParser(): Promise<void> {
  loaded ??= libpg.loadModule();
  return loaded;
}

const keywordCache = new Map<string, number>();

/** 0 no keyword, 1 unreserved, 2 column-name, 3 type/function-name, 4 reserved (the parser's kinds). */
function keywordKind(word: string): number {
  let kind = keywordCache.get(word);
  if (kind === undefined) {
    try {
      kind = libpg.scanSync(word).tokens[0]?.keywordKind ?? 0;
    } catch {
      kind = 4;
    }
    keywordCache.set(word, kind);
  }
  return kind;
}

/** PostgreSQL quote_ident semantics. Requires loadParser() to have resolved. */
export function ident(name: string): string {
  if (/^[a-z_][a-z0-9_$]*$/.test(name) && keywordKind(name) < 2) return name;
  return `"${name.replace(/"/g, '""')}"`;
}

/** `schema.table`, the schema omitted for public. */
export function tableRef(schema: string, name: string): string {
  return schema === 'public' ? ident(name) : `${ident(schema)}.${ident(name)}`;
}

export function literal(value: string): string {
  return `'${value.replace(/'/g, "''")}'`;
}

/** A lowercase ASCII alias that is safe unquoted (not a keyword), unique among `taken`. */
export function safeAlias(base: string, taken: Set<string>): string {
  let stem = base.toLowerCase().replace(/[^a-z0-9_]/g, '');
  if (!/^[a-z_]/.test(stem)) stem = `t${stem}`;
  let alias = stem;
  for (let i = 2; taken.has(alias) || keywordKind(alias) >= 1 || alias.length === 0; i++) alias = `${stem}${i}`;
  taken.add(alias);
  return alias;
}
