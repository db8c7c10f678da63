// Errors that reach a user. Lower layers throw AppError with a stable code; http/ renders the envelope
// (status = body code) and the CLI prints the same text.
import type { Lang } from './messages.ts';
import { t, type MessageKey } from './messages.ts';

export interface AppErrorOptions {
  params?: Record<string, string | number | undefined>;
  invalidParams?: string[];
  missingParams?: string[];
  type?: string;
  cause?: unknown;
  /** Ready-made details in both languages (from a lower layer that words its own errors). */
  texts?: { zh: string; en: string };
}

export class AppError extends Error {
  readonly params: Record<string, string | number | undefined>;
  readonly invalidParams?: string[];
  readonly missingParams?: string[];
  readonly type: string;
  readonly texts?: { zh: string; en: string };

  constructor(
    readonly status: number,
    readonly code: string,
    readonly key: MessageKey,
    options: AppErrorOptions = {},
  ) {
    super(options.texts?.en ?? t(key, 'en', options.params), { cause: options.cause });
    this.name = 'AppError';
    this.params = options.params ?? {};
    this.invalidParams = options.invalidParams;
    this.missingParams = options.missingParams;
    this.type = options.type ?? defaultType(status);
    this.texts = options.texts;
  }

  details(lang: Lang): string {
    return this.texts ? this.texts[lang] : t(this.key, lang, this.params);
  }
}

function defaultType(status: number): string {
  if (status === 400) return 'ValidationError';
  if (status === 401) return 'AuthenticationError';
  if (status === 404) return 'NotFoundError';
  if (status === 409) return 'ConflictError';
  if (status === 413) return 'PayloadTooLargeError';
  if (status === 415) return 'UnsupportedMediaTypeError';
  return 'ServerError';
}

export const taskNotFound = (taskId: string) => new AppError(404, 'TASK_NOT_FOUND', 'err.task_not_found', { params: { task_id: taskId } });
export const taskAlreadyRunning = (taskId: string) =>
  new AppError(409, 'TASK_ALREADY_RUNNING', 'err.task_already_running', { params: { task_id: taskId } });
export const invalidParam = (param: string, reason: string) =>
  new AppError(400, 'VALIDATION_ERROR', 'err.invalid_param', { params: { param, reason }, invalidParams: [param] });

/** A db_connection refused at the edge; `reason` never quotes the credential part. */
export const invalidDbConnection = (reason?: { zh: string; en: string }) =>
  new AppError(400, 'VALIDATION_ERROR', 'err.invalid_db_connection', {
    invalidParams: ['db_connection'],
    texts: reason ? { zh: `db_connection 无效: ${reason.zh}`, en: `Invalid db_connection: ${reason.en}` } : undefined,
  });
