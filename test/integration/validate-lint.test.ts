// sql_validation with the semantic linter, end to end through the step on the demo database with the
// schema.json the real ddl_generation writes: offline, a lint error drops the pair with its reason and a
// warning keeps it (recorded in the report and the pair's meta); with an LLM (the fake OpenAI-compatible
// server), a lint error goes to repair with the findings and the nearest real values in the prompt, and
// the repaired SQL is linted again. The funnel is in the counters, the report and the summary.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import { createLlmClient } from '../../src/llm/client.ts';
import { pairMetaFileName, VALIDATION_RESULT_FILE, type ValidationResultFile } from '../../src/pipeline/artifacts.ts';
import { ddlGenerationStep } from '../../src/pipeline/ddl/index.ts';
import type { ValidationReport } from '../../src/pipeline/validate/report.ts';
import { runSqlValidation } from '../../src/pipeline/validate/step.ts';
import { connect, type Database } from '../../src/postgres/connect.ts';
import { validationContext, writePairFile } from '../fixtures/validate-pairs.ts';
import type { FakeStepContext } from '../helpers/step-context.ts';
import { createDemoDatabase } from '../helpers/demo.ts';
import { jsonReply, startFakeOpenAI, type FakeChatRequest, type FakeOpenAI, type FakeReply } from '../helpers/fake-openai.ts';
import type { TestDatabase } from '../helpers/postgres.ts';

let demo: TestDatabase;
let db: Database;
let fake: FakeOpenAI;
let schemaDir: string;
const dirs: string[] = [];
const routes = new Map<string, (req: FakeChatRequest, n: number) => FakeReply>();
const seen = new Map<string, FakeChatRequest[]>();

before(async () => {
  demo = await createDemoDatabase({ days: 60 });
  db = await connect(demo.url);
  schemaDir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-validate-lint-ddl-'));
  dirs.push(schemaDir);
  fs.writeFileSync(path.join(schemaDir, 'table_list.txt'), `${DEMO_TABLES.join('\n')}\n`);
  await ddlGenerationStep.run({ ...validationContext({ dir: schemaDir, db, parameters: { db_name: 'highway_db' } }), step: 'ddl_generation' });
  fake = await startFakeOpenAI({
    handler: (req) => {
      for (const [key, route] of routes) {
        if (req.user.includes(key)) {
          const list = seen.get(key) ?? [];
          list.push(req);
          seen.set(key, list);
          return route(req, list.length);
        }
      }
      return jsonReply({ sql: 'SELECT 1' });
    },
  });
});

