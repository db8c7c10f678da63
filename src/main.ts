// CLI entry: data-pipeline serve | worker | run. The only place that reads process.env (via loadSettings).
import fs from 'node:fs';
import path from 'node:path';
import { Command, InvalidArgumentError, Option } from 'commander';
// Only what every command needs is imported here; each command imports its own modules when it runs, so
// that `serve` opens the embedded store while the server's modules load (they are most of the start time).
import { isLoopbackHost, loadSettings, SETTINGS_DOC, SettingsError, type Settings } from './config.ts';
import type { Lang } from './messages.ts';
import { AppError } from './errors.ts';
import { t } from './messages.ts';
import { describeParameterIssues, STEP_PARAMETER_NAMES } from './pipeline/parameters.ts';
import { STEP_NAMES, type StepName } from './pipeline/steps.ts';
import { connect } from './postgres/connect.ts';
import type { CreateTaskInput } from './tasks/service.ts';
import { API_VERSION } from './version.ts';

const program = new Command();

program
  .name('data-pipeline')
  .description('Turns a PostgreSQL business database into Text-to-SQL training data and loads it into a Vanna-compatible pgvector store.')
  .version(API_VERSION)
  .addHelpText('after', `\nSettings (environment variables):\n${SETTINGS_DOC.map((s) => `  ${s.env.padEnd(42)} ${s.meaning} [default: ${s.default}]`).join('\n')}\n`);

program
  .command('serve')
  .description('Run the HTTP API (guide §2–§5) on DATA_PIPELINE_HOST:DATA_PIPELINE_PORT; also executes queued tasks unless DATA_PIPELINE_RUN_WORKERS_IN_SERVE=false.')
  .option('--host <host>', 'listen address (overrides DATA_PIPELINE_HOST)')
  .option('--port <port>', 'listen port (overrides DATA_PIPELINE_PORT)', parsePort)
  .option('--no-workers', 'do not execute tasks in this process (run `data-pipeline worker` elsewhere)')
  .action(async (options: ServeOptions) => {
    await serve(options);
  });

program
  .command('demo')
  .description('Run the complete pipeline on the embedded demo database (highway_db) and print a report: tables, pairs, validity, rows loaded, files, a sample search. With --serve, then serve the API.')
  .addOption(new Option('--lang <lang>', 'language of the report and the generated data').choices(['zh', 'en']))
  .option('--quiet', 'print only the report')
  .option('--serve', 'after the report, serve the API (like `data-pipeline serve`)')
  .option('--host <host>', 'with --serve: listen address (overrides DATA_PIPELINE_HOST)')
  .option('--port <port>', 'with --serve: listen port (overrides DATA_PIPELINE_PORT)', parsePort)
  .action(async (options: { lang?: Lang; quiet?: boolean; serve?: boolean; host?: string; port?: number }) => {
    const settings = settingsOrExit(options.lang ? { DATA_PIPELINE_LANG: options.lang } : {});
    const { runDemo } = await import('./cli/demo.ts');
    const { exitCode } = await runDemo(settings, { lang: settings.lang, quiet: Boolean(options.quiet) });
    if (!options.serve) {
      process.exitCode = exitCode;
      return;
    }
    await serve({ host: options.host, port: options.port, workers: true });
  });

program
  .command('worker')
  .description('Execute queued tasks from the store (DATA_PIPELINE_STORE_URL) without serving HTTP; run as many as you like against one PostgreSQL store.')
  .option('--concurrency <n>', 'runs executed at once (overrides DATA_PIPELINE_WORKERS)', parsePositiveInt)
  .action(async (options: { concurrency?: number }) => {
    const settings = settingsOrExit(options.concurrency ? { DATA_PIPELINE_WORKERS: String(options.concurrency) } : {});
    const { createApp } = await import('./app.ts');
    const app = await createApp(settings);
    await app.startWorkers();
    console.log(`data-pipeline worker ${app.workerId} started (store: ${app.storeDb.label}, concurrency: ${settings.workers})`);
    onShutdown(() => app.close());
  });

program
  .command('run')
  .description('Create a task and execute it in the foreground, with live progress. Writes the same task directory and store rows as the API.')
  .option('--db <url>', 'business database (postgresql://... or pglite://<dir>); default DATA_PIPELINE_DB_URL')
  .option('--tables <file>', 'table list file (one name per line or comma-separated; # and -- comments)')
  .option('--table <names>', 'comma-separated table names, e.g. bss_company,public.bss_service_area')
  .option('--context <text>', 'business context, e.g. "高速公路服务区管理系统"')
  .option('--db-name <name>', 'database name used in output file names (default: from the URL)')
  .option('--name <task name>', 'task name')
  .addOption(new Option('--mode <mode>', 'execution mode').choices(['complete', 'step']).default('complete'))
  .addOption(new Option('--step <step>', 'step to run in step mode').choices([...STEP_NAMES]))
  .option('--no-sql-validation', 'skip sql_validation')
  .option('--no-llm-repair', 'do not repair invalid SQL with the LLM')
  .option('--no-modify-original-file', 'keep the generated pair file untouched; write validated pairs beside it')
  .option('--no-training-data-load', 'skip training_load')
  .option('--backup-vector-tables', 'back up the vector tables before loading')
  .option('--truncate-vector-tables', 'empty langchain_pg_embedding before loading (implies --backup-vector-tables)')
  .option('--param <name=value>', `a step parameter (README "Task parameters"; repeatable), e.g. --param theme_count=3; value read as JSON when it is JSON, else as text. Names: ${STEP_PARAMETER_NAMES.join(', ')}`, collectParam, [])
  .addOption(new Option('--lang <lang>', 'language of messages').choices(['zh', 'en']))
  .option('--quiet', 'print only the final result')
  .action(async (options: RunOptions) => {
    const settings = settingsOrExit(options.lang ? { DATA_PIPELINE_LANG: options.lang } : {});
    process.exitCode = await runInForeground(settings, options);
  });

