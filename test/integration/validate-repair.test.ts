// LLM repair in sql_validation, with the real OpenAI client against the fake OpenAI-compatible server:
// a broken pair is repaired using the schema given; a repair that is still broken is retried and finally
// dropped; a hostile "repair" is refused like any text; a changed result shape is flagged; LLM failures
// drop the pair without failing the step; the report records each attempt.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDemoDatabase } from '../helpers/demo.ts';
import { buildSchemaFile } from '../helpers/qa-schema.ts';
import { jsonReply, serverError, startFakeOpenAI, type FakeChatRequest, type FakeOpenAI, type FakeReply } from '../helpers/fake-openai.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { connect, type Database } from '../../src/postgres/connect.ts';
import { createLlmClient } from '../../src/llm/client.ts';
import type { LlmClient } from '../../src/llm/types.ts';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import { runSqlValidation } from '../../src/pipeline/validate/step.ts';
import { SCHEMA_FILE, VALIDATION_RESULT_FILE, type ValidationResultFile } from '../../src/pipeline/artifacts.ts';
import type { ValidationReport } from '../../src/pipeline/validate/report.ts';
import type { StepError } from '../../src/errors.ts';
import { validationContext, writePairFile } from '../fixtures/validate-pairs.ts';
import type { FakeStepContext } from '../helpers/step-context.ts';

let demo: TestDatabase;
let db: Database;
let fake: FakeOpenAI;
let schemaJson: string;
const routes = new Map<string, (req: FakeChatRequest, n: number) => FakeReply>();
const seen = new Map<string, FakeChatRequest[]>();
const dirs: string[] = [];

