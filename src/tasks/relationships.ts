// The task's relationships as the schema map shows them (declared, inferred with their evidence, declared
// by the user) and the user's overrides: relationships.json in the task directory, which the next
// ddl_generation honours (confirm = declare, veto = `enabled: false`).
import path from 'node:path';
import { z } from 'zod';
import { StepError } from '../pipeline/context.ts';
import { appError, taskAlreadyRunning } from '../errors.ts';
import { writeFileAtomic } from '../files.ts';
import { readArtifact, readSchemaFile, RELATIONSHIPS_FILE, type UserRelationship } from '../pipeline/artifacts.ts';
import { relationshipsFileSchema, userRelationshipsSchema } from '../pipeline/ddl/user-relationships.ts';
import type { TaskService } from './service.ts';

export const relationshipsBody = z.object({ relationships: userRelationshipsSchema }).strict();

export interface SchemaMap {
  task_id: string;
  tables: Array<{ name: string; full_name: string; entity: { zh: string; en: string } | null; comment: string | null; columns: Array<{ name: string; role: string | null; comment: string | null }> }>;
  relationships: Array<{ from: string; to: string; origin: 'declared' | 'inferred' | 'user'; evidence: string | null; discovery: unknown }>;
  /** relationships.json as it stands (what the next ddl_generation applies). */
  overrides: UserRelationship[];
}

const columnRef = (schema: string, table: string, column: string) => (schema === 'public' ? `${table}.${column}` : `${schema}.${table}.${column}`);

async function readOverrides(dir: string): Promise<UserRelationship[]> {
  try {
    return (await readArtifact(dir, RELATIONSHIPS_FILE, relationshipsFileSchema, 'INVALID_RELATIONSHIPS_FILE')) ?? [];
  } catch (error) {
    throw appError('INVALID_RELATIONSHIPS_FILE', { params: { reason: error instanceof StepError ? error : (error as Error).message } });
  }
}

/** The schema map of a task whose ddl_generation has run (409 SCHEMA_NOT_READY before). */
export async function readSchemaMap(service: TaskService, taskId: string): Promise<SchemaMap> {
  await service.getTask(taskId);
  const dir = service.taskDir(taskId);
  const schema = await readSchemaFile(dir, 'SCHEMA_INVALID').catch(() => undefined);
  if (!schema) throw appError('SCHEMA_NOT_READY', { params: { task_id: taskId } });
  const relationships: SchemaMap['relationships'] = [];
  for (const t of schema.tables) {
    for (const fk of t.foreign_keys) {
      if (fk.columns.length !== 1) continue;
      relationships.push({
        from: columnRef(t.schema, t.name, fk.columns[0]!),
        to: columnRef(fk.target_schema, fk.target_table, fk.target_columns[0]!),
        origin: fk.origin ?? (fk.inferred ? 'inferred' : 'declared'),
        evidence: fk.evidence ?? null,
        discovery: fk.discovery ?? null,
      });
    }
  }
  return {
    task_id: taskId,
    tables: schema.tables.map((t) => ({
      name: t.schema === 'public' ? t.name : `${t.schema}.${t.name}`,
      full_name: t.full_name,
      entity: t.entity ? { zh: t.entity.zh, en: t.entity.en } : null,
      comment: t.comment,
      columns: t.columns.map((c) => ({ name: c.name, role: c.role ?? null, comment: c.comment })),
    })),
    relationships,
    overrides: await readOverrides(dir),
  };
}

/**
 * Replaces relationships.json: every entry must name columns of the task's schema (400 naming the entries
 * that do not), and the task may not be running (409).
 */
export async function writeOverrides(service: TaskService, taskId: string, entries: UserRelationship[]): Promise<SchemaMap> {
  const task = await service.getTask(taskId);
  if (task.status === 'in_progress') throw taskAlreadyRunning(taskId);
  const map = await readSchemaMap(service, taskId);
  const known = new Set(map.tables.flatMap((t) => t.columns.map((c) => `${t.name}.${c.name}`)));
  const full = new Set(map.tables.flatMap((t) => t.columns.map((c) => `${t.full_name}.${c.name}`)));
  const unknown = entries.flatMap((e, i) => [e.from, e.to].filter((ref) => !known.has(ref) && !full.has(ref)).map((ref) => `relationships.${i}: ${ref}`));
  if (unknown.length) throw appError('VALIDATION_ERROR', { key: 'err.unknown_columns', params: { columns: unknown.join(', ') }, invalidParams: ['relationships'] });
  await writeFileAtomic(path.join(service.taskDir(taskId), RELATIONSHIPS_FILE), `${JSON.stringify(entries, null, 2)}\n`);
  return { ...map, overrides: entries };
}
