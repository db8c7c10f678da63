// The error catalogue: every code a user can see (the HTTP body's error.code, a failed step's error_code,
// the CLI's `CODE: text`) → its HTTP status, its envelope type and the message keys that word it. In the
// spirit of fastify's lib/errors.js: one row per code, and every error is built from its row, so a code
// cannot answer with two statuses and a text cannot be missing a language (test/unit/errors.test.ts).
import { maskConnectionString, maskSecretsInText } from './postgres/connection-string.ts';
import { t, type Lang, type MessageKey, type MessageParam, type MessageParams } from './messages.ts';

interface CatalogueEntry {
  status: number;
  /** The envelope's error.type; by status when absent. */
  type?: string;
  /** The texts this code may carry; the first is its default. */
  keys: readonly [MessageKey, ...MessageKey[]];
  /** A text that answers with another status than the row's (the key decides, never the caller). */
  statusOfKey?: Partial<Record<MessageKey, number>>;
}

/** How a task file that a step reads (readArtifact) can be wrong. */
const ARTEFACT_KEYS = ['step.file_unreadable', 'step.file_not_json', 'step.file_not_json_at', 'step.file_shape'] as const;

export const ERRORS = {
  // The guide's codes (§9.1).
  TASK_NOT_FOUND: { status: 404, keys: ['err.task_not_found'] },
  TASK_ALREADY_RUNNING: { status: 409, keys: ['err.task_already_running', 'err.task_running_delete'] },
  INVALID_EXECUTION_MODE: { status: 400, keys: ['err.invalid_execution_mode', 'err.worded_below'] },
  MISSING_STEP_NAME: { status: 400, keys: ['err.missing_step_name'] },
  INVALID_STEP_NAME: { status: 400, keys: ['err.invalid_step_name', 'err.worded_below'] },
  FILE_NOT_FOUND: { status: 404, keys: ['err.file_not_found', 'err.worded_below'] },
  DATABASE_CONNECTION_ERROR: {
    status: 500,
    type: 'DatabaseConnectionError',
    keys: ['err.database_connection', 'err.store_unreachable', 'step.business_db_unreachable', 'step.validation_db_error'],
    // /health without its store: 503, what load balancers and orchestrators read as "take me out of rotation".
    statusOfKey: { 'err.store_unreachable': 503 },
  },
  VECTOR_BACKUP_FAILED: { status: 500, type: 'VectorStoreError', keys: ['err.vector_backup_failed'] },
  VECTOR_TRUNCATE_FAILED: { status: 500, type: 'VectorStoreError', keys: ['err.vector_truncate_failed'] },

  // Requests (api-decisions.md: new codes in the guide's style).
  VALIDATION_ERROR: {
    status: 400,
    keys: [
      'err.invalid_param',
      'err.invalid_json',
      'err.invalid_db_connection',
      'err.invalid_db_connection_reason',
      'err.invalid_table_name',
      'err.unknown_columns',
      'err.upload_missing_file',
      'err.upload_empty',
      'err.table_list_file_not_found',
      'err.table_list_file_outside',
      'err.vector_unknown_tables',
      'err.invalid_request',
      'err.malformed_multipart',
      'err.vector_nothing_to_do',
      'err.worded_below',
    ],
  },
  NOT_FOUND: { status: 404, keys: ['err.route_not_found', 'err.invalid_request'] },
  UNAUTHORIZED: { status: 401, keys: ['err.unauthorized'] },
  PAYLOAD_TOO_LARGE: { status: 413, keys: ['err.payload_too_large', 'err.upload_too_large'] },
  UNSUPPORTED_MEDIA_TYPE: { status: 415, keys: ['err.unsupported_media_type'] },
  UNSUPPORTED_FILE_TYPE: { status: 415, keys: ['err.upload_type'] },
  INVALID_TASK_ID: { status: 400, keys: ['err.invalid_task_id'] },
  INVALID_PATH: { status: 400, keys: ['err.invalid_path', 'err.path_refused', 'err.worded_below'] },
  INTERNAL_ERROR: { status: 500, keys: ['err.internal'] },
  TASK_NOT_RUNNING: { status: 409, keys: ['err.task_not_running'] },

  // Table lists (request bodies, uploads, the task's table_list.txt).
  TABLE_LIST_REQUIRED: { status: 400, keys: ['err.table_list_required', 'step.table_list_missing'] },
  TABLE_LIST_INVALID: { status: 409, keys: ['err.task_table_list_invalid', 'step.file_unreadable'] },
  INVALID_TABLE_NAME: { status: 400, keys: ['err.table_list_invalid', 'err.worded_below'] },
  EMPTY_TABLE_LIST: { status: 400, keys: ['err.table_list_invalid', 'step.table_list_empty', 'err.worded_below'] },
  TOO_MANY_TABLES: { status: 400, keys: ['err.table_list_invalid', 'err.worded_below'] },
  SYSTEM_TABLE_REFUSED: { status: 400, keys: ['err.system_tables_refused'] },
  TABLES_NOT_FOUND: { status: 400, keys: ['err.tables_not_found', 'step.tables_not_found', 'step.no_tables'] },

  // Database tools (guide §6).
  TABLE_NOT_FOUND: { status: 404, keys: ['err.table_not_found'] },
  DDL_GENERATION_FAILED: { status: 500, keys: ['err.ddl_generation_failed'] },

  // Task artefacts read over HTTP (pairs, relationships).
  SCHEMA_NOT_READY: { status: 409, keys: ['err.schema_not_ready'] },
  INVALID_RELATIONSHIPS_FILE: { status: 400, keys: ['err.relationships_file', ...ARTEFACT_KEYS] },
  PAIRS_NOT_READY: { status: 409, keys: ['err.pairs_not_ready'] },
  PAIR_NOT_FOUND: { status: 404, keys: ['err.pair_not_found'] },
  PAIR_SQL_REJECTED: { status: 400, keys: ['err.pair_sql_rejected'] },
  PAIR_SQL_INVALID: { status: 400, keys: ['err.pair_sql_invalid'] },
  PAIR_LINT_ERROR: { status: 400, keys: ['err.pair_lint_error'] },
  PAIR_NOT_PREVIEWABLE: { status: 400, keys: ['err.pair_not_previewable'] },

  // Embedding and the vector store (training_load, /vector/*).
  EMBEDDER_UNAVAILABLE: { status: 500, keys: ['err.embedder_unavailable'] },
  EMBEDDING_FAILED: { status: 500, keys: ['err.embedder_unavailable', 'step.embedding_failed'] },
  VECTOR_RESTORE_FAILED: { status: 500, type: 'VectorStoreError', keys: ['err.vector_restore_failed'] },
  VECTOR_BACKUP_NOT_FOUND: { status: 404, keys: ['err.vector_backup_not_found'] },
  VECTOR_BACKUP_INVALID: { status: 400, keys: ['err.vector_backup_invalid'] },
  VECTOR_DIMENSION_MISMATCH: { status: 409, keys: ['err.vector_store'] },
  VECTOR_EMBEDDER_MISMATCH: { status: 409, keys: ['err.vector_store'] },
  VECTOR_EXTENSION_MISSING: { status: 500, type: 'VectorStoreError', keys: ['err.vector_store'] },
  VECTOR_SCHEMA_INVALID: { status: 500, type: 'VectorStoreError', keys: ['err.vector_store'] },
  VECTOR_STORE_EMPTY: { status: 409, keys: ['err.vector_store'] },
  VECTOR_STORE_ERROR: { status: 500, type: 'VectorStoreError', keys: ['err.vector_store'] },

  // A failed step (the task status' error_code; the runner words it in the task's language).
  STEP_FAILED: { status: 500, keys: ['step.failed'] },
  WORKER_LOST: { status: 500, keys: ['step.worker_lost'] },
  STEP_NOT_AVAILABLE: { status: 500, keys: ['err.step_not_available'] },
  INVALID_PARAMETER: { status: 400, keys: ['step.invalid_parameters', 'step.relationships_invalid'] },
  SCHEMA_INVALID: { status: 500, keys: ARTEFACT_KEYS },
  SCHEMA_NOT_FOUND: { status: 500, keys: ['step.schema_missing'] },
  VALIDATION_RESULT_INVALID: { status: 500, keys: ARTEFACT_KEYS },
  PAIR_META_INVALID: { status: 500, keys: ARTEFACT_KEYS },
  PAIR_REVIEW_INVALID: { status: 500, keys: ARTEFACT_KEYS },
  VALIDATION_REPORT_INVALID: { status: 500, keys: ARTEFACT_KEYS },
  TABLE_TIMEOUT: { status: 500, keys: ['step.table_failed'] },
  TABLE_FAILED: { status: 500, keys: ['step.table_failed'] },
  TABLE_NOT_READABLE: { status: 500, keys: ['step.table_not_readable'] },
  LLM_ERROR: { status: 500, keys: ['step.llm_annotation_failed'] },
  LLM_UNAVAILABLE: { status: 500, keys: ['step.llm_themes_failed', 'step.llm_pending'] },
  QA_NO_TABLES: { status: 500, keys: ['step.schema_no_tables'] },
  QA_TOO_FEW_PAIRS: { status: 500, keys: ['step.too_few_pairs', 'step.too_few_pairs_failed_themes'] },
  PAIR_FILE_NOT_FOUND: { status: 500, keys: ['step.pair_file_missing'] },
  PAIR_FILE_INVALID: { status: 500, keys: [...ARTEFACT_KEYS, 'step.pair_file_unreadable'] },
  TRAINING_INPUT_MISSING: { status: 500, keys: ['step.pair_file_missing', 'step.validation_result_missing', 'step.schema_missing'] },
  TRAINING_INPUT_INVALID: {
    status: 500,
    keys: [...ARTEFACT_KEYS, 'step.review_mismatch', 'step.pair_file_unreadable'],
  },
  TRAINING_LOAD_INCOMPLETE: { status: 500, keys: ['step.load_incomplete'] },
} as const satisfies Record<string, CatalogueEntry>;