before(async () => {
  demo = await createDemoDatabase({ days: 14 });
  db = await connect(demo.url);
  schemaJson = JSON.stringify(await buildSchemaFile(demo.url, { tables: DEMO_TABLES }));
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

function llmFor(ctxCount: (c: Record<string, number>) => void): LlmClient {
  return createLlmClient(
    { baseUrl: fake.baseUrl, apiKey: 'sk-test', model: 'fake-model', temperature: 0.2, timeoutMs: 5000, concurrency: 4, maxRetries: 1, jsonMode: true },
    ctxCount,
    { backoffBaseMs: 5, maxBackoffMs: 20 },
  );
}

async function run(pairs: Array<{ question: string; sql: string }>, parameters: Record<string, unknown> = {}, withSchema = true) {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-validate-repair-'));
  dirs.push(dir);
  if (withSchema) fs.writeFileSync(path.join(dir, SCHEMA_FILE), schemaJson);
  writePairFile(dir, pairs);
  let ctx!: FakeStepContext;
  const llm = llmFor((c) => ctx.count(c));
  ctx = validationContext({ dir, db, llm, parameters: { modify_original_file: false, semantic_check: false, ...parameters } });
  await runSqlValidation(ctx);
  const vr = JSON.parse(fs.readFileSync(path.join(dir, VALIDATION_RESULT_FILE), 'utf8')) as ValidationResultFile;
  const report = JSON.parse(fs.readFileSync(path.join(dir, vr.report_file), 'utf8')) as ValidationReport;
  const validated = JSON.parse(fs.readFileSync(path.join(dir, vr.validated_file), 'utf8')) as Array<{ question: string; sql: string }>;
  const summary = fs.readFileSync(path.join(dir, vr.summary_file), 'utf8');
  return { ctx, report, validated, summary, vr };
}

describe('sql_validation LLM repair (fake OpenAI-compatible server)', () => {
  it('repairs a broken pair using the schema it is given (DDL, enum values, error, SQLSTATE, position, question)', async () => {
    routes.set('开放状态的服务区有多少个', () => jsonReply({ sql: "SELECT COUNT(*) AS 数量 FROM bss_service_area WHERE service_state = '开放'", explanation: 'state → service_state' }));
    const { ctx, report, validated } = await run([
      { question: '开放状态的服务区有多少个？', sql: "SELECT COUNT(*) AS 数量 FROM bss_service_area WHERE state = '开放'" },
      { question: '公司数量', sql: 'SELECT COUNT(*) FROM bss_company' },
    ]);
    const req = seen.get('开放状态的服务区有多少个')![0]!;
    assert.match(req.user, /CREATE TABLE public\.bss_service_area/);
    assert.match(req.user, /service_state (character varying|varchar)\(50\)/);
    assert.match(req.user, /values: '开放'/, 'enum values of the column are given');
    assert.match(req.user, /SQLSTATE 42703/);
    assert.match(req.user, /column "state" does not exist/);
    assert.match(req.user, /near "state"/);
    assert.doesNotMatch(req.user, /CREATE TABLE public\.bss_car_day_count/, 'only the relevant tables');
    assert.match(req.system, /one read-only SELECT|恰好一条只读 SELECT/);
    assert.deepEqual(req.response_format, { type: 'json_object' });

    const p = report.pairs[0]!;
    assert.equal(p.status, 'repaired');
    assert.equal(p.error_class, 'undefined_column');
    assert.equal(p.attempts.length, 1);
    assert.equal(p.attempts[0]!.method, 'llm');
    assert.equal(p.attempts[0]!.ok, true);
    assert.deepEqual(p.attempts[0]!.prompt_tables, ['public.bss_service_area']);
    assert.equal(p.attempts[0]!.explanation, 'state → service_state');
    assert.equal(p.shape_changed, false);
    assert.equal(p.row_check.status, 'rows');
    assert.equal(validated[0]!.sql, "SELECT COUNT(*) AS 数量 FROM bss_service_area WHERE service_state = '开放';");
    assert.equal(report.pairs[1]!.status, 'valid');
    assert.equal(ctx.counters.repaired, 1);
    assert.equal(ctx.counters.valid, 1);
    assert.equal(ctx.counters.llm_calls, 1, 'LLM accounting reaches the step counters');
    assert.ok(ctx.logs.some((l) => l.level === 'ERROR' && l.message.startsWith('SQL验证失败，尝试LLM修复')), 'the guide\'s log line');
  });

  it('retries a repair that is still broken, showing the model its earlier attempts, and finally drops the pair', async () => {
    routes.set('每个路段的服务区数量', (_req, n) => jsonReply({ sql: `SELECT section_nam${n} AS 路段, COUNT(*) FROM bss_section_route GROUP BY 1` }));
    const { report, validated, summary, vr } = await run([{ question: '每个路段的服务区数量？', sql: 'SELECT section AS 路段, COUNT(*) FROM bss_section_route GROUP BY 1' }]);
    const p = report.pairs[0]!;
    assert.equal(p.status, 'invalid');
    assert.equal(p.attempts.length, 3, 'max_repair_attempts defaults to 3');
    assert.deepEqual(p.attempts.map((a) => [a.method, a.ok, a.error_class, a.sqlstate]), [
      ['llm', false, 'undefined_column', '42703'],
      ['llm', false, 'undefined_column', '42703'],
      ['llm', false, 'undefined_column', '42703'],
    ]);
    assert.deepEqual(p.attempts.map((a) => a.token), ['section_nam1', 'section_nam2', 'section_nam3']);
    const reqs = seen.get('每个路段的服务区数量')!;
    assert.equal(reqs.length, 3);
    assert.doesNotMatch(reqs[0]!.user, /section_nam1/);
    assert.match(reqs[1]!.user, /section_nam1/);
    assert.match(reqs[2]!.user, /section_nam1[\s\S]*section_nam2/, 'every earlier attempt is shown');
    assert.match(reqs[2]!.user, /SELECT section_nam2 AS 路段/, 'the model repairs its latest text');
    assert.deepEqual(validated, []);
    assert.equal(vr.invalid, 1);
    assert.match(summary, /修复尝试: 3/);
  });

  it('refuses a hostile "repair" like any text, keeps trying, flags a changed result shape', async () => {
    routes.set('各分公司名称', (_req, n) =>
      n === 1 ? jsonReply({ sql: 'DELETE FROM bss_company' }) : n === 2 ? jsonReply({ sql: 'SELECT pg_sleep(30)' }) : jsonReply({ sql: 'SELECT company_name AS name FROM bss_company' }),
    );
    const { report, validated } = await run([{ question: '各分公司名称', sql: 'SELECT company_nme AS 名称 FROM bss_company' }], { max_repair_attempts: 3 });
    const p = report.pairs[0]!;
    assert.equal(p.status, 'repaired');
    assert.deepEqual(p.attempts.map((a) => a.error_class ?? 'ok'), ['parse_gate', 'unsafe_function', 'ok']);
    assert.equal(p.shape_changed, true, 'the alias 名称 became name');
    assert.deepEqual(p.output_columns, ['name']);
    assert.equal(validated[0]!.sql, 'SELECT company_name AS name FROM bss_company;');
    const reqs = seen.get('各分公司名称')!;
    assert.match(reqs[2]!.user, /SELECT company_nme AS 名称 FROM bss_company/, 'after refusals the original text is repaired again');
    assert.match(reqs[2]!.user, /DELETE FROM bss_company[\s\S]*parse_gate/);
    const { rows } = await db.pool.query('SELECT count(*)::int AS n FROM bss_company');
    assert.ok(rows[0].n > 0, 'the hostile repair never ran');
  });

  it('deterministic fixes come first and need no LLM call; refusals are never sent for repair', async () => {
    routes.set('NEVER', () => jsonReply({ sql: 'SELECT 1' }));
    const before = fake.chatRequests().length;
    const { report, ctx } = await run([
      { question: 'NEVER 1', sql: 'SELECT "Company_Name" FROM bss_company' },
      { question: 'NEVER 2', sql: 'DROP TABLE bss_company' },
      { question: 'NEVER 3', sql: 'SELECT pg_sleep(5)' },
    ]);
    assert.equal(fake.chatRequests().length, before, 'no LLM call');
    assert.deepEqual(report.pairs.map((p) => p.status), ['repaired', 'invalid', 'invalid']);
    assert.equal(report.pairs[0]!.attempts[0]!.method, 'deterministic');
    assert.equal(ctx.counters.llm_calls, undefined);
  });

  it('enable_llm_repair=false: no LLM call even with an LLM configured', async () => {
    routes.set('禁用修复', () => jsonReply({ sql: 'SELECT 1' }));
    const { report } = await run([{ question: '禁用修复', sql: 'SELECT nope FROM bss_company' }], { enable_llm_repair: false });
    assert.equal(seen.get('禁用修复'), undefined);
    assert.equal(report.pairs[0]!.status, 'invalid');
    assert.equal(report.options.enable_llm_repair, false);
    assert.equal(report.options.llm_available, true);
  });

  it('an LLM that keeps failing never drops a pair: it stays pending and the step fails with LLM_UNAVAILABLE', async () => {
    routes.set('服务器错误', () => serverError(500, 'boom'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-validate-repair-'));
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, SCHEMA_FILE), schemaJson);
    const pairs = [
      { question: '服务器错误', sql: 'SELECT nope FROM bss_company' },
      { question: 'fine', sql: 'SELECT 1 AS one' },
    ];
    const pairFile = writePairFile(dir, pairs);
    let ctx!: FakeStepContext;
    ctx = validationContext({ dir, db, llm: llmFor((c) => ctx.count(c)), parameters: { modify_original_file: true, semantic_check: false } });
    await assert.rejects(runSqlValidation(ctx), (error: StepError) => error.code === 'LLM_UNAVAILABLE' && /1 个问答对待修复/.test(error.text('zh')) && /1 pairs pending repair/.test(error.text('en')));
    assert.ok(!fs.existsSync(path.join(dir, VALIDATION_RESULT_FILE)), 'no result: training_load must not load anything');
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, pairFile), 'utf8')), pairs, 'the pair file is not rewritten');
    const reportFile = fs.readdirSync(dir).find((n) => /^sql_validation_.*_report\.json$/.test(n))!;
    const report = JSON.parse(fs.readFileSync(path.join(dir, reportFile), 'utf8')) as ValidationReport;
    const p = report.pairs[0]!;
    assert.equal(p.status, 'pending');
    assert.equal(p.drop_reason, null);
    assert.match(p.pending_reason!, /LLM call failed/);
    assert.equal(p.attempts.length, 1);
    assert.equal(p.attempts[0]!.sql, null);
    assert.equal(report.pairs[1]!.status, 'valid');
    assert.equal(report.totals.pending, 1);
    assert.equal(ctx.counters.pending, 1);
  });

  it('a 503 mid-repair loses nothing: pending pairs stay, the file keeps every pair, a re-run starts from the full original set', async () => {
    // Four pairs need the LLM; the server answers the first repair, then returns 503 (after the client's retry).
    let healthy = false;
    const fixed = (req: FakeChatRequest) => {
      const m = /nope_(\d)/.exec(req.user);
      return jsonReply({ sql: `SELECT company_name AS c${m?.[1]} FROM bss_company` });
    };
    let served = 0;
    routes.set('中途故障', (req) => {
      served += 1;
      if (healthy || served === 1) return fixed(req);
      return serverError(503, 'service unavailable');
    });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-validate-repair-'));
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, SCHEMA_FILE), schemaJson);
    const pairs = [1, 2, 3, 4].map((i) => ({ question: `中途故障 ${i}`, sql: `SELECT nope_${i} FROM bss_company` }));
    pairs.splice(2, 0, { question: '正常的问题', sql: 'SELECT COUNT(*) AS n FROM bss_company' });
    const pairFile = writePairFile(dir, pairs);
    const runOnce = () => {
      let ctx!: FakeStepContext;
      ctx = validationContext({ dir, db, llm: llmFor((c) => ctx.count(c)), parameters: { modify_original_file: true, validation_concurrency: 1, semantic_check: false } });
      return { ctx, done: runSqlValidation(ctx) };
    };

    const first = runOnce();
    await assert.rejects(first.done, (error: Error & { code?: string }) => error.code === 'LLM_UNAVAILABLE');
    const requestsAfterFailure = served;
    // Repairs run side by side (LLM concurrency 4): each failing one was tried with the client's retry, no more.
    assert.ok(requestsAfterFailure >= 3 && requestsAfterFailure <= 7, `${requestsAfterFailure} requests`);
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, pairFile), 'utf8')), pairs, 'every pair is still in the pair file');
    assert.ok(!fs.existsSync(path.join(dir, VALIDATION_RESULT_FILE)));
    const reports = fs.readdirSync(dir).filter((n) => /_report\.json$/.test(n));
    const report = JSON.parse(fs.readFileSync(path.join(dir, reports[0]!), 'utf8')) as ValidationReport;
    const statuses = report.pairs.map((p) => p.status);
    assert.equal(statuses.filter((s) => s === 'pending').length, 3, statuses.join(','));
    assert.equal(statuses.filter((s) => s === 'repaired').length, 1);
    assert.equal(statuses.filter((s) => s === 'invalid').length, 0, 'nothing dropped');

    // The server recovers; the re-run judges the full original set and completes.
    healthy = true;
    const second = runOnce();
    await second.done;
    const vr = JSON.parse(fs.readFileSync(path.join(dir, VALIDATION_RESULT_FILE), 'utf8')) as ValidationResultFile;
    assert.equal(vr.total, 5);
    assert.equal(vr.repaired, 4);
    assert.equal(vr.valid, 1);
    const rewritten = JSON.parse(fs.readFileSync(path.join(dir, pairFile), 'utf8')) as Array<{ question: string; sql: string }>;
    assert.deepEqual(rewritten.map((p) => p.question), pairs.map((p) => p.question));
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, `${pairFile}.backup`), 'utf8')), pairs, 'the backup holds the set as generated');

    // A third run (e.g. re-run of the step) still starts from the full original set, not the rewritten file.
    const third = runOnce();
    await third.done;
    const again = JSON.parse(fs.readFileSync(path.join(dir, VALIDATION_RESULT_FILE), 'utf8')) as ValidationResultFile;
    assert.equal(again.total, 5);
  });

  it('without schema.json the prompt carries the schema read from the database', async () => {
    routes.set('无结构文件', (req) => {
      assert.match(req.user, /CREATE TABLE public\.bss_company/);
      return jsonReply({ sql: 'SELECT company_name FROM bss_company' });
    });
    const { report } = await run([{ question: '无结构文件', sql: 'SELECT company FROM bss_company' }], {}, false);
    assert.equal(report.pairs[0]!.status, 'repaired');
    assert.equal(report.catalog_source, 'database');
  });
});

