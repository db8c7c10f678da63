// ddl_generation's own task parameters (README "Task parameters"): the one place their ranges and defaults
// are declared. The task's create body, the CLI and the runner all parse them with this slice.
import { z } from 'zod';
import { DEFAULT_ENUM_THRESHOLD } from './profile.ts';
import { userRelationshipsSchema } from './user-relationships.ts';

export const ddlParameters = z.object({
  continue_on_error: z.boolean().default(false).describe('a table that fails in ddl_generation becomes a warning instead of failing the step'),
  enum_threshold: z
    .number()
    .int()
    .min(1)
    .max(1000)
    .default(DEFAULT_ENUM_THRESHOLD)
    .describe('columns with at most this many distinct values get their values listed'),
  business_glossary: z
    .union([z.string().max(100_000), z.record(z.string().max(200), z.string().max(2000))])
    .optional()
    .describe('{term: meaning} or text used by the annotator (business_glossary.txt/.json in the task directory works too)'),
  include_system_schemas: z
    .boolean()
    .default(false)
    .describe('accept tables of pg_catalog and information_schema (refused otherwise)'),
  relationships: userRelationshipsSchema
    .optional()
    .describe('relationships to declare or veto: [{from: "table.column", to: "table.column", enabled?: false}], merged with relationships.json'),
});
