// A schema.json (SchemaFile) built straight from a database's catalog and pg_stats, for qa_generation tests
// while ddl_generation is not there to write it: columns with exact types, comments, primary keys,
// pg_stats, bounded samples, enum values (few distinct values, by frequency), and the relationships given
// (the demo declares none; DEMO_RELATIONSHIPS lists the ones inference is expected to find).
import pg from 'pg';
import type { ColumnInfo, ForeignKeyInfo, SchemaFile, TableInfo } from '../../src/pipeline/artifacts.ts';

export interface RelationshipSpec {
  table: string;
  columns: string[];
  target: string;
  targetColumns: string[];
}

export const DEMO_RELATIONSHIPS: RelationshipSpec[] = [
  { table: 'bss_service_area', columns: ['company_id'], target: 'bss_company', targetColumns: ['id'] },
  { table: 'bss_car_day_count', columns: ['service_area_id'], target: 'bss_service_area', targetColumns: ['id'] },
  { table: 'bss_service_area_mapper', columns: ['service_area_id'], target: 'bss_service_area', targetColumns: ['id'] },
  { table: 'bss_business_day_data', columns: ['service_no'], target: 'bss_service_area', targetColumns: ['service_area_no'] },
  { table: 'bss_section_route_area_link', columns: ['section_route_id'], target: 'bss_section_route', targetColumns: ['id'] },
  { table: 'bss_section_route_area_link', columns: ['service_area_id'], target: 'bss_service_area', targetColumns: ['id'] },
];

const qi = (name: string) => `"${name.replace(/"/g, '""')}"`;

export async function buildSchemaFile(
  url: string,
  options: { tables: string[]; schema?: string; relationships?: RelationshipSpec[]; databaseName?: string; businessContext?: string | null; language?: 'zh' | 'en'; enumThreshold?: number },
): Promise<SchemaFile> {
  const schemaName = options.schema ?? 'public';
  const enumThreshold = options.enumThreshold ?? 20;
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const version = (await client.query<{ v: string }>("SELECT current_setting('server_version') AS v")).rows[0]!.v;
    const dbName = (await client.query<{ d: string }>('SELECT current_database() AS d')).rows[0]!.d;
    const tables: TableInfo[] = [];
    for (const tableName of options.tables) {
      const rel = (
        await client.query<{ oid: number; comment: string | null; reltuples: number; relkind: string; size: string }>(
          `SELECT c.oid, obj_description(c.oid, 'pg_class') AS comment, c.reltuples, c.relkind, pg_total_relation_size(c.oid)::text AS size
             FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = $1 AND c.relname = $2`,
          [schemaName, tableName],
        )
      ).rows[0];
      if (!rel) throw new Error(`no table ${schemaName}.${tableName}`);
      const cols = (
        await client.query<{ name: string; position: number; data_type: string; udt_name: string; not_null: boolean; def: string | null; comment: string | null; identity: string; generated: string }>(
          `SELECT a.attname AS name, a.attnum AS position, format_type(a.atttypid, a.atttypmod) AS data_type, t.typname AS udt_name,
                  a.attnotnull AS not_null, pg_get_expr(d.adbin, d.adrelid) AS def, col_description(a.attrelid, a.attnum) AS comment,
                  a.attidentity AS identity, a.attgenerated AS generated
             FROM pg_attribute a JOIN pg_type t ON t.oid = a.atttypid
             LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
            WHERE a.attrelid = $1 AND a.attnum > 0 AND NOT a.attisdropped ORDER BY a.attnum`,
          [rel.oid],
        )
      ).rows;
      const pk = (
        await client.query<{ name: string }>(
          `SELECT a.attname AS name FROM pg_index i JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord) ON true
             JOIN pg_attribute a ON a.attrelid = i.indrelid AND a.attnum = k.attnum
            WHERE i.indrelid = $1 AND i.indisprimary ORDER BY k.ord`,
          [rel.oid],
        )
      ).rows.map((r) => r.name);
      const stats = new Map(
        (
          await client.query<{ attname: string; null_frac: number; n_distinct: number; mcv: string[] | null }>(
            `SELECT attname, null_frac, n_distinct, most_common_vals::text::text[] AS mcv FROM pg_stats WHERE schemaname = $1 AND tablename = $2`,
            [schemaName, tableName],
          )
        ).rows.map((r) => [r.attname, r]),
      );
      const indexes = (
        await client.query<{ name: string; def: string; uniq: boolean; prim: boolean }>(
          `SELECT ic.relname AS name, pg_get_indexdef(i.indexrelid) AS def, i.indisunique AS uniq, i.indisprimary AS prim
             FROM pg_index i JOIN pg_class ic ON ic.oid = i.indexrelid WHERE i.indrelid = $1 ORDER BY ic.relname`,
          [rel.oid],
        )
      ).rows;
      const ref = `${qi(schemaName)}.${qi(tableName)}`;
      const columns: ColumnInfo[] = [];
      for (const c of cols) {
        const st = stats.get(c.name);
        const samples = (await client.query<{ v: string }>(`SELECT DISTINCT ${qi(c.name)}::text AS v FROM ${ref} WHERE ${qi(c.name)} IS NOT NULL LIMIT 5`)).rows.map((r) => r.v);
        let enumValues: string[] | null = null;
        const distinct = st ? (st.n_distinct < 0 ? -st.n_distinct * rel.reltuples : st.n_distinct) : null;
        const isKey = pk.includes(c.name) || /(^id$|_id$)/.test(c.name);
        if (!isKey && distinct !== null && distinct > 0 && distinct <= enumThreshold && !['timestamp', 'date', 'timestamptz'].includes(c.udt_name)) {
          const freq = await client.query<{ v: string }>(
            `SELECT ${qi(c.name)}::text AS v FROM ${ref} WHERE ${qi(c.name)} IS NOT NULL GROUP BY 1 ORDER BY count(*) DESC, 1 LIMIT ${enumThreshold + 1}`,
          );
          if (freq.rows.length <= enumThreshold) enumValues = freq.rows.map((r) => r.v);
        }
        const typmod = /\((\d+)(?:,(\d+))?\)/.exec(c.data_type);
        columns.push({
          name: c.name,
          position: c.position,
          data_type: c.data_type,
          udt_name: c.udt_name,
          max_length: /char/.test(c.data_type) && typmod ? Number(typmod[1]) : null,
          numeric_precision: c.udt_name === 'numeric' && typmod ? Number(typmod[1]) : null,
          numeric_scale: c.udt_name === 'numeric' && typmod?.[2] ? Number(typmod[2]) : null,
          nullable: !c.not_null,
          default: c.def,
          identity: c.identity === 'a' ? 'always' : c.identity === 'd' ? 'by_default' : null,
          generated: c.generated ? c.generated || null : null,
          is_primary_key: pk.includes(c.name),
          comment: c.comment,
          comment_source: c.comment ? 'db' : null,
          stats: st ? { null_frac: Number(st.null_frac), n_distinct: Number(st.n_distinct), most_common_vals: st.mcv } : null,
          sample_values: samples,
          enum_values: enumValues,
        });
      }
      const foreign_keys: ForeignKeyInfo[] = (options.relationships ?? [])
        .filter((r) => r.table === tableName)
        .map((r) => ({
          name: null,
          columns: r.columns,
          target_schema: schemaName,
          target_table: r.target,
          target_columns: r.targetColumns,
          inferred: true,
          evidence: `name ${r.columns.join(',')} → ${r.target}.${r.targetColumns.join(',')} (test fixture)`,
        }));
      tables.push({
        schema: schemaName,
        name: tableName,
        full_name: `${schemaName}.${tableName}`,
        kind: rel.relkind === 'v' ? 'view' : rel.relkind === 'm' ? 'materialized_view' : rel.relkind === 'p' ? 'partitioned_table' : 'table',
        comment: rel.comment,
        comment_source: rel.comment ? 'db' : null,
        estimated_rows: Math.max(0, Math.round(rel.reltuples)),
        size_bytes: Number(rel.size),
        columns,
        primary_key: pk,
        unique_constraints: [],
        foreign_keys,
        indexes: indexes.map((i) => ({ name: i.name, definition: i.def, is_unique: i.uniq, is_primary: i.prim })),
        files: { ddl: `${tableName}.ddl`, detail: `${tableName}_detail.md` },
      });
    }
    return {
      version: 1,
      generated_at: new Date().toISOString(),
      database: { name: options.databaseName ?? dbName, server_version: version },
      business_context: options.businessContext ?? null,
      language: options.language ?? 'zh',
      tables,
    };
  } finally {
    await client.end();
  }
}

