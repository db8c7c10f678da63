// qa_generation with an LLM: the real openai client (createLlmClient) against the fake OpenAI-compatible
// server, on a schema.json of the demo database. Each failure mode of the issue is handled as specified:
// themes naming unknown tables, malformed JSON, partial arrays, duplicate pairs, non-SELECT SQL, a 429
// storm, a failing theme; plus parallel themes and the prompt contents.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import type { LlmSettings } from '../../src/config.ts';
import { createLlmClient } from '../../src/llm/client.ts';
import { PAIR_FILE_PATTERN, pairMetaFileName, SCHEMA_FILE, type SchemaFile } from '../../src/pipeline/artifacts.ts';
import { qaGenerationStep } from '../../src/pipeline/qa/index.ts';
import { createDemoDatabase } from '../helpers/demo.ts';
import {
  jsonReply,
  proseWrapped,
  rateLimited,
  serverError,
  startFakeOpenAI,
  thinkWrapped,
  truncatedReply,
  type FakeChatHandler,
  type FakeChatRequest,
  type FakeOpenAI,
  type FakeReply,
} from '../helpers/fake-openai.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { buildSchemaFile, DEMO_RELATIONSHIPS, makeStepContext } from '../helpers/qa-schema.ts';
import { makeTempDir } from '../helpers/server.ts';

let demo: TestDatabase;
let schema: SchemaFile;

before(async () => {
  demo = await createDemoDatabase({ days: 60 });
  schema = await buildSchemaFile(demo.url, { tables: DEMO_TABLES, relationships: DEMO_RELATIONSHIPS, databaseName: 'highway_db', businessContext: '高速公路服务区管理系统' });
});
after(async () => {
  await demo?.drop();
});

const DEFAULT_THEMES = [
  { name: '营业收入分析', description: '各服务区营业收入', related_tables: ['bss_business_day_data', 'bss_service_area'], entities: ['服务区'], metrics: ['支付总金额'], keywords: ['营收'] },
  { name: '车流量分析', description: '车流量', related_tables: ['public.bss_car_day_count', 'bss_service_area'], entities: ['车辆'], metrics: ['车辆数量'], keywords: [] },
  { name: '公司与服务区', description: '归属', related_tables: ['bss_company', 'bss_service_area'], entities: ['公司'], metrics: ['服务区数量'], keywords: [] },
  { name: '路段关联', description: '路段', related_tables: ['bss_section_route', 'bss_section_route_area_link', 'bss_service_area'], entities: ['路段'], metrics: [], keywords: [] },
  { name: '编码映射', description: '映射', related_tables: ['bss_service_area_mapper', 'bss_service_area'], entities: ['编码'], metrics: [], keywords: [] },
];

function isThemesRequest(req: FakeChatRequest): boolean {
  return /数据分析主题|analysis themes/.test(req.system);
}

/** The task prompt (the first user message; a retry appends the model's answer and a repair request). */
function promptOf(req: FakeChatRequest): string {
  return req.messages.find((m) => m.role === 'user')?.content ?? '';
}

function themeOf(req: FakeChatRequest): string {
  return /主题：(.+)|Theme: (.+)/.exec(promptOf(req))?.slice(1).find(Boolean)?.trim() ?? '?';
}

function requestedCount(req: FakeChatRequest): number {
  return Number(/请编写 (\d+) 个|Write (\d+) question/.exec(promptOf(req))?.slice(1).find(Boolean) ?? 10);
}

/** A stand-in analyst: valid, distinct SELECTs over the tables the pairs prompt shows (never repeating a
 * table/column/shape across the whole run, so every pair it writes is new). */
