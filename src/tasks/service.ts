// Task use cases: create, execute, cancel, delete, table lists, files and logs. Inputs arrive already
// validated by the edge (http/ or the CLI); this layer enforces the rules that need the store or disk.
import { randomUUID } from 'node:crypto';
import { existsSync } from 'node:fs';
import fs from 'node:fs/promises';
import path from 'node:path';
import type pg from 'pg';
import type { Settings } from '../config.ts';
import { appError, databaseConnectionError, invalidDbConnection, taskAlreadyRunning, taskNotFound } from '../errors.ts';
import { phrase, type Lang } from '../messages.ts';
import { queryLogEntries, tailLogEntries, logFileInfo, type LogQuery } from '../logs/reader.ts';
import { ORCHESTRATOR_LOGGER, TaskLogger, taskDirLoggerName, taskLogPath } from '../logs/task-logger.ts';
import { pgliteDirectory } from '../postgres/connect.ts';
import { ConnectionStringError, databaseNameOf, databaseUrlKind, maskConnectionString, maskSecretsInText, parseDatabaseUrl } from '../postgres/connection-string.ts';
import type { StepParameters } from '../pipeline/parameters.ts';
import type { StepName } from '../pipeline/steps.ts';
import { localStamp } from '../time.ts';
import { DEFAULT_FLAGS, effectiveFlags, normaliseVectorFlags, planRun, type ExecutionMode, type TaskFlags } from './model.ts';
import type { RunJob } from './queue.ts';
import { TaskMissingError, type TaskFilter, type TaskStore, type TaskWithSteps } from './store.ts';
import { decodeTableListFile, formatTableList, lineOfName, parseAndValidateTableList, systemSchemaTables, TableListError, validateTableNames } from './table-list.ts';
import { checkRealDirectory, readFileNoFollow, stageFile, statNoFollow } from '../files.ts';
import {
  listTaskFiles,
  resolveInputFile,
  resolveInsideDirectory,
  taskDirectory,
  WorkspacePathError,
  writeFileAtomic,
} from './workspace.ts';
import { TABLE_LIST_FILE } from '../pipeline/artifacts.ts';

export { TABLE_LIST_FILE };
export const TASK_CONFIG_FILE = 'task_config.json';

/** What the edge parsed (http/tasks.ts createTaskBody, also used by the CLI). */
export interface CreateTaskInput extends Partial<TaskFlags>, Partial<StepParameters> {
  table_list_file?: string;
  business_context?: string;
  db_name?: string;
  db_connection?: string;
  task_name?: string;
  created_by?: string;
}

export interface ExecuteInput {
  execution_mode: ExecutionMode;
  step_name?: StepName;
  backup_vector_tables?: boolean;
  truncate_vector_tables?: boolean;
}

/** Enqueues a run inside the caller's transaction (the queue in serve/worker; a no-op for the CLI). */
export type Enqueue = (client: pg.PoolClient, job: RunJob) => Promise<void>;

/** Checks, before a run that generates DDL is queued, that the requested tables exist and can be read. */
export type Preflight = (task: TaskWithSteps, tables: string[]) => Promise<{ missing: string[]; unreadable: string[]; system?: string[] }>;

const PREFLIGHT_TIMEOUT_MS = 10_000;

export class TaskService {
  constructor(
    readonly store: TaskStore,
    readonly settings: Settings,
    private readonly enqueue: Enqueue,
    private readonly preflight?: Preflight,
  ) {}

  taskDir(taskId: string): string {
    try {
      return taskDirectory(this.settings.outputDir, taskId);
    } catch (error) {
      throw fromWorkspaceError(error);
    }
  }

