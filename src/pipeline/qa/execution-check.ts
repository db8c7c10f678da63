// The offline generator's row check: does a candidate run, and does it return a row? One statement per
// call, inside BEGIN READ ONLY with a statement timeout (real PostgreSQL) and a time limit in JS (PGlite
// has no statement_timeout). The business database is only read.
import type pg from 'pg';

export type CheckResult = { status: 'rows' | 'empty' | 'skipped' } | { status: 'error'; message: string };
export type ExecutionChecker = (sql: string) => Promise<CheckResult>;

/** After this many timeouts the database is too slow to check candidates: the rest are not checked
 * (sql_validation checks every pair anyway). */
const MAX_TIMEOUTS = 3;

export function createExecutionChecker(pool: pg.Pool, options: { timeoutMs?: number } = {}): ExecutionChecker {
  const timeoutMs = options.timeoutMs ?? 5_000;
  const cache = new Map<string, Promise<CheckResult>>();
  let timeouts = 0;
  const run = async (sql: string): Promise<CheckResult> => {
    if (timeouts >= MAX_TIMEOUTS) return { status: 'skipped' };
    const body = sql.trim().replace(/(;\s*)+$/, '');
    const client = await pool.connect();
    let broken = false;
    let timer: NodeJS.Timeout | undefined;
    try {
      await client.query('BEGIN READ ONLY');
      await client.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(timeoutMs))}`).catch(() => undefined);
      const query = client.query<{ has_rows: boolean }>(`SELECT EXISTS (${body}\n) AS has_rows`);
      const limit = new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error(`timed out after ${timeoutMs} ms`)), timeoutMs);
      });
      const result = await Promise.race([query, limit]);
      return { status: result.rows[0]?.has_rows ? 'rows' : 'empty' };
    } catch (error) {
      const message = error instanceof Error ? error.message : String(error);
      if (/timed out after/.test(message)) broken = true;
      // A statement that is only slow is not wrong: count it and let it through unchecked.
      if (broken || /statement timeout|canceling statement due to statement timeout/.test(message)) {
        timeouts += 1;
        return { status: 'skipped' };
      }
      return { status: 'error', message };
    } finally {
      if (timer) clearTimeout(timer);
      if (!broken) await client.query('ROLLBACK').catch(() => (broken = true));
      client.release(broken);
    }
  };
  return (sql) => {
    let pending = cache.get(sql);
    if (!pending) {
      pending = run(sql);
      cache.set(sql, pending);
    }
    return pending;
  };
}
