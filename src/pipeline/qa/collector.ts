// Turning SQL + question into a recorded pair: the parse gate (sql_validation's, src/sql/analyze.ts: one
// SELECT that neither writes nor locks), duplicate removal (by SQL fingerprint and by normalised question,
// across the whole run), and the metadata read from the parse tree (tables and columns resolved against
// the catalog, complexity level).
import { analyzeSql as parseGate, type SqlRejectReason } from '../../sql/analyze.ts';
import type { CatalogModel, TableModel } from './catalog.ts';
import { classifySql, normalizeQuestion, stripTrailingSemicolons, type SqlAnalysis } from './sql-analysis.ts';
import type { GeneratedPair } from './types.ts';

export type RejectReason = 'empty_question' | 'empty_sql' | Exclude<SqlRejectReason, 'empty'> | 'duplicate_fingerprint' | 'duplicate_question' | 'duplicate_signature';

export interface Accepted {
  ok: true;
  pair: GeneratedPair;
}

export interface Rejected {
  ok: false;
  reason: RejectReason;
  message: string;
}

export interface PairInput {
  question: string;
  sql: string;
  theme: string;
  style: string;
  source: GeneratedPair['source'];
  template?: string;
  declaredComplexity?: string;
}

/** Tables and `table.column` names of a parsed statement, resolved against the catalog. */
export function resolveUsage(analysis: SqlAnalysis, catalog: CatalogModel): { tables: string[]; columns: string[]; unknownTables: string[] } {
  const aliasMap = new Map<string, TableModel>();
  const tables: TableModel[] = [];
  const unknownTables: string[] = [];
  for (const ref of analysis.tables) {
    const table = catalog.resolveTable(ref.schema ? `${ref.schema}.${ref.name}` : ref.name);
    if (!table) {
      unknownTables.push(ref.schema ? `${ref.schema}.${ref.name}` : ref.name);
      continue;
    }
    if (!tables.includes(table)) tables.push(table);
    aliasMap.set(ref.alias ?? ref.name, table);
    if (!ref.alias) aliasMap.set(ref.name, table);
  }
  const columns = new Set<string>();
  for (const c of analysis.columns) {
    if (c.name === '*') continue;
    let owner: TableModel | undefined;
    if (c.qualifier) owner = aliasMap.get(c.qualifier);
    else {
      const owners = tables.filter((t) => t.byName.has(c.name));
      if (owners.length === 1) owner = owners[0];
    }
    if (owner && owner.byName.has(c.name)) columns.add(`${owner.info.full_name}.${c.name}`);
  }
  return { tables: tables.map((t) => t.key), columns: [...columns].sort(), unknownTables: [...new Set(unknownTables)] };
}

/** Holds the run's pairs and rejects duplicates across themes (also themes generated in parallel:
 * `accept` checks and records synchronously). */
export class PairCollector {
  readonly fingerprints = new Set<string>();
  readonly questions = new Set<string>();
  readonly tableUse = new Map<string, number>();
  /** Semantic signatures taken (offline generator: entity × measure × aggregate × grouping × filter). */
  readonly signatures = new Set<string>();
  readonly columnUse = new Set<string>();
  accepted = 0;
  multiTable = 0;

  constructor(readonly catalog: CatalogModel) {}

  /** Parse gate, metadata and duplicate check, without recording. */
  async examine(input: PairInput, options: { sameShape?: boolean } = {}): Promise<Accepted | Rejected> {
    const question = input.question.trim().replace(/\s+/g, ' ');
    if (!question) return { ok: false, reason: 'empty_question', message: 'empty question' };
    const gate = await parseGate(input.sql);
    if (!gate.ok) return { ok: false, reason: gate.reason === 'empty' ? 'empty_sql' : gate.reason, message: gate.message };
    const outcome = classifySql(gate.statement, { fingerprint: false });
    if (!outcome.ok) return { ok: false, reason: outcome.reason === 'empty' ? 'empty_sql' : outcome.reason, message: outcome.message };
    const a = outcome.analysis;
    const usage = resolveUsage(a, this.catalog);
    const declared = input.declaredComplexity?.trim().toLowerCase();
    const pair: GeneratedPair = {
      question,
      sql: `${stripTrailingSemicolons(gate.statement)};`,
      theme: input.theme,
      tables: usage.tables,
      columns: usage.columns,
      functions: a.functions,
      complexity: a.complexity,
      ...(declared && declared !== a.complexity ? { declared_complexity: declared } : {}),
      style: input.style,
      fingerprint: gate.fingerprint,
      source: input.source,
      ...(input.template ? { template: input.template } : {}),
      ...(usage.unknownTables.length ? { unknown_tables: usage.unknownTables } : {}),
    };
    return this.duplicate(pair, options.sameShape) ?? { ok: true, pair };
  }

  /** `sameShape`: the SQL may share its fingerprint (constants aside) with a recorded pair — another value
   * of a question already asked, taken only to reach a size the user asked for. */
  duplicate(pair: GeneratedPair, sameShape = false): Rejected | undefined {
    if (!sameShape && this.fingerprints.has(pair.fingerprint)) return { ok: false, reason: 'duplicate_fingerprint', message: `fingerprint ${pair.fingerprint} already used` };
    if (this.questions.has(normalizeQuestion(pair.question))) return { ok: false, reason: 'duplicate_question', message: 'the same question was already asked' };
    return undefined;
  }

  /** Records the pair unless a duplicate was recorded meanwhile; returns the rejection then. */
  accept(pair: GeneratedPair, semantic?: { signature: string; columns: string[]; sameShape?: boolean }): Rejected | undefined {
    const dup = this.duplicate(pair, semantic?.sameShape);
    if (dup) return dup;
    if (semantic && this.signatures.has(semantic.signature)) return { ok: false, reason: 'duplicate_signature', message: `signature ${semantic.signature} already used` };
    if (semantic) {
      this.signatures.add(semantic.signature);
      for (const c of semantic.columns) this.columnUse.add(c);
    }
    this.fingerprints.add(pair.fingerprint);
    this.questions.add(normalizeQuestion(pair.question));
    for (const t of pair.tables) this.tableUse.set(t, (this.tableUse.get(t) ?? 0) + 1);
    this.accepted += 1;
    if (pair.tables.length >= 2) this.multiTable += 1;
    return undefined;
  }
}
