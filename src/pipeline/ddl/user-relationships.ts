// Relationships a user declares or vetoes: the task parameter `relationships` and relationships.json in
// the task directory (the dashboard's schema map writes it). User-declared wins over join discovery; a
// veto removes an inferred relationship (declared foreign keys stay as the catalog has them).
import { z } from 'zod';
import { readArtifact, RELATIONSHIPS_FILE, type UserRelationship } from '../artifacts.ts';
import { stepError } from '../context.ts';

const columnRef = z
  .string()
  .min(3)
  .max(400)
  .regex(/^[^.\s]+(\.[^.\s]+){1,2}$/, 'expected "table.column" or "schema.table.column"');

export const userRelationshipSchema = z
  .object({
    from: columnRef.describe('the referencing column, "table.column" or "schema.table.column"'),
    to: columnRef.describe('the referenced column'),
    enabled: z.boolean().optional().describe('false vetoes the relationship'),
  })
  .strict();

export const userRelationshipsSchema = z.array(userRelationshipSchema).max(10_000);

/** relationships.json: an array, or `{relationships: [...]}`. */
export const relationshipsFileSchema = z.union([userRelationshipsSchema, z.object({ relationships: userRelationshipsSchema }).transform((v) => v.relationships)]);

/**
 * relationships.json (when present; read like every contract file: inside the task directory, never
 * through a symlink) merged with the task parameter; the parameter wins for the same column pair.
 */
export async function readUserRelationships(dir: string, parameter: unknown): Promise<UserRelationship[]> {
  const out = new Map<string, UserRelationship>();
  for (const r of (await readArtifact(dir, RELATIONSHIPS_FILE, relationshipsFileSchema, 'INVALID_RELATIONSHIPS_FILE')) ?? []) out.set(`${r.from}>${r.to}`, r);
  if (parameter !== undefined && parameter !== null) {
    const parsed = userRelationshipsSchema.safeParse(parameter);
    if (!parsed.success) throw stepError('INVALID_PARAMETER', 'step.relationships_invalid', { reason: parsed.error.issues[0]?.message });
    for (const r of parsed.data) out.set(`${r.from}>${r.to}`, r);
  }
  return [...out.values()];
}
