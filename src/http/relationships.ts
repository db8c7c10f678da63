// The schema map of a task (tables, roles, relationships with their evidence) and the user's relationship
// overrides (relationships.json), for the dashboard and for scripts.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { readSchemaMap, relationshipsBody, writeOverrides } from '../tasks/relationships.ts';
import type { TaskService } from '../tasks/service.ts';
import { sendOk } from './envelope.ts';
import { okEnvelope, taskIdParams } from './schemas.ts';

const schemaMapData = z.object({
  task_id: z.string(),
  tables: z.array(
    z.object({
      name: z.string(),
      full_name: z.string(),
      entity: z.object({ zh: z.string(), en: z.string() }).nullable(),
      comment: z.string().nullable(),
      columns: z.array(z.object({ name: z.string(), role: z.string().nullable(), comment: z.string().nullable() })),
    }),
  ),
  relationships: z.array(
    z.object({
      from: z.string().describe('table.column (schema.table.column outside public)'),
      to: z.string(),
      origin: z.enum(['declared', 'inferred', 'user']),
      evidence: z.string().nullable(),
      discovery: z.unknown().describe('how an inferred relationship was found (rule, containment, sample size); null for declared ones'),
    }),
  ),
  overrides: z.array(z.object({ from: z.string(), to: z.string(), enabled: z.boolean().optional() })).describe('relationships.json as it stands: what the next ddl_generation applies'),
});

export function relationshipRoutes(service: TaskService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v0/data_pipeline/tasks/:task_id/relationships',
      { schema: { tags: ['tasks'], summary: '表关系图：表、字段角色、关联（声明/推断/用户声明）及覆盖设置', params: taskIdParams, response: { 200: okEnvelope(schemaMapData) } } },
      async (request, reply) => sendOk(reply, 200, 'relationships.read', await readSchemaMap(service, request.params.task_id)),
    );
    app.put(
      '/api/v0/data_pipeline/tasks/:task_id/relationships',
      {
        schema: {
          tags: ['tasks'],
          summary: '设置关联覆盖（relationships.json）：确认或否决关联，下次 ddl_generation 生效',
          params: taskIdParams,
          body: relationshipsBody,
          response: { 200: okEnvelope(schemaMapData) },
        },
      },
      async (request, reply) => sendOk(reply, 200, 'relationships.saved', await writeOverrides(service, request.params.task_id, request.body.relationships)),
    );
  };
}