  async createTask(input: CreateTaskInput): Promise<TaskWithSteps> {
    const dbConnection = input.db_connection?.trim() || undefined;
    const kind = dbConnection ? databaseUrlKind(dbConnection) : undefined;
    // An embedded database is accepted only as the configured demo: any other pglite:// path would let a
    // client create databases anywhere on the server's disk.
    const isDemo = () =>
      databaseUrlKind(this.settings.businessDbUrl) === 'pglite' &&
      pgliteDirectory(dbConnection!, this.settings.cwd) === pgliteDirectory(this.settings.businessDbUrl, this.settings.cwd);
    if (dbConnection && (!kind || (kind === 'pglite' && !isDemo()))) throw invalidDbConnection();
    if (dbConnection && kind === 'postgres') checkClientDatabaseUrl(dbConnection);
    let tables: string[] | undefined;
    if (input.table_list_file !== undefined) {
      const source = await this.resolveTableListFile(input.table_list_file);
      tables = this.parseTableList(decodeTableListFile(await fs.readFile(source)), 'table_list_file');
      refuseSystemTables(tables, input.include_system_schemas === true, 'table_list_file');
    }

    const { table_list_file: _ignored, db_connection: _secret, task_name, business_context, db_name, created_by, ...rest } = input;
    const parameters = normaliseVectorFlags({ ...DEFAULT_FLAGS, ...rest });
    const resolvedDbName = db_name ?? databaseNameOf(dbConnection ?? this.settings.businessDbUrl) ?? null;
    const task = await this.store.insertTask(`task_${localStamp(new Date())}`, {
      task_name: task_name ?? null,
      parameters,
      db_connection: dbConnection ?? null,
      db_name: resolvedDbName,
      business_context: business_context ?? null,
      created_by: created_by ?? null,
    }, (taskId) => existsSync(taskDirectory(this.settings.outputDir, taskId)));

    const dir = this.taskDir(task.task_id);
    await fs.mkdir(dir, { recursive: true });
    const logger = this.taskLogger(task.task_id);
    logger.write('INFO', taskDirLoggerName(task.task_id), '任务目录日志初始化完成');
    logger.write('INFO', ORCHESTRATOR_LOGGER, `创建任务: ${task.task_id}${task_name ? ` (${task_name})` : ''}`);
    await writeFileAtomic(
      path.join(dir, TASK_CONFIG_FILE),
      JSON.stringify(
        { task_id: task.task_id, task_name: task.task_name, created_at: task.created_at, db_name: task.db_name, business_context: task.business_context,
          db_connection: dbConnection ? maskConnectionString(dbConnection) : null, parameters },
        null,
        2,
      ),
    );
    if (tables) await this.saveTableList(task.task_id, tables);
    return (await this.store.getTask(task.task_id))!;
  }

  async getTask(taskId: string): Promise<TaskWithSteps> {
    this.taskDir(taskId);
    const task = await this.store.getTask(taskId);
    if (!task) throw taskNotFound(taskId);
    return task;
  }

  /** Starts a run; answers only once the run is durably queued. */
  async execute(taskId: string, input: ExecuteInput): Promise<{ task: TaskWithSteps; runId: string }> {
    this.taskDir(taskId);
    if (input.execution_mode === 'step' && !input.step_name) {
      throw appError('MISSING_STEP_NAME', { missingParams: ['step_name'] });
    }
    const overrides: Partial<TaskFlags> = {};
    if (input.backup_vector_tables !== undefined) overrides.backup_vector_tables = input.backup_vector_tables;
    if (input.truncate_vector_tables !== undefined) overrides.truncate_vector_tables = input.truncate_vector_tables;
    if (overrides.truncate_vector_tables) overrides.backup_vector_tables = true;
    const runId = randomUUID();
    const step = input.execution_mode === 'step' ? input.step_name! : null;
    await this.checkTables(taskId, input, overrides);
    try {
      const task = await this.store.startRun(
        taskId,
        { runId, mode: input.execution_mode, step, overrides },
        (current) => {
          if (current.status === 'in_progress') throw taskAlreadyRunning(taskId);
          const plan = planRun(input.execution_mode, step ?? undefined, effectiveFlags({ ...current, run_overrides: overrides }));
          if (plan.run.includes('ddl_generation') && current.table_list_at === null) {
            throw appError('TABLE_LIST_REQUIRED', { missingParams: ['table_list_file'] });
          }
          return plan;
        },
        (client) => this.enqueue(client, { task_id: taskId, run_id: runId }),
      );
      this.taskLogger(taskId).write(
        'INFO',
        ORCHESTRATOR_LOGGER,
        `任务执行已排队: mode=${input.execution_mode}${step ? `, step=${step}` : ''}`,
      );
      return { task, runId };
    } catch (error) {
      if (error instanceof TaskMissingError) throw taskNotFound(taskId);
      throw error;
    }
  }