const vector = program.command('vector').description('The vector store (DATA_PIPELINE_VECTOR_URL) as an app reads it.');
vector
  .command('evaluate')
  .description(
    'Retrieval self-test: for held-out questions, each with the tables it needs, the share of needed tables whose document lands in the top k (as POST /api/v0/data_pipeline/vector/evaluate). ' +
      'Embeds with the configured embedder, which must be the one the store was loaded with.',
  )
  .requiredOption('--file <file>', 'question set: {"questions": [{"question": "...", "tables": ["schema.table", ...]}]} or a bare array')
  .option('--k <n>', 'top k per collection (1–100, default 5)', parsePositiveInt)
  .option('--collections <list>', 'ddl, documentation or both, comma-separated (default ddl)')
  .option('--min-recall <x>', 'exit with 1 when the overall recall is below x (0–1)', parseFraction)
  .option('--json', 'print the full result as JSON')
  .addOption(new Option('--lang <lang>', 'language of messages').choices(['zh', 'en']))
  .action(async (options: { file: string; k?: number; collections?: string; minRecall?: number; json?: boolean; lang?: Lang }) => {
    const settings = settingsOrExit(options.lang ? { DATA_PIPELINE_LANG: options.lang } : {});
    const { runVectorEvaluate } = await import('./cli/vector-evaluate.ts');
    process.exitCode = await runVectorEvaluate(settings, { ...options, lang: settings.lang });
  });

interface ServeOptions {
  host?: string;
  port?: number;
  workers: boolean;
}

async function serve(options: ServeOptions): Promise<void> {
  const settings = settingsOrExit({
    ...(options.host ? { DATA_PIPELINE_HOST: options.host } : {}),
    ...(options.port !== undefined ? { DATA_PIPELINE_PORT: String(options.port) } : {}),
  });
  if (!isLoopbackHost(settings.host) && !settings.apiKey && !settings.allowInsecureBind) {
    fail(`Refusing to listen on ${settings.host} without DATA_PIPELINE_API_KEY. Set a key, or DATA_PIPELINE_ALLOW_INSECURE_BIND=true to accept the risk.`);
  }
  // An embedded store takes a while to open (WASM compile, PostgreSQL start), mostly off the main thread:
  // start it now and load the server's modules meanwhile; createApp then shares this instance.
  const storeOpening = settings.storeUrl.startsWith('pglite://') ? connect(settings.storeUrl, { cwd: settings.cwd }).catch(() => undefined) : undefined;
  const [{ createApp }, { buildServer }] = await Promise.all([import('./app.ts'), import('./http/server.ts')]);
  const app = await createApp(settings, { logToStderr: false }).finally(async () => (await storeOpening)?.close());
  const server = await buildServer(app);
  if (options.workers && settings.runWorkersInServe) await app.startWorkers();
  await server.listen({ host: settings.host, port: settings.port });
  const address = server.server.address();
  const port = typeof address === 'object' && address ? address.port : settings.port;
  console.log(`data-pipeline ${API_VERSION} listening on http://${settings.host}:${port}  (dashboard: /, API docs: /api/docs, store: ${app.storeDb.label})`);
  app.systemLog.write('INFO', 'unified_api', `listening on http://${settings.host}:${port}`);
  // The embedded demo database is not opened here: the first task or request that reads it opens it
  // (connect.ts), and it closes again after DATA_PIPELINE_EMBEDDED_DB_IDLE_SECONDS unused.
  onShutdown(async () => {
    await server.close();
    await app.close();
  });
}

interface RunOptions {
  db?: string;
  tables?: string;
  table?: string;
  context?: string;
  dbName?: string;
  name?: string;
  mode: 'complete' | 'step';
  step?: StepName;
  sqlValidation: boolean;
  llmRepair: boolean;
  modifyOriginalFile: boolean;
  trainingDataLoad: boolean;
  backupVectorTables?: boolean;
  truncateVectorTables?: boolean;
  param: Array<[string, unknown]>;
  lang?: Lang;
  quiet?: boolean;
}

