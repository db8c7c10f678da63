import { connect } from './src/postgres/connect.ts';
import { ensureVectorStore } from './src/vector/schema.ts';
import { backupVectorTables } from './src/vector/backup.ts';
import fs from 'node:fs';
import v8 from 'node:v8'; import vm from 'node:vm';
v8.setFlagsFromString('--expose-gc'); const gc = vm.runInNewContext('gc');
fs.rmSync('/tmp/pgl-y', { recursive: true, force: true });
const db = await connect('pglite:///tmp/pgl-y');
await ensureVectorStore(db.pool, { dim: 128 });
const MB = 1024*1024;
await db.pool.query(`INSERT INTO langchain_pg_embedding (id, embedding, document) SELECT g::text, ARRAY(SELECT sin(g * i + 0.5) FROM generate_series(1, 128) AS i)::float8[]::vector, repeat('x', 200) FROM generate_series(1, 100000) g`);
for (const forced of [false, true]) {
  gc(); await new Promise(r => setTimeout(r, 300));
  const b = process.memoryUsage();
  const peak = { rss: 0, heapUsed: 0, external: 0 };
  let n = 0;
  const t = setInterval(() => { const m = process.memoryUsage(); for (const k of Object.keys(peak) as (keyof typeof peak)[]) peak[k] = Math.max(peak[k], m[k]); }, 10);
  await backupVectorTables(db.pool, `/tmp/pgl-y-bak/${forced}`, { onRows: () => { if (forced && ++n % 20 === 0) gc(); } });
  clearInterval(t);
  console.log('forced gc', forced, 'growth rss', ((peak.rss-b.rss)/MB).toFixed(0), 'heap', ((peak.heapUsed-b.heapUsed)/MB).toFixed(0), 'ext', ((peak.external-b.external)/MB).toFixed(0));
}
await db.close();
fs.rmSync('/tmp/pgl-y', { recursive: true, force: true }); fs.rmSync('/tmp/pgl-y-bak', { recursive: true, force: true });
