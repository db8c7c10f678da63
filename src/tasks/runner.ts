// Executes one queued run of a task: claims it, runs its steps in order with a heartbeat, and records
// each step's outcome. The same code serves queue workers and the foreground CLI.
import path from 'node:path';
import type { Settings } from '../config.ts';
import { TaskLogger } from '../logs/task-logger.ts';
import { TaskDirectoryLlmCache } from '../llm/cache.ts';
import type { Database } from '../postgres/connect.ts';
import { maskSecretsInText } from '../postgres/connection-string.ts';
import { StepCancelledError, StepError, type StepContext, type StepServices, type TaskParameters } from '../pipeline/context.ts';
import { parseStepParameters } from '../pipeline/parameters.ts';
import type { StepRegistry } from '../pipeline/registry.ts';
import { STEP_LOGGER, type StepName } from '../pipeline/steps.ts';
import { compactStamp } from '../time.ts';
import { effectiveFlags, finishedStatus, planRun, type StepStatus, type TaskFlags } from './model.ts';
import type { RunJob } from './queue.ts';
import { checkRealDirectory } from '../files.ts';
import type { StepRow, TaskStore, TaskWithSteps } from './store.ts';
import { taskDirectory } from './workspace.ts';

export const ORCHESTRATOR_LOGGER = 'SchemaWorkflowOrchestrator';

/** How often progress is written to the store at most: reports in between are coalesced. */
const PROGRESS_FLUSH_MS = 500;

export interface RunObserver {
  stepStarted?(step: StepName): void;
  progress?(step: StepName, progress: { done: number; total: number; unit: string }): void;
  stepFinished?(step: StepName, status: StepStatus, error?: string): void;
}

export interface RunnerDeps {
  store: TaskStore;
  registry: StepRegistry;
  settings: Settings;
  workerId: string;
  observer?: RunObserver;
  services: StepServices;
}

type StopReason = 'cancelled' | 'lost';

export class TaskRunner {
  constructor(private readonly deps: RunnerDeps) {}

  async execute(job: RunJob): Promise<void> {
    const { store, settings, workerId } = this.deps;
    const task = await store.claimRun(job.task_id, job.run_id, workerId);
    if (!task) return; // cancelled before it started, deleted, or replaced by a newer run

    const dir = taskDirectory(settings.outputDir, task.task_id);
    try {
      // Steps read and write in the task directory: one that is a symbolic link would send them elsewhere.
      await checkRealDirectory(dir);
    } catch (error) {
      await persist(() => store.finishRun(task.task_id, job.run_id, 'failed', { code: 'INVALID_PATH', message: (error as Error).message }));
      return;
    }
    const logger = new TaskLogger(path.join(dir, 'data_pipeline.log'), settings.taskLogLevel, { mask: maskSecretsInText });
    const orchestrator = logger.forLogger(ORCHESTRATOR_LOGGER);
    const stop = new AbortController();
    const heartbeat = this.startHeartbeat(task.task_id, job.run_id, stop);
    let businessDb: Promise<Database> | undefined;

    const flags = effectiveFlags(task);
    const params = taskParameters(task, flags);
    const mode = task.execution_mode ?? 'complete';
    const plan = planRun(mode, task.requested_step ?? undefined, flags).run;
    const statuses = Object.fromEntries(task.steps.map((s) => [s.step_name, s.status])) as Record<StepName, StepStatus>;
    const toRun = plan.filter((step) => statuses[step] !== 'completed');

    orchestrator.info(
      `🚀 开始执行Schema工作流编排 (mode=${mode}${task.requested_step ? `, step=${task.requested_step}` : ''}, steps=${toRun.join(',') || '-'})`,
    );
    try {
      for (const step of toRun) {
        const outcome = await this.runStep(task, job.run_id, step, params, dir, logger, stop, () => {
          businessDb ??= this.deps.services.openBusinessDatabase(task.db_connection ?? settings.businessDbUrl);
          return businessDb;
        });
        statuses[step] = outcome.status;
        if (outcome.status === 'cancelled') {
          if (stop.signal.reason !== 'lost') {
            orchestrator.warn('⏹️ 任务已取消');
            await persist(() => store.finishRun(task.task_id, job.run_id, 'cancelled', { code: 'CANCELLED', message: '任务已取消' }));
          }
          return;
        }
        if (outcome.status === 'failed') {
          orchestrator.error(`❌ 工作流执行失败: ${outcome.message}`);
          await persist(() => store.finishRun(task.task_id, job.run_id, 'failed', { code: outcome.code!, message: outcome.message! }));
          return;
        }
      }
      const final = finishedStatus(mode, statuses, flags);
      // Logged first, so a client that sees the final status also sees the complete log.
      orchestrator.info(final === 'completed' ? '✅ 工作流执行完成' : `✅ 步骤执行完成，任务状态: ${final}`);
      await persist(() => store.finishRun(task.task_id, job.run_id, final));
    } finally {
      clearInterval(heartbeat);
      if (businessDb) await (await businessDb.catch(() => undefined))?.close();
    }
  }

