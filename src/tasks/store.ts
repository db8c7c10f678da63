// The task store: plain SQL over pg, each function one clear transaction boundary. Every write that can
// race with another process is guarded by the run id (a stale worker's writes match nothing).
import { t } from '../messages.ts';
import type pg from 'pg';
import { withTransaction } from '../postgres/connect.ts';
import { STEP_NAMES, type StepName } from '../pipeline/steps.ts';
import type { TaskChangeFeed } from './change-feed.ts';
import { SecretBox } from './secret-box.ts';
import type { ExecutionMode, RunPlan, StepStatus, TaskFlags, TaskStatus } from './model.ts';

export interface TaskRow {
  task_id: string;
  task_name: string | null;
  status: TaskStatus;
  parameters: TaskFlags & Record<string, unknown>;
  db_connection: string | null;
  db_name: string | null;
  business_context: string | null;
  created_by: string | null;
  created_at: Date;
  started_at: Date | null;
  completed_at: Date | null;
  updated_at: Date;
  error_code: string | null;
  error_message: string | null;
  execution_mode: ExecutionMode | null;
  requested_step: StepName | null;
  run_overrides: Partial<TaskFlags>;
  run_id: string | null;
  worker_id: string | null;
  heartbeat_at: Date | null;
  cancel_requested: boolean;
  table_list_at: Date | null;
  table_count: number | null;
}

export interface StepRow {
  task_id: string;
  step_name: StepName;
  status: StepStatus;
  execution_id: string | null;
  started_at: Date | null;
  completed_at: Date | null;
  error_code: string | null;
  error_message: string | null;
  progress: { done: number; total: number; unit: string } | null;
  counters: Record<string, number>;
}

export interface TaskWithSteps extends TaskRow {
  steps: StepRow[];
}

export interface NewTask {
  task_name: string | null;
  parameters: TaskFlags & Record<string, unknown>;
  db_connection: string | null;
  db_name: string | null;
  business_context: string | null;
  created_by: string | null;
}

export interface TaskFilter {
  status?: TaskStatus;
  task_name?: string;
  created_by?: string;
  db_name?: string;
  created_from?: Date;
  created_to?: Date;
}

const T = 'data_pipeline.tasks';
const S = 'data_pipeline.task_steps';
const R = 'data_pipeline.task_step_runs';

/** Any pool or client: lets functions run alone or inside a caller's transaction. */
type Queryable = Pick<pg.Pool, 'query'> | pg.PoolClient;

export class TaskStore {
  /** List totals by filter, exact: dropped whenever the feed reports a change that can move a total. */
  readonly #totals = new Map<string, number>();
  #totalsGeneration = 0;

  /** With a change feed, every committed write is reported to it (for in-process caches), and list
   * totals are cached until it reports a change that can move them. */
  constructor(
    readonly pool: pg.Pool,
    private readonly feed?: TaskChangeFeed,
    /** Seals db_connection on the way in, opens it on the way out (see secret-box.ts). */
    private readonly secrets = new SecretBox(undefined),
  ) {
    feed?.on('counts', () => this.clearTotals());
    feed?.on('reset', () => this.clearTotals());
  }

  private clearTotals(): void {
    this.#totals.clear();
    this.#totalsGeneration += 1;
  }

  private openRow<R extends TaskRow>(row: R): R {
    return row.db_connection === null ? row : { ...row, db_connection: this.secrets.open(row.db_connection) };
  }

  private onChange(taskId: string, countsMayChange = false): void {
    // The feed's 'counts' event (emitted at once, in-process) clears the cached totals.
    if (countsMayChange) this.feed?.countsChanged();
    this.feed?.changed(taskId);
  }

