// A fresh demo business database (highway_db) on the local PostgreSQL, for step tests.
import pg from 'pg';
import { seedDemoDatabase } from '../../demo/highway-db.ts';
import { createTestDatabase, type TestDatabase } from './postgres.ts';

export async function createDemoDatabase(options: { days?: number } = {}): Promise<TestDatabase> {
  const db = await createTestDatabase('dp_demo');
  const pool = new pg.Pool({ connectionString: db.url, max: 2 });
  try {
    await seedDemoDatabase(pool, { days: options.days });
  } finally {
    await pool.end();
  }
  return db;
}
