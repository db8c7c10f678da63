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

export function sendOk(reply: FastifyReply, status: number, messageKey: MessageKey, data: unknown) {
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
