// The LLM path end to end through the real HTTP server, the real runner and the real OpenAI client, against
// a scripted OpenAI-compatible server that answers like a good model: mostly right SQL, some dialect slips
// (backticks, IFNULL, DATE_FORMAT), a wrong column, a missing soft-delete filter, a literal that empties
// the result, a question whose SQL answers another question, some answers wrapped in prose. Checked: every
// slip is repaired or dropped with its reason; the mismatch is caught by the meaning check; a failed
// themes call fails qa_generation (no offline themes); a 503 mid-repair loses nothing; and re-runs are
// answered from the task's llm_cache/ — no request that succeeded once reaches the server again (counted
// at the server).
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import { LLM_CACHE_DIR } from '../../src/llm/cache.ts';
import { PAIR_FILE_PATTERN, pairMetaFileName, VALIDATION_RESULT_FILE } from '../../src/pipeline/artifacts.ts';
import type { ValidationReport } from '../../src/pipeline/validate/report.ts';
import { createDemoDatabase } from '../helpers/demo.ts';
import { inlineProse, jsonReply, proseWrapped, serverError, startFakeOpenAI, type FakeChatRequest, type FakeOpenAI, type FakeReply, type RecordedRequest } from '../helpers/fake-openai.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, startTestServer, waitForStatus, type TestServer } from '../helpers/server.ts';

const API_KEY = 'sk-live-realistic-test-9f3b';

interface ScriptedPair {
  theme: string;
  question: string;
  /** What the model writes first. */
  sql: string;
  /** What it answers when asked to repair (by attempt, the last repeating); none: the SQL is right. */
  repairs?: string[];
  /** The question `sql` really answers, when it is not `question` (the meaning check reads it back). */
  answers?: string;
}

const THEMES = [
  { name: '分公司与服务区', description: '分公司及其管理的服务区', related_tables: ['bss_company', 'bss_service_area'], entities: ['分公司', '服务区'], metrics: ['服务区数量'], keywords: [] },
  { name: '营业收入分析', description: '各服务区的营业收入', related_tables: ['bss_business_day_data', 'bss_service_area'], entities: ['服务区'], metrics: ['营业额'], keywords: ['营收'] },
  { name: '车流量分析', description: '服务区车流量', related_tables: ['bss_car_day_count', 'bss_service_area'], entities: ['车辆'], metrics: ['车流量'], keywords: [] },
];

const BY_COMPANY = `SELECT c.id, c.company_name AS 分公司, COUNT(a.id) AS 服务区数量
FROM bss_company c
JOIN bss_service_area a ON a.company_id = c.id AND a.delete_ts IS NULL
WHERE c.delete_ts IS NULL
GROUP BY c.id, c.company_name
ORDER BY 服务区数量 DESC`;