  /** Inserts a task whose id starts with `baseId`; on a clash appends _2, _3 ... (same-second creations).
   * `isTaken` vetoes ids used outside the store (e.g. a deleted task's kept directory). */
  async insertTask(baseId: string, task: NewTask, isTaken: (taskId: string) => boolean = () => false): Promise<TaskRow> {
    for (let attempt = 1; attempt < 10_000; attempt += 1) {
      const taskId = attempt === 1 ? baseId : `${baseId}_${attempt}`;
      if (isTaken(taskId)) continue;
      const inserted = await withTransaction(this.pool, async (client) => {
        const { rows } = await client.query<TaskRow>(
          `INSERT INTO ${T} (task_id, task_name, parameters, db_connection, db_name, business_context, created_by)
           VALUES ($1, $2, $3, $4, $5, $6, $7)
           ON CONFLICT (task_id) DO NOTHING RETURNING *`,
          [taskId, task.task_name, task.parameters, task.db_connection === null ? null : this.secrets.seal(task.db_connection), task.db_name, task.business_context, task.created_by],
        );
        if (rows.length === 0) return undefined;
        await client.query(
          `INSERT INTO ${S} (task_id, step_name, position)
           SELECT $1, name, ord FROM unnest($2::text[]) WITH ORDINALITY AS s(name, ord)`,
          [taskId, STEP_NAMES],
        );
        return this.openRow(rows[0]!);
      });
      if (inserted) {
        this.onChange(taskId, true);
        return inserted;
      }
    }
    throw new Error(`Could not allocate a task id starting with ${baseId}`);
  }

  async getTask(taskId: string, db: Queryable = this.pool): Promise<TaskWithSteps | undefined> {
    const { rows } = await db.query<TaskRow & { steps: StepRow[] }>(
      `SELECT t.*, (SELECT coalesce(json_agg(s ORDER BY s.position), '[]'::json) FROM ${S} s WHERE s.task_id = t.task_id) AS steps
       FROM ${T} t WHERE t.task_id = $1`,
      [taskId],
    );
    const row = rows[0];
    if (!row) return undefined;
    return { ...this.openRow(row), steps: row.steps.map(reviveStepDates) };
  }

  async listTasks(filter: TaskFilter, limit: number, offset: number): Promise<{ tasks: TaskWithSteps[]; total: number }> {
    const { where, values } = whereClause(filter);
    const page = await this.pool.query<TaskRow & { steps: StepRow[] }>(
      `SELECT t.*, (SELECT coalesce(json_agg(s ORDER BY s.position), '[]'::json) FROM ${S} s WHERE s.task_id = t.task_id) AS steps
       FROM ${T} t ${where} ORDER BY t.created_at DESC, t.task_id DESC LIMIT $${values.length + 1} OFFSET $${values.length + 2}`,
      [...values, limit, offset],
    );
    const total = await this.countTasks(filter, where, values);
    return { tasks: page.rows.map((r) => ({ ...this.openRow(r), steps: r.steps.map(reviveStepDates) })), total };
  }