  /** Pre-flight (before anything is queued): requested tables that do not exist or cannot be read are a
   * 400 listing them; an unreachable database is DATABASE_CONNECTION_ERROR. The atomic checks stay in
   * startRun; this one only spares the user a run that cannot succeed. */
  private async checkTables(taskId: string, input: ExecuteInput, overrides: Partial<TaskFlags>): Promise<void> {
    if (!this.preflight) return;
    const task = await this.getTask(taskId);
    if (task.status === 'in_progress') throw taskAlreadyRunning(taskId);
    const plan = planRun(input.execution_mode, input.step_name, effectiveFlags({ ...task, run_overrides: overrides }));
    if (!plan.run.includes('ddl_generation') || task.table_list_at === null) return;
    const tables = (await this.readTaskTableList(taskId))?.tables ?? [];
    refuseSystemTables(tables, task.parameters.include_system_schemas === true, TABLE_LIST_FILE);
    const url = task.db_connection ?? this.settings.businessDbUrl;
    let result: { missing: string[]; unreadable: string[]; system?: string[] };
    try {
      // The bound is for a server that does not answer. An embedded database has no network to wait on: its
      // first open creates it (the demo seeds a year of rows), which under load takes longer than 10 s.
      const check = this.preflight(task, tables);
      result = databaseUrlKind(url) === 'pglite' ? await check : await withTimeout(check, PREFLIGHT_TIMEOUT_MS, 'no answer within 10 s');
    } catch (error) {
      throw databaseConnectionError(url, error);
    }
    if (result.system?.length && task.parameters.include_system_schemas !== true) refuseSystemTables(result.system, false, TABLE_LIST_FILE, true);
    const problems = [...result.missing, ...result.unreadable];
    if (problems.length && task.parameters.continue_on_error !== true) {
      throw appError('TABLES_NOT_FOUND', { params: { tables: problems.join(', ') }, invalidParams: problems });
    }
  }

  async cancel(taskId: string): Promise<{ task: TaskWithSteps; immediate: boolean }> {
    this.taskDir(taskId);
    const outcome = await this.store.requestCancel(taskId);
    if (!outcome) throw taskNotFound(taskId);
    if ('notRunning' in outcome) {
      throw appError('TASK_NOT_RUNNING', { params: { task_id: taskId, status: outcome.notRunning.status } });
    }
    this.taskLogger(taskId).write('WARNING', ORCHESTRATOR_LOGGER, outcome.immediate ? '任务已取消（尚未开始执行）' : '收到取消请求，将在下一个检查点停止');
    return { task: (await this.store.getTask(taskId))!, immediate: outcome.immediate };
  }

  async deleteTasks(taskIds: string[], options: { force: boolean; deleteFiles: boolean }) {
    for (const id of taskIds) this.taskDir(id);
    const result = await this.store.deleteTasks(taskIds, options.force);
    if (options.deleteFiles) {
      for (const id of result.deleted) await fs.rm(this.taskDir(id), { recursive: true, force: true });
    }
    return result;
  }

  async list(filter: TaskFilter, limit: number, offset: number) {
    return this.store.listTasks(filter, limit, offset);
  }

  async directoryExists(taskId: string): Promise<boolean> {
    return fs.stat(this.taskDir(taskId)).then((s) => s.isDirectory(), () => false);
  }

  // ---------------------------------------------------------------------------------------- table lists