function fakeAnalyst() {
  const used = new Set<string>();
  const shapes = [
    (t: string, c: string) => `SELECT COUNT(DISTINCT "${c}") AS n FROM ${t} WHERE delete_ts IS NULL;`,
    (t: string, c: string) => `SELECT "${c}", COUNT(*) AS n FROM ${t} WHERE delete_ts IS NULL GROUP BY "${c}" ORDER BY n DESC LIMIT 5;`,
    (t: string, c: string) => `SELECT MAX("${c}") AS top_value FROM ${t} WHERE delete_ts IS NULL;`,
    (t: string, c: string) => `SELECT "${c}" FROM ${t} WHERE "${c}" IS NOT NULL AND delete_ts IS NULL LIMIT 10;`,
  ];
  return (req: FakeChatRequest, count = requestedCount(req)) => {
    const tables = [...promptOf(req).matchAll(/^(?:表|Table) (\S+)/gm)].map((m) => m[1]!);
    const pairs: Array<{ question: string; sql: string; complexity: string; style: string }> = [];
    for (const full of tables) {
      const name = full.split('.').at(-1)!;
      const info = schema.tables.find((t) => t.name === name)!;
      const hasSoftDelete = info.columns.some((c) => c.name === 'delete_ts');
      for (const c of info.columns) {
        for (let s = 0; s < shapes.length; s++) {
          const key = `${name}.${c.name}.${s}`;
          if (used.has(key) || pairs.length >= count) continue;
          used.add(key);
          let sql = shapes[s]!(name, c.name);
          if (!hasSoftDelete) sql = sql.replace(/ AND delete_ts IS NULL| WHERE delete_ts IS NULL/g, '');
          pairs.push({ question: `${name} 表 ${c.comment ?? c.name} 的第 ${s + 1} 类统计是多少？`, sql, complexity: s === 1 ? 'aggregate' : 'single_table', style: 'question' });
        }
      }
    }
    return { pairs };
  };
}

const fast = { backoffBaseMs: 5, maxBackoffMs: 20 };

function llmSettings(fake: FakeOpenAI, extra: Partial<LlmSettings> = {}): LlmSettings {
  return { baseUrl: fake.baseUrl, apiKey: 'sk-test', model: 'fake-model', temperature: 0.2, timeoutMs: 5_000, concurrency: 8, maxRetries: 3, jsonMode: true, ...extra };
}

async function runStep(fake: FakeOpenAI, parameters: Record<string, unknown> = {}, llm: Partial<LlmSettings> = {}) {
  const dir = makeTempDir('dp-qa-llm-');
  fs.writeFileSync(path.join(dir, SCHEMA_FILE), JSON.stringify(schema));
  const ctx = makeStepContext({
    dir,
    step: 'qa_generation',
    dbUrl: demo.url,
    parameters: { db_name: 'highway_db', business_context: '高速公路服务区管理系统', ...parameters },
    llm: (onUsage) => createLlmClient(llmSettings(fake, llm), onUsage, fast),
  });
  try {
    const result = await qaGenerationStep.run(ctx);
    const pairFile = fs.readdirSync(dir).find((n) => PAIR_FILE_PATTERN.test(n))!;
    const pairs = JSON.parse(fs.readFileSync(path.join(dir, pairFile), 'utf8'));
    const meta = JSON.parse(fs.readFileSync(path.join(dir, pairMetaFileName(pairFile)), 'utf8'));
    return { result, pairs, meta, ctx, dir };
  } finally {
    await ctx.close();
  }
}

/** Themes from `themes`, pairs from the analyst, each request passing through `wrap` first. */
function handler(options: { themes?: unknown; pairs?: (req: FakeChatRequest, analyst: ReturnType<typeof fakeAnalyst>) => FakeReply | undefined; latencyTheme?: number } = {}): FakeChatHandler {
  const analyst = fakeAnalyst();
  return (req) => {
    if (isThemesRequest(req)) return jsonReply({ themes: options.themes ?? DEFAULT_THEMES });
    return options.pairs?.(req, analyst) ?? jsonReply(analyst(req));
  };
}

