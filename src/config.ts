// The one settings schema. Nothing else in the project reads process.env: main.ts hands the environment
// to loadSettings() once, and every other module receives the typed Settings it needs.
import path from 'node:path';
import { z } from 'zod';
import { maskConnectionString, maskSecretsInText } from './postgres/connection-string.ts';
import type { Lang } from './messages.ts';

const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'WARN', 'ERROR', 'CRITICAL'] as const;

const logLevel = z
  .string()
  .transform((value) => value.trim().toUpperCase())
  .pipe(z.enum(LOG_LEVELS))
  .transform((value) => (value === 'WARN' ? 'WARNING' : value));

const booleanFlag = z
  .string()
  .transform((value) => value.trim().toLowerCase())
  .pipe(z.enum(['1', '0', 'true', 'false', 'yes', 'no', 'on', 'off']))
  .transform((value) => ['1', 'true', 'yes', 'on'].includes(value));

const databaseUrl = z
  .string()
  .trim()
  .refine((value) => /^(postgres(ql)?|pglite):\/\/.+/.test(value), {
    message: 'must be a postgresql://, postgres:// or pglite://<directory> URL',
  });

const positiveInt = z.coerce.number().int().positive();

/** Every setting: environment variable → default → meaning. The README's settings table mirrors this. */
export const SETTINGS_DOC: Array<{ env: string; default: string; meaning: string }> = [
  { env: 'DATA_PIPELINE_HOST', default: '127.0.0.1', meaning: 'Address the HTTP API listens on.' },
  { env: 'DATA_PIPELINE_PORT', default: '8084', meaning: 'Port the HTTP API listens on.' },
  { env: 'DATA_PIPELINE_STORE_URL', default: 'pglite://./data/store', meaning: 'Task store and queue database (postgresql:// or embedded pglite://<dir>).' },
  { env: 'DATA_PIPELINE_DB_URL', default: 'pglite://./data/highway_db', meaning: 'Default business database read by tasks that give no db_connection (the embedded demo by default).' },
  { env: 'DATA_PIPELINE_VECTOR_URL', default: '(the store)', meaning: 'Vector store database (langchain_pg_* tables).' },
  { env: 'DATA_PIPELINE_OUTPUT_DIR', default: './data_pipeline/training_data', meaning: 'Parent folder of the task directories.' },
  { env: 'DATA_PIPELINE_INPUT_DIR', default: '(working directory)', meaning: 'Folder that a task\'s table_list_file must lie inside.' },
  { env: 'DATA_PIPELINE_LOG_DIR', default: './logs', meaning: 'System logs (app.log).' },
  { env: 'DATA_PIPELINE_LOG_LEVEL', default: 'INFO', meaning: 'Task log level: DEBUG, INFO, WARNING, ERROR.' },
  { env: 'API_LOG_LEVEL / FLASK_LOG_LEVEL', default: 'INFO', meaning: 'HTTP API log level (FLASK_LOG_LEVEL is the guide\'s alias).' },
  { env: 'DATA_PIPELINE_API_KEY', default: '(none)', meaning: 'When set, every /api route needs Authorization: Bearer <key>.' },
  { env: 'DATA_PIPELINE_SECRET_KEY', default: '(none: stored in plaintext)', meaning: 'When set, the db_connection of each task is stored encrypted (AES-256-GCM) in the task store.' },
  { env: 'DATA_PIPELINE_ALLOW_INSECURE_BIND', default: 'false', meaning: 'Allow listening on a non-loopback address without an API key.' },
  { env: 'DATA_PIPELINE_WORKERS', default: '1', meaning: 'Task runs executed at once by one process (serve or worker).' },
  { env: 'DATA_PIPELINE_RUN_WORKERS_IN_SERVE', default: 'true', meaning: 'Whether serve also executes tasks (false: only data-pipeline worker does).' },
  { env: 'DATA_PIPELINE_HEARTBEAT_TIMEOUT_SECONDS', default: '30', meaning: 'A run whose worker has not reported for this long is taken over.' },
  { env: 'DATA_PIPELINE_STALE_RUN_POLICY', default: 'resume', meaning: 'What happens to a run whose worker died: resume (at the first unfinished step) or fail.' },
  { env: 'DATA_PIPELINE_EMBEDDED_DB_IDLE_SECONDS', default: '300', meaning: 'An embedded (pglite://) business or vector database is opened on first use and closed (its memory freed) after no task or request has used it for this long; 0 closes it as soon as the last user is done.' },
  { env: 'DATA_PIPELINE_MAX_UPLOAD_BYTES', default: '1048576', meaning: 'Largest accepted table-list upload.' },
  { env: 'DATA_PIPELINE_LANG', default: 'zh', meaning: 'Default language of messages: zh or en (Accept-Language: en switches per request).' },
  { env: 'DATA_PIPELINE_LLM_BASE_URL', default: '(none: offline generator)', meaning: 'OpenAI-compatible chat endpoint, e.g. https://api.example.com/v1. Unset: the built-in offline annotator and generator.' },
  { env: 'DATA_PIPELINE_LLM_API_KEY', default: '(none)', meaning: 'API key of the LLM endpoint.' },
  { env: 'DATA_PIPELINE_LLM_MODEL', default: '(required with a base URL)', meaning: 'Chat model name.' },
  { env: 'DATA_PIPELINE_LLM_TEMPERATURE', default: '0.2', meaning: 'Sampling temperature.' },
  { env: 'DATA_PIPELINE_LLM_TIMEOUT_SECONDS', default: '120', meaning: 'Timeout of one LLM call.' },
  { env: 'DATA_PIPELINE_LLM_CONCURRENCY', default: '8', meaning: 'LLM calls in flight at once per step.' },
  { env: 'DATA_PIPELINE_LLM_MAX_RETRIES', default: '3', meaning: 'Retries of a failed LLM call (429, 5xx, timeouts, malformed JSON), with backoff honouring Retry-After.' },
  { env: 'DATA_PIPELINE_LLM_JSON_MODE', default: 'true', meaning: 'Ask for response_format json_object (falls back to extraction when the server refuses).' },
  { env: 'DATA_PIPELINE_EMBEDDER', default: 'hashing (openai when an embedding base URL is set)', meaning: 'Embedder: hashing (offline), openai (OpenAI-compatible /embeddings) or onnx (local model folder).' },
  { env: 'DATA_PIPELINE_EMBEDDING_BASE_URL', default: '(none)', meaning: 'OpenAI-compatible embeddings endpoint.' },
  { env: 'DATA_PIPELINE_EMBEDDING_API_KEY', default: '(none)', meaning: 'API key of the embeddings endpoint.' },
  { env: 'DATA_PIPELINE_EMBEDDING_MODEL', default: 'hashing-zh-v4 (hashing)', meaning: 'Embedding model name (hashing: hashing-zh-v4, or hashing-zh-v3 / -v2 / -v1 for stores loaded with them; the onnx embedder: path of a local model folder).' },
  { env: 'DATA_PIPELINE_EMBEDDING_DIM', default: '1024', meaning: 'Embedding dimension (must match an existing vector table).' },
  { env: 'DATA_PIPELINE_EMBEDDING_BATCH_SIZE', default: '64', meaning: 'Inputs per embeddings request.' },
];

