import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import type { BusinessDatabaseState } from '../app.ts';
import type { Database } from '../postgres/connect.ts';
import { appError } from '../errors.ts';
import { sendOk } from './envelope.ts';

export function healthRoutes(storeDb: Database, version: string, businessDatabase: () => BusinessDatabaseState): FastifyPluginAsyncZod {
  const startedAt = Date.now();
  return async (app) => {
    app.get('/api/v0/health', { schema: { tags: ['system'], summary: '健康检查' } }, async (_request, reply) => {
      const storeOk = await storeDb.pool.query('SELECT 1').then(() => true, () => false);
      const body = { status: storeOk ? 'ok' : 'degraded', version, store: { kind: storeDb.kind, reachable: storeOk }, business_database: businessDatabase(), uptime_seconds: Math.round((Date.now() - startedAt) / 1000) };
      if (!storeOk) throw appError('DATABASE_CONNECTION_ERROR', { key: 'err.store_unreachable', params: { store: storeDb.label } });
      return sendOk(reply, 200, 'health.ok', body);
    });
  };
}