const SCRIPT: ScriptedPair[] = [
  // Missing soft-delete filter (the demo has a deleted company): the linter's error, repaired.
  { theme: '分公司与服务区', question: '一共有多少家分公司？', sql: 'SELECT COUNT(*) AS company_count FROM bss_company', repairs: ['SELECT COUNT(*) AS company_count FROM bss_company WHERE delete_ts IS NULL'] },
  // A literal that is not in the data: the result is empty; repaired with the nearest real value.
  {
    theme: '分公司与服务区',
    question: '状态为开放的服务区有多少个？',
    sql: "SELECT COUNT(*) AS 数量 FROM bss_service_area WHERE service_state = '营业中' AND delete_ts IS NULL",
    repairs: ["SELECT COUNT(*) AS 数量 FROM bss_service_area WHERE service_state = '开放' AND delete_ts IS NULL"],
  },
  // Runs, lints clean, answers another question: only the meaning check sees it.
  {
    theme: '分公司与服务区',
    question: '各分公司管理的服务区数量是多少？',
    sql: "SELECT COALESCE(service_area_type, '未知') AS 类型, COUNT(*) AS 数量 FROM bss_service_area WHERE delete_ts IS NULL GROUP BY 1 ORDER BY 2 DESC",
    answers: '各类型的服务区各有多少个？',
    repairs: [BY_COMPANY],
  },
  // Backticks (MySQL): not PostgreSQL, refused by qa_generation's parse gate, counted as dropped there.
  { theme: '分公司与服务区', question: '列出所有服务区的名称和编码', sql: 'SELECT `service_area_name`, `service_area_no` FROM `bss_service_area` WHERE `delete_ts` IS NULL' },

  { theme: '营业收入分析', question: '2024年营业额最高的10个服务区是哪些？', sql: `SELECT service_no, service_name AS 服务区, SUM(pay_sum) AS 营业额
FROM bss_business_day_data
WHERE oper_date >= DATE '2024-01-01' AND oper_date < DATE '2025-01-01' AND delete_ts IS NULL
GROUP BY service_no, service_name
ORDER BY 营业额 DESC
LIMIT 10` },
  // DATE_FORMAT (MySQL): undefined function, repaired to to_char.
  {
    theme: '营业收入分析',
    question: '每月的营业额合计是多少？',
    sql: "SELECT DATE_FORMAT(oper_date, '%Y-%m') AS 月份, SUM(pay_sum) AS 营业额 FROM bss_business_day_data WHERE delete_ts IS NULL GROUP BY 1 ORDER BY 1",
    repairs: ["SELECT to_char(oper_date, 'YYYY-MM') AS 月份, SUM(pay_sum) AS 营业额 FROM bss_business_day_data WHERE delete_ts IS NULL GROUP BY 1 ORDER BY 1"],
  },
  // IFNULL (MySQL): undefined function, repaired to COALESCE.
  {
    theme: '营业收入分析',
    question: '各服务区的微信支付总额是多少？',
    sql: 'SELECT service_no, service_name, SUM(IFNULL(wx, 0)) AS 微信支付 FROM bss_business_day_data WHERE delete_ts IS NULL GROUP BY service_no, service_name',
    repairs: ['SELECT service_no, service_name, SUM(COALESCE(wx, 0)) AS 微信支付 FROM bss_business_day_data WHERE delete_ts IS NULL GROUP BY service_no, service_name'],
  },
  // A column that does not exist: repaired with the real one.
  {
    theme: '营业收入分析',
    question: '彭泽服务区的营业额合计是多少？',
    sql: "SELECT SUM(pay_amount) AS total FROM bss_business_day_data WHERE service_name = '彭泽服务区' AND delete_ts IS NULL",
    repairs: ["SELECT SUM(pay_sum) AS total FROM bss_business_day_data WHERE service_name = '彭泽服务区' AND delete_ts IS NULL"],
  },

  { theme: '车流量分析', question: '各类车辆的总数量是多少？', sql: 'SELECT car_type AS 车辆类别, SUM(customer_count) AS 车辆总数 FROM bss_car_day_count WHERE delete_ts IS NULL GROUP BY car_type ORDER BY 车辆总数 DESC' },
  { theme: '车流量分析', question: '最近一天的统计日期是哪天？', sql: 'SELECT MAX(count_date) AS 最近日期 FROM bss_car_day_count WHERE delete_ts IS NULL' },
  // A slip the model cannot fix: every repair names another column that does not exist; dropped with the reason.
  {
    theme: '车流量分析',
    question: '每天的车流量是多少？',
    sql: 'SELECT count_date, SUM(car_num) AS 车流量 FROM bss_car_day_count WHERE delete_ts IS NULL GROUP BY count_date ORDER BY count_date',
    repairs: [
      'SELECT count_date, SUM(car_count) AS 车流量 FROM bss_car_day_count WHERE delete_ts IS NULL GROUP BY count_date ORDER BY count_date',
      'SELECT count_date, SUM(vehicle_num) AS 车流量 FROM bss_car_day_count WHERE delete_ts IS NULL GROUP BY count_date ORDER BY count_date',
      'SELECT count_date, SUM(cars) AS 车流量 FROM bss_car_day_count WHERE delete_ts IS NULL GROUP BY count_date ORDER BY count_date',
    ],
  },
  { theme: '车流量分析', question: '各服务区的车流量合计是多少？', sql: 'SELECT service_area_id, SUM(customer_count) AS 车流量 FROM bss_car_day_count WHERE delete_ts IS NULL GROUP BY service_area_id ORDER BY 车流量 DESC' },
];

