// Fills the task store fast with plain SQL (INSERT ... SELECT generate_series), bypassing the service:
// realistic tasks (statuses, names, databases, users, one every ~5 minutes back in time) with their 4
// task_steps rows each, consistent with the task status. Task i is the same row in every store, so a
// store filled with 1..1000 holds exactly the newest 1,000 tasks of a store filled with 1..100000.
import type pg from 'pg';

/** Deterministic pseudo-random 0..2^32-1 per (i, salt); hashint4 exists on PostgreSQL 15 and PGlite (18). */
const h = (salt: number) => `(hashint4(i + ${salt})::bigint + 2147483648)`;

const INSERT_CHUNK = `
WITH src AS (
  SELECT i, ${h(0)} AS h1, ${h(1000003)} AS h2, ${h(2000003)} AS h3,
         $3::timestamptz - make_interval(secs => i * 300 + ${h(3000017)} % 290) AS created_at
  FROM generate_series($1::int, $2::int) AS i
), shaped AS (
  SELECT i, h1, h2, h3, created_at,
    CASE WHEN i <= 3 THEN 'in_progress'
         WHEN h1 % 1000 < 700 THEN 'completed'
         WHEN h1 % 1000 < 820 THEN 'failed'
         WHEN h1 % 1000 < 890 THEN 'partial_completed'
         WHEN h1 % 1000 < 940 THEN 'cancelled'
         ELSE 'pending' END AS status,
    CASE h2 % 10
      WHEN 0 THEN 'highway service area QA'
      WHEN 1 THEN 'highway_db nightly ' || to_char(created_at, 'YYYY-MM-DD')
      WHEN 2 THEN '高速公路服务区训练数据'
      WHEN 3 THEN 'sales analysis'
      WHEN 4 THEN 'inventory training set'
      WHEN 5 THEN 'HR questions'
      WHEN 6 THEN 'Highway toll revenue'
      WHEN 7 THEN 'crm customer 360'
      WHEN 8 THEN NULL
      ELSE 'finance monthly report' END AS task_name,
    CASE WHEN h3 % 10 < 5 THEN 'highway_db' WHEN h3 % 10 < 7 THEN 'sales_db' WHEN h3 % 10 = 7 THEN 'hr_db'
         WHEN h3 % 10 = 8 THEN 'crm_db' ELSE 'finance_db' END AS db_name,
    (ARRAY['admin', 'alice', 'bob', 'etl-cron', NULL])[1 + (h3 / 10) % 5] AS created_by,
    5 + h2 % 40 AS table_count
  FROM src
), ins AS (
  INSERT INTO data_pipeline.tasks (task_id, task_name, status, parameters, db_connection, db_name, business_context, created_by,
    created_at, started_at, completed_at, updated_at, error_code, error_message, execution_mode, requested_step,
    run_id, worker_id, heartbeat_at, table_list_at, table_count)
  SELECT 'task_' || to_char(created_at, 'YYYYMMDD_HH24MISS'), task_name, status,
    '{"enable_sql_validation": true, "enable_llm_repair": true, "modify_original_file": true, "enable_training_data_load": true, "backup_vector_tables": false, "truncate_vector_tables": false}'::jsonb,
    CASE WHEN h1 % 7 = 0 THEN 'postgresql://reader:***@10.0.0.' || (h1 % 250) || ':5432/' || db_name END,
    db_name,
    CASE WHEN db_name = 'highway_db' THEN '高速公路服务区管理系统：服务区、档口、营业日数据与车流量' ELSE 'Business database ' || db_name || ' for NL2SQL training' END,
    created_by, created_at,
    CASE WHEN status <> 'pending' THEN created_at + interval '5 seconds' END,
    CASE WHEN status NOT IN ('pending', 'in_progress') THEN created_at + make_interval(secs => 65 + h1 % 1800) END,
    CASE WHEN status NOT IN ('pending', 'in_progress') THEN created_at + make_interval(secs => 65 + h1 % 1800) ELSE created_at END,
    CASE WHEN status = 'failed' THEN 'STEP_FAILED' END,
    CASE WHEN status = 'failed' THEN 'SQL验证失败: column "service_area_name" does not exist' END,
    CASE WHEN status = 'pending' THEN NULL WHEN h2 % 20 = 0 THEN 'step' ELSE 'complete' END,
    CASE WHEN status <> 'pending' AND h2 % 20 = 0 THEN 'qa_generation' END,
    CASE WHEN status = 'in_progress' THEN 'run_' || i END,
    CASE WHEN status = 'in_progress' THEN 'bench-host:1:' || i END,
    CASE WHEN status = 'in_progress' THEN now() END,
    CASE WHEN h2 % 25 <> 0 THEN created_at + interval '2 seconds' END,
    CASE WHEN h2 % 25 <> 0 THEN table_count END
  FROM shaped
  RETURNING task_id, status, started_at, completed_at, table_count
)
INSERT INTO data_pipeline.task_steps (task_id, step_name, position, status, execution_id, started_at, completed_at,
  error_code, error_message, progress, counters)
SELECT task_id, name, pos, step_status,
  CASE WHEN step_status <> 'pending' THEN 'exec_' || substr(task_id, 6) || '_' || name END,
  CASE WHEN step_status NOT IN ('pending', 'skipped') THEN started_at + make_interval(secs => pos * 30) END,
  CASE WHEN step_status IN ('completed', 'failed', 'cancelled') THEN started_at + make_interval(secs => pos * 30 + 25) END,
  CASE WHEN step_status = 'failed' THEN 'STEP_FAILED' END,
  CASE WHEN step_status = 'failed' THEN 'SQL验证失败: column "service_area_name" does not exist' END,
  CASE WHEN step_status IN ('completed', 'running')
       THEN jsonb_build_object('done', coalesce(table_count, 10), 'total', coalesce(table_count, 10), 'unit', CASE WHEN pos = 1 THEN 'tables' ELSE 'pairs' END) END,
  CASE WHEN step_status = 'completed'
       THEN jsonb_build_object('tables', coalesce(table_count, 10), 'pairs', coalesce(table_count, 10) * 5, 'llm_tokens', coalesce(table_count, 10) * 900)
       ELSE '{}'::jsonb END
FROM (
  SELECT ins.task_id, ins.started_at, ins.table_count, st.name, st.pos,
    CASE ins.status
      WHEN 'completed' THEN 'completed'
      WHEN 'pending' THEN 'pending'
      WHEN 'partial_completed' THEN CASE WHEN st.pos <= 1 + k % 3 THEN 'completed' ELSE 'pending' END
      WHEN 'failed' THEN CASE WHEN st.pos - 1 < k THEN 'completed' WHEN st.pos - 1 = k THEN 'failed' ELSE 'cancelled' END
      WHEN 'cancelled' THEN CASE WHEN st.pos - 1 < k THEN 'completed' ELSE 'cancelled' END
      ELSE CASE WHEN st.pos - 1 < k THEN 'completed' WHEN st.pos - 1 = k THEN 'running' ELSE 'pending' END
    END AS step_status
  FROM ins
  CROSS JOIN LATERAL (SELECT (hashtext(ins.task_id)::bigint + 2147483648) % 4 AS k) AS kk
  CROSS JOIN (VALUES ('ddl_generation', 1), ('qa_generation', 2), ('sql_validation', 3), ('training_load', 4)) AS st(name, pos)
) AS steps`;

