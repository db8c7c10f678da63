// qa_generation with an LLM (the real openai client against the fake OpenAI-compatible server at a fixed
// latency), on synthetic schema.json files (no database needed in LLM mode):
//  1. parallel themes: wall time of the step for 5 themes vs its critical path (the themes request, then
//     the slowest theme's pairs requests: its first and any top-up for what the first fell short of),
//     target ≤ 1.25 ×; the serial sum of the requests is shown for contrast;
//  2. prompt size: the themes prompt and the pairs prompts for 20-, 500- and 2000-table schemas. Targets:
//     the themes prompt is capped (summary budget + template, whatever the table count: 500 and 2000
//     tables within ±5 % of each other), the pairs prompt of a theme within ±10 % of the same theme's in
//     the 20-table schema (it depends on the theme's tables only), and all the step's prompts together grow ≤ 1.5 × from 20 to 500 tables.
// Run: npx tsx bench/qa-generation.ts   (writes bench/results/qa-generation.json)
import { fakeStepContext } from '../test/helpers/step-context.ts';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { loadSettings } from '../src/config.ts';
import { createLlmClient } from '../src/llm/client.ts';
import { SCHEMA_FILE, type ColumnInfo, type SchemaFile, type TableInfo } from '../src/pipeline/artifacts.ts';
import { qaGenerationStep } from '../src/pipeline/qa/index.ts';
import { THEME_SUMMARY_BUDGET } from '../src/pipeline/qa/summary.ts';
import { jsonReply, startFakeOpenAI, type FakeChatRequest, type FakeOpenAI } from '../test/helpers/fake-openai.ts';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const LATENCY_MS = Number(process.env.BENCH_LLM_LATENCY_MS ?? 400);
const ROUNDS = 3;
const TARGET_PARALLEL = 1.25;
const TARGET_PAIRS_PROMPT_DRIFT = 0.1;
const TARGET_CAP_DRIFT = 0.05;
const TARGET_TOTAL_GROWTH = 1.5;
/** The themes prompt's fixed part (instructions, JSON example) on top of the summary. */
const TEMPLATE_ALLOWANCE = 1500;

setTimeout(() => {
  console.error('watchdog: qa-generation exceeded 150 s');
  process.exit(2);
}, 150_000).unref();

// ------------------------------------------------------------------------------------ synthetic schema

function column(name: string, position: number, udt: string, comment: string, extra: Partial<ColumnInfo> = {}): ColumnInfo {
  const types: Record<string, string> = { varchar: 'character varying(64)', numeric: 'numeric(18,2)', int4: 'integer', date: 'date', timestamp: 'timestamp without time zone' };
  return {
    name, position, data_type: types[udt] ?? udt, udt_name: udt, max_length: null, numeric_precision: null, numeric_scale: null, nullable: true, default: null,
    identity: null, generated: null, is_primary_key: name === 'id', comment, comment_source: 'db', stats: null, sample_values: [], enum_values: null, ...extra,
  };
}

