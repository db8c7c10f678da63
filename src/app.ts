// Composition root: builds the store, queue, services and workers from the settings.
// What only a task or a request needs (the demo data, embedders, catalog queries) is imported on first use,
// so that a server start loads none of it.
import { randomUUID } from 'node:crypto';
import os from 'node:os';
import type { Settings } from './config.ts';
import { t } from './messages.ts';
import { createLlmClient } from './llm/client.ts';
import { SystemLog } from './logs/system-log.ts';
import { closeUnusedEmbeddedDatabases, connect, embeddedDatabaseState, type Database } from './postgres/connect.ts';
import { stepError, type StepServices } from './pipeline/context.ts';
import { defaultSteps, type StepRegistry } from './pipeline/registry.ts';
import { migrateStore } from './tasks/migrations.ts';
import { RunQueue } from './tasks/queue.ts';
import { TaskRunner, type RunObserver } from './tasks/runner.ts';
import { TaskService, type CreateTaskInput, type ExecuteInput, type Preflight } from './tasks/service.ts';
import type { TaskWithSteps } from './tasks/store.ts';
import { DatabaseTools } from './tasks/database-tools.ts';
import { VectorAdmin } from './tasks/vector-admin.ts';
import { everyWithoutOverlap, type SerialInterval } from './interval.ts';
import { TaskChangeFeed } from './tasks/change-feed.ts';
import { TaskStore } from './tasks/store.ts';
import { SecretBox } from './tasks/secret-box.ts';

export interface App {
  settings: Settings;
  storeDb: Database;
  store: TaskStore;
  /** Which tasks changed, whichever process changed them. */
  changes: TaskChangeFeed;
  queue: RunQueue;
  service: TaskService;
  /** The pre-flight check of execute (tables exist and can be read). */
  preflight: Preflight;
  registry: StepRegistry;
  systemLog: SystemLog;
  workerId: string;
  /** What steps get: business database (the default embedded one is the demo, created on first use),
   * LLM, embedder, vector store. */
  services: StepServices;
  /** Guide §6: list a database's tables, describe one table (the API's database routes). */
  databaseTools: DatabaseTools;
  /** The vector store's search, self-test, stats, backup, restore (the API's vector routes, the CLI). */
  vectorAdmin: VectorAdmin;
  /** Whether the default business database is open in this process now (embedded: opened on first use,
   * closed after its idle period; a server database is reached through a pool per task). */
  businessDatabaseState(): BusinessDatabaseState;
  /**
   * Creates a task with its table list and runs it here and now, not through the queue (the CLI's `run`
   * and `demo`): the same rows, files and logs as a task run by a worker. `onStart` is told the task id
   * and directory once the run exists. Answers the task as it ended.
   */
  runInForeground(job: ForegroundJob): Promise<TaskWithSteps>;
  /** Starts executing queued runs in this process (and supervising stale ones). */
  startWorkers(concurrency?: number): Promise<void>;
  close(): Promise<void>;
}

export interface ForegroundJob {
  input: CreateTaskInput;
  tables: string[];
  /** Default: the whole task. */
  execution?: ExecuteInput;
  onStart?: (taskId: string, taskDir: string) => void;
}

export type BusinessDatabaseState = { kind: 'pglite'; open: boolean; users: number } | { kind: 'postgres' };

export interface AppOptions {
  registry?: StepRegistry;
  observer?: RunObserver;
  logToStderr?: boolean;
}

/** Key of the session advisory lock held while a process creates or upgrades the store's schemas. */
const STARTUP_LOCK_KEY = 8084002;

async function whileHoldingStartupLock<T>(db: Database, fn: () => Promise<T>): Promise<T> {
  // An embedded store belongs to this process alone (and its pool may hold a single connection).
  if (db.kind !== 'postgres') return fn();
  const client = await db.pool.connect();
  try {
    await client.query('SELECT pg_advisory_lock($1)', [STARTUP_LOCK_KEY]);
    try {
      return await fn();
    } finally {
      await client.query('SELECT pg_advisory_unlock($1)', [STARTUP_LOCK_KEY]).catch(() => undefined);
    }
  } finally {
    client.release();
  }
}