export interface FillOptions {
  /** Newest task's creation time; task i is created ~5 minutes × i before it. */
  newest: Date;
  chunk?: number;
  onProgress?: (done: number, total: number) => void;
}

/**
 * Triggers the bulk load may switch off: the per-row status counter (task_counts is rebuilt from the table
 * afterwards, which is what the trigger would have produced) and change announcements (NOTIFY only, no
 * state). Any other trigger on these tables stays on, so whatever it maintains stays right.
 */
const BULK_SKIPPABLE_TRIGGERS = new Set(['tasks_count_insert_delete', 'tasks_announce', 'task_steps_announce']);

/**
 * Inserts tasks first..last (numbering as above) with their steps, in chunks, with the skippable triggers
 * off; rebuilds task_counts; then analyzes the tables as autovacuum would.
 */
export async function fillTasks(pool: pg.Pool, first: number, last: number, options: FillOptions): Promise<void> {
  const chunk = options.chunk ?? 10_000;
  const client = await pool.connect();
  try {
    const { rows: triggers } = await client.query<{ table_name: string; trigger_name: string }>(`
      SELECT c.relname AS table_name, t.tgname AS trigger_name
      FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid JOIN pg_namespace n ON n.oid = c.relnamespace
      WHERE n.nspname = 'data_pipeline' AND c.relname IN ('tasks', 'task_steps') AND NOT t.tgisinternal AND t.tgenabled <> 'D'`);
    const skipped = triggers.filter((t) => BULK_SKIPPABLE_TRIGGERS.has(t.trigger_name));
    const toggle = async (action: 'ENABLE' | 'DISABLE') => {
      for (const t of skipped) await client.query(`ALTER TABLE data_pipeline.${t.table_name} ${action} TRIGGER ${t.trigger_name}`);
    };
    await toggle('DISABLE');
    try {
      for (let from = first; from <= last; from += chunk) {
        const to = Math.min(last, from + chunk - 1);
        await client.query('BEGIN');
        await client.query(INSERT_CHUNK, [from, to, options.newest]);
        await client.query('COMMIT');
        options.onProgress?.(to - first + 1, last - first + 1);
      }
    } catch (error) {
      await client.query('ROLLBACK').catch(() => undefined);
      throw error;
    } finally {
      await toggle('ENABLE');
    }
    await client.query(`
      INSERT INTO data_pipeline.task_counts (status, n)
      SELECT status, count(*) FROM data_pipeline.tasks GROUP BY status
      ON CONFLICT (status) DO UPDATE SET n = EXCLUDED.n`);
    await client.query('UPDATE data_pipeline.task_counts c SET n = 0 WHERE NOT EXISTS (SELECT 1 FROM data_pipeline.tasks t WHERE t.status = c.status)');
    await client.query('VACUUM ANALYZE data_pipeline.tasks');
    await client.query('VACUUM ANALYZE data_pipeline.task_steps');
    await client.query('VACUUM ANALYZE data_pipeline.task_counts');
  } finally {
    client.release();
  }
}

/** Checks the fill: row counts, 4 steps per task, and trigger-kept totals equal to the table. */
export async function checkFill(pool: pg.Pool, expectedTasks: number): Promise<Record<string, number>> {
  const { rows } = await pool.query<{ tasks: string; steps: string; counted: string; statuses: Record<string, number> }>(`
    SELECT (SELECT count(*) FROM data_pipeline.tasks) AS tasks,
           (SELECT count(*) FROM data_pipeline.task_steps) AS steps,
           (SELECT coalesce(sum(n), 0) FROM data_pipeline.task_counts) AS counted,
           (SELECT jsonb_object_agg(status, n) FROM data_pipeline.task_counts) AS statuses`);
  const r = rows[0]!;
  const tasks = Number(r.tasks);
  if (tasks !== expectedTasks) throw new Error(`fill: expected ${expectedTasks} tasks, found ${tasks}`);
  if (Number(r.steps) !== 4 * tasks) throw new Error(`fill: expected ${4 * tasks} task_steps, found ${r.steps}`);
  if (Number(r.counted) !== tasks) throw new Error(`fill: task_counts sums to ${r.counted}, table holds ${tasks}`);
  return Object.fromEntries(Object.entries(r.statuses).map(([k, v]) => [k, Number(v)]));
}
