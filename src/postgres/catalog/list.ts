// The relation list of the database tools API.
import type { Database } from '../connect.ts';
import { readOnly } from '../read-only.ts';
import { wildcardToLike } from './names.ts';
import { LIST_RELATIONS_SQL } from './queries.ts';
import type { ListedRelationRow } from './rows.ts';
import { RELKIND, type CatalogKind } from './types.ts';


export interface ListedRelation {
  schema: string;
  name: string;
  kind: CatalogKind;
  /** Planner estimate (pg_class.reltuples, summed over partitions); -1 when never analyzed. */
  estimatedRows: number;
  comment: string | null;
}

/**
 * Lists tables, views, materialized views, partitioned and foreign tables (partitions folded into their
 * parent). Schemas and the name pattern accept `*` and `?` wildcards and match case-insensitively.
 */
export async function listRelations(db: Database, options: { schemas: string[]; pattern?: string }): Promise<ListedRelation[]> {
  const { value } = await readOnly(db, async (q) => {
    const rows = (await q.query<ListedRelationRow>(LIST_RELATIONS_SQL, [options.schemas.map(wildcardToLike), options.pattern ? wildcardToLike(options.pattern) : null])).rows;
    return rows.map((row) => ({
      schema: row.schema,
      name: row.name,
      kind: RELKIND[row.relkind]!,
      estimatedRows: row.relkind === 'v' ? -1 : Math.round(Number(row.reltuples)),
      comment: row.comment,
    }));
  });
  return value;
}

