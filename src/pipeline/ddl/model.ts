// From the catalog (postgres/catalog.ts) to the schema.json contract (pipeline/artifacts.ts): exact
// types, keys, declared foreign keys, indexes, comments from the database (source `db`).
import type { CatalogColumn, CatalogRelation } from '../../postgres/catalog/index.ts';
import type { ColumnInfo, ForeignKeyInfo, TableInfo } from '../artifacts.ts';

/** format_type() output in the compact spelling people write (`varchar(32)`, `timestamptz`); still valid SQL. */
export function compactType(formatted: string): string {
  if (formatted.includes('"')) return formatted;
  return formatted
    .replace(/^character varying\b/, 'varchar')
    .replace(/^character\b/, 'char')
    .replace(/^bit varying\b/, 'varbit')
    .replace(/^timestamp(\(\d+\))? without time zone/, 'timestamp$1')
    .replace(/^timestamp(\(\d+\))? with time zone/, 'timestamptz$1')
    .replace(/^time(\(\d+\))? without time zone/, 'time$1')
    .replace(/^time(\(\d+\))? with time zone/, 'timetz$1');
}

/** The type as shown in documents: compact, without the `public.` prefix of user types. */
export function shownType(formatted: string): string {
  return compactType(formatted).replace(/^public\./, '');
}

function typmodFacts(column: CatalogColumn): Pick<ColumnInfo, 'max_length' | 'numeric_precision' | 'numeric_scale'> {
  const mod = column.baseTypmod;
  const base = column.baseUdtName;
  const facts = { max_length: null as number | null, numeric_precision: null as number | null, numeric_scale: null as number | null };
  if ((base === 'varchar' || base === 'bpchar') && mod > 4) facts.max_length = mod - 4;
  if (base === 'numeric' && mod > 4) {
    facts.numeric_precision = ((mod - 4) >> 16) & 0xffff;
    const raw = (mod - 4) & 0x7ff;
    facts.numeric_scale = raw & 0x400 ? raw - 0x800 : raw;
  }
  return facts;
}

/** A column of the contract, before profiling and annotation. */
export function columnInfo(relation: CatalogRelation, column: CatalogColumn): ColumnInfo {
  const pk = primaryKey(relation);
  return {
    name: column.name,
    position: column.position,
    data_type: column.dataType,
    udt_name: column.udtName,
    ...typmodFacts(column),
    nullable: !column.notNull,
    default: column.default,
    identity: column.identity === 'a' ? 'always' : column.identity === 'd' ? 'by_default' : null,
    generated: column.generated ? column.generationExpr : null,
    ...(column.generated ? { generated_kind: column.generated === 'v' ? ('virtual' as const) : ('stored' as const) } : {}),
    display_type: compactType(column.dataType),
    is_primary_key: pk.includes(column.name),
    comment: column.comment && column.comment.trim() ? column.comment : null,
    comment_source: column.comment && column.comment.trim() ? 'db' : null,
    stats:
      column.nullFrac === null && column.nDistinct === null
        ? null
        : { null_frac: column.nullFrac, n_distinct: column.nDistinct, most_common_vals: column.mostCommonVals },
    sample_values: [],
    enum_values: null,
  };
}

export function primaryKey(relation: CatalogRelation): string[] {
  return relation.constraints.find((c) => c.type === 'p')?.columns ?? [];
}

export function declaredForeignKeys(relation: CatalogRelation): ForeignKeyInfo[] {
  return relation.constraints
    .filter((c) => c.type === 'f')
    .map((c) => ({
      name: c.name,
      columns: c.columns,
      target_schema: c.targetSchema ?? '',
      target_table: c.targetTable ?? '',
      target_columns: c.targetColumns,
      inferred: false,
    }));
}

/** The contract entry of a relation from the catalog alone (comments from the database). */
export function tableInfo(relation: CatalogRelation): TableInfo {
  const info: TableInfo = {
    schema: relation.schema,
    name: relation.name,
    full_name: `${relation.schema}.${relation.name}`,
    kind: relation.kind,
    comment: relation.comment && relation.comment.trim() ? relation.comment : null,
    comment_source: relation.comment && relation.comment.trim() ? 'db' : null,
    estimated_rows: Math.max(0, Math.round(relation.reltuples)),
    size_bytes: Number.isFinite(relation.totalBytes) ? relation.totalBytes : null,
    columns: relation.columns.map((c) => columnInfo(relation, c)),
    primary_key: primaryKey(relation),
    unique_constraints: relation.constraints.filter((c) => c.type === 'u').map((c) => c.columns),
    foreign_keys: declaredForeignKeys(relation),
    indexes: relation.indexes.map((i) => ({ name: i.name, definition: i.definition, is_unique: i.isUnique, is_primary: i.isPrimary })),
    files: { ddl: '', detail: '' },
  };
  const checks = relation.constraints.filter((c) => c.type === 'c' || c.type === 'x');
  if (checks.length) info.check_constraints = checks.map((c) => ({ name: c.name, definition: c.definition }));
  if (relation.viewDefinition) info.view_definition = relation.viewDefinition.trim().replace(/;\s*$/, '');
  if (relation.partitionKey) {
    info.partition_key = relation.partitionKey;
    info.partitions = relation.partitions.map((p) => ({ full_name: `${p.schema}.${p.name}`, bound: p.bound ?? '' }));
  }
  return info;
}

/** Columns that identify rows on their own: single-column primary key or unique constraint/index. */
export function uniqueColumns(relation: CatalogRelation): Set<string> {
  const out = new Set<string>();
  for (const c of relation.constraints) if ((c.type === 'p' || c.type === 'u') && c.columns.length === 1) out.add(c.columns[0]!);
  for (const i of relation.indexes) if (i.isUnique && !i.partial && i.keyCount === 1 && i.columns.length >= 1) out.add(i.columns[0]!);
  return out;
}