describe('qa_generation with the fake OpenAI-compatible server', () => {
  test('5 themes × 10 pairs, themes in parallel, prompts carry the theme tables, accounting in the counters', async () => {
    const fake = await startFakeOpenAI({ handler: handler(), latencyMs: 100 });
    try {
      const { pairs, meta, ctx } = await runStep(fake);
      assert.equal(pairs.length, 50);
      assert.equal(meta.generator, 'llm');
      assert.equal(meta.model, 'fake-model');
      assert.deepEqual(meta.themes.map((t: any) => t.status), ['ok', 'ok', 'ok', 'ok', 'ok']);
      const chats = fake.chatRequests();
      assert.equal(chats.length, 6);
      assert.ok(fake.maxInFlight >= 5, `themes ran in parallel (max in flight ${fake.maxInFlight})`);
      assert.deepEqual(chats[0]!.body.response_format, { type: 'json_object' });
      // The themes prompt holds the schema summary; each pairs prompt the theme's tables in full.
      const themesPrompt = chats[0]!.body.messages[1].content as string;
      for (const t of DEMO_TABLES) assert.ok(themesPrompt.includes(`public.${t}`), t);
      const revenue = chats.find((r) => /主题：营业收入分析/.test(r.body.messages[1].content))!.body.messages[1].content as string;
      assert.match(revenue, /表 public\.bss_business_day_data/);
      assert.match(revenue, /表 public\.bss_service_area/);
      assert.match(revenue, /service_state varchar.*枚举值: 开放/);
      assert.match(revenue, /bss_business_day_data\(service_no\) → public\.bss_service_area\(service_area_no\)/);
      assert.match(revenue, /public\.bss_business_day_data\.delete_ts/);
      assert.match(revenue, /- window_cte: 2/);
      assert.equal(ctx.counters.llm_calls, 6);
      assert.equal(ctx.counters.llm_failures ?? 0, 0);
      assert.ok(ctx.counters.prompt_tokens > 1000 && ctx.counters.completion_tokens > 100);
      assert.equal(ctx.counters.pairs, 50);
      assert.deepEqual(ctx.progressLog.at(-1), { done: 5, total: 5, unit: 'themes' });
      assert.equal(meta.prompts.themes.id, 'qa.themes');
      assert.equal(meta.prompts.pairs.version, 1);
      assert.ok(meta.pairs.every((p: any) => p.source === 'llm' && p.tables.length >= 1 && p.fingerprint));
    } finally {
      await fake.close();
    }
  });

  test('themes naming tables that do not exist: repaired, or dropped and replaced', async () => {
    const themes = [
      { name: '档口经营', description: '档口', related_tables: ['bss_branch', 'bss_service_area', 'weather'], entities: ['档口'], metrics: ['营业额'] },
      { name: '天气影响', description: '天气', related_tables: ['weather_daily', 'holiday_calendar'], entities: [], metrics: [] },
      { name: '公司', description: '公司', related_tables: ['"BSS_COMPANY"', 'public.bss_service_area'] },
      { name: '车流', description: '车流', related_tables: 'bss_car_day_count, bss_service_area' },
      { name: '路段', description: '路段', related_tables: ['bss_section_rout', 'bss_section_route_area_link'] },
    ];
    const fake = await startFakeOpenAI({ handler: handler({ themes }) });
    try {
      const { meta, ctx, pairs } = await runStep(fake);
      const byName = Object.fromEntries(meta.themes.map((t: any) => [t.name, t]));
      assert.deepEqual(byName['档口经营'].related_tables, ['public.bss_business_day_data', 'public.bss_service_area']);
      assert.match(byName['档口经营'].repaired_tables[0], /bss_branch → public\.bss_business_day_data/);
      assert.deepEqual(byName['档口经营'].dropped_tables, ['weather']);
      assert.deepEqual(byName['公司'].related_tables, ['public.bss_company', 'public.bss_service_area']);
      assert.deepEqual(byName['车流'].related_tables, ['public.bss_car_day_count', 'public.bss_service_area']);
      assert.deepEqual(byName['路段'].related_tables, ['public.bss_section_route', 'public.bss_section_route_area_link']);
      assert.equal(byName['天气影响'], undefined);
      assert.deepEqual(meta.dropped_themes, [{ name: '天气影响', tables: ['weather_daily', 'holiday_calendar'] }]);
      assert.equal(meta.themes.length, 5, 'the dropped theme is replaced by an offline theme');
      assert.equal(meta.themes.filter((t: any) => t.source === 'offline').length, 1);
      assert.ok(ctx.logs.some((l) => l.level === 'WARNING' && /已丢弃/.test(l.message)));
      assert.ok(pairs.length >= 40);
    } finally {
      await fake.close();
    }
  });

  test('malformed JSON, prose- and <think>-wrapped answers, a wrong shape: retried or extracted', async () => {
    let themesCalls = 0;
    const seen = new Map<string, number>();
    const analyst = fakeAnalyst();
    const fake = await startFakeOpenAI({
      handler: (req) => {
        if (isThemesRequest(req)) return themesCalls++ === 0 ? '主题如下：{"themes": [{"name": ' : jsonReply({ themes: DEFAULT_THEMES });
        const theme = themeOf(req);
        const n = (seen.get(theme) ?? 0) + 1;
        seen.set(theme, n);
        if (theme === '营业收入分析') return proseWrapped(analyst(req));
        if (theme === '车流量分析') return thinkWrapped(analyst(req));
        if (theme === '公司与服务区' && n === 1) return jsonReply({ pairs: 'none yet' });
        if (theme === '路段关联' && n === 1) return { content: 'Sorry, I cannot produce JSON right now.' };
        return jsonReply(analyst(req));
      },
    });
    try {
      const { pairs, meta, ctx } = await runStep(fake);
      assert.equal(pairs.length, 50);
      assert.ok(meta.themes.every((t: any) => t.status === 'ok'));
      assert.equal(themesCalls, 2);
      assert.equal(ctx.counters.llm_failures, 3, 'the malformed themes answer, the wrong shape, the prose refusal');
      assert.equal(ctx.counters.llm_calls, 9);
      // the retry shows the model its answer and the problem
      const retry = fake.chatRequests()[1]!.body.messages;
      assert.equal(retry.at(-2).role, 'assistant');
      assert.match(retry.at(-1).content, /could not be used/);
    } finally {
      await fake.close();
    }
  });

  test('partial arrays: complete elements kept, one top-up request for the rest', async () => {
    const topUps: string[] = [];
    const fake = await startFakeOpenAI({
      handler: handler({
        pairs: (req, analyst) => {
          if (/不要重复/.test(promptOf(req))) {
            topUps.push(promptOf(req));
            return jsonReply(analyst(req));
          }
          const full = analyst(req);
          const text = JSON.stringify(full);
          // cut inside the 7th element: 6 complete pairs survive
          let cut = 0;
          for (let i = 0; i < 7; i++) cut = text.indexOf('{"question"', cut + 1);
          cut += 20;
          return truncatedReply(full, cut);
        },
      }),
    });
    try {
      const { pairs, meta, ctx } = await runStep(fake);
      assert.equal(topUps.length, 5);
      assert.match(topUps[0]!, /请编写 4 个/);
      assert.equal(pairs.length, 50);
      assert.ok(meta.themes.every((t: any) => t.pairs === 10));
      assert.ok(ctx.logs.some((l) => /cut off/.test(l.message)));
    } finally {
      await fake.close();
    }
  });

  test('duplicate pairs (same SQL up to constants, same question) are removed', async () => {
    const fake = await startFakeOpenAI({
      handler: handler({
        pairs: (req, analyst) => {
          const { pairs } = analyst(req, requestedCount(req) - 3);
          const [a] = pairs;
          if (!a) return jsonReply({ pairs });
          return jsonReply({
            pairs: [
              ...pairs,
              { ...a }, // exact repeat
              { question: `${a.question}（另一种问法）`, sql: a.sql.replace(/LIMIT \d+/, 'LIMIT 99').replace(/;$/, ' ;') }, // constants only
              { question: a.question.replace(/？$/, '?'), sql: 'SELECT 42 AS answer;' }, // same question
            ],
          });
        },
      }),
    });
    try {
      const { pairs, meta } = await runStep(fake, { theme_count: 5, questions_per_theme: 10 });
      const fingerprints = meta.pairs.map((p: any) => p.fingerprint);
      assert.equal(new Set(fingerprints).size, fingerprints.length);
      assert.ok(meta.dropped.duplicate_fingerprint >= 5);
      assert.ok(meta.dropped.duplicate_question >= 5);
      assert.ok(!pairs.some((p: any) => p.sql === 'SELECT 42 AS answer;'));
    } finally {
      await fake.close();
    }
  });

  test('non-SELECT and unparseable SQL never reaches the pair file', async () => {
    const bad = [
      'DELETE FROM bss_company WHERE company_no = \'H01\';',
      'UPDATE bss_service_area SET service_state = \'关闭\';',
      'DROP TABLE bss_company;',
      'SELECT * INTO stolen FROM bss_company;',
      'SELECT 1; DELETE FROM bss_company;',
      'SELECT * FROM bss_company FOR UPDATE;',
      'SELEC company_name FORM bss_company;',
    ];
    const fake = await startFakeOpenAI({
      handler: handler({
        pairs: (req, analyst) => {
          const { pairs } = analyst(req);
          return jsonReply({ pairs: [...bad.map((sql, i) => ({ question: `危险问题 ${themeOf(req)} ${i}`, sql })), ...pairs] });
        },
      }),
    });
    try {
      const { pairs, meta } = await runStep(fake);
      assert.equal(pairs.length, 50);
      for (const p of pairs) assert.match(p.sql, /^(SELECT|WITH)\b/i);
      assert.equal(meta.dropped.not_select, 15);
      assert.equal(meta.dropped.select_into, 5);
      assert.equal(meta.dropped.multiple_statements, 5);
      assert.equal(meta.dropped.locking_clause, 5);
      assert.equal(meta.dropped.parse_error, 5);
      assert.ok(meta.themes.every((t: any) => t.dropped.surplus === undefined || t.dropped.surplus >= 0));
    } finally {
      await fake.close();
    }
  });

  test('a 429 storm: Retry-After honoured, every theme completes, failures counted', async () => {
    let n = 0;
    const inner = handler();
    // The storm hits the parallel pairs requests: the first 10 get 429.
    const fake = await startFakeOpenAI({ handler: (req) => (!isThemesRequest(req) && n++ < 10 ? rateLimited(0.15) : inner(req)) });
    try {
      const started = Date.now();
      const { pairs, ctx, meta } = await runStep(fake, {}, { maxRetries: 6 });
      assert.ok(meta.themes.every((t: any) => t.source === 'llm' && t.status === 'ok'));
      assert.equal(pairs.length, 50);
      assert.equal(ctx.counters.llm_failures, 10);
      assert.equal(ctx.counters.llm_calls, 16);
      assert.ok(Date.now() - started >= 300, 'waited out the Retry-After pauses');
      const statuses = fake.chatRequests().map((r) => r.status);
      assert.equal(statuses.filter((s) => s === 429).length, 10);
    } finally {
      await fake.close();
    }
  });

  test('a theme whose requests fail is reported; the step fails only below half the requested pairs', async () => {
    const fake = await startFakeOpenAI({ handler: handler({ pairs: (req) => (themeOf(req) === '路段关联' ? serverError(500, 'model overloaded') : undefined) }) });
    try {
      const { pairs, meta, result, ctx } = await runStep(fake, {}, { maxRetries: 1 });
      assert.equal(pairs.length, 40);
      const failed = meta.themes.find((t: any) => t.name === '路段关联');
      assert.equal(failed.status, 'failed');
      assert.match(failed.error, /HTTP 500/);
      assert.equal(result?.counters?.themes_failed, 1);
      assert.ok(ctx.logs.some((l) => l.level === 'WARNING' && /路段关联/.test(l.message)));
      assert.ok(!fs.readFileSync(path.join(ctx.workspaceDir, 'metadata.txt'), 'utf8').includes('路段关联'));
      assert.match(fs.readFileSync(path.join(ctx.workspaceDir, 'metadata_detail.md'), 'utf8'), /路段关联（失败）/);
    } finally {
      await fake.close();
    }
    const down = await startFakeOpenAI({ handler: handler({ pairs: () => serverError(503) }) });
    try {
      await assert.rejects(runStep(down, {}, { maxRetries: 0 }), (e: any) => e.code === 'QA_TOO_FEW_PAIRS' && /0 of 50/.test(e.message));
    } finally {
      await down.close();
    }
  });

  test('a themes call that keeps failing: LLM_UNAVAILABLE and no offline themes, unless allow_offline_fallback (then counted and shown)', async () => {
    const fake = await startFakeOpenAI({ handler: (req) => (isThemesRequest(req) ? serverError(503, 'overloaded') : jsonReply(fakeAnalyst()(req))) });
    try {
      await assert.rejects(
        runStep(fake, {}, { maxRetries: 1 }),
        (e: any) => e.code === 'LLM_UNAVAILABLE' && /allow_offline_fallback/.test(e.message) && /HTTP 503/.test(e.message),
      );
      assert.equal(fake.chatRequests().length, 2, 'the themes call was retried once, and no pairs were asked for');
      fake.reset();
      const { result, meta, ctx } = await runStep(fake, { allow_offline_fallback: true }, { maxRetries: 1 });
      assert.equal(meta.themes_source, 'offline_fallback');
      assert.equal(meta.prompts.themes.fallback_to_offline, true);
      assert.ok(meta.themes.every((t: any) => t.source !== 'llm'));
      assert.equal(result?.counters?.themes_offline_fallback, 1);
      assert.equal(ctx.counters.themes_offline_fallback, 1, 'in the status counters while it runs');
      assert.match(result!.summary!, /allow_offline_fallback/);
      assert.ok(ctx.logs.some((l) => l.level === 'WARNING' && /offline themes used as allowed/.test(l.message)));
    } finally {
      await fake.close();
    }
  });

  test('a server that refuses JSON mode and answers in English', async () => {
    const analyst = fakeAnalyst();
    const fake = await startFakeOpenAI({
      rejectJsonMode: true,
      handler: (req) => {
        if (isThemesRequest(req)) return proseWrapped({ themes: DEFAULT_THEMES.slice(0, 2) });
        return proseWrapped(analyst(req));
      },
    });
    try {
      const { pairs, meta } = await runStep(fake, { language: 'en', theme_count: 2, questions_per_theme: 5 });
      assert.equal(pairs.length, 10);
      assert.equal(meta.language, 'en');
      const requests = fake.chatRequests();
      assert.ok(requests.slice(1).every((r) => r.body.response_format === undefined));
      assert.match(requests[0]!.body.messages[0].content, /senior data analyst/);
    } finally {
      await fake.close();
    }
  });
});