/** `--param name=value`: the value as JSON when it is JSON (3, true, {"a":"b"}), else the text itself. */
function collectParam(value: string, previous: Array<[string, unknown]>): Array<[string, unknown]> {
  const at = value.indexOf('=');
  if (at < 1) throw new InvalidArgumentError('expected name=value');
  const text = value.slice(at + 1);
  let parsed: unknown = text;
  try {
    parsed = JSON.parse(text);
  } catch {
    // plain text
  }
  return [...previous, [value.slice(0, at), parsed]];
}

/** Where a task parameter comes from on the command line, for error messages. */
const RUN_OPTION_OF: Record<string, string> = { db_connection: '--db', business_context: '--context', db_name: '--db-name', task_name: '--name' };

/** The run's task parameters through the API's own schema (createTaskBody), or exit naming the bad one. */
async function taskInputOrExit(options: RunOptions, lang: Lang): Promise<CreateTaskInput> {
  const { createTaskBody } = await import('./http/tasks.ts');
  const stepParameters = Object.fromEntries(options.param);
  // The guide's fields have options of their own; --param names only the steps' parameters.
  const other = Object.keys(stepParameters).find((name) => !(STEP_PARAMETER_NAMES as string[]).includes(name));
  if (other) fail(t('err.invalid_param', lang, { param: `--param ${other}`, reason: `not a step parameter (${STEP_PARAMETER_NAMES.join(', ')})` }));
  const parsed = createTaskBody.safeParse({
    db_connection: options.db,
    business_context: options.context,
    db_name: options.dbName,
    task_name: options.name,
    enable_sql_validation: options.sqlValidation,
    enable_llm_repair: options.llmRepair,
    modify_original_file: options.modifyOriginalFile,
    enable_training_data_load: options.trainingDataLoad,
    backup_vector_tables: Boolean(options.backupVectorTables),
    truncate_vector_tables: Boolean(options.truncateVectorTables),
    created_by: 'cli',
    ...stepParameters,
  });
  if (parsed.success) return parsed.data;
  const problems = describeParameterIssues(parsed.error).map(({ param, reason }) =>
    t('err.invalid_param', lang, { param: RUN_OPTION_OF[param] ? `${param} (${RUN_OPTION_OF[param]})` : param, reason }),
  );
  fail(problems.join('; '));
}

async function runInForeground(settings: Settings, options: RunOptions): Promise<number> {
  const lang = settings.lang;
  if (!options.tables && !options.table) fail(t('cli.run_needs_tables', lang));
  if (options.mode === 'step' && !options.step) fail(t('cli.run_needs_step', lang));
  const input = await taskInputOrExit(options, lang);
  const [{ createApp }, { createProgressReporter }, { decodeTableListFile, parseAndValidateTableList }] = await Promise.all([
    import('./app.ts'),
    import('./cli/progress.ts'),
    import('./tasks/table-list.ts'),
  ]);
  const text = options.tables ? decodeTableListFile(fs.readFileSync(path.resolve(options.tables))) : options.table!.split(',').join('\n');
  let tables: string[];
  try {
    tables = parseAndValidateTableList(text).tables;
  } catch (error) {
    fail((error as Error).message);
  }

  const reporter = createProgressReporter({ lang, quiet: Boolean(options.quiet), tty: Boolean(process.stderr.isTTY) });
  const app = await createApp(settings, { observer: reporter.observer });
  try {
    const final = await app.runInForeground({
      input,
      tables,
      execution: { execution_mode: options.mode, step_name: options.step },
      onStart: (taskId, dir) => reporter.start(taskId, dir),
    });
    reporter.finish(final);
    return final.status === 'completed' || final.status === 'partial_completed' ? 0 : 1;
  } catch (error) {
    reporter.stop();
    if (error instanceof AppError) fail(`${error.code}: ${error.details(lang)}`);
    throw error;
  } finally {
    await app.close();
  }
}

function settingsOrExit(overrides: Record<string, string>): Settings {
  try {
    return loadSettings({ ...process.env, ...overrides });
  } catch (error) {
    if (error instanceof SettingsError) fail(error.message);
    throw error;
  }
}

function fail(message: string): never {
  console.error(`data-pipeline: ${message}`);
  process.exit(2);
}

function parsePort(value: string): number {
  const port = Number(value);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new InvalidArgumentError('must be an integer from 0 to 65535');
  return port;
}

function parsePositiveInt(value: string): number {
  const n = Number(value);
  if (!Number.isInteger(n) || n < 1) throw new InvalidArgumentError('must be a positive integer');
  return n;
}

function parseFraction(value: string): number {
  const n = Number(value);
  if (!Number.isFinite(n) || n < 0 || n > 1) throw new InvalidArgumentError('must be a number from 0 to 1');
  return n;
}

function onShutdown(close: () => Promise<void>): void {
  let closing = false;
  const handler = (signal: string) => {
    if (closing) process.exit(1);
    closing = true;
    console.error(`data-pipeline: ${signal}, shutting down`);
    close().then(
      () => process.exit(0),
      () => process.exit(1),
    );
  };
  process.on('SIGINT', handler);
  process.on('SIGTERM', handler);
}

await program.parseAsync(process.argv);
