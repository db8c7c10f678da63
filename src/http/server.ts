// The Fastify server: small plugins per resource, zod schemas at the edge, one envelope and one error
// handler for everything. Client mistakes become precise 4xx answers; only our own faults are 500s.
import { createRequire } from 'node:module';
import crypto from 'node:crypto';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import multipart from '@fastify/multipart';
import fastifyStatic from '@fastify/static';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import Fastify, { type FastifyError, type FastifyInstance, type FastifyServerOptions } from 'fastify';
import { hasZodFastifySchemaValidationErrors, jsonSchemaTransform, serializerCompiler, validatorCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { App } from '../app.ts';
import { AppError, appError } from '../errors.ts';
import { UnsafePathError } from '../files.ts';
import { langFromHeader, phrase } from '../messages.ts';
import { maskQuerySecrets, maskSecretsInText } from '../postgres/connection-string.ts';
import { humanSize } from '../tasks/workspace.ts';
import { sendError } from './envelope.ts';
import { databaseRoutes } from './database.ts';
import { eventRoutes } from './events.ts';
import { fileRoutes } from './files.ts';
import { relationshipRoutes } from './relationships.ts';
import { pairRoutes } from './pairs.ts';
import { PairReview } from '../tasks/pair-review.ts';
import { healthRoutes } from './health.ts';
import { logRoutes } from './logs.ts';
import { StatusCache } from './status-cache.ts';
import { taskRoutes } from './tasks.ts';
import { validationError, type ParamErrorCodes } from './validation.ts';
import { vectorRoutes } from './vector.ts';

export { API_VERSION } from '../version.ts';
import { API_VERSION } from '../version.ts';
/** The dashboard (web/): plain ES modules and CSS, no build step. */
const WEB_DIR = fileURLToPath(new URL('../../web/', import.meta.url));
const CYTOSCAPE_DIR = path.dirname(createRequire(import.meta.url).resolve('cytoscape'));
/** csv-parse's self-contained browser build: the retrieval panel reads an uploaded or pasted CSV question set. */
const CSV_PARSE_BROWSER = createRequire(import.meta.url).resolve('csv-parse/browser/esm/sync');
const DASHBOARD_CSP = "default-src 'self'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self' data:; frame-ancestors 'none'";

/** Fastify's types describe its JSON-schema compiler factories; these hand out the zod compilers instead. */
const ZOD_COMPILERS = { buildValidator: () => validatorCompiler, buildSerializer: () => serializerCompiler } as unknown as NonNullable<
  FastifyServerOptions['schemaController']
>['compilersFactory'];

declare module 'fastify' {
  interface FastifyContextConfig {
    errorCodes?: ParamErrorCodes;
  }
}

export async function buildServer(app: App): Promise<FastifyInstance> {
  const { settings, systemLog, service } = app;
  const server = Fastify({
    logger: false,
    bodyLimit: 1024 * 1024,
    trustProxy: false,
    // Every schema is zod (see the compilers set below). Given as the factories too, Fastify never loads
    // its own JSON-schema compilers (ajv, fast-json-stringify): ~150 ms of the start.
    schemaController: { compilersFactory: ZOD_COMPILERS },
  }).withTypeProvider<ZodTypeProvider>();
  server.setValidatorCompiler(validatorCompiler);
  // Routes that declare a response schema have their answer checked against it (and documented by it).
  server.setSerializerCompiler(serializerCompiler);
  server.decorateRequest('lang', settings.lang);

  // JSON bodies: an empty body is an empty object (the guide's clients POST without one), anything that
  // does not parse is a 400 that says why.
  server.removeContentTypeParser('application/json');
  server.addContentTypeParser('application/json', { parseAs: 'string' }, (_request, body, done) => {
    const text = (body as string).trim();
    if (text === '') return done(null, {});
    try {
      done(null, JSON.parse(text));
    } catch (error) {
      done(appError('VALIDATION_ERROR', { key: 'err.invalid_json', params: { reason: (error as Error).message } }), undefined);
    }
  });

  // A POST without any body (no Content-Type, no bytes) never reaches the parser above, and Fastify
  // validates its missing body as null, which the schemas' `.prefault({})` does not cover: make it {} too.
  server.addHook('preValidation', async (request) => {
    if (request.body === undefined && request.routeOptions.schema?.body !== undefined) request.body = {};
    // PostgreSQL text cannot hold U+0000, nor jsonb an unpaired surrogate (not Unicode text at all):
    // refused here for every route and parameter, before any of it can reach a query, a file or a log line.
    // Path parameters are left to their own checks (a NUL in a download path is INVALID_PATH there).
    const withNul = findNul(request.query, '') ?? findNul(request.body, '');
    if (withNul) {
      throw appError('VALIDATION_ERROR', { params: { param: withNul, reason: phrase('reason.nul_character') }, invalidParams: [withNul] });
    }
  });

  await server.register(multipart, { limits: { fileSize: settings.maxUploadBytes, files: 1 } });

  server.addHook('onRequest', async (request, reply) => {
    request.lang = langFromHeader(request.headers['accept-language'], settings.lang);
    if (settings.apiKey && !isPublicRoute(request.routeOptions.url) && !hasValidKey(request.headers.authorization, settings.apiKey)) {
      return sendError(request, reply, appError('UNAUTHORIZED'));
    }
  });

  server.addHook('onResponse', async (request, reply) => {
    if (request.url.startsWith('/api/docs')) return;
    systemLog.write(
      reply.statusCode >= 500 ? 'WARNING' : 'INFO', // a real fault is logged as ERROR, with its stack, by the error handler
      'unified_api',
      `${request.method} ${maskQuerySecrets(request.url)} - ${reply.statusCode} (${reply.elapsedTime.toFixed(1)}ms)`,
    );
  });

  server.setErrorHandler((error: FastifyError | AppError, request, reply) => {
    const appError = toAppError(error, request.routeOptions.config?.errorCodes, settings.maxUploadBytes);
    if (error instanceof AppError && error.status >= 500) {
      // An anticipated failure outside our control (e.g. an unreachable database): its code says it all.
      systemLog.write('WARNING', 'unified_api', `${request.method} ${maskQuerySecrets(request.url)} failed: ${error.code} ${maskSecretsInText(error.details('en'))}`);
    } else if (appError.status >= 500) {
      systemLog.write('ERROR', 'unified_api', `${request.method} ${maskQuerySecrets(request.url)} failed: ${maskSecretsInText((error as Error).stack ?? String(error))}`);
    }
    return sendError(request, reply, appError);
  });

  server.setNotFoundHandler((request, reply) =>
    sendError(request, reply, appError('NOT_FOUND', { params: { method: request.method, url: request.url.split('?')[0] } })),
  );

  await server.register(swagger, {
    openapi: {
      info: {
        title: 'data-pipeline API',
        description: 'Text-to-SQL training data pipeline. Contract: the data_pipeline API guide (seed-api-guide.md).',
        version: API_VERSION,
      },
      components: settings.apiKey ? { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } } : undefined,
      security: settings.apiKey ? [{ bearer: [] }] : undefined,
    },
    transform: jsonSchemaTransform,
  });
  await server.register(swaggerUi, { routePrefix: '/api/docs' });

  await server.register(healthRoutes(app.storeDb, API_VERSION, () => app.businessDatabaseState()));
  await server.register(taskRoutes(service, new StatusCache(app.changes)));
  await server.register(fileRoutes(service, settings.maxUploadBytes));
  await server.register(relationshipRoutes(service));
  await server.register(pairRoutes(new PairReview(service, app.services.openBusinessDatabase, settings.businessDbUrl)));
  await server.register(logRoutes(service));
  await server.register(eventRoutes(service, app.changes));
  await server.register(vectorRoutes(app.vectorAdmin));
  await server.register(databaseRoutes(app.databaseTools));
  // The schema map's graph library, served from node_modules (the dashboard works offline).
  await server.register(fastifyStatic, {
    root: CYTOSCAPE_DIR,
    prefix: '/vendor/cytoscape/',
    decorateReply: false,
    allowedPath: (pathName) => pathName === '/cytoscape.esm.min.mjs',
    setHeaders: (res) => res.setHeader('X-Content-Type-Options', 'nosniff'),
  });
  await server.register(fastifyStatic, {
    root: path.dirname(CSV_PARSE_BROWSER),
    prefix: '/vendor/csv-parse/',
    decorateReply: false,
    allowedPath: (pathName) => pathName === `/${path.basename(CSV_PARSE_BROWSER)}`,
    setHeaders: (res) => res.setHeader('X-Content-Type-Options', 'nosniff'),
  });
  // Public like /api/docs: the page holds no data; every call it makes carries the API key when one is set.
  await server.register(fastifyStatic, {
    root: WEB_DIR,
    prefix: '/',
    wildcard: false,
    index: 'index.html',
    setHeaders: (res) => {
      res.setHeader('Content-Security-Policy', DASHBOARD_CSP);
      res.setHeader('X-Content-Type-Options', 'nosniff');
    },
  });
  return server;
}