export async function createApp(settings: Settings, options: AppOptions = {}): Promise<App> {
  const systemLog = new SystemLog(settings.logDir, settings.apiLogLevel, options.logToStderr);
  const storeDb = await connect(settings.storeUrl, { cwd: settings.cwd, applicationName: 'data-pipeline-store' });
  let queue: RunQueue;
  try {
    // Schema creation (ours and pg-boss's) under one lock: processes started together on a fresh store
    // would otherwise race on CREATE SCHEMA (duplicate key in pg_namespace).
    queue = await whileHoldingStartupLock(storeDb, async () => {
      await migrateStore(storeDb.pool);
      return RunQueue.start(storeDb.pool, (error) => systemLog.write('ERROR', 'RunQueue', error.message), settings.heartbeatTimeoutMs);
    });
  } catch (error) {
    await storeDb.close();
    throw error;
  }
  const changes = await TaskChangeFeed.start(storeDb);
  const store = new TaskStore(storeDb.pool, changes, new SecretBox(settings.secretKey));
  const registry = options.registry ?? defaultSteps();

  const workerId = `${os.hostname()}:${process.pid}:${randomUUID().slice(0, 8)}`;
  const openBusinessDatabase = async (url: string): Promise<Database> => {
    const db = await connect(url, { cwd: settings.cwd, max: 4, applicationName: 'data-pipeline-reader', idleCloseMs: settings.embeddedIdleCloseMs });
    if (db.kind === 'pglite' && url === settings.businessDbUrl) {
      try {
        const { ensureDemoDatabase } = await import('../demo/highway-db.ts');
        if (await ensureDemoDatabase(db.pool)) systemLog.write('INFO', 'DemoDatabase', `内置演示数据库已创建: ${db.label}`);
      } catch (error) {
        await db.close();
        throw error;
      }
    }
    return db;
  };
  const services: StepServices = {
    openBusinessDatabase,
    createLlm: (onUsage, options) => (settings.llm ? createLlmClient(settings.llm, onUsage, { cache: options?.cache }) : undefined),
    createEmbedder: async () =>
      (await import('./embed/index.ts')).createEmbedder(settings.embedding, { cwd: settings.cwd, maxRetries: settings.llm?.maxRetries, timeoutMs: settings.llm?.timeoutMs }).catch((error: Error) => {
        throw stepError('EMBEDDER_UNAVAILABLE', 'err.embedder_unavailable', { reason: `${settings.embedding.kind} (${settings.embedding.model}): ${error.message}` });
      }),
    openVectorDatabase: () =>
      connect(settings.vectorUrl, { cwd: settings.cwd, max: 4, applicationName: 'data-pipeline-vector', idleCloseMs: settings.embeddedIdleCloseMs }),
  };
  const runner = new TaskRunner({ store, registry, settings, workerId, observer: options.observer, services });
  const preflight: Preflight = async (task, tables) => {
    const [{ preflightTables }, { systemCatalogTables }] = await Promise.all([import('./postgres/catalog/index.ts'), import('./postgres/system-tables.ts')]);
    const db = await openBusinessDatabase(task.db_connection ?? settings.businessDbUrl);
    try {
      // One after the other: an embedded database answers one query at a time.
      const checked = await preflightTables(db, tables);
      return { ...checked, system: await systemCatalogTables(db, tables) };
    } finally {
      await db.close();
    }
  };
  const service = new TaskService(store, settings, (client, job) => queue.enqueue(client, job), preflight);
  // A run started here is executed here: this service's enqueue leaves nothing in the queue for a worker.
  const foreground = new TaskService(store, settings, async () => undefined, preflight);
  const vectorAdmin = new VectorAdmin(settings, services, service, systemLog);
  let supervisor: SerialInterval | undefined;

  const superviseStaleRuns = async () => {
    const taken = await store.takeOverStaleRuns(settings.heartbeatTimeoutMs, settings.staleRunPolicy, randomUUID, (client, taskId, runId) =>
      queue.enqueue(client, { task_id: taskId, run_id: runId }),
    { liveJobSql: RunQueue.liveJobSql, failJobsOfRun: (client, runId) => queue.failJobsOfRun(client, runId) },
    t('step.worker_lost', settings.lang),
    );
    for (const { taskId } of taken) {
      systemLog.write('WARNING', 'Supervisor', `任务 ${taskId} 的执行进程失去心跳，已${settings.staleRunPolicy === 'resume' ? '重新排队，从第一个未完成的步骤继续' : '标记为失败'}`);
      service.taskLogger(taskId).write('WARNING', 'SchemaWorkflowOrchestrator', '执行进程失去心跳，任务将从第一个未完成的步骤继续执行');
    }
  };

  return {
    settings,
    storeDb,
    store,
    changes,
    queue,
    service,
    preflight,
    registry,
    systemLog,
    workerId,
    services,
    databaseTools: new DatabaseTools(settings, services),
    vectorAdmin,
    businessDatabaseState: () =>
      settings.businessDbUrl.startsWith('pglite://') ? { kind: 'pglite', ...embeddedDatabaseState(settings.businessDbUrl, settings.cwd) } : { kind: 'postgres' },
    async runInForeground({ input, tables, execution = { execution_mode: 'complete' }, onStart }) {
      const task = await foreground.createTask(input);
      await foreground.createTableList(task.task_id, tables);
      const { runId } = await foreground.execute(task.task_id, execution);
      onStart?.(task.task_id, foreground.taskDir(task.task_id));
      await runner.execute({ task_id: task.task_id, run_id: runId });
      return (await store.getTask(task.task_id))!;
    },
    async startWorkers(concurrency = settings.workers) {
      await queue.work(concurrency, async (job) => {
        try {
          await runner.execute(job);
        } catch (error) {
          systemLog.write('ERROR', 'TaskRunner', `任务 ${job.task_id} 执行异常: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
        }
      });
      const every = Math.max(250, Math.min(10_000, settings.heartbeatTimeoutMs / 2));
      supervisor = everyWithoutOverlap(superviseStaleRuns, every, (error) => systemLog.write('ERROR', 'Supervisor', String(error)), { unref: true, startNow: false });
    },
    async close() {
      supervisor?.stop();
      await vectorAdmin.close();
      await queue.stop().catch(() => undefined);
      await changes.close();
      await storeDb.close();
      // Business and vector databases kept open for their idle period: a process that is done closes them now.
      await closeUnusedEmbeddedDatabases();
      await systemLog.close();
    },
  };
}