const settingsShape = z.object({
  DATA_PIPELINE_HOST: z.string().trim().min(1).default('127.0.0.1'),
  DATA_PIPELINE_PORT: z.coerce.number().int().min(0).max(65535).default(8084),
  DATA_PIPELINE_STORE_URL: databaseUrl.default('pglite://./data/store'),
  DATA_PIPELINE_DB_URL: databaseUrl.default('pglite://./data/highway_db'),
  DATA_PIPELINE_VECTOR_URL: databaseUrl.optional(),
  DATA_PIPELINE_OUTPUT_DIR: z.string().trim().min(1).default('./data_pipeline/training_data'),
  DATA_PIPELINE_INPUT_DIR: z.string().trim().min(1).default('.'),
  DATA_PIPELINE_LOG_DIR: z.string().trim().min(1).default('./logs'),
  DATA_PIPELINE_LOG_LEVEL: logLevel.default('INFO'),
  API_LOG_LEVEL: logLevel.optional(),
  FLASK_LOG_LEVEL: logLevel.optional(),
  DATA_PIPELINE_API_KEY: z.string().min(1).optional(),
  DATA_PIPELINE_SECRET_KEY: z.string().min(16, 'must be at least 16 characters').optional(),
  DATA_PIPELINE_ALLOW_INSECURE_BIND: booleanFlag.default(false),
  DATA_PIPELINE_WORKERS: positiveInt.max(64).default(1),
  DATA_PIPELINE_RUN_WORKERS_IN_SERVE: booleanFlag.default(true),
  DATA_PIPELINE_HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().positive().max(86_400).default(30),
  DATA_PIPELINE_EMBEDDED_DB_IDLE_SECONDS: z.coerce.number().min(0).max(86_400).default(300),
  DATA_PIPELINE_STALE_RUN_POLICY: z.enum(['resume', 'fail']).default('resume'),
  DATA_PIPELINE_MAX_UPLOAD_BYTES: positiveInt.default(1024 * 1024),
  DATA_PIPELINE_LANG: z.enum(['zh', 'en']).default('zh'),
  DATA_PIPELINE_LLM_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATA_PIPELINE_LLM_API_KEY: z.string().min(1).optional(),
  DATA_PIPELINE_LLM_MODEL: z.string().trim().min(1).optional(),
  DATA_PIPELINE_LLM_TEMPERATURE: z.coerce.number().min(0).max(2).default(0.2),
  DATA_PIPELINE_LLM_TIMEOUT_SECONDS: z.coerce.number().positive().max(3600).default(120),
  DATA_PIPELINE_LLM_CONCURRENCY: positiveInt.max(256).default(8),
  DATA_PIPELINE_LLM_MAX_RETRIES: z.coerce.number().int().min(0).max(20).default(3),
  DATA_PIPELINE_LLM_JSON_MODE: booleanFlag.default(true),
  DATA_PIPELINE_EMBEDDER: z.enum(['hashing', 'openai', 'onnx']).optional(),
  DATA_PIPELINE_EMBEDDING_BASE_URL: z.url({ protocol: /^https?$/ }).optional(),
  DATA_PIPELINE_EMBEDDING_API_KEY: z.string().min(1).optional(),
  DATA_PIPELINE_EMBEDDING_MODEL: z.string().trim().min(1).optional(),
  DATA_PIPELINE_EMBEDDING_DIM: positiveInt.max(16_000).default(1024),
  DATA_PIPELINE_EMBEDDING_BATCH_SIZE: positiveInt.max(2048).default(64),
});