  /** Filters by status alone (or none) are answered from the trigger-kept counts, not by scanning. */
  private async countTasks(filter: TaskFilter, where: string, values: unknown[]): Promise<number> {
    const cacheable = this.feed?.reliable ?? false;
    const key = JSON.stringify(filter);
    const cached = cacheable ? this.#totals.get(key) : undefined;
    if (cached !== undefined) return cached;
    const generation = this.#totalsGeneration;
    const total = await this.countTasksUncached(filter, where, values);
    // Stored only if no change cleared the cache while counting.
    if (cacheable && generation === this.#totalsGeneration && this.#totals.size < 1000) this.#totals.set(key, total);
    return total;
  }

  private async countTasksUncached(filter: TaskFilter, where: string, values: unknown[]): Promise<number> {
    const onlyStatus = Object.entries(filter).every(([key, value]) => key === 'status' || value === undefined);
    if (onlyStatus) {
      const { rows } = await this.pool.query<{ n: string | null }>(
        `SELECT sum(n) AS n FROM data_pipeline.task_counts WHERE $1::text IS NULL OR status = $1`,
        [filter.status ?? null],
      );
      return Number(rows[0]?.n ?? 0);
    }
    const { rows } = await this.pool.query<{ n: string }>(`SELECT count(*) AS n FROM ${T} t ${where}`, values);
    return Number(rows[0]?.n ?? 0);
  }

  /** Records a new table list; `beforeCommit` (putting the file in place) runs inside the transaction, so
   * a failure of either leaves both as they were. */
  async setTableList(taskId: string, tableCount: number, businessContext?: string, beforeCommit?: () => Promise<void>): Promise<Date> {
    const rows = await withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ table_list_at: Date }>(
        `UPDATE ${T} SET table_list_at = now(), table_count = $2, updated_at = now(),
                business_context = coalesce($3, business_context)
         WHERE task_id = $1 RETURNING table_list_at`,
        [taskId, tableCount, businessContext ?? null],
      );
      await beforeCommit?.();
      return rows;
    });
    this.onChange(taskId);
    return rows[0]!.table_list_at;
  }

  /**
   * Marks a task in_progress with a fresh run and queues it, atomically: the row lock makes a concurrent
   * second execute see in_progress (→ 409), and `enqueue` runs inside the same transaction so the run is
   * durably queued before the caller answers 202.
   */
  async startRun(
    taskId: string,
    args: { runId: string; mode: ExecutionMode; step: StepName | null; overrides: Partial<TaskFlags> },
    /** Checks the locked task (throwing to refuse) and returns the steps this run executes and skips. */
    prepare: (task: TaskWithSteps) => RunPlan,
    enqueue: (client: pg.PoolClient) => Promise<void>,
  ): Promise<TaskWithSteps> {
    const task = await withTransaction(this.pool, async (client) => {
      const locked = await client.query(`SELECT 1 FROM ${T} WHERE task_id = $1 FOR UPDATE`, [taskId]);
      const task = locked.rowCount ? await this.getTask(taskId, client) : undefined;
      if (!task) throw new TaskMissingError(taskId);
      const plan = prepare(task);
      await client.query(
        `UPDATE ${T} SET status = 'in_progress', run_id = $2, execution_mode = $3, requested_step = $4, run_overrides = $5,
                cancel_requested = false, worker_id = NULL, heartbeat_at = now(), started_at = now(), completed_at = NULL,
                error_code = NULL, error_message = NULL, updated_at = now()
         WHERE task_id = $1`,
        [taskId, args.runId, args.mode, args.step, args.overrides],
      );
      await client.query(
        `UPDATE ${S} SET status = CASE WHEN step_name = ANY($2::text[]) THEN 'pending' ELSE 'skipped' END,
                execution_id = NULL, started_at = NULL, completed_at = NULL, error_code = NULL, error_message = NULL,
                progress = NULL, counters = '{}'::jsonb
         WHERE task_id = $1 AND (step_name = ANY($2::text[]) OR step_name = ANY($3::text[]))`,
        [taskId, plan.run, plan.skipped],
      );
      await enqueue(client);
      return (await this.getTask(taskId, client))!;
    });
    this.onChange(taskId, true);
    return task;
  }

  /** A worker takes a queued run. Returns undefined when the run is no longer current (cancelled, replaced). */
  async claimRun(taskId: string, runId: string, workerId: string): Promise<TaskWithSteps | undefined> {
    const { rowCount } = await this.pool.query(
      `UPDATE ${T} SET worker_id = $3, heartbeat_at = now(), updated_at = now()
       WHERE task_id = $1 AND run_id = $2 AND status = 'in_progress' AND worker_id IS NULL`,
      [taskId, runId, workerId],
    );
    if (!rowCount) return undefined;
    this.onChange(taskId);
    return this.getTask(taskId);
  }

  /** Returns whether the run is still ours and whether a cancel was requested. */
  async heartbeat(taskId: string, runId: string): Promise<{ owned: boolean; cancelRequested: boolean }> {
    const { rows } = await this.pool.query<{ cancel_requested: boolean }>(
      `UPDATE ${T} SET heartbeat_at = now() WHERE task_id = $1 AND run_id = $2 AND status = 'in_progress'
       RETURNING cancel_requested`,
      [taskId, runId],
    );
    return { owned: rows.length > 0, cancelRequested: rows[0]?.cancel_requested ?? false };
  }

  /**
   * Marks a step running under an execution id of the guide's form (`…_exec_<YYYYMMDDHHMMSS>`). A step run
   * again within the same second gets `_2`, `_3` …, so an id always names one execution. Returns the id,
   * or null when the run is no longer this worker's.
   */
  async stepStarted(taskId: string, runId: string, step: StepName, baseExecutionId: string, workerId: string): Promise<string | null> {
    return this.announcing(taskId, withTransaction(this.pool, async (client) => {
      const owned = await client.query(`SELECT 1 FROM ${T} WHERE task_id = $1 AND run_id = $2 AND status = 'in_progress' FOR UPDATE`, [
        taskId,
        runId,
      ]);
      if (!owned.rowCount) return null;
      const taken = await client.query<{ n: string }>(
        `SELECT count(*) AS n FROM ${R} WHERE task_id = $1 AND step_name = $2 AND (execution_id = $3 OR execution_id LIKE $3 || '\_%')`,
        [taskId, step, baseExecutionId],
      );
      const same = Number(taken.rows[0]?.n ?? 0);
      const executionId = same ? `${baseExecutionId}_${same + 1}` : baseExecutionId;
      await client.query(
        `UPDATE ${S} SET status = 'running', execution_id = $3, started_at = now(), completed_at = NULL,
                error_code = NULL, error_message = NULL, progress = NULL, counters = '{}'::jsonb
         WHERE task_id = $1 AND step_name = $2`,
        [taskId, step, executionId],
      );
      await client.query(
        `INSERT INTO ${R} (task_id, run_id, step_name, execution_id, worker_id, status) VALUES ($1, $2, $3, $4, $5, 'running')`,
        [taskId, runId, step, executionId, workerId],
      );
      await client.query(`UPDATE ${T} SET updated_at = now() WHERE task_id = $1`, [taskId]);
      return executionId;
    }));
  }

  async stepProgress(taskId: string, runId: string, step: StepName, progress: StepRow['progress'], counters: Record<string, number>) {
    await this.pool.query(
      `UPDATE ${S} s SET progress = $4, counters = $5 FROM ${T} t
       WHERE s.task_id = $1 AND s.step_name = $3 AND t.task_id = s.task_id AND t.run_id = $2 AND s.status = 'running'`,
      [taskId, runId, step, progress, counters],
    );
    this.onChange(taskId);
  }

  async stepFinished(
    taskId: string,
    runId: string,
    step: StepName,
    executionId: string,
    outcome: { status: 'completed' | 'failed' | 'cancelled'; errorCode?: string; errorMessage?: string; counters: Record<string, number>; progress: StepRow['progress'] },
  ): Promise<boolean> {
    return this.announcing(taskId, withTransaction(this.pool, async (client) => {
      const owned = await client.query(`SELECT 1 FROM ${T} WHERE task_id = $1 AND run_id = $2 FOR UPDATE`, [taskId, runId]);
      if (!owned.rowCount) return false;
      await client.query(
        `UPDATE ${S} SET status = $3, completed_at = now(), error_code = $4, error_message = $5, counters = $6, progress = $7
         WHERE task_id = $1 AND step_name = $2`,
        [taskId, step, outcome.status, outcome.errorCode ?? null, outcome.errorMessage ?? null, outcome.counters, outcome.progress],
      );
      await client.query(
        `UPDATE ${R} SET status = $2, completed_at = now(),
                duration_ms = (extract(epoch FROM now() - started_at) * 1000)::integer,
                error_code = $3, error_message = $4, counters = $5
         WHERE execution_id = $1 AND status = 'running'`,
        [executionId, outcome.status, outcome.errorCode ?? null, outcome.errorMessage ?? null, outcome.counters],
      );
      return true;
    }));
  }

  /** Ends the current run: completed / partial_completed / failed / cancelled. Unrun pending steps of a
   * failed or cancelled run become cancelled so that no step is left looking queued. */
  async finishRun(taskId: string, runId: string, status: TaskStatus, error?: { code: string; message: string }): Promise<boolean> {
    const finished = withTransaction(this.pool, async (client) => {
      const { rowCount } = await client.query(
        `UPDATE ${T} SET status = $3, completed_at = now(), updated_at = now(), worker_id = NULL, run_id = NULL,
                cancel_requested = false, error_code = $4, error_message = $5
         WHERE task_id = $1 AND run_id = $2`,
        [taskId, runId, status, error?.code ?? null, error?.message ?? null],
      );
      if (!rowCount) return false;
      if (status === 'failed' || status === 'cancelled') {
        await client.query(`UPDATE ${S} SET status = 'cancelled' WHERE task_id = $1 AND status IN ('pending', 'running')`, [taskId]);
      }
      return true;
    });
    return this.announcing(taskId, finished, true);
  }

  /**
   * Cancel: a run no worker has claimed yet is cancelled at once; a claimed one is flagged, and its
   * worker stops at the next checkpoint.
   */
  async requestCancel(taskId: string): Promise<{ task: TaskRow; immediate: boolean } | { notRunning: TaskRow } | undefined> {
    const requested = withTransaction(this.pool, async (client): Promise<{ task: TaskRow; immediate: boolean } | { notRunning: TaskRow } | undefined> => {
      const { rows } = await client.query<TaskRow>(`SELECT * FROM ${T} WHERE task_id = $1 FOR UPDATE`, [taskId]);
      const task = rows[0] && this.openRow(rows[0]);
      if (!task) return undefined;
      if (task.status !== 'in_progress') return { notRunning: task };
      if (task.worker_id === null) {
        await client.query(
          `UPDATE ${T} SET status = 'cancelled', run_id = NULL, completed_at = now(), updated_at = now(), cancel_requested = false
           WHERE task_id = $1`,
          [taskId],
        );
        await client.query(`UPDATE ${S} SET status = 'cancelled' WHERE task_id = $1 AND status IN ('pending', 'running')`, [taskId]);
        return { task: { ...task, status: 'cancelled' }, immediate: true };
      }
      await client.query(`UPDATE ${T} SET cancel_requested = true, updated_at = now() WHERE task_id = $1`, [taskId]);
      return { task, immediate: false };
    });
    return this.announcing(taskId, requested, true);
  }

  async deleteTasks(taskIds: string[], force: boolean): Promise<{ deleted: string[]; running: string[]; missing: string[] }> {
    const result = await withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ task_id: string; status: TaskStatus }>(
        `SELECT task_id, status FROM ${T} WHERE task_id = ANY($1::text[]) FOR UPDATE`,
        [taskIds],
      );
      const found = new Map(rows.map((r) => [r.task_id, r.status]));
      const missing = taskIds.filter((id) => !found.has(id));
      const running = rows.filter((r) => r.status === 'in_progress').map((r) => r.task_id);
      const deletable = rows.filter((r) => force || r.status !== 'in_progress').map((r) => r.task_id);
      if (deletable.length) await client.query(`DELETE FROM ${T} WHERE task_id = ANY($1::text[])`, [deletable]);
      return { deleted: deletable, running: force ? [] : running, missing };
    });
    for (const taskId of result.deleted) this.onChange(taskId, true);
    return result;
  }

  /**
   * Runs whose worker stopped reporting (killed, machine lost) get a new run id so that a late write from
   * the old worker matches nothing. Returns them for re-queueing (policy resume) or fails them (policy fail).
   */
  async takeOverStaleRuns(
    timeoutMs: number,
    policy: 'resume' | 'fail',
    newRunId: () => string,
    enqueue: (client: pg.PoolClient, taskId: string, runId: string) => Promise<void>,
    queue?: {
      /** SQL condition: the run `runIdSql` still has a job waiting, or handed over less than `secondsSql` ago. */
      liveJobSql: (runIdSql: string, secondsSql: string) => string;
      /** Closes the old run's jobs. */
      failJobsOfRun: (client: pg.PoolClient, runId: string) => Promise<void>;
    },
    /** The failed task's error_message with the `fail` policy, in the task language. */
    lostMessage: string = t('step.worker_lost', 'zh'),
  ): Promise<Array<{ taskId: string; runId: string }>> {
    const changed: string[] = [];
    // Claimed runs whose worker stopped reporting, and runs no worker ever claimed although no job for them
    // is waiting any more (the worker died between taking the job and claiming the run).
    const unclaimed = queue ? `OR (t.worker_id IS NULL AND NOT ${queue.liveJobSql('t.run_id', '$1')})` : '';
    const taken = await withTransaction(this.pool, async (client) => {
      const { rows } = await client.query<{ task_id: string; run_id: string }>(
        `SELECT t.task_id, t.run_id FROM ${T} t
         WHERE t.status = 'in_progress' AND t.heartbeat_at < now() - make_interval(secs => $1)
           AND (t.worker_id IS NOT NULL ${unclaimed})
         FOR UPDATE OF t SKIP LOCKED`,
        [timeoutMs / 1000],
      );
      const taken: Array<{ taskId: string; runId: string }> = [];
      for (const row of rows) {
        changed.push(row.task_id);
        await queue?.failJobsOfRun(client, row.run_id);
        await client.query(`UPDATE ${R} SET status = 'abandoned', completed_at = now(), error_message = 'worker stopped reporting'
                            WHERE task_id = $1 AND run_id = $2 AND status = 'running'`, [row.task_id, row.run_id]);
        if (policy === 'fail') {
          await client.query(
            `UPDATE ${T} SET status = 'failed', run_id = NULL, worker_id = NULL, completed_at = now(), updated_at = now(),
                    error_code = 'WORKER_LOST', error_message = $2
             WHERE task_id = $1`,
            [row.task_id, lostMessage],
          );
          await client.query(
            `UPDATE ${S} SET status = CASE WHEN status = 'running' THEN 'failed' ELSE 'cancelled' END,
                    error_code = CASE WHEN status = 'running' THEN 'WORKER_LOST' ELSE error_code END
             WHERE task_id = $1 AND status IN ('pending', 'running')`,
            [row.task_id],
          );
          continue;
        }
        const runId = newRunId();
        await client.query(
          `UPDATE ${T} SET run_id = $2, worker_id = NULL, heartbeat_at = now(), updated_at = now() WHERE task_id = $1`,
          [row.task_id, runId],
        );
        await client.query(`UPDATE ${S} SET status = 'pending' WHERE task_id = $1 AND status = 'running'`, [row.task_id]);
        await enqueue(client, row.task_id, runId);
        taken.push({ taskId: row.task_id, runId });
      }
      return taken;
    });
    for (const taskId of changed) this.onChange(taskId, true);
    return taken;
  }

  private async announcing<T>(taskId: string, write: Promise<T>, countsMayChange = false): Promise<T> {
    const result = await write;
    this.onChange(taskId, countsMayChange);
    return result;
  }

  async stepRuns(taskId: string) {
    const { rows } = await this.pool.query(`SELECT * FROM ${R} WHERE task_id = $1 ORDER BY id`, [taskId]);
    return rows;
  }
}

