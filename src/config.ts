// The one settings schema. Nothing else in the project reads process.env: main.ts hands the environment
// to loadSettings() once, and every other module receives the typed Settings it needs.
import path from 'node:path';
import { z } from 'zod';

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
  { env: 'DATA_PIPELINE_ALLOW_INSECURE_BIND', default: 'false', meaning: 'Allow listening on a non-loopback address without an API key.' },
  { env: 'DATA_PIPELINE_WORKERS', default: '1', meaning: 'Task runs executed at once by one process (serve or worker).' },
  { env: 'DATA_PIPELINE_RUN_WORKERS_IN_SERVE', default: 'true', meaning: 'Whether serve also executes tasks (false: only data-pipeline worker does).' },
  { env: 'DATA_PIPELINE_HEARTBEAT_TIMEOUT_SECONDS', default: '30', meaning: 'A run whose worker has not reported for this long is taken over.' },
  { env: 'DATA_PIPELINE_STALE_RUN_POLICY', default: 'resume', meaning: 'What happens to a run whose worker died: resume (at the first unfinished step) or fail.' },
  { env: 'DATA_PIPELINE_MAX_UPLOAD_BYTES', default: '1048576', meaning: 'Largest accepted table-list upload.' },
  { env: 'DATA_PIPELINE_LANG', default: 'zh', meaning: 'Default language of messages: zh or en (Accept-Language: en switches per request).' },
];

const settingsSchema = z.object({
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
  DATA_PIPELINE_ALLOW_INSECURE_BIND: booleanFlag.default(false),
  DATA_PIPELINE_WORKERS: positiveInt.max(64).default(1),
  DATA_PIPELINE_RUN_WORKERS_IN_SERVE: booleanFlag.default(true),
  DATA_PIPELINE_HEARTBEAT_TIMEOUT_SECONDS: z.coerce.number().positive().max(86_400).default(30),
  DATA_PIPELINE_STALE_RUN_POLICY: z.enum(['resume', 'fail']).default('resume'),
  DATA_PIPELINE_MAX_UPLOAD_BYTES: positiveInt.default(1024 * 1024),
  DATA_PIPELINE_LANG: z.enum(['zh', 'en']).default('zh'),
});

export type Lang = 'zh' | 'en';
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
  allowInsecureBind: boolean;
  workers: number;
  runWorkersInServe: boolean;
  heartbeatTimeoutMs: number;
  staleRunPolicy: 'resume' | 'fail';
  maxUploadBytes: number;
  lang: Lang;
  /** The directory relative paths and pglite:// URLs resolve against. */
  cwd: string;
}

export class SettingsError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid settings:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'SettingsError';
  }
}

/** Reads the settings from an environment (process.env in main.ts; a plain object in tests). */
export function loadSettings(env: Record<string, string | undefined>, cwd = process.cwd()): Settings {
  const relevant = Object.fromEntries(
    Object.keys(settingsSchema.shape).map((key) => [key, env[key] === '' ? undefined : env[key]]),
  );
  const parsed = settingsSchema.safeParse(relevant);
  if (!parsed.success) {
    throw new SettingsError(
      parsed.error.issues.map((issue) => `${issue.path.join('.')}=${JSON.stringify(relevant[String(issue.path[0])])}: ${issue.message}`),
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
    allowInsecureBind: s.DATA_PIPELINE_ALLOW_INSECURE_BIND,
    workers: s.DATA_PIPELINE_WORKERS,
    runWorkersInServe: s.DATA_PIPELINE_RUN_WORKERS_IN_SERVE,
    heartbeatTimeoutMs: Math.round(s.DATA_PIPELINE_HEARTBEAT_TIMEOUT_SECONDS * 1000),
    staleRunPolicy: s.DATA_PIPELINE_STALE_RUN_POLICY,
    maxUploadBytes: s.DATA_PIPELINE_MAX_UPLOAD_BYTES,
    lang: s.DATA_PIPELINE_LANG,
    cwd,
  };
}

export function isLoopbackHost(host: string): boolean {
  return host === 'localhost' || host === '::1' || /^127\./.test(host);
}