  private async runStep(
    task: TaskWithSteps,
    runId: string,
    step: StepName,
    params: TaskParameters | StepError,
    dir: string,
    logger: TaskLogger,
    stop: AbortController,
    businessDatabase: () => Promise<Database>,
  ): Promise<{ status: 'completed' | 'failed' | 'cancelled'; code?: string; message?: string }> {
    const { store, registry, settings, workerId, observer } = this.deps;
    const log = logger.forLogger(STEP_LOGGER[step]);
    if (stop.signal.aborted) return { status: 'cancelled' };
    const executionId = await store.stepStarted(task.task_id, runId, step, `${task.task_id}_step_${step}_exec_${compactStamp(new Date())}`, workerId);
    if (executionId === null) {
      stop.abort('lost');
      return { status: 'cancelled' };
    }
    observer?.stepStarted?.(step);
    log.info(`▶️ 开始执行步骤: ${step} (execution_id=${executionId})`);

    let progress: StepRow['progress'] = null;
    const counters: Record<string, number> = {};
    let lastFlush = 0;
    let pendingFlush: Promise<void> = Promise.resolve();
    const flush = (force = false) => {
      const now = Date.now();
      if (!force && now - lastFlush < PROGRESS_FLUSH_MS) return;
      lastFlush = now;
      const snapshot = { progress, counters: { ...counters } };
      pendingFlush = pendingFlush
        .then(() => store.stepProgress(task.task_id, runId, step, snapshot.progress, snapshot.counters))
        .catch((error) => log.warn(`进度保存失败: ${errorText(error)}`));
    };

    const addCounters = (added: Record<string, number>) => {
      for (const [key, value] of Object.entries(added)) counters[key] = (counters[key] ?? 0) + value;
      flush();
    };
    let vectorDb: Promise<Database> | undefined;
    const context = (params: TaskParameters): StepContext => ({
      taskId: task.task_id,
      step,
      workspaceDir: dir,
      params,
      settings,
      log,
      signal: stop.signal,
      checkpoint: async () => {
        if (stop.signal.aborted) throw new StepCancelledError(String(stop.signal.reason));
      },
      progress: (done, total, unit) => {
        progress = { done, total, unit };
        observer?.progress?.(step, progress);
        flush();
      },
      count: addCounters,
      businessDatabase,
      // Every LLM step replays the answers an earlier run already paid for (use_llm_cache=false: none).
      llm: this.deps.services.createLlm(addCounters, params.use_llm_cache ? { cache: new TaskDirectoryLlmCache(dir) } : {}),
      embedder: () => this.deps.services.createEmbedder(),
      vectorDatabase: () => (vectorDb ??= this.deps.services.openVectorDatabase()),
    });

    const started = Date.now();
    try {
      try {
        // Stored parameters that no longer parse fail the step (named), like any other step error.
        if (params instanceof StepError) throw params;
        const result = await registry.get(step).run(context(params));
        for (const [key, value] of Object.entries(result?.counters ?? {})) counters[key] = value;
        await pendingFlush;
        if (stop.signal.aborted) throw new StepCancelledError(String(stop.signal.reason));
        await persist(() => store.stepFinished(task.task_id, runId, step, executionId, { status: 'completed', counters, progress }));
        log.info(`✅ 步骤完成: ${step}，耗时 ${((Date.now() - started) / 1000).toFixed(1)}s${result?.summary ? `，${result.summary}` : ''}`);
        observer?.stepFinished?.(step, 'completed');
        return { status: 'completed' };
      } catch (error) {
        await pendingFlush;
        if (error instanceof StepCancelledError || stop.signal.aborted) {
          if (stop.signal.reason !== 'lost') {
            await store.stepFinished(task.task_id, runId, step, executionId, { status: 'cancelled', counters, progress });
            log.warn(`⏹️ 步骤已取消: ${step}`);
          }
          observer?.stepFinished?.(step, 'cancelled');
          return { status: 'cancelled' };
        }
        const code = error instanceof StepError ? error.code : 'STEP_FAILED';
        const message = maskSecretsInText(error instanceof StepError ? error.text(settings.lang) : errorText(error));
        await store.stepFinished(task.task_id, runId, step, executionId, { status: 'failed', errorCode: code, errorMessage: message, counters, progress });
        log.error(`❌ 步骤失败: ${step} [${code}] ${message}`);
        if (!(error instanceof StepError) && error instanceof Error && error.stack) log.debug(maskSecretsInText(error.stack));
        observer?.stepFinished?.(step, 'failed', message);
        return { status: 'failed', code, message };
      }
    } finally {
      if (vectorDb) await (await vectorDb.catch(() => undefined))?.close();
    }
  }