after(async () => {
  await fake?.close();
  await db?.close();
  await demo?.drop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

const CLEAN = {
  question: '2024年2月营业额最高的5个服务区',
  sql: `SELECT sa.id, sa.service_area_name, SUM(b.pay_sum) AS total FROM bss_business_day_data b JOIN bss_service_area sa ON sa.service_area_no = b.service_no
WHERE b.delete_ts IS NULL AND sa.delete_ts IS NULL AND b.oper_date >= DATE '2024-02-01' AND b.oper_date < DATE '2024-03-01'
GROUP BY sa.id, sa.service_area_name ORDER BY total DESC LIMIT 5`,
};
const SUM_OF_CODE = { question: '各服务区的来源类型合计', sql: 'SELECT service_no, SUM(source_type) AS s FROM bss_business_day_data WHERE delete_ts IS NULL GROUP BY service_no' };
const WARNED = {
  question: '每个服务区营业额最高的3天',
  sql: `WITH t AS (SELECT service_no, oper_date, pay_sum, DENSE_RANK() OVER (PARTITION BY service_no ORDER BY pay_sum DESC) AS rk
FROM bss_business_day_data WHERE delete_ts IS NULL) SELECT service_no, oper_date, pay_sum FROM t WHERE rk <= 3`,
};
const MISSPELT = { question: '彭泽服务区的营业额合计', sql: "SELECT SUM(pay_sum) AS total FROM bss_business_day_data WHERE service_name = '彭泽服务' AND delete_ts IS NULL" };

async function run(pairs: Array<{ question: string; sql: string }>, options: { llm?: boolean; parameters?: Record<string, unknown> } = {}) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-validate-lint-'));
  dirs.push(dir);
  fs.copyFileSync(path.join(schemaDir, 'schema.json'), path.join(dir, 'schema.json'));
  const pairFile = writePairFile(dir, pairs);
  const meta = {
    pair_file: pairFile,
    version: 1,
    generated_at: '2025-06-27T14:30:52+08:00',
    generator: 'offline',
    model: null,
    language: 'zh',
    seed: 1,
    db_name: 'highway_db',
    business_context: null,
    requested: { theme_count: 1, questions_per_theme: pairs.length, pairs: pairs.length },
    pairs: pairs.map((p, index) => ({ index, ...p })),
  };
  fs.writeFileSync(path.join(dir, pairMetaFileName(pairFile)), JSON.stringify(meta));
  let ctx!: FakeStepContext;
  const llm = options.llm
    ? createLlmClient(
        { baseUrl: fake.baseUrl, apiKey: 'sk-test', model: 'fake-model', temperature: 0.2, timeoutMs: 5000, concurrency: 2, maxRetries: 1, jsonMode: true },
        (c) => ctx.count(c),
        { backoffBaseMs: 5, maxBackoffMs: 20 },
      )
    : undefined;
  ctx = validationContext({ dir, db, ...(llm ? { llm } : {}), parameters: { modify_original_file: false, semantic_check: false, ...options.parameters } });
  const result = await runSqlValidation(ctx);
  const vr = JSON.parse(fs.readFileSync(path.join(dir, VALIDATION_RESULT_FILE), 'utf8')) as ValidationResultFile;
  const report = JSON.parse(fs.readFileSync(path.join(dir, vr.report_file), 'utf8')) as ValidationReport;
  const validated = JSON.parse(fs.readFileSync(path.join(dir, vr.validated_file), 'utf8')) as Array<{ question: string; sql: string }>;
  const summary = fs.readFileSync(path.join(dir, vr.summary_file), 'utf8');
  const metaAfter = JSON.parse(fs.readFileSync(path.join(dir, pairMetaFileName(pairFile)), 'utf8'));
  return { ctx, result, report, validated, summary, meta: metaAfter };
}

describe('sql_validation with the semantic linter', () => {
  it('offline: lint errors are dropped with the reason, warnings kept and recorded, the funnel counted', async () => {
    const { report, validated, summary, meta, result } = await run([CLEAN, SUM_OF_CODE, WARNED, MISSPELT, CLEAN]);
    assert.deepEqual(
      report.pairs.map((p) => [p.status, p.error_class]),
      [
        ['valid', null],
        ['invalid', 'semantic'],
        ['valid', null],
        ['invalid', 'semantic'],
        ['invalid', 'duplicate'],
      ],
    );
    assert.deepEqual(report.pairs[0]!.lint, []);
    assert.match(report.pairs[1]!.drop_reason!, /^lint: aggregate_on_key; no LLM repair \(offline\): dropped$/);
    assert.match(report.pairs[3]!.drop_reason!, /^lint: literal_not_in_data/);
    assert.ok(report.pairs[3]!.lint!.find((f) => f.rule === 'literal_not_in_data')!.nearest!.includes('彭泽服务区'));
    assert.match(report.pairs[4]!.drop_reason!, /^duplicate: same question and SQL as #1$/);
    // The warning stays with the kept pair: in the report and in the pair meta.
    assert.deepEqual(report.pairs[2]!.lint!.map((f) => [f.rule, f.severity]), [['rank_ties_beyond_n', 'warning']]);
    assert.deepEqual(meta.pairs[2].validation.lint.map((f: { rule: string }) => f.rule), ['rank_ties_beyond_n']);
    assert.equal(meta.pairs[1].validation.kept, false);
    assert.match(meta.pairs[1].validation.drop_reason, /aggregate_on_key/);
    assert.deepEqual(validated.map((p) => p.question), [CLEAN.question, WARNED.question]);

    assert.deepEqual(report.funnel, { generated: 5, parsed: 5, explain_valid: 5, lint_clean: 3, meaning_checked: 3, repaired: 0, deduplicated: 2, kept: 2 });
    assert.deepEqual(report.drop_reasons, { 'lint:semantic': 2, 'duplicate:duplicate': 1 });
    assert.equal(report.lint.enabled, true);
    assert.deepEqual(report.lint.rules, { aggregate_on_key: { errors: 1, warnings: 0 }, literal_not_in_data: { errors: 1, warnings: 0 }, rank_ties_beyond_n: { errors: 0, warnings: 1 } });
    assert.ok(report.lint.data_checks > 0, 'bounded data checks ran');
    assert.match(summary, /漏斗: 生成 5 → 可解析 5 → EXPLAIN通过 5 → 语义检查通过 3 → 含义核对通过 3 → 修复 \+0 → 去重后 2 → 保留 2/);
    assert.match(summary, /丢弃原因: lint: aggregate_on_key/);
    assert.equal(result.counters?.lint_clean, 3);
    assert.equal(result.counters?.kept, 2);
    assert.equal(result.counters?.lint_warnings, 1);
  });

  it('semantic_lint=false: nothing is linted, and the report says why', async () => {
    const { report } = await run([SUM_OF_CODE], { parameters: { semantic_lint: false } });
    assert.equal(report.pairs[0]!.status, 'valid');
    assert.equal(report.pairs[0]!.lint, null);
    assert.equal(report.lint.enabled, false);
    assert.equal(report.lint.skipped_reason, 'semantic_lint=false');
  });

  it('with an LLM: lint errors go to repair with the findings and nearest values; the answer is linted again', async () => {
    routes.set('各服务区的来源类型合计', (_req, n) =>
      // First answer still sums the code; the second counts it.
      jsonReply({ sql: n === 1 ? 'SELECT service_no, AVG(source_type) AS s FROM bss_business_day_data WHERE delete_ts IS NULL GROUP BY service_no' : 'SELECT service_no, COUNT(DISTINCT source_type) AS s FROM bss_business_day_data WHERE delete_ts IS NULL GROUP BY service_no' }),
    );
    routes.set('彭泽服务区的营业额合计', () => jsonReply({ sql: "SELECT SUM(pay_sum) AS total FROM bss_business_day_data WHERE service_name = '彭泽服务区' AND delete_ts IS NULL" }));
    const { report, validated } = await run([CLEAN, SUM_OF_CODE, MISSPELT], { llm: true });
    const sumReqs = seen.get('各服务区的来源类型合计')!;
    assert.equal(sumReqs.length, 2);
    assert.match(sumReqs[0]!.user, /semantic/);
    assert.match(sumReqs[0]!.user, /aggregate_on_key \(bss_business_day_data\.source_type\)/);
    assert.match(sumReqs[1]!.user, /AVG\(source_type\)[\s\S]*aggregate_on_key/, 'the earlier attempt and its finding are shown');
    assert.match(sumReqs[0]!.system, /semantic findings|语义问题/);
    const literalReq = seen.get('彭泽服务区的营业额合计')![0]!;
    assert.match(literalReq.user, /nearest real values: [^\n]*'彭泽服务区'/);

    assert.deepEqual(report.pairs.map((p) => p.status), ['valid', 'repaired', 'repaired']);
    assert.deepEqual(report.pairs[1]!.attempts.map((a) => [a.method, a.ok, a.error_class]), [
      ['llm', false, 'semantic'],
      ['llm', true, undefined],
    ]);
    assert.equal(report.pairs[1]!.error_class, 'semantic');
    assert.match(validated[1]!.sql, /COUNT\(DISTINCT source_type\)/);
    assert.match(validated[2]!.sql, /'彭泽服务区'/);
    assert.deepEqual(report.funnel, { generated: 3, parsed: 3, explain_valid: 3, lint_clean: 1, meaning_checked: 1, repaired: 2, deduplicated: 3, kept: 3 });
  });
});