export type ErrorCode = keyof typeof ERRORS;
/** The message keys a code may carry. */
export type KeyOf<C extends ErrorCode> = (typeof ERRORS)[C]['keys'][number];

export function isErrorCode(code: string): code is ErrorCode {
  return Object.hasOwn(ERRORS, code);
}

export interface AppErrorOptions<C extends ErrorCode = ErrorCode> {
  /** The text, when not the code's default; one of the code's keys. */
  key?: KeyOf<C>;
  params?: MessageParams;
  invalidParams?: string[];
  missingParams?: string[];
  cause?: unknown;
}

/** An error that reaches a user through HTTP (http/ renders the envelope: status = body code) or the CLI. */
export class AppError extends Error {
  readonly status: number;
  readonly type: string;
  readonly key: MessageKey;
  readonly params: MessageParams;
  readonly invalidParams?: string[];
  readonly missingParams?: string[];

  constructor(
    readonly code: ErrorCode,
    options: AppErrorOptions = {},
  ) {
    const entry: CatalogueEntry = ERRORS[code];
    const key = options.key ?? entry.keys[0];
    super(t(key, 'en', options.params), { cause: options.cause });
    this.name = 'AppError';
    this.status = entry.statusOfKey?.[key] ?? entry.status;
    this.type = entry.type ?? typeByStatus(this.status);
    this.key = key;
    this.params = options.params ?? {};
    this.invalidParams = options.invalidParams;
    this.missingParams = options.missingParams;
  }

