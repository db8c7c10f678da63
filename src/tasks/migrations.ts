// The task store's schema, as numbered plain-SQL migrations applied once each, under an advisory lock
// so that several processes starting together against one PostgreSQL do not race.
import type pg from 'pg';
import { withTransaction } from '../postgres/connect.ts';

export const STORE_SCHEMA = 'data_pipeline';

const MIGRATIONS: string[] = [
  `
  CREATE TABLE data_pipeline.tasks (
    task_id           text PRIMARY KEY,
    task_name         text,
    status            text NOT NULL DEFAULT 'pending',
    parameters        jsonb NOT NULL DEFAULT '{}'::jsonb,
    db_connection     text,
    db_name           text,
    business_context  text,
    created_by        text,
    created_at        timestamptz NOT NULL DEFAULT now(),
    started_at        timestamptz,
    completed_at      timestamptz,
    updated_at        timestamptz NOT NULL DEFAULT now(),
    error_code        text,
    error_message     text,
    execution_mode    text,
    requested_step    text,
    run_overrides     jsonb NOT NULL DEFAULT '{}'::jsonb,
    run_id            text,
    worker_id         text,
    heartbeat_at      timestamptz,
    cancel_requested  boolean NOT NULL DEFAULT false,
    table_list_at     timestamptz,
    table_count       integer
  );
  CREATE INDEX tasks_created_at_idx ON data_pipeline.tasks (created_at DESC, task_id DESC);
  CREATE INDEX tasks_status_created_at_idx ON data_pipeline.tasks (status, created_at DESC, task_id DESC);
  CREATE INDEX tasks_db_name_idx ON data_pipeline.tasks (db_name, created_at DESC);
  CREATE INDEX tasks_created_by_idx ON data_pipeline.tasks (created_by, created_at DESC);
  CREATE INDEX tasks_heartbeat_idx ON data_pipeline.tasks (heartbeat_at) WHERE status = 'in_progress';

  CREATE TABLE data_pipeline.task_steps (
    task_id        text NOT NULL REFERENCES data_pipeline.tasks(task_id) ON DELETE CASCADE,
    step_name      text NOT NULL,
    position       smallint NOT NULL,
    status         text NOT NULL DEFAULT 'pending',
    execution_id   text,
    started_at     timestamptz,
    completed_at   timestamptz,
    error_code     text,
    error_message  text,
    progress       jsonb,
    counters       jsonb NOT NULL DEFAULT '{}'::jsonb,
    PRIMARY KEY (task_id, step_name)
  );

  -- One row per step execution: the history of every run, with timing, outcome and counters.
  CREATE TABLE data_pipeline.task_step_runs (
    id             bigserial PRIMARY KEY,
    task_id        text NOT NULL REFERENCES data_pipeline.tasks(task_id) ON DELETE CASCADE,
    run_id         text NOT NULL,
    step_name      text NOT NULL,
    execution_id   text NOT NULL,
    worker_id      text,
    status         text NOT NULL,
    started_at     timestamptz NOT NULL DEFAULT now(),
    completed_at   timestamptz,
    duration_ms    integer,
    error_code     text,
    error_message  text,
    counters       jsonb NOT NULL DEFAULT '{}'::jsonb
  );
  CREATE INDEX task_step_runs_task_idx ON data_pipeline.task_step_runs (task_id, id);

  -- Row counts per status, kept by trigger, so that list totals stay O(1) however many tasks exist.
  CREATE TABLE data_pipeline.task_counts (
    status  text PRIMARY KEY,
    n       bigint NOT NULL DEFAULT 0
  );
  CREATE FUNCTION data_pipeline.count_tasks() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    IF TG_OP IN ('UPDATE', 'DELETE') THEN
      UPDATE data_pipeline.task_counts SET n = n - 1 WHERE status = OLD.status;
    END IF;
    IF TG_OP IN ('INSERT', 'UPDATE') THEN
      INSERT INTO data_pipeline.task_counts (status, n) VALUES (NEW.status, 1)
      ON CONFLICT (status) DO UPDATE SET n = data_pipeline.task_counts.n + 1;
    END IF;
    RETURN NULL;
  END $$;
  CREATE TRIGGER tasks_count_insert_delete AFTER INSERT OR DELETE ON data_pipeline.tasks
    FOR EACH ROW EXECUTE FUNCTION data_pipeline.count_tasks();
  CREATE TRIGGER tasks_count_status AFTER UPDATE OF status ON data_pipeline.tasks
    FOR EACH ROW WHEN (OLD.status IS DISTINCT FROM NEW.status) EXECUTE FUNCTION data_pipeline.count_tasks();
  `,
  `
  -- Every change to a task or its steps is announced (after commit) so that API processes can drop what
  -- they cached about it, whichever process made the change.
  CREATE FUNCTION data_pipeline.announce_task_change() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('data_pipeline_task_changed', CASE WHEN TG_OP = 'DELETE' THEN OLD.task_id ELSE NEW.task_id END);
    RETURN NULL;
  END $$;
  CREATE TRIGGER tasks_announce AFTER INSERT OR UPDATE OR DELETE ON data_pipeline.tasks
    FOR EACH ROW EXECUTE FUNCTION data_pipeline.announce_task_change();
  CREATE TRIGGER task_steps_announce AFTER INSERT OR UPDATE OR DELETE ON data_pipeline.task_steps
    FOR EACH ROW EXECUTE FUNCTION data_pipeline.announce_task_change();
  `,
  `
  -- Totals of task lists change only when a task is added, removed or changes status (or one of the
  -- columns lists filter on): announce those separately so cached totals stay exact.
  CREATE FUNCTION data_pipeline.announce_task_counts() RETURNS trigger LANGUAGE plpgsql AS $$
  BEGIN
    PERFORM pg_notify('data_pipeline_task_counts_changed', '');
    RETURN NULL;
  END $$;
  CREATE TRIGGER tasks_announce_counts AFTER INSERT OR DELETE OR UPDATE OF status, task_name, db_name, created_by, created_at
    ON data_pipeline.tasks FOR EACH STATEMENT EXECUTE FUNCTION data_pipeline.announce_task_counts();
  `,
];