/** n tables in domains of 10: 2 facts (a date, 8 measures, 2 enums, 3 references) and 8 dimensions. */
function syntheticSchema(n: number): SchemaFile {
  const tables: TableInfo[] = [];
  for (let i = 0; i < n; i++) {
    const domain = Math.floor(i / 10);
    const k = i % 10;
    const name = `d${domain}_${k < 2 ? 'fact' : 'dim'}_${k}`;
    const audit = [column('id', 1, 'varchar', '主键ID'), column('create_ts', 2, 'timestamp', '创建时间'), column('delete_ts', 3, 'timestamp', '删除时间（软删除）')];
    const cols: ColumnInfo[] = [...audit];
    const fks: TableInfo['foreign_keys'] = [];
    if (k < 2) {
      cols.push(column('biz_date', cols.length + 1, 'date', '业务日期', { sample_values: ['2024-03-01', '2024-05-12'] }));
      for (let m = 0; m < 8; m++) cols.push(column(`amount_${m}`, cols.length + 1, 'numeric', `第${m}项金额`, { sample_values: ['1200.50'] }));
      for (let e = 0; e < 2; e++) cols.push(column(`kind_${e}`, cols.length + 1, 'varchar', `类别${e}`, { enum_values: ['甲', '乙', '丙'] }));
      for (let r = 0; r < 3; r++) {
        const target = `d${domain}_dim_${2 + ((k * 3 + r) % 8)}`;
        cols.push(column(`${target}_id`, cols.length + 1, 'varchar', `${target} 的ID`));
        fks.push({ name: null, columns: [`${target}_id`], target_schema: 'public', target_table: target, target_columns: ['id'], inferred: true });
      }
    } else {
      cols.push(column(`dim${k}_name`, cols.length + 1, 'varchar', `维度${k}名称`, { sample_values: [`维度${k}-A`, `维度${k}-B`] }));
      cols.push(column(`dim${k}_code`, cols.length + 1, 'varchar', `维度${k}编码`));
      cols.push(column('status', cols.length + 1, 'varchar', '状态', { enum_values: ['启用', '停用'] }));
      cols.push(column('level', cols.length + 1, 'varchar', '级别', { enum_values: ['一级', '二级', '三级'] }));
      for (let x = 0; x < 6; x++) cols.push(column(`attr_${x}`, cols.length + 1, 'varchar', `属性${x}`));
      if (k < 9) {
        const target = `d${domain}_dim_${k + 1}`;
        cols.push(column(`${target}_id`, cols.length + 1, 'varchar', `上级 ${target} 的ID`));
        fks.push({ name: null, columns: [`${target}_id`], target_schema: 'public', target_table: target, target_columns: ['id'], inferred: false });
      }
    }
    tables.push({
      schema: 'public', name, full_name: `public.${name}`, kind: 'table', comment: `第${domain}业务域的${k < 2 ? '事实' : '维度'}表${k}`, comment_source: 'db',
      estimated_rows: k < 2 ? 100_000 : 500, size_bytes: null, columns: cols, primary_key: ['id'], unique_constraints: [], foreign_keys: fks, indexes: [],
      files: { ddl: `${name}.ddl`, detail: `${name}_detail.md` },
    });
  }
  return { version: 1, generated_at: new Date().toISOString(), database: { name: `synthetic_${n}`, server_version: '15' }, business_context: '集团经营分析', language: 'zh', tables };
}

// ------------------------------------------------------------------------------------ fake analyst

function promptOf(req: FakeChatRequest): string {
  return req.messages.find((m) => m.role === 'user')?.content ?? '';
}

function analyst(schema: SchemaFile) {
  let counter = 0;
  return (req: FakeChatRequest) => {
    const prompt = promptOf(req);
    if (/数据分析主题/.test(req.system)) {
      // Themes over the first facts the summary names.
      const facts = [...prompt.matchAll(/public\.(d\d+_fact_\d)/g)].map((m) => m[1]!).filter((v, i, a) => a.indexOf(v) === i).slice(0, 5);
      return jsonReply({
        themes: facts.map((f, i) => {
          const t = schema.tables.find((x) => x.name === f)!;
          return { name: `主题${i + 1}：${f}`, description: '经营分析', related_tables: [f, ...t.foreign_keys.map((k) => k.target_table)], entities: ['维度'], metrics: ['金额'], keywords: [] };
        }),
      });
    }
    const count = Number(/请编写 (\d+) 个/.exec(prompt)?.[1] ?? 10);
    const tables = [...prompt.matchAll(/^表 public\.(\S+)/gm)].map((m) => m[1]!);
    const shapes = [(t: string, c: string) => `SELECT COUNT(DISTINCT ${c}) FROM ${t} WHERE delete_ts IS NULL;`, (t: string, c: string) => `SELECT ${c}, COUNT(*) FROM ${t} WHERE delete_ts IS NULL GROUP BY ${c};`];
    const pairs = Array.from({ length: count }, () => {
      const n = counter++;
      const t = tables[n % tables.length]!;
      const cols = schema.tables.find((x) => x.name === t)!.columns;
      const c = cols[Math.floor(n / tables.length) % cols.length]!.name;
      return { question: `问题${n}：${t} 的 ${c} 统计`, sql: shapes[Math.floor(n / (tables.length * cols.length)) % 2]!(t, c), complexity: 'aggregate', style: 'question' };
    });
    return jsonReply({ pairs });
  };
}

// ------------------------------------------------------------------------------------ running the step