describe('sql_validation meaning check (semantic_check)', () => {
  /** Meaning-check requests, answered by `verdict` per item (by its question); undefined leaves the item out. */
  function meaningRoute(verdict: (question: string) => { matches: boolean; back: string } | undefined) {
    routes.set('问答对（', (req) => {
      const items = req.user.split(/\n### /).slice(1).map((b) => ({ id: Number(/^(\d+)/.exec(b)![1]), question: /问题: (.+)/.exec(b)![1]!.trim() }));
      const results = items.flatMap(({ id, question }) => {
        const v = verdict(question);
        return v ? [{ id, back_translation: v.back, matches: v.matches, reason: v.matches ? '一致' : '统计对象不同' }] : [];
      });
      return jsonReply({ results });
    });
  }

  it('reads every lint-clean SQL back in batches; a mismatch is dropped with both questions when repair is off; an item without a verdict is asked again, then kept as unknown', async () => {
    meaningRoute((q) => (q === '含义-公司数量' ? { matches: true, back: '公司有多少家' } : q === '含义-服务区数量' ? { matches: false, back: '公司有多少家' } : undefined));
    const before = fake.chatRequests().length;
    const { report, ctx, summary } = await run(
      [
        { question: '含义-公司数量', sql: 'SELECT COUNT(*) AS n FROM bss_company WHERE delete_ts IS NULL' },
        { question: '含义-服务区数量', sql: 'SELECT COUNT(*) AS m FROM bss_company WHERE delete_ts IS NULL' },
        { question: '含义-未判定', sql: 'SELECT company_name FROM bss_company WHERE delete_ts IS NULL' },
      ],
      { semantic_check: true, enable_llm_repair: false },
    );
    const meaningCalls = fake.chatRequests().slice(before);
    assert.equal(meaningCalls.length, 2, 'one batch, then the item left out alone');
    assert.match(meaningCalls[0]!.body.messages[1].content, /### 1\n问题: 含义-公司数量[\s\S]*### 3\n问题: 含义-未判定/);
    assert.doesNotMatch(meaningCalls[1]!.body.messages[1].content, /含义-公司数量/);
    const [ok, mismatch, unknown] = report.pairs;
    assert.deepEqual([ok!.status, ok!.meaning_check?.verdict], ['valid', 'match']);
    assert.equal(mismatch!.status, 'invalid');
    assert.equal(mismatch!.error_class, 'meaning_mismatch');
    assert.match(mismatch!.error!.message, /问题：“含义-服务区数量”；按 SQL 反推，它回答的是：“公司有多少家”/);
    assert.match(mismatch!.drop_reason!, /^meaning: meaning_mismatch: the SQL answers "公司有多少家"/);
    assert.deepEqual([unknown!.status, unknown!.meaning_check?.verdict], ['valid', 'unknown']);
    assert.deepEqual(report.funnel, { generated: 3, parsed: 3, explain_valid: 3, lint_clean: 3, meaning_checked: 2, repaired: 0, deduplicated: 2, kept: 2 });
    assert.equal(ctx.counters.meaning_check_calls, 2);
    assert.equal(report.llm_usage.meaning_check.calls, 2);
    assert.ok(report.llm_usage.meaning_check.prompt_tokens > 0);
    assert.equal(ctx.counters.repair_calls, undefined);
    assert.match(summary, /含义核对 \(LLM反向翻译\): 1 一致, 1 不一致, 1 未判定/);
    assert.match(summary, /SQL实际回答: 公司有多少家/);
  });

  it('on by default with an LLM, off with semantic_check=false; without an LLM it cannot run and says so', async () => {
    meaningRoute(() => ({ matches: true, back: '-' }));
    const before = fake.chatRequests().length;
    const on = await run([{ question: '含义-默认开启', sql: 'SELECT COUNT(*) FROM bss_company WHERE delete_ts IS NULL' }], { semantic_check: undefined });
    assert.equal(fake.chatRequests().length, before + 1);
    assert.equal(on.report.meaning_check.enabled, true);
    const off = await run([{ question: '含义-关闭', sql: 'SELECT COUNT(*) FROM bss_company WHERE delete_ts IS NULL' }], { semantic_check: false });
    assert.equal(fake.chatRequests().length, before + 1);
    assert.deepEqual([off.report.meaning_check.enabled, off.report.meaning_check.skipped_reason, off.report.pairs[0]!.meaning_check], [false, 'semantic_check=false', null]);

    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-validate-repair-'));
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, SCHEMA_FILE), schemaJson);
    writePairFile(dir, [{ question: '含义-无LLM', sql: 'SELECT COUNT(*) FROM bss_company WHERE delete_ts IS NULL' }]);
    const ctx = validationContext({ dir, db, parameters: { modify_original_file: false, semantic_check: true } });
    await runSqlValidation(ctx);
    const vr = JSON.parse(fs.readFileSync(path.join(dir, VALIDATION_RESULT_FILE), 'utf8')) as ValidationResultFile;
    const report = JSON.parse(fs.readFileSync(path.join(dir, vr.report_file), 'utf8')) as ValidationReport;
    assert.deepEqual([report.meaning_check.enabled, report.meaning_check.skipped_reason], [false, 'semantic_check=true but no LLM configured']);
    assert.ok(ctx.logs.some((l) => l.level === 'WARNING' && /meaning check not run/.test(l.message)));
  });

  it('a meaning-check call that keeps failing: the pairs stay pending, none dropped, LLM_UNAVAILABLE', async () => {
    routes.set('问答对（', () => serverError(503, 'down'));
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-validate-repair-'));
    dirs.push(dir);
    fs.writeFileSync(path.join(dir, SCHEMA_FILE), schemaJson);
    const pairs = [
      { question: '含义-不可用1', sql: 'SELECT COUNT(*) FROM bss_company WHERE delete_ts IS NULL' },
      { question: '含义-不可用2', sql: 'SELECT COUNT(*) FROM bss_service_area WHERE delete_ts IS NULL' },
    ];
    const pairFile = writePairFile(dir, pairs);
    let ctx!: FakeStepContext;
    ctx = validationContext({ dir, db, llm: llmFor((c) => ctx.count(c)), parameters: { modify_original_file: true, semantic_check: true } });
    await assert.rejects(runSqlValidation(ctx), (e: StepError) => e.code === 'LLM_UNAVAILABLE' && /2 个问答对待修复或待核对含义/.test(e.text('zh')));
    assert.deepEqual(JSON.parse(fs.readFileSync(path.join(dir, pairFile), 'utf8')), pairs, 'the pair file is untouched');
    const reportFile = fs.readdirSync(dir).find((n) => /_report\.json$/.test(n))!;
    const report = JSON.parse(fs.readFileSync(path.join(dir, reportFile), 'utf8')) as ValidationReport;
    assert.deepEqual(report.pairs.map((p) => [p.status, p.drop_reason]), [['pending', null], ['pending', null]]);
    assert.match(report.pairs[0]!.pending_reason!, /meaning check call failed: .*HTTP 503/);
    assert.equal(ctx.counters.meaning_check_failures, 2, 'the call and its retry');
  });
});
