// What the semantic linter knows about the schema: per table its key, relationships, partition parent
// and entity; per column its role, value range, shares and known values. Built from schema.json (or
// anything of its shape: the builder reads only the fields below, so it does not depend on the pipeline's
// artifact module and any step may build facts).

export type LintColumnRole =
  | 'identifier'
  | 'foreign_key'
  | 'code'
  | 'label'
  | 'additive_measure'
  | 'non_additive_measure'
  | 'business_time'
  | 'technical_time'
  | 'flag'
  | 'soft_delete'
  | 'text'
  | 'contact'
  | 'other';

export interface ColumnFacts {
  name: string;
  /** `table.column` as shown in findings. */
  label: string;
  role: LintColumnRole | undefined;
  /** Short type name (`int4`, `timestamptz`, `varchar`). */
  type: string;
  range: { min: string; max: string; source: string } | null;
  nullShare: number | null;
  distinctShare: number | null;
  /** Every value of a low-cardinality column (by frequency), when the profile found few distinct values. */
  enumValues: string[] | null;
  sampleValues: string[];
  /** In the primary key or a one-column unique constraint. */
  unique: boolean;
}

export interface ForeignKeyFacts {
  columns: string[];
  /** `schema.table` of the referenced table. */
  target: string;
  targetColumns: string[];
}

export interface TableFacts {
  schema: string;
  name: string;
  /** `schema.name`. */
  qualified: string;
  columns: Map<string, ColumnFacts>;
  primaryKey: string[];
  foreignKeys: ForeignKeyFacts[];
  entity: { zh: string; en: string } | null;
  /** An inheritance child or partition: `schema.name` of its parent. */
  partitionOf: string | null;
  estimatedRows: number | null;
}

export interface SchemaFacts {
  tables: TableFacts[];
  /** The table a relation reference in SQL means (`name` or `schema.name`, as the parser folded it). */
  resolve(name: string): TableFacts | undefined;
}

/** The fields of schema.json that the builder reads. */
export interface SchemaFactsSource {
  tables: Array<{
    schema: string;
    name: string;
    primary_key: string[];
    unique_constraints?: string[][];
    foreign_keys: Array<{ columns: string[]; target_schema: string; target_table: string; target_columns: string[] }>;
    columns: Array<{
      name: string;
      udt_name?: string;
      role?: string;
      range?: { min: string; max: string; source: string } | null;
      null_share?: number | null;
      distinct_share?: number | null;
      enum_values?: string[] | null;
      sample_values?: string[];
      is_primary_key?: boolean;
    }>;
    entity?: { zh: string; en: string };
    partition_of?: string;
    partitions?: Array<{ full_name: string }>;
    estimated_rows?: number;
  }>;
}

export function schemaFactsFromSchemaFile(schema: SchemaFactsSource): SchemaFacts {
  const tables: TableFacts[] = schema.tables.map((t) => {
    const uniqueSingles = new Set((t.unique_constraints ?? []).filter((u) => u.length === 1).map((u) => u[0]!));
    const pk = t.primary_key ?? [];
    const columns = new Map<string, ColumnFacts>();
    for (const c of t.columns) {
      columns.set(c.name, {
        name: c.name,
        label: `${t.name}.${c.name}`,
        role: c.role as LintColumnRole | undefined,
        type: c.udt_name ?? '',
        range: c.range ?? null,
        nullShare: c.null_share ?? null,
        distinctShare: c.distinct_share ?? null,
        enumValues: c.enum_values ?? null,
        sampleValues: c.sample_values ?? [],
        unique: (pk.length === 1 && pk[0] === c.name) || uniqueSingles.has(c.name),
      });
    }
    return {
      schema: t.schema,
      name: t.name,
      qualified: `${t.schema}.${t.name}`,
      columns,
      primaryKey: pk,
      foreignKeys: (t.foreign_keys ?? []).map((fk) => ({ columns: fk.columns, target: `${fk.target_schema}.${fk.target_table}`, targetColumns: fk.target_columns })),
      entity: t.entity ? { zh: t.entity.zh, en: t.entity.en } : null,
      partitionOf: t.partition_of ?? null,
      estimatedRows: typeof t.estimated_rows === 'number' ? t.estimated_rows : null,
    };
  });
  // Partitions of a partitioned table are folded into its entry by ddl_generation; they are children too.
  const known = new Set(tables.map((t) => t.qualified));
  for (const t of schema.tables) {
    for (const p of t.partitions ?? []) {
      if (known.has(p.full_name)) continue;
      const [s, n] = p.full_name.includes('.') ? [p.full_name.slice(0, p.full_name.indexOf('.')), p.full_name.slice(p.full_name.indexOf('.') + 1)] : ['public', p.full_name];
      const parent = tables.find((x) => x.schema === t.schema && x.name === t.name)!;
      tables.push({ ...parent, schema: s!, name: n!, qualified: `${s}.${n}`, partitionOf: parent.qualified });
      known.add(`${s}.${n}`);
    }
  }
  return makeFacts(tables);
}

export function makeFacts(tables: TableFacts[]): SchemaFacts {
  const byExact = new Map<string, TableFacts[]>();
  const byLower = new Map<string, TableFacts[]>();
  const add = (map: Map<string, TableFacts[]>, key: string, t: TableFacts) => map.set(key, [...(map.get(key) ?? []), t]);
  for (const t of tables) {
    add(byExact, t.name, t);
    add(byExact, t.qualified, t);
    add(byLower, t.name.toLowerCase(), t);
    add(byLower, t.qualified.toLowerCase(), t);
  }
  const pick = (found: TableFacts[] | undefined) => {
    if (!found?.length) return undefined;
    return found.length === 1 ? found[0] : (found.find((t) => t.schema === 'public') ?? found[0]);
  };
  return {
    tables,
    resolve: (name) => pick(byExact.get(name)) ?? pick(byLower.get(name.toLowerCase())),
  };
}

/** A column of a table by the name the parser gives (exact first, then case-insensitive). */
export function columnOf(table: TableFacts, name: string): ColumnFacts | undefined {
  const exact = table.columns.get(name);
  if (exact) return exact;
  const lower = name.toLowerCase();
  for (const c of table.columns.values()) if (c.name.toLowerCase() === lower) return c;
  return undefined;
}

/** The key that identifies one row of the table: its primary key, else its one identifier column. */
export function rowKey(table: TableFacts): string[] {
  if (table.primaryKey.length) return table.primaryKey;
  const ids = [...table.columns.values()].filter((c) => c.role === 'identifier' && c.unique);
  return ids.length === 1 ? [ids[0]!.name] : [];
}