  async uploadTableList(taskId: string, fileName: string, bytes: Buffer) {
    const task = await this.requireIdle(taskId);
    if (!/\.txt$/i.test(fileName)) {
      throw appError('UNSUPPORTED_FILE_TYPE', { params: { file: fileName }, invalidParams: ['file'] });
    }
    if (bytes.length === 0) throw appError('VALIDATION_ERROR', { key: 'err.upload_empty', invalidParams: ['file'] });
    const tables = this.parseTableList(decodeTableListFile(bytes), 'file');
    refuseSystemTables(tables, task.parameters.include_system_schemas === true, 'file');
    return this.saveTableList(taskId, tables);
  }

  async createTableList(taskId: string, names: string[], businessContext?: string) {
    const task = await this.requireIdle(taskId);
    const tables = this.validateNames(names, 'table_names');
    refuseSystemTables(tables, task.parameters.include_system_schemas === true, 'table_names');
    return this.saveTableList(taskId, tables, businessContext);
  }

  async tableListInfo(taskId: string) {
    const task = await this.getTask(taskId);
    const list = await this.readTaskTableList(taskId);
    if (!list) return { task, exists: false as const };
    return { task, exists: true as const, size: list.size, tables: list.tables, displayPath: this.displayPath(list.file) };
  }

  /** table_list.txt of a task (never through a link); a name in it that is not valid (the file was edited
   * by hand) is a 409 naming its line, not a 500. Undefined when there is none. */
  private async readTaskTableList(taskId: string): Promise<{ tables: string[]; size: number; file: string } | undefined> {
    const file = path.join(this.taskDir(taskId), TABLE_LIST_FILE);
    const bytes = await readFileNoFollow(file);
    if (!bytes) return undefined;
    const text = decodeTableListFile(bytes);
    try {
      return { tables: parseAndValidateTableList(text).tables, size: bytes.length, file };
    } catch (error) {
      if (!(error instanceof TableListError)) throw error;
      const first = error.invalidNames[0]?.name;
      const line = first === undefined ? undefined : lineOfName(text, first);
      // Whatever is wrong with it, the task's own file is in the way of the request: one code, 409.
      throw appError('TABLE_LIST_INVALID', {
        params: {
          file: TABLE_LIST_FILE,
          line: line === undefined ? undefined : phrase('err.table_list_line', { line }),
          reason: { zh: error.message, en: error.messageEn },
        },
        invalidParams: [line === undefined ? TABLE_LIST_FILE : `${TABLE_LIST_FILE}:${line}`],
      });
    }
  }

  private async saveTableList(taskId: string, tables: string[], businessContext?: string) {
    const file = path.join(this.taskDir(taskId), TABLE_LIST_FILE);
    const content = formatTableList(tables);
    await fs.mkdir(path.dirname(file), { recursive: true });
    // All or nothing: the new file replaces the old one only inside the store transaction that records it.
    const staged = await stageFile(file, content);
    let uploadedAt: Date;
    try {
      uploadedAt = await this.store.setTableList(taskId, tables.length, businessContext, () => staged.commit());
    } catch (error) {
      await staged.discard();
      throw error;
    }
    this.taskLogger(taskId).write('INFO', ORCHESTRATOR_LOGGER, `表清单已保存: ${tables.length} 个表`);
    return { tables, size: Buffer.byteLength(content), displayPath: this.displayPath(file), uploadedAt };
  }

  private async requireIdle(taskId: string): Promise<TaskWithSteps> {
    const task = await this.getTask(taskId);
    if (task.status === 'in_progress') throw taskAlreadyRunning(taskId);
    return task;
  }

  private async resolveTableListFile(userPath: string): Promise<string> {
    try {
      return await resolveInputFile(this.settings.inputDir, userPath);
    } catch (error) {
      if (error instanceof WorkspacePathError) {
        const key = error.code === 'FILE_NOT_FOUND' ? 'err.table_list_file_not_found' : 'err.table_list_file_outside';
        throw appError('VALIDATION_ERROR', { key, params: { file: userPath }, invalidParams: ['table_list_file'] });
      }
      throw error;
    }
  }