function stepContext(dir: string, fake: FakeOpenAI) {
  const llm = { baseUrl: fake.baseUrl, apiKey: 'k', model: 'fake', temperature: 0.2, timeoutMs: 30_000, concurrency: 8, maxRetries: 2, jsonMode: true };
  return fakeStepContext({
    step: 'qa_generation',
    dir,
    taskId: 'bench',
    settings: loadSettings({}, dir),
    llm: createLlmClient(llm),
    parameters: { db_name: 'bench', enable_sql_validation: false, enable_llm_repair: false, modify_original_file: false, enable_training_data_load: false },
  });
}

async function runOnce(schema: SchemaFile, latencyMs: number) {
  const fake = await startFakeOpenAI({ handler: analyst(schema), latencyMs });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-bench-qa-'));
  try {
    fs.writeFileSync(path.join(dir, SCHEMA_FILE), JSON.stringify(schema));
    const started = performance.now();
    await qaGenerationStep.run(stepContext(dir, fake));
    const wall = performance.now() - started;
    const chats = fake.chatRequests();
    const duration = (r: (typeof chats)[number]) => (r.answeredAt ?? r.receivedAt) - r.receivedAt;
    const themes = chats[0]!;
    const pairs = chats.slice(1);
    const size = (r: (typeof chats)[number]) => (r.body.messages as Array<{ content: string }>).reduce((s, m) => s + m.content.length, 0);
    return {
      wall,
      // A theme's requests wait for each other (a top-up asks again for what its first answer fell short
      // of); themes run side by side.
      critical: duration(themes) + Math.max(...[...chainOfTheme(pairs, duration).values()]),
      serial: chats.reduce((s, r) => s + duration(r), 0),
      requests: chats.length,
      maxInFlight: fake.maxInFlight,
      themesPrompt: size(themes),
      pairsPromptMax: Math.max(...pairs.map(size)),
      // The first pairs request of each theme (a top-up asks for fewer pairs).
      pairsPromptByTheme: new Map([...pairs].reverse().map((r) => [themeOf(r), size(r)] as const)),
      totalPrompt: chats.reduce((s, r) => s + size(r), 0),
    };
  } finally {
    await fake.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

function themeOf(r: { body: { messages?: unknown } }): string {
  const text = (r.body.messages as Array<{ content: string }>).map((m) => m.content).join('\n');
  return /^主题：(.*)$/m.exec(text)?.[1] ?? text;
}

/** Per theme (its prompt's 主题 line), the summed duration of its requests, which go one after another. */
function chainOfTheme<R extends { body: { messages?: unknown } }>(requests: R[], duration: (r: R) => number): Map<string, number> {
  const chains = new Map<string, number>();
  for (const r of requests) {
    const theme = themeOf(r);
    chains.set(theme, (chains.get(theme) ?? 0) + duration(r));
  }
  return chains;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

const small = syntheticSchema(20);
const large = syntheticSchema(500);

await runOnce(small, 0); // warm-up: WASM parser, module loading
const parallelRuns = [];
for (let i = 0; i < ROUNDS; i++) parallelRuns.push(await runOnce(small, LATENCY_MS));
const ratios = parallelRuns.map((r) => r.wall / r.critical);
const parallelRatio = median(ratios);
const mid = parallelRuns[ratios.indexOf(parallelRatio)]!;

const p20 = await runOnce(small, 0);
const p500 = await runOnce(large, 0);
const p2000 = await runOnce(syntheticSchema(2000), 0);
const themesGrowth = p500.themesPrompt / p20.themesPrompt;
const capDrift = Math.abs(p2000.themesPrompt - p500.themesPrompt) / p500.themesPrompt;
// The same theme (same tables) in a bigger schema: its pairs prompt must not grow or shrink with the schema.
const sameThemes = [...p20.pairsPromptByTheme.keys()].filter((t) => p500.pairsPromptByTheme.has(t) && p2000.pairsPromptByTheme.has(t));
const pairsDrift = sameThemes.length
  ? Math.max(...sameThemes.flatMap((t) => [p500, p2000].map((p) => Math.abs(p.pairsPromptByTheme.get(t)! - p20.pairsPromptByTheme.get(t)!) / p20.pairsPromptByTheme.get(t)!)))
  : Number.POSITIVE_INFINITY;
const totalGrowth = p500.totalPrompt / p20.totalPrompt;
const cap = THEME_SUMMARY_BUDGET + TEMPLATE_ALLOWANCE;

const passParallel = parallelRatio <= TARGET_PARALLEL;
const passPrompt =
  Math.max(p20.themesPrompt, p500.themesPrompt, p2000.themesPrompt) <= cap && capDrift <= TARGET_CAP_DRIFT && pairsDrift <= TARGET_PAIRS_PROMPT_DRIFT && totalGrowth <= TARGET_TOTAL_GROWTH;

console.log('\nqa_generation, fake LLM at %d ms per request, 5 themes × 10 pairs', LATENCY_MS);
console.table({
  'wall (ms)': Math.round(mid.wall),
  'critical path (ms)': Math.round(mid.critical),
  'serial sum (ms)': Math.round(mid.serial),
  'wall / critical (median of 3)': Number(parallelRatio.toFixed(3)),
  'requests': mid.requests,
  'max in flight': mid.maxInFlight,
});
console.log('prompt size (characters)');
console.table({
  '20 tables': { themes: p20.themesPrompt, 'pairs (max)': p20.pairsPromptMax, 'all requests': p20.totalPrompt },
  '500 tables': { themes: p500.themesPrompt, 'pairs (max)': p500.pairsPromptMax, 'all requests': p500.totalPrompt },
  '2000 tables': { themes: p2000.themesPrompt, 'pairs (max)': p2000.pairsPromptMax, 'all requests': p2000.totalPrompt },
});
console.log(
  `themes prompt: capped at ${cap} chars (budget ${THEME_SUMMARY_BUDGET} + template); 20→500 tables ${themesGrowth.toFixed(2)} × (from below the cap to the cap), ` +
    `500→2000 drift ${(capDrift * 100).toFixed(1)} % (target ≤ ${TARGET_CAP_DRIFT * 100} %); pairs prompt of the same theme drift ${(pairsDrift * 100).toFixed(1)} % over ${sameThemes.length} themes in all three (target ≤ ${TARGET_PAIRS_PROMPT_DRIFT * 100} %); ` +
    `all prompts of the step 20→500 tables ${totalGrowth.toFixed(2)} × (target ≤ ${TARGET_TOTAL_GROWTH})`,
);
console.log(`parallel: ${passParallel ? 'PASS' : 'MISS'} (wall/critical ${parallelRatio.toFixed(3)} ≤ ${TARGET_PARALLEL}); prompt size: ${passPrompt ? 'PASS' : 'MISS'}`);

const results = {
  name: 'qa-generation',
  generated_at: new Date().toISOString(),
  latency_ms: LATENCY_MS,
  parallel: { rounds: parallelRuns.map((r) => ({ wall_ms: Math.round(r.wall), critical_ms: Math.round(r.critical), serial_ms: Math.round(r.serial), max_in_flight: r.maxInFlight })), ratio: Number(parallelRatio.toFixed(3)), target: TARGET_PARALLEL, pass: passParallel },
  prompt_size: {
    tables_20: { themes: p20.themesPrompt, pairs_max: p20.pairsPromptMax, total: p20.totalPrompt },
    tables_500: { themes: p500.themesPrompt, pairs_max: p500.pairsPromptMax, total: p500.totalPrompt },
    tables_2000: { themes: p2000.themesPrompt, pairs_max: p2000.pairsPromptMax, total: p2000.totalPrompt },
    themes_growth_20_500: Number(themesGrowth.toFixed(3)),
    themes_drift_500_2000: Number(capDrift.toFixed(4)),
    pairs_drift: Number(pairsDrift.toFixed(4)),
    total_growth_20_500: Number(totalGrowth.toFixed(3)),
    themes_cap: cap,
    summary_budget: THEME_SUMMARY_BUDGET,
    pass: passPrompt,
  },
  worst_ratio: Number(parallelRatio.toFixed(3)),
  target_ratio: TARGET_PARALLEL,
  pass: passParallel && passPrompt,
};
fs.mkdirSync(path.join(BENCH_DIR, 'results'), { recursive: true });
fs.writeFileSync(path.join(BENCH_DIR, 'results', 'qa-generation.json'), `${JSON.stringify(results, null, 2)}\n`);
process.exit(results.pass ? 0 : 1);
