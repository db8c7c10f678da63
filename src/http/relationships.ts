// The schema map of a task (tables, roles, relationships with their evidence) and the user's relationship
// overrides (relationships.json), for the dashboard and for scripts.
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { readSchemaMap, relationshipsBody, writeOverrides } from '../tasks/relationships.ts';
import type { TaskService } from '../tasks/service.ts';
import { sendOk } from './envelope.ts';
import { taskIdParams } from './schemas.ts';

export function relationshipRoutes(service: TaskService): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v0/data_pipeline/tasks/:task_id/relationships',
      { schema: { tags: ['tasks'], summary: '表关系图：表、字段角色、关联（声明/推断/用户声明）及覆盖设置', params: taskIdParams } },
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
        },
      },
      async (request, reply) => sendOk(reply, 200, 'relationships.saved', await writeOverrides(service, request.params.task_id, request.body.relationships)),
    );
  };
}