  private parseTableList(text: string, param: string): string[] {
    try {
      return parseAndValidateTableList(text).tables;
    } catch (error) {
      throw fromTableListError(error, param);
    }
  }

  private validateNames(names: string[], param: string): string[] {
    try {
      return validateTableNames(names).tables;
    } catch (error) {
      throw fromTableListError(error, param);
    }
  }

  // -------------------------------------------------------------------------------------- files and logs

  async files(taskId: string, lang: Lang) {
    await this.getTask(taskId);
    await checkRealDirectory(this.taskDir(taskId));
    return listTaskFiles(this.taskDir(taskId), `/api/v0/data_pipeline/tasks/${taskId}/files`, lang);
  }

  async resolveDownload(taskId: string, relativePath: string): Promise<string> {
    const dir = this.taskDir(taskId);
    await this.getTask(taskId);
    await checkRealDirectory(dir);
    try {
      return await resolveInsideDirectory(dir, relativePath);
    } catch (error) {
      throw fromWorkspaceError(error);
    }
  }

  async tailLogs(taskId: string, limit: number, level?: string) {
    await this.getTask(taskId);
    const file = taskLogPath(this.taskDir(taskId));
    return { ...(await tailLogEntries(file, { limit, level })), file };
  }

  async queryLogs(taskId: string, query: LogQuery) {
    await this.getTask(taskId);
    const file = taskLogPath(this.taskDir(taskId));
    const [result, info] = await Promise.all([queryLogEntries(file, query), logFileInfo(file)]);
    return { result, info };
  }

  taskLogger(taskId: string): TaskLogger {
    return new TaskLogger(taskLogPath(this.taskDir(taskId)), this.settings.taskLogLevel, { mask: maskSecretsInText });
  }

  /** Paths shown to users are relative to the working directory when inside it (as in the guide). */
  displayPath(file: string): string {
    const relative = path.relative(this.settings.cwd, file);
    return relative.startsWith('..') || path.isAbsolute(relative) ? file : `./${relative.split(path.sep).join('/')}`;
  }
}

/** A client-supplied postgresql:// URL, validated in full now rather than failing at execute. */
export function checkClientDatabaseUrl(url: string): void {
  try {
    parseDatabaseUrl(url);
  } catch (error) {
    if (error instanceof ConnectionStringError) throw invalidDbConnection({ zh: error.reasonZh, en: error.reasonEn });
    throw error;
  }
}

function withTimeout<T>(promise: Promise<T>, ms: number, message: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(message)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}

function fromWorkspaceError(error: unknown): unknown {
  if (!(error instanceof WorkspacePathError)) return error;
  if (error.code === 'INVALID_TASK_ID') {
    return appError('INVALID_TASK_ID', { params: { task_id: error.path }, invalidParams: ['task_id'] });
  }
  if (error.code === 'FILE_NOT_FOUND') {
    return appError('FILE_NOT_FOUND', { key: 'err.worded_below', params: { reason: { zh: error.message, en: error.messageEn } } });
  }
  return appError('INVALID_PATH', { key: 'err.worded_below', params: { reason: { zh: error.message, en: error.messageEn } } });
}

/** Tables of PostgreSQL's own catalogs (pg_catalog.pg_authid...) are refused unless the task asked for them. */
function refuseSystemTables(tables: string[], allowed: boolean, param: string, resolved = false): void {
  if (allowed) return;
  const refused = resolved ? tables : systemSchemaTables(tables);
  if (!refused.length) return;
  throw appError('SYSTEM_TABLE_REFUSED', { params: { tables: refused.join(', ') }, invalidParams: [param] });
}

function fromTableListError(error: unknown, param: string): unknown {
  if (!(error instanceof TableListError)) return error;
  return appError(error.code, { key: 'err.worded_below', params: { reason: { zh: error.message, en: error.messageEn } }, invalidParams: [param] });
}