export class TaskMissingError extends Error {
  constructor(readonly taskId: string) {
    super(`Task not found: ${taskId}`);
  }
}

function whereClause(filter: TaskFilter): { where: string; values: unknown[] } {
  const conditions: string[] = [];
  const values: unknown[] = [];
  const add = (sql: (placeholder: string) => string, value: unknown) => {
    values.push(value);
    conditions.push(sql(`$${values.length}`));
  };
  if (filter.status) add((p) => `t.status = ${p}`, filter.status);
  if (filter.task_name) add((p) => `t.task_name ILIKE ${p}`, `%${escapeLike(filter.task_name)}%`);
  if (filter.created_by) add((p) => `t.created_by = ${p}`, filter.created_by);
  if (filter.db_name) add((p) => `t.db_name = ${p}`, filter.db_name);
  if (filter.created_from) add((p) => `t.created_at >= ${p}`, filter.created_from);
  // created_at has microseconds, a Date only milliseconds: the whole last millisecond is inside the bound.
  if (filter.created_to) add((p) => `t.created_at < ${p}`, new Date(filter.created_to.getTime() + 1));
  return { where: conditions.length ? `WHERE ${conditions.join(' AND ')}` : '', values };
}

function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (c) => `\\${c}`);
}

/** json_agg turns timestamps into strings; steps are read back as Dates like the task row. */
function reviveStepDates(step: StepRow): StepRow {
  const date = (v: unknown) => (v ? new Date(v as string) : null);
  return { ...step, started_at: date(step.started_at), completed_at: date(step.completed_at) };
}