export const TASK_COUNTS_CHANNEL = 'data_pipeline_task_counts_changed';

export const TASK_CHANGE_CHANNEL = 'data_pipeline_task_changed';

export async function migrateStore(pool: pg.Pool): Promise<void> {
  // An up-to-date store (every start but the first after an upgrade) is told by one query, without the
  // transaction and lock below: the first queries of an embedded store are its slowest (cold caches).
  const applied = await pool
    .query<{ version: number | null }>(`SELECT max(version) AS version FROM ${STORE_SCHEMA}.migrations`)
    .then(({ rows }) => rows[0]?.version ?? 0, () => 0); // no such table yet: a new store
  if (applied >= MIGRATIONS.length) return;
  await withTransaction(pool, async (client) => {
    // A constant key: any data-pipeline process migrating this database waits for the first one.
    await client.query('SELECT pg_advisory_xact_lock(8084001)');
    await client.query(`CREATE SCHEMA IF NOT EXISTS ${STORE_SCHEMA}`);
    await client.query(
      `CREATE TABLE IF NOT EXISTS ${STORE_SCHEMA}.migrations (version integer PRIMARY KEY, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const { rows } = await client.query<{ version: number }>(`SELECT version FROM ${STORE_SCHEMA}.migrations`);
    const applied = new Set(rows.map((r) => r.version));
    for (const [index, sql] of MIGRATIONS.entries()) {
      const version = index + 1;
      if (applied.has(version)) continue;
      await client.query(sql);
      await client.query(`INSERT INTO ${STORE_SCHEMA}.migrations (version) VALUES ($1)`, [version]);
    }
  });
}