  /** Reports liveness and picks up cancel requests; aborts the run's signal when it should stop. */
  private startHeartbeat(taskId: string, runId: string, stop: AbortController): NodeJS.Timeout {
    const interval = Math.max(200, Math.min(1000, this.deps.settings.heartbeatTimeoutMs / 3));
    const timer = setInterval(() => {
      this.deps.store.heartbeat(taskId, runId).then(
        ({ owned, cancelRequested }) => {
          if (!owned) stop.abort('lost' satisfies StopReason);
          else if (cancelRequested) stop.abort('cancelled' satisfies StopReason);
        },
        () => undefined, // a missed beat is retried on the next tick
      );
    }, interval);
    timer.unref();
    return timer;
  }
}

/** A store write whose connection was cut (the store restarted, pg_terminate_backend) is retried on a new
 * connection: the step's work is done, and failing the run for it would throw that work away. The writes
 * retried are guarded by the run id, so one that did commit before the cut changes nothing the second time. */
async function persist<T>(write: () => Promise<T>): Promise<T> {
  for (let attempt = 1; ; attempt += 1) {
    try {
      return await write();
    } catch (error) {
      if (attempt >= 5 || !isConnectionLoss(error)) throw error;
      await new Promise((resolve) => setTimeout(resolve, 200 * attempt));
    }
  }
}

function isConnectionLoss(error: unknown): boolean {
  const e = error as { code?: string; message?: string };
  return /^(57P0[123]|08...)$/.test(e?.code ?? '') || ['ECONNRESET', 'EPIPE', 'ECONNREFUSED'].includes(e?.code ?? '') ||
    /Connection terminated|not queryable|terminating connection/i.test(e?.message ?? '');
}

/** The task's parameters as steps read them, parsed once per run (or the error that names the bad one). */
function taskParameters(task: TaskWithSteps, flags: TaskFlags): TaskParameters | StepError {
  let stepParameters;
  try {
    stepParameters = parseStepParameters(task.parameters);
  } catch (error) {
    if (error instanceof StepError) return error;
    throw error;
  }
  return {
    ...stepParameters,
    ...flags,
    business_context: task.business_context ?? undefined,
    db_name: task.db_name ?? undefined,
    db_connection: task.db_connection ?? undefined,
  };
}

function errorText(error: unknown): string {
  return error instanceof Error ? error.message : String(error);
}

