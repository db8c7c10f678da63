// The one queue: pg-boss on the store database. pg-boss talks through our own pool (its `db` adapter), so
// it runs unchanged on real PostgreSQL and on in-process PGlite, and a run can be queued inside the same
// transaction that marks the task in_progress.
import PgBoss from 'pg-boss';
import type pg from 'pg';

export const RUN_QUEUE = 'data-pipeline-run';

export interface RunJob {
  task_id: string;
  run_id: string;
}

type SqlRunner = Pick<pg.Pool, 'query'> | pg.PoolClient;

const adapter = (db: SqlRunner) => ({
  executeSql: (text: string, values?: unknown[]) => db.query(text, values as unknown[]),
});

export class RunQueue {
  private constructor(private readonly boss: PgBoss) {}

  static async start(pool: pg.Pool, onError: (error: Error) => void): Promise<RunQueue> {
    const boss = new PgBoss({
      db: adapter(pool),
      schema: 'pgboss',
    } as unknown as PgBoss.ConstructorOptions);
    boss.on('error', onError);
    await boss.start();
    await boss.createQueue(RUN_QUEUE);
    return new RunQueue(boss);
  }

  /** Queues a run using the caller's client, so the job commits or rolls back with the caller's transaction. */
  async enqueue(client: SqlRunner, job: RunJob): Promise<void> {
    await this.boss.send(RUN_QUEUE, job, {
      db: adapter(client),
      // No pg-boss retries: a run that fails is failed; a run whose worker died is resumed by the heartbeat.
      retryLimit: 0,
      expireInHours: 23,
    } as PgBoss.SendOptions);
  }

  async work(concurrency: number, handler: (job: RunJob) => Promise<void>): Promise<void> {
    for (let i = 0; i < concurrency; i += 1) {
      await this.boss.work<RunJob>(RUN_QUEUE, { batchSize: 1, pollingIntervalSeconds: 0.5 }, async (jobs) => {
        for (const job of jobs) await handler(job.data);
      });
    }
  }

  async stop(): Promise<void> {
    await this.boss.stop({ graceful: true, wait: true, timeout: 5000 });
  }
}