/**
 * With an API key, everything needs it except the dashboard's static files and the API docs. Decided by the
 * route the router matched (which decodes the path), never by the raw URL: `/api/v%30/...` is /api/v0/.
 * A request that matches no route needs the key too, so a caller without it learns nothing about the API.
 */
function isPublicRoute(route: string | undefined): boolean {
  return route !== undefined && (route === '/api/docs' || route.startsWith('/api/docs/') || !route.startsWith('/api/'));
}

const UNSTORABLE = /\u0000|[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Name of the first parameter (value or key) holding U+0000 or an unpaired surrogate, e.g. `tables.2`. */
function findNul(value: unknown, where: string, depth = 0): string | undefined {
  if (typeof value === 'string') return UNSTORABLE.test(value) ? where || 'body' : undefined;
  if (value === null || typeof value !== 'object' || depth > 64 || Buffer.isBuffer(value)) return undefined;
  for (const [key, item] of Object.entries(value)) {
    const path = where ? `${where}.${key.replace(/\u0000/g, '\\0')}` : key.replace(/\u0000/g, '\\0');
    if (UNSTORABLE.test(key)) return path;
    const found = findNul(item, path, depth + 1);
    if (found) return found;
  }
  return undefined;
}

function hasValidKey(header: string | undefined, key: string): boolean {
  const match = /^Bearer\s+(.+)$/i.exec(header ?? '');
  if (!match) return false;
  const given = crypto.createHash('sha256').update(match[1]!.trim()).digest();
  const expected = crypto.createHash('sha256').update(key).digest();
  return crypto.timingSafeEqual(given, expected);
}

function toAppError(error: FastifyError | AppError, errorCodes: ParamErrorCodes | undefined, maxUploadBytes: number): AppError {
  if (error instanceof AppError) return error;
  if (error instanceof UnsafePathError) {
    const name = path.basename(error.file);
    return appError('INVALID_PATH', { key: 'err.path_refused', params: { file: name, reason: error.reason } });
  }
  if (hasZodFastifySchemaValidationErrors(error)) return validationError(error.validation, error.validationContext, errorCodes);
  const code = (error as FastifyError).code;
  if (code === 'FST_REQ_FILE_TOO_LARGE' || code === 'FST_FILES_LIMIT' || code === 'FST_PARTS_LIMIT') {
    return appError('PAYLOAD_TOO_LARGE', { key: 'err.upload_too_large', params: { limit: humanSize(maxUploadBytes) }, invalidParams: ['file'] });
  }
  if (code === 'FST_ERR_CTP_BODY_TOO_LARGE') return appError('PAYLOAD_TOO_LARGE');
  if (code === 'FST_ERR_CTP_INVALID_MEDIA_TYPE' || code === 'FST_INVALID_MULTIPART_CONTENT_TYPE') {
    return appError('UNSUPPORTED_MEDIA_TYPE', { params: { type: String((error as Error).message) } });
  }
  const status = (error as FastifyError).statusCode;
  if (status && status >= 400 && status < 500) {
    return appError(status === 404 ? 'NOT_FOUND' : 'VALIDATION_ERROR', { key: 'err.invalid_request', params: { reason: error.message } });
  }
  return appError('INTERNAL_ERROR', { cause: error });
}