  details(lang: Lang): string {
    return t(this.key, lang, this.params);
  }
}

/** Builds the AppError of `code`; the key is checked against the code's row at compile time. */
export function appError<C extends ErrorCode>(code: C, options: AppErrorOptions<C> = {}): AppError {
  return new AppError(code, options as AppErrorOptions);
}

/** An error a step raises to fail with a stable code; the runner words it in the task's language. */
export class StepError extends Error {
  readonly key: MessageKey;
  readonly params: MessageParams;

  constructor(
    readonly code: ErrorCode,
    key?: MessageKey,
    params: MessageParams = {},
  ) {
    const text = key ?? ERRORS[code].keys[0];
    super(t(text, 'en', params));
    this.name = 'StepError';
    this.key = text;
    this.params = params;
  }

  text(lang: Lang): string {
    return t(this.key, lang, this.params);
  }
}

/** Builds the StepError of `code`; the key is checked against the code's row at compile time. */
export function stepError<C extends ErrorCode>(code: C, key: KeyOf<C>, params: MessageParams = {}): StepError {
  return new StepError(code, key, params);
}

function typeByStatus(status: number): string {
  if (status === 400) return 'ValidationError';
  if (status === 401) return 'AuthenticationError';
  if (status === 404) return 'NotFoundError';
  if (status === 409) return 'ConflictError';
  if (status === 413) return 'PayloadTooLargeError';
  if (status === 415) return 'UnsupportedMediaTypeError';
  return 'ServerError';
}

// The errors built in more than one place.
export const taskNotFound = (taskId: string) => appError('TASK_NOT_FOUND', { params: { task_id: taskId } });
export const taskAlreadyRunning = (taskId: string) => appError('TASK_ALREADY_RUNNING', { params: { task_id: taskId } });
export const invalidParam = (param: string, reason: string) =>
  appError('VALIDATION_ERROR', { params: { param, reason }, invalidParams: [param] });
/** The business database cannot be reached (guide §9.1: 500); the url and the reason are shown masked. */
export const databaseConnectionError = (url: string, error: unknown) => {
  const e = error as { message?: string; code?: string };
  const text = e?.message || e?.code || String(error);
  const reason = e?.code && !text.includes(e.code) ? `${text} (${e.code})` : text;
  return appError('DATABASE_CONNECTION_ERROR', { params: { url: maskConnectionString(url), reason: maskSecretsInText(reason) }, cause: error });
};

/** A db_connection refused at the edge; the reason never quotes the credential part. */
export const invalidDbConnection = (reason?: MessageParam) =>
  reason
    ? appError('VALIDATION_ERROR', { key: 'err.invalid_db_connection_reason', params: { reason }, invalidParams: ['db_connection'] })
    : appError('VALIDATION_ERROR', { key: 'err.invalid_db_connection', invalidParams: ['db_connection'] });