const normalize = (sql: string) => sql.replace(/\s+/g, ' ').replace(/;\s*$/, '').trim().toLowerCase();

/** The question each SQL the model ever writes really answers. */
const ANSWERS = new Map<string, string>();
for (const p of SCRIPT) {
  ANSWERS.set(normalize(p.sql), p.answers ?? p.question);
  for (const r of p.repairs ?? []) ANSWERS.set(normalize(r), p.question);
}

const promptOf = (req: FakeChatRequest) => req.messages.find((m) => m.role === 'user')?.content ?? '';
const isThemes = (req: FakeChatRequest) => /数据分析主题|analysis themes/.test(req.system);
const isMeaning = (req: FakeChatRequest) => /back_translation/.test(req.system);
const isRepair = (req: FakeChatRequest) => /你负责修复|You repair PostgreSQL/.test(req.system);
const isPairs = (req: FakeChatRequest) => /^主题：/m.test(promptOf(req));

/** What the server is told to do now. */
const mode = { themesDown: false, repairFailFrom: Infinity };
let repairRequests = 0;
const repairAsked = new Map<string, number>();

function meaningAnswer(req: FakeChatRequest): FakeReply {
  const items = promptOf(req)
    .split(/\n### /)
    .slice(1)
    .map((block) => {
      const id = Number(/^(\d+)/.exec(block)![1]);
      const question = /问题: (.+)/.exec(block)![1]!.trim();
      const sql = block.split('\nSQL:\n')[1]!.split('\n\n')[0]!;
      return { id, question, sql };
    });
  const results = items.map(({ id, question, sql }) => {
    const answered = ANSWERS.get(normalize(sql)) ?? question;
    const matches = answered === question;
    return { id, back_translation: answered, matches, reason: matches ? 'SQL 与问题一致' : '问题问的是各分公司的服务区数量，SQL 统计的是各服务区类型的数量' };
  });
  return jsonReply({ results });
}

function repairAnswer(req: FakeChatRequest): FakeReply {
  const question = /问题：(.+)/.exec(promptOf(req))![1]!.trim();
  const pair = SCRIPT.find((p) => p.question === question);
  if (!pair?.repairs) return jsonReply({ sql: 'SELECT 1', explanation: '?' });
  const n = (repairAsked.get(question) ?? 0) + 1;
  repairAsked.set(question, n);
  const sql = pair.repairs[Math.min(n, pair.repairs.length) - 1]!;
  // Half of the repairs come wrapped in prose.
  return n % 2 ? proseWrapped({ sql, explanation: '已按错误修正' }) : jsonReply({ sql, explanation: '已按错误修正' });
}

function pairsAnswer(req: FakeChatRequest): FakeReply {
  const theme = /^主题：(.+)$/m.exec(promptOf(req))![1]!.trim();
  const pairs = SCRIPT.filter((p) => p.theme === theme).map((p) => ({ question: p.question, sql: p.sql, complexity: 'single_table', style: 'question' }));
  // One theme in prose, one inline in a sentence, one plain JSON.
  if (theme === '营业收入分析') return proseWrapped({ pairs });
  if (theme === '车流量分析') return inlineProse({ pairs });
  return jsonReply({ pairs });
}

function annotateAnswer(req: FakeChatRequest): FakeReply {
  const wanted = (/以下字段的注释: (.+)$/m.exec(promptOf(req))?.[1] ?? '').split(', ').filter(Boolean);
  return jsonReply({ table_comment: '业务表', columns: Object.fromEntries(wanted.map((c) => [c, `字段 ${c}`])) });
}

function handler(req: FakeChatRequest): FakeReply {
  if (isThemes(req)) return mode.themesDown ? serverError(503, 'upstream model overloaded') : jsonReply({ themes: THEMES });
  if (isMeaning(req)) return meaningAnswer(req);
  if (isRepair(req)) {
    repairRequests += 1;
    if (repairRequests >= mode.repairFailFrom) return serverError(503, 'upstream model overloaded');
    return repairAnswer(req);
  }
  if (isPairs(req)) return pairsAnswer(req);
  return annotateAnswer(req);
}

/** A request's identity as the cache sees it: what was asked (model, messages, JSON or not, temperature). */
const requestKey = (r: RecordedRequest) => JSON.stringify([r.body?.model, r.body?.messages, Boolean(r.body?.response_format), r.body?.temperature, r.body?.max_tokens ?? null]);

describe('the LLM path end to end with a scripted good model', () => {
  let store: TestDatabase;
  let demo: TestDatabase;
  let fake: FakeOpenAI;
  let server: TestServer;
  let api: string;
  let taskId: string;
  let taskDir: string;
  /** Requests the server answered 200 so far (cached by the client, never to be sent again). */
  const answered = new Set<string>();

  const chatSince = (from: number) => fake.requests.slice(from).filter((r) => r.kind === 'chat');

  /** Runs one step to its end; returns the step row and the chat requests it made. */
  async function runStep(step: string) {
    const from = fake.requests.length;
    const started = await call(`${api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: step } });
    assert.equal(started.status, 202, JSON.stringify(started.body));
    const status = await waitForStatus(api, taskId, ['completed', 'partial_completed', 'failed', 'cancelled'], 60_000);
    const row = status.steps.find((s: any) => s.step_name === step);
    await fake.idle();
    const requests = chatSince(from);
    const repeated = requests.filter((r) => answered.has(requestKey(r)));
    for (const r of requests) if (r.status === 200) answered.add(requestKey(r));
    return { status, row, requests, repeated };
  }

  const read = (name: string) => JSON.parse(fs.readFileSync(path.join(taskDir, name), 'utf8'));
  const pairFiles = () => fs.readdirSync(taskDir).filter((n) => PAIR_FILE_PATTERN.test(n)).sort();

  before(async () => {
    [store, demo] = await Promise.all([createTestDatabase('dp_store'), createDemoDatabase({ days: 60 })]);
    fake = await startFakeOpenAI({ handler, apiKey: API_KEY });
    server = await startTestServer({
      storeUrl: store.url,
      env: {
        DATA_PIPELINE_DB_URL: demo.url,
        DATA_PIPELINE_LLM_BASE_URL: fake.baseUrl,
        DATA_PIPELINE_LLM_MODEL: 'good-model',
        DATA_PIPELINE_LLM_API_KEY: API_KEY,
        DATA_PIPELINE_LLM_MAX_RETRIES: '1',
        DATA_PIPELINE_LLM_CONCURRENCY: '4',
      },
    });
    api = server.api;
    const created = await call(`${api}/tasks`, { method: 'POST', json: { task_name: 'llm-realistic', db_name: 'highway_db', business_context: '高速公路服务区管理系统', theme_count: 3, questions_per_theme: 4 } });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    taskId = created.body.data.task_id;
    taskDir = path.join(server.dir, 'training_data', taskId);
    await call(`${api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: DEMO_TABLES } });
  });

  after(async () => {
    await server?.close();
    await fake?.close();
    await Promise.all([store?.drop(), demo?.drop()]);
  });

  test('ddl_generation, then a themes call that keeps failing fails qa_generation: no offline themes, no pair file', async () => {
    const ddl = await runStep('ddl_generation');
    assert.equal(ddl.row.step_status, 'completed', JSON.stringify(ddl.row));

    mode.themesDown = true;
    const qa = await runStep('qa_generation');
    assert.equal(qa.row.step_status, 'failed');
    assert.equal(qa.row.error_code, 'LLM_UNAVAILABLE', qa.row.error_message);
    assert.match(qa.row.error_message, /allow_offline_fallback/);
    assert.deepEqual(pairFiles(), [], 'no pair file from offline themes');
    assert.equal(qa.row.counters?.themes_offline_fallback, undefined);
    assert.ok(qa.requests.length >= 2 && qa.requests.every(isThemesRecord), 'the themes call was retried, and nothing else was asked');
  });

  test('qa_generation again: themes and pairs from the model, prose extracted, the backtick pair dropped with its reason', async () => {
    mode.themesDown = false;
    const qa = await runStep('qa_generation');
    assert.equal(qa.row.step_status, 'completed', JSON.stringify(qa.row));
    assert.deepEqual(qa.repeated, []);
    const [pairFile] = pairFiles();
    const pairs = read(pairFile!) as Array<{ question: string; sql: string }>;
    const meta = read(pairMetaFileName(pairFile!));
    assert.equal(meta.themes_source, 'llm');
    assert.deepEqual(meta.themes.map((t: any) => t.source), ['llm', 'llm', 'llm']);
    assert.equal(pairs.length, SCRIPT.length - 1);
    assert.ok(!pairs.some((p) => p.question === '列出所有服务区的名称和编码'));
    // Dropped at the parse gate, counted with the reason (once per answer: the top-up request repeats it).
    const dropped = meta.themes.find((t: any) => t.name === '分公司与服务区').dropped;
    assert.ok(dropped.parse_error >= 1, JSON.stringify(dropped));
  });

  test('sql_validation with a 503 mid-repair: pairs pending, none dropped, the pair file untouched, LLM_UNAVAILABLE', async () => {
    const [pairFile] = pairFiles();
    const before = fs.readFileSync(path.join(taskDir, pairFile!), 'utf8');
    repairRequests = 0;
    mode.repairFailFrom = 3; // two repairs answered, then the server is down
    const run = await runStep('sql_validation');
    assert.equal(run.row.step_status, 'failed');
    assert.equal(run.row.error_code, 'LLM_UNAVAILABLE', run.row.error_message);
    assert.equal(fs.readFileSync(path.join(taskDir, pairFile!), 'utf8'), before, 'the pair file keeps every pair');
    assert.ok(!fs.existsSync(path.join(taskDir, VALIDATION_RESULT_FILE)), 'training_load is given nothing to load');
    const reportName = fs.readdirSync(taskDir).find((n) => /^sql_validation_.*_report\.json$/.test(n))!;
    const report = read(reportName) as ValidationReport;
    const pending = report.pairs.filter((p) => p.status === 'pending');
    assert.ok(pending.length >= 1, 'pairs whose repair could not be asked are pending');
    assert.equal(report.totals.pending, pending.length);
    for (const p of report.pairs.filter((p) => p.status === 'invalid')) assert.ok(p.drop_reason, `#${p.index} dropped with a reason`);
    assert.ok(run.requests.some((r) => r.status === 503));
    assert.ok(run.requests.some((r) => isMeaningRecord(r) && r.status === 200), 'the meaning check ran before the repairs');
    fs.unlinkSync(path.join(taskDir, reportName)); // the next run's report is the one to read
    fs.rmSync(path.join(taskDir, reportName.replace('_report.json', '_summary.txt')), { force: true });
  });

  test('sql_validation again: completes, every earlier answer replayed from llm_cache/ (0 repeated calls at the server)', async () => {
    mode.repairFailFrom = Infinity;
    const run = await runStep('sql_validation');
    assert.equal(run.row.step_status, 'completed', JSON.stringify(run.row));
    assert.deepEqual(run.repeated.map((r) => r.body.messages[0].content.slice(0, 40)), [], 'no request that succeeded before was sent again');
    assert.ok(run.requests.length > 0, 'what failed before is asked now');
    const c = run.row.counters;
    assert.ok(c.llm_cache_hits > 0, JSON.stringify(c));

    const result = read(VALIDATION_RESULT_FILE);
    const report = read(result.report_file) as ValidationReport;
    const byQuestion = new Map(report.pairs.map((p) => [p.question, p]));
    const pair = (q: string) => byQuestion.get(q) ?? assert.fail(`no report for ${q}`);

    // Every slip repaired, with the class of what was wrong.
    const softDelete = pair('一共有多少家分公司？');
    assert.equal(softDelete.status, 'repaired');
    assert.equal(softDelete.error_class, 'semantic');
    assert.ok(softDelete.error!.findings!.some((f) => f.rule === 'missing_soft_delete_filter' && f.severity === 'error'));
    const literal = pair('状态为开放的服务区有多少个？');
    assert.equal(literal.status, 'repaired');
    assert.ok(literal.error!.findings!.some((f) => f.rule === 'literal_not_in_data'), JSON.stringify(literal.error));
    for (const [q, cls] of [
      ['每月的营业额合计是多少？', 'undefined_function'],
      ['各服务区的微信支付总额是多少？', 'undefined_function'],
      ['彭泽服务区的营业额合计是多少？', 'undefined_column'],
    ] as const) {
      assert.equal(pair(q).status, 'repaired', `${q}: ${JSON.stringify(pair(q).error)}`);
      assert.equal(pair(q).error_class, cls);
    }
    // The slip it cannot fix: dropped, with the reason.
    const unfixable = pair('每天的车流量是多少？');
    assert.equal(unfixable.status, 'invalid');
    assert.equal(unfixable.attempts.length, 3);
    assert.match(unfixable.drop_reason!, /^explain: undefined_column: .*3 repair attempt\(s\) failed/);

    // The mismatch: caught by the meaning check, repaired with both questions in the prompt, read back again.
    const mismatch = pair('各分公司管理的服务区数量是多少？');
    assert.equal(mismatch.error_class, 'meaning_mismatch');
    assert.equal(mismatch.stages.lint_clean, true);
    assert.equal(mismatch.stages.meaning_checked, false);
    assert.match(mismatch.error!.message, /各类型的服务区各有多少个/);
    assert.equal(mismatch.status, 'repaired');
    assert.deepEqual(mismatch.meaning_check && { verdict: mismatch.meaning_check.verdict, back: mismatch.meaning_check.back_translation }, { verdict: 'match', back: '各分公司管理的服务区数量是多少？' });
    const repairPrompt = fake.requests.find((r) => isRepairRecord(r) && /各分公司管理的服务区数量/.test(r.body.messages[1].content))!;
    assert.match(repairPrompt.body.messages[1].content, /问题：各分公司管理的服务区数量是多少？/);
    assert.match(repairPrompt.body.messages[1].content, /它回答的是：“各类型的服务区各有多少个？”/);

    // Right pairs: valid, and read back as their own question.
    for (const q of ['2024年营业额最高的10个服务区是哪些？', '各类车辆的总数量是多少？', '最近一天的统计日期是哪天？', '各服务区的车流量合计是多少？']) {
      assert.equal(pair(q).status, 'valid', `${q}: ${JSON.stringify(pair(q).error)}`);
      assert.equal(pair(q).meaning_check?.verdict, 'match');
    }

    // The funnel and the meaning check's own accounting: counters, report, summary.
    const lintClean = report.pairs.filter((p) => p.stages.lint_clean).length;
    assert.deepEqual(
      { lint_clean: report.funnel.lint_clean, meaning_checked: report.funnel.meaning_checked, kept: report.funnel.kept },
      { lint_clean: lintClean, meaning_checked: lintClean - 1, kept: SCRIPT.length - 2 },
    );
    assert.equal(c.meaning_checked, report.funnel.meaning_checked);
    assert.equal(c.meaning_mismatches, 1);
    assert.equal(report.meaning_check.enabled, true);
    assert.equal(report.meaning_check.original_mismatches, 1);
    // Counted apart, in the step counters and the report alike.
    const usage = report.llm_usage.meaning_check;
    assert.equal(c.meaning_check_calls ?? 0, usage.calls);
    assert.equal(c.meaning_check_cache_hits, usage.cache_hits);
    assert.ok(usage.cache_hits >= 1, 'the first batch is replayed');
    assert.equal(c.repair_calls ?? 0, report.llm_usage.repair.calls);
    assert.ok(c.llm_calls >= (c.meaning_check_calls ?? 0) + (c.repair_calls ?? 0));
    const summary = fs.readFileSync(path.join(taskDir, result.summary_file), 'utf8');
    assert.match(summary, /含义核对通过 \d+ → 修复/);
    assert.match(summary, /含义核对 \(LLM反向翻译\): \d+ 一致, 0 不一致/);

    // The verdicts travel with the pairs (meta) for the dashboard.
    const meta = read(pairMetaFileName(result.pair_file));
    const metaMismatch = meta.pairs.find((p: any) => p.question === '各分公司管理的服务区数量是多少？');
    assert.equal(metaMismatch.validation.meaning_check.verdict, 'match');
    assert.ok(meta.pairs.every((p: any) => p.validation && 'meaning_check' in p.validation));
    // … and reach the review API the dashboard reads.
    const listed = await call(`${api}/tasks/${taskId}/pairs`);
    assert.equal(listed.status, 200, JSON.stringify(listed.body));
    const reviewed = listed.body.data.pairs.find((p: any) => p.question === '各分公司管理的服务区数量是多少？');
    assert.deepEqual(reviewed.validation.meaning_check, { verdict: 'match', back_translation: '各分公司管理的服务区数量是多少？', reason: metaMismatch.validation.meaning_check.reason ?? null });
    assert.ok(listed.body.data.pairs.filter((p: any) => p.validation?.kept).every((p: any) => p.validation.meaning_check !== null));
  });

  test('every step again: answered from llm_cache/ alone (no chat request at all), and the cache holds no secret', async () => {
    for (const step of ['ddl_generation', 'qa_generation', 'sql_validation']) {
      const run = await runStep(step);
      assert.equal(run.row.step_status, 'completed', `${step}: ${JSON.stringify(run.row)}`);
      assert.deepEqual(run.requests.map((r) => r.body.messages[0].content.slice(0, 40)), [], `${step} sent no request`);
    }
    const cacheDir = path.join(taskDir, LLM_CACHE_DIR);
    const files = fs.readdirSync(cacheDir);
    assert.ok(files.length >= answered.size, `${files.length} cached answers for ${answered.size} distinct successful requests`);
    for (const f of files) {
      assert.match(f, /^[0-9a-f]{64}\.json$/);
      assert.ok(!fs.readFileSync(path.join(cacheDir, f), 'utf8').includes(API_KEY), 'the API key is never written');
    }
    const listed = (await call(`${api}/tasks/${taskId}/files`)).body.data.files.filter((f: any) => f.file_name.startsWith(`${LLM_CACHE_DIR}/`));
    assert.ok(listed.length > 0 && listed.every((f: any) => f.description === 'LLM调用缓存'));
  });
});

function isThemesRecord(r: RecordedRequest): boolean {
  return /数据分析主题|analysis themes/.test(r.body?.messages?.[0]?.content ?? '');
}
function isMeaningRecord(r: RecordedRequest): boolean {
  return /back_translation/.test(r.body?.messages?.[0]?.content ?? '');
}
function isRepairRecord(r: RecordedRequest): boolean {
  return /你负责修复|You repair PostgreSQL/.test(r.body?.messages?.[0]?.content ?? '');
}