// ------------------------------------------------------------------------------------- step contexts

import type { Settings } from '../../src/config.ts';
import { loadSettings } from '../../src/config.ts';
import type { LlmClient } from '../../src/llm/types.ts';
import { connect, type Database } from '../../src/postgres/connect.ts';
import type { TaskParameters } from '../../src/pipeline/context.ts';
import type { StepName } from '../../src/pipeline/steps.ts';
import { fakeStepContext, type FakeStepContext } from './step-context.ts';

export interface TestStepContext extends FakeStepContext {
  /** Closes the business database if the step opened it. */
  close(): Promise<void>;
}

/** fakeStepContext over a business database URL (opened when the step asks for it), and an LLM whose
 * token usage is counted on the context. */
export function makeStepContext(options: {
  dir: string;
  step: StepName;
  dbUrl?: string;
  parameters?: Partial<TaskParameters> & Record<string, unknown>;
  llm?: (onUsage: (c: Record<string, number>) => void) => LlmClient | undefined;
  settings?: Settings;
  signal?: AbortSignal;
}): TestStepContext {
  let db: Promise<Database> | undefined;
  const { dbUrl } = options;
  const ctx = fakeStepContext({
    step: options.step,
    dir: options.dir,
    taskId: 'task_test',
    parameters: options.parameters,
    settings: options.settings ?? loadSettings({}, options.dir),
    signal: options.signal,
    db: dbUrl ? () => (db ??= connect(dbUrl, { max: 4 })) : undefined,
  });
  return {
    ...ctx,
    llm: options.llm?.((added) => ctx.count(added)),
    async close() {
      if (db) await (await db).close();
    },
  };
}
