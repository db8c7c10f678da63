import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import type { BusinessDatabaseState } from '../app.ts';
import type { Database } from '../postgres/connect.ts';
import { appError } from '../errors.ts';
import { sendOk } from './envelope.ts';
import { okEnvelope } from './schemas.ts';

const healthData = z.object({
  status: z.literal('ok'),
  version: z.string(),
  store: z.object({ kind: z.enum(['postgres', 'pglite']), reachable: z.boolean() }),
  business_database: z
    .discriminatedUnion('kind', [z.object({ kind: z.literal('pglite'), open: z.boolean(), users: z.number().int() }), z.object({ kind: z.literal('postgres') })])
    .describe('the default business database: the embedded demo is opened on first use and closed when idle'),
  uptime_seconds: z.number().int(),
});

export function healthRoutes(storeDb: Database, version: string, businessDatabase: () => BusinessDatabaseState): FastifyPluginAsyncZod {
  const startedAt = Date.now();
  return async (app) => {
    app.get('/api/v0/health', { schema: { tags: ['system'], summary: '健康检查', response: { 200: okEnvelope(healthData) } } }, async (_request, reply) => {
      const storeOk = await storeDb.pool.query('SELECT 1').then(() => true, () => false);
      if (!storeOk) throw appError('DATABASE_CONNECTION_ERROR', { key: 'err.store_unreachable', params: { store: storeDb.label } });
      return sendOk(reply, 200, 'health.ok', {
        status: 'ok',
        version,
        store: { kind: storeDb.kind, reachable: true },
        business_database: businessDatabase(),
        uptime_seconds: Math.round((Date.now() - startedAt) / 1000),
      });
    });
  };
}
