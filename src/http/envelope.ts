// The guide's response envelope (§2.2, §9.2): HTTP status = body `code`, one shape for every route.
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Lang } from '../messages.ts';
import { AppError } from '../errors.ts';
import { t, type MessageKey } from '../messages.ts';
import { localIso } from '../time.ts';

declare module 'fastify' {
  interface FastifyRequest {
    lang: Lang;
  }
}

/** The `data` a route's declared response schemas accept (any for a route without one). */
type ResponseData<R> = R extends { send(payload: infer P): unknown } ? (P extends { data: infer D } ? D : unknown) : unknown;

/**
 * Sends the guide's success envelope. `data` is checked at compile time against the route's response
 * schemas (fastify-type-provider-zod types the reply with them), and at run time by their serializer.
 */
export function sendOk<R extends FastifyReply>(reply: R, status: number, messageKey: MessageKey, data: ResponseData<R>) {
  return reply.code(status).send({ success: true, code: status, message: t(messageKey, reply.request.lang), data });
}

export function errorBody(error: AppError, lang: Lang) {
  const statusKey = `status.${error.status}` as MessageKey;
  return {
    success: false,
    code: error.status,
    message: t(statusKey in STATUS_KEYS ? statusKey : 'status.500', lang),
    error: {
      type: error.type,
      code: error.code,
      details: error.details(lang),
      ...(error.invalidParams ? { invalid_params: error.invalidParams } : {}),
      ...(error.missingParams ? { missing_params: error.missingParams } : {}),
      timestamp: localIso(new Date()),
    },
  };
}

const STATUS_KEYS: Record<string, true> = Object.fromEntries(
  [400, 401, 404, 405, 409, 413, 415, 500, 503].map((s) => [`status.${s}`, true]),
);

export function sendError(request: FastifyRequest, reply: FastifyReply, error: AppError) {
  return reply.code(error.status).type('application/json; charset=utf-8').send(errorBody(error, request.lang));
}