const settingsSchema = settingsShape.superRefine((s, ctx) => {
  if (s.DATA_PIPELINE_LLM_BASE_URL && !s.DATA_PIPELINE_LLM_MODEL) {
    ctx.addIssue({ code: 'custom', path: ['DATA_PIPELINE_LLM_MODEL'], message: 'is required when DATA_PIPELINE_LLM_BASE_URL is set' });
  }
  if (s.DATA_PIPELINE_EMBEDDER === 'openai' && !s.DATA_PIPELINE_EMBEDDING_BASE_URL) {
    ctx.addIssue({ code: 'custom', path: ['DATA_PIPELINE_EMBEDDING_BASE_URL'], message: 'is required when DATA_PIPELINE_EMBEDDER=openai' });
  }
  if (s.DATA_PIPELINE_EMBEDDER === 'onnx' && !s.DATA_PIPELINE_EMBEDDING_MODEL) {
    ctx.addIssue({ code: 'custom', path: ['DATA_PIPELINE_EMBEDDING_MODEL'], message: 'must name a local model folder when DATA_PIPELINE_EMBEDDER=onnx' });
  }
});

export interface LlmSettings {
  baseUrl: string;
  apiKey: string | undefined;
  model: string;
  temperature: number;
  timeoutMs: number;
  concurrency: number;
  maxRetries: number;
  jsonMode: boolean;
}

export interface EmbeddingSettings {
  kind: 'hashing' | 'openai' | 'onnx';
  baseUrl: string | undefined;
  apiKey: string | undefined;
  model: string;
  dim: number;
  batchSize: number;
}
export type LogLevelName = 'DEBUG' | 'INFO' | 'WARNING' | 'ERROR' | 'CRITICAL';

export interface Settings {
  host: string;
  port: number;
  storeUrl: string;
  businessDbUrl: string;
  vectorUrl: string;
  outputDir: string;
  inputDir: string;
  logDir: string;
  taskLogLevel: LogLevelName;
  apiLogLevel: LogLevelName;
  apiKey: string | undefined;
  /** Key that db_connection is encrypted with in the store; undefined: stored in plaintext. */
  secretKey: string | undefined;
  allowInsecureBind: boolean;
  workers: number;
  runWorkersInServe: boolean;
  heartbeatTimeoutMs: number;
  staleRunPolicy: 'resume' | 'fail';
  /** How long an embedded business/vector database stays open after its last user is done. */
  embeddedIdleCloseMs: number;
  maxUploadBytes: number;
  lang: Lang;
  /** Undefined: no LLM configured, the offline annotator and generator are used. */
  llm: LlmSettings | undefined;
  embedding: EmbeddingSettings;
  /** The directory relative paths and pglite:// URLs resolve against. */
  cwd: string;
}

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

