// The one queue: pg-boss on the store database. pg-boss talks through our own pool (its `db` adapter), so
// it runs unchanged on real PostgreSQL and on in-process PGlite, and a run can be queued inside the same
// transaction that marks the task in_progress.
//
// A job only hands a run to a worker: the worker fetches it, marks it complete at once and claims the run
// in the task store, whose heartbeat then watches the run however long it takes. So a job is `active` for
// milliseconds, its expiry is the heartbeat timeout, and a worker that dies between fetch and claim leaves
// an unclaimed run with no live job, which the supervisor (store.takeOverStaleRuns) re-queues.
import PgBoss from 'pg-boss';
import type pg from 'pg';

export const RUN_QUEUE = 'data-pipeline-run';
const POLL_MS = 500;
/** After a run is queued in this process, idle workers look this often for a while: the job becomes
 * visible when the caller's transaction commits, which the queue cannot see, and a user who just pressed
 * execute should not wait a whole poll interval. */
const HURRY_POLL_MS = 20;
const HURRY_FOR_MS = 2_000;

export interface RunJob {
  task_id: string;
  run_id: string;
}

type SqlRunner = Pick<pg.Pool, 'query'> | pg.PoolClient;

const adapter = (db: SqlRunner) => ({
  executeSql: (text: string, values?: unknown[]) => db.query(text, values as unknown[]),
});

export class RunQueue {
  private stopping = false;
  private readonly loops: Promise<void>[] = [];
  private hurryUntil = 0;
  /** Ends the idle wait of each waiting loop. */
  private readonly wakers = new Set<() => void>();

  private constructor(
    private readonly boss: PgBoss,
    private readonly expireInSeconds: number,
    private readonly onError: (error: Error) => void,
  ) {}

  /** `heartbeatTimeoutMs`: how long a fetched job may stay unclaimed (the job expiry). */
  static async start(pool: pg.Pool, onError: (error: Error) => void, heartbeatTimeoutMs = 30_000): Promise<RunQueue> {
    const boss = new PgBoss({
      db: adapter(pool),
      schema: 'pgboss',
      // No cron jobs are scheduled: without the timekeeper, start skips its clock-skew query, its internal
      // queue and that queue's poller (start time, and idle work forever after).
      schedule: false,
    } as unknown as PgBoss.ConstructorOptions);
    boss.on('error', onError);
    await boss.start();
    // createQueue takes a lock in a transaction and runs a function even when the queue exists: on an existing
    // store (every start but the first) one SELECT answers instead.
    if (!(await boss.getQueue(RUN_QUEUE))) await boss.createQueue(RUN_QUEUE);
    return new RunQueue(boss, Math.max(1, Math.ceil(heartbeatTimeoutMs / 1000)), onError);
  }

  /** Queues a run using the caller's client, so the job commits or rolls back with the caller's transaction. */
  async enqueue(client: SqlRunner, job: RunJob): Promise<void> {
    await this.boss.send(RUN_QUEUE, job, {
      db: adapter(client),
      // No pg-boss retries: a run that fails is failed; a run whose worker died is resumed by the heartbeat.
      retryLimit: 0,
      expireInSeconds: this.expireInSeconds,
    } as PgBoss.SendOptions);
    this.hurryUntil = Date.now() + HURRY_FOR_MS;
    for (const wake of this.wakers) wake();
  }

  /**
   * SQL condition (for the supervisor's query): a job of the run `runIdSql` is still waiting for a worker,
   * or was handed to one less than `secondsSql` ago. An unclaimed run without such a job is orphaned.
   */
  static liveJobSql(runIdSql: string, secondsSql: string): string {
    return `EXISTS (SELECT 1 FROM pgboss.job j WHERE j.name = '${RUN_QUEUE}' AND j.data->>'run_id' = ${runIdSql}
      AND (j.state IN ('created', 'retry') OR coalesce(j.completed_on, j.started_on) > now() - make_interval(secs => ${secondsSql})))`;
  }

  /** Closes the jobs of a run that was taken over (inside the caller's transaction): none stays active. */
  async failJobsOfRun(client: SqlRunner, runId: string): Promise<void> {
    const { rows } = await client.query<{ id: string }>(
      `SELECT id FROM pgboss.job WHERE name = $1 AND data->>'run_id' = $2 AND state IN ('created', 'retry', 'active')`,
      [RUN_QUEUE, runId],
    );
    if (rows.length) await this.boss.fail(RUN_QUEUE, rows.map((r) => r.id) as unknown as string, { reason: 'run taken over by the supervisor' }, { db: adapter(client) } as never);
  }

  async work(concurrency: number, handler: (job: RunJob) => Promise<void>): Promise<void> {
    for (let i = 0; i < concurrency; i += 1) this.loops.push(this.loop(handler));
  }

  private async loop(handler: (job: RunJob) => Promise<void>): Promise<void> {
    while (!this.stopping) {
      let job: PgBoss.Job<RunJob> | undefined;
      try {
        [job] = await this.boss.fetch<RunJob>(RUN_QUEUE, { batchSize: 1 });
      } catch (error) {
        this.onError(error as Error);
      }
      if (job) await this.complete(job.id);
      if (!job) {
        await this.idle(Date.now() < this.hurryUntil ? HURRY_POLL_MS : POLL_MS);
        continue;
      }
      await handler(job.data).catch((error: Error) => this.onError(error));
    }
  }

  private idle(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
    });
  }

  /** Marks a fetched job done, retried when the connection is cut meanwhile (completing twice is harmless);
   * should it still fail, the job expires after the heartbeat timeout and the run is unaffected. */
  private async complete(id: string): Promise<void> {
    for (let attempt = 1; ; attempt += 1) {
      try {
        await this.boss.complete(RUN_QUEUE, id);
        return;
      } catch (error) {
        if (attempt >= 5) return this.onError(error as Error);
        await new Promise((resolve) => setTimeout(resolve, 100 * attempt));
      }
    }
  }

  async stop(): Promise<void> {
    this.stopping = true;
    for (const wake of this.wakers) wake();
    // A run in progress continues until the process exits; its heartbeat stops and it is taken over.
    await Promise.race([Promise.all(this.loops), new Promise((resolve) => setTimeout(resolve, 5000).unref())]);
    await this.boss.stop({ graceful: true, wait: true, timeout: 5000 });
  }
}
