// qa_generation with the offline generator (no LLM, no database: execution check off) on synthetic
// schema.json files with roles, of 20, 500 and 2,000 tables (domains of 10: 2 dated facts with additive and
// non-additive measures, codes and three references, 8 dimensions with labels, codes and a chain of
// parents). Target: 2,000 tables under 10 s wall for the step, and the same pairs for the same seed.
// Run: npx tsx bench/qa-offline.ts   (writes bench/results/qa-offline.json)
import { fakeStepContext } from '../test/helpers/step-context.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSettings } from '../src/config.ts';
import { SCHEMA_FILE, type ColumnInfo, type ColumnRole, type SchemaFile, type TableInfo } from '../src/pipeline/artifacts.ts';
import type { TaskParameters } from '../src/pipeline/context.ts';
import { qaGenerationStep } from '../src/pipeline/qa/index.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const TARGET_MS = 10_000;

function column(name: string, position: number, udt: string, role: ColumnRole, comment: string, extra: Partial<ColumnInfo> = {}): ColumnInfo {
  return {
    name, position, data_type: udt, udt_name: udt, max_length: null, numeric_precision: null, numeric_scale: null, nullable: true, default: null,
    identity: null, generated: null, is_primary_key: name === 'id', comment, comment_source: 'db', stats: null, sample_values: [], enum_values: null, role, ...extra,
  };
}

function syntheticSchema(n: number): SchemaFile {
  const tables: TableInfo[] = [];
  for (let i = 0; i < n; i++) {
    const domain = Math.floor(i / 10);
    const k = i % 10;
    const name = `d${domain}_${k < 2 ? 'fact' : 'dim'}_${k}`;
    const cols: ColumnInfo[] = [
      column('id', 1, 'int4', 'identifier', '主键ID'),
      column('create_ts', 2, 'timestamp', 'technical_time', '创建时间', { range: { min: '2025-01-01 00:00:00', max: '2025-01-01 00:05:00', source: 'stats' } }),
      column('delete_ts', 3, 'timestamp', 'soft_delete', '删除时间（软删除）'),
    ];
    const fks: TableInfo['foreign_keys'] = [];
    if (k < 2) {
      cols.push(column('biz_date', 4, 'date', 'business_time', '业务日期', { range: { min: '2024-01-01', max: '2024-12-30', source: 'stats' }, distinct_share: 0.05 }));
      for (let m = 0; m < 6; m++) cols.push(column(`amount_${m}`, cols.length + 1, 'numeric', 'additive_measure', `第${m}项金额`));
      cols.push(column('unit_price', cols.length + 1, 'numeric', 'non_additive_measure', '单价'));
      for (let e = 0; e < 2; e++) cols.push(column(`kind_${e}`, cols.length + 1, 'varchar', 'code', `类别${e}`, { enum_values: ['甲', '乙', '丙'] }));
      for (let r = 0; r < 3; r++) {
        const target = `d${domain}_dim_${2 + ((k * 3 + r) % 8)}`;
        cols.push(column(`${target}_id`, cols.length + 1, 'int4', 'foreign_key', `${target} 的ID`, { distinct_share: 0.1 }));
        fks.push({ name: null, columns: [`${target}_id`], target_schema: 'public', target_table: target, target_columns: ['id'], inferred: true, origin: 'inferred' });
      }
    } else {
      cols.push(column(`dim${k}_name`, 4, 'varchar', 'label', `维度${k}名称`));
      cols.push(column('status', 5, 'varchar', 'code', '状态', { enum_values: ['启用', '停用'] }));
      cols.push(column('capacity', 6, 'numeric', 'non_additive_measure', '容量'));
      if (k < 9) {
        const target = `d${domain}_dim_${k + 1}`;
        cols.push(column(`${target}_id`, 7, 'int4', 'foreign_key', `上级 ${target} 的ID`, { distinct_share: 0.3 }));
        fks.push({ name: null, columns: [`${target}_id`], target_schema: 'public', target_table: target, target_columns: ['id'], inferred: false, origin: 'declared' });
      }
    }
    tables.push({
      schema: 'public', name, full_name: `public.${name}`, kind: 'table', comment: `第${domain}业务域的${k < 2 ? '事实' : '维度'}表${k}`, comment_source: 'db',
      estimated_rows: k < 2 ? 100_000 : 500, size_bytes: null, columns: cols, primary_key: ['id'], unique_constraints: [], foreign_keys: fks, indexes: [],
      files: { ddl: `${name}.ddl`, detail: `${name}_detail.md` }, entity: { zh: k < 2 ? `业务记录${k}` : `维度${k}`, en: k < 2 ? `record ${k}` : `dimension ${k}`, source: 'db' },
    });
  }
  return { version: 1, generated_at: new Date().toISOString(), database: { name: `synthetic_${n}`, server_version: '15' }, business_context: null, language: 'zh', tables };
}

function stepContext(dir: string, extra: Partial<TaskParameters> = {}) {
  return fakeStepContext({
    step: 'qa_generation',
    dir,
    taskId: 'bench',
    settings: loadSettings({}, dir),
    parameters: { db_name: 'bench', qa_execution_check: false, enable_sql_validation: false, enable_llm_repair: false, modify_original_file: false, enable_training_data_load: false, ...extra },
  });
}

async function runOnce(schema: SchemaFile, extra: Partial<TaskParameters> = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-bench-qa-offline-'));
  try {
    fs.writeFileSync(path.join(dir, SCHEMA_FILE), JSON.stringify(schema));
    const started = performance.now();
    const result = await qaGenerationStep.run(stepContext(dir, extra));
    const wall = performance.now() - started;
    const pairFile = fs.readdirSync(dir).find((f) => /_pair\.json$/.test(f))!;
    return { wall, pairs: (result && result.counters?.pairs) ?? 0, content: fs.readFileSync(path.join(dir, pairFile), 'utf8') };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

const rows: Record<string, unknown> = {};
let ok = true;
for (const n of [20, 500, 2000]) {
  const schema = syntheticSchema(n);
  const a = await runOnce(schema);
  const b = await runOnce(schema);
  const sized = await runOnce(schema, { theme_count: 10, questions_per_theme: 10 });
  const deterministic = a.content === b.content;
  rows[`${n} tables`] = { 'default: pairs': a.pairs, 'default: wall ms': Math.round(a.wall), '10×10: pairs': sized.pairs, '10×10: wall ms': Math.round(sized.wall), deterministic };
  if (n === 2000) ok = ok && a.wall < TARGET_MS && sized.wall < TARGET_MS;
  ok = ok && deterministic;
}
console.table(rows);
console.log(`target: 2,000 tables under ${TARGET_MS / 1000} s, deterministic for a seed → ${ok ? 'PASS' : 'FAIL'}`);
fs.mkdirSync(path.join(BENCH_DIR, 'results'), { recursive: true });
fs.writeFileSync(path.join(BENCH_DIR, 'results', 'qa-offline.json'), `${JSON.stringify({ target_ms: TARGET_MS, results: rows, pass: ok }, null, 2)}\n`);
process.exit(ok ? 0 : 1);