const SETTING_KEYS = Object.keys(settingsShape.shape);

/** Reads the settings from an environment (process.env in main.ts; a plain object in tests). */
export function loadSettings(env: Record<string, string | undefined>, cwd = process.cwd()): Settings {
  const relevant = Object.fromEntries(
    SETTING_KEYS.map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const parsed = settingsSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new SettingsError(
      parsed.error.issues.map((issue) => {
        const name = String(issue.path[0]);
        return `${name}=${shownValue(name, relevant[name])}: ${issue.message}`;
      }),
    );
  }
  const s = parsed.data;
  const resolve = (p: string) => path.resolve(cwd, p);
  return {
    host: s.DATA_PIPELINE_HOST,
    port: s.DATA_PIPELINE_PORT,
    storeUrl: s.DATA_PIPELINE_STORE_URL,
    businessDbUrl: s.DATA_PIPELINE_DB_URL,
    vectorUrl: s.DATA_PIPELINE_VECTOR_URL ?? s.DATA_PIPELINE_STORE_URL,
    outputDir: resolve(s.DATA_PIPELINE_OUTPUT_DIR),
    inputDir: resolve(s.DATA_PIPELINE_INPUT_DIR),
    logDir: resolve(s.DATA_PIPELINE_LOG_DIR),
    taskLogLevel: s.DATA_PIPELINE_LOG_LEVEL as LogLevelName,
    apiLogLevel: (s.API_LOG_LEVEL ?? s.FLASK_LOG_LEVEL ?? 'INFO') as LogLevelName,
    apiKey: s.DATA_PIPELINE_API_KEY,
    secretKey: s.DATA_PIPELINE_SECRET_KEY,
    allowInsecureBind: s.DATA_PIPELINE_ALLOW_INSECURE_BIND,
    workers: s.DATA_PIPELINE_WORKERS,
    runWorkersInServe: s.DATA_PIPELINE_RUN_WORKERS_IN_SERVE,
    heartbeatTimeoutMs: Math.round(s.DATA_PIPELINE_HEARTBEAT_TIMEOUT_SECONDS * 1000),
    staleRunPolicy: s.DATA_PIPELINE_STALE_RUN_POLICY,
    embeddedIdleCloseMs: Math.round(s.DATA_PIPELINE_EMBEDDED_DB_IDLE_SECONDS * 1000),
    maxUploadBytes: s.DATA_PIPELINE_MAX_UPLOAD_BYTES,
    lang: s.DATA_PIPELINE_LANG,
    llm: s.DATA_PIPELINE_LLM_BASE_URL
      ? {
          baseUrl: s.DATA_PIPELINE_LLM_BASE_URL,
          apiKey: s.DATA_PIPELINE_LLM_API_KEY,
          model: s.DATA_PIPELINE_LLM_MODEL!,
          temperature: s.DATA_PIPELINE_LLM_TEMPERATURE,
          timeoutMs: Math.round(s.DATA_PIPELINE_LLM_TIMEOUT_SECONDS * 1000),
          concurrency: s.DATA_PIPELINE_LLM_CONCURRENCY,
          maxRetries: s.DATA_PIPELINE_LLM_MAX_RETRIES,
          jsonMode: s.DATA_PIPELINE_LLM_JSON_MODE,
        }
      : undefined,
    embedding: embeddingSettings(s),
    cwd,
  };
}

function embeddingSettings(s: z.infer<typeof settingsSchema>): EmbeddingSettings {
  const kind = s.DATA_PIPELINE_EMBEDDER ?? (s.DATA_PIPELINE_EMBEDDING_BASE_URL ? 'openai' : 'hashing');
  return {
    kind,
    baseUrl: s.DATA_PIPELINE_EMBEDDING_BASE_URL,
    apiKey: s.DATA_PIPELINE_EMBEDDING_API_KEY,
    model: s.DATA_PIPELINE_EMBEDDING_MODEL ?? (kind === 'hashing' ? 'hashing-zh-v4' : 'text-embedding'),
    dim: s.DATA_PIPELINE_EMBEDDING_DIM,
    batchSize: s.DATA_PIPELINE_EMBEDDING_BATCH_SIZE,
  };
}

/** A bad value is quoted back to the user, but never a secret: keys are hidden, URLs masked. */
function shownValue(name: string, value: string | undefined): string {
  if (value === undefined) return 'undefined';
  if (/_(API|SECRET)_KEY$/.test(name)) return '"***"';
  return JSON.stringify(maskSecretsInText(maskConnectionString(value)));
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
