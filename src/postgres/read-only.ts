// The one read-only way into the business database: a `BEGIN READ ONLY` transaction on one pooled
// client, always rolled back, with the statement timeout on a real server (PGlite has none).
import type { Database } from './connect.ts';
import type { CountingClient } from './catalog/types.ts';

export async function readOnly<T>(
  db: Database,
  fn: (client: CountingClient) => Promise<T>,
  options: { statementTimeoutMs?: number } = {},
): Promise<{ value: T; roundTrips: number }> {
  const client = await db.pool.connect();
  let trips = 0;
  const counting: CountingClient = {
    query: (text: string, params?: unknown[]) => {
      trips += 1;
      return client.query(text, params as unknown[]);
    },
    get roundTrips() {
      return trips;
    },
  };
  let broken: unknown;
  try {
    await counting.query('BEGIN READ ONLY');
    if (options.statementTimeoutMs && db.kind === 'postgres') {
      await counting.query(`SET LOCAL statement_timeout = ${Math.max(1, Math.round(options.statementTimeoutMs))}`);
    }
    const value = await fn(counting);
    await counting.query('ROLLBACK');
    return { value, roundTrips: trips };
  } catch (error) {
    await client.query('ROLLBACK').catch((e) => (broken = e));
    throw error;
  } finally {
    client.release(broken instanceof Error ? broken : undefined);
  }
}
