// ddl_generation with an LLM: the real OpenAI-compatible client against the test's fake server. Comments
// land on their columns by name even when the model answers reordered, partially, with names it was
// not asked for, in prose, in a code fence or after a <think> block; database comments are never
// replaced; timeouts, 429s and malformed answers are retried, then reported as LLM_ERROR and never
// written as comments (continue_on_error: offline comments instead, the failure recorded).
import { after, before, describe, test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { LlmSettings } from '../../src/config.ts';
import { createLlmClient } from '../../src/llm/client.ts';
import type { SchemaFile } from '../../src/pipeline/artifacts.ts';
import { StepError } from '../../src/pipeline/context.ts';
import { runDdlGeneration } from '../../src/pipeline/ddl/index.ts';
import { connect, type Database } from '../../src/postgres/connect.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import {
  inlineProse,
  jsonReply,
  malformedBody,
  proseWrapped,
  rateLimited,
  scripted,
  serverError,
  startFakeOpenAI,
  thinkWrapped,
  type FakeChatRequest,
  type FakeOpenAI,
  type FakeReply,
} from '../helpers/fake-openai.ts';
import { createTestSchemaDatabase, stepContext } from '../fixtures/test-schema.ts';

const TABLES = ['customer', 'order_note', 'public.product', '"Sales Ops"."Order"'];

function llmSettings(fake: FakeOpenAI, overrides: Partial<LlmSettings> = {}): LlmSettings {
  return { baseUrl: fake.baseUrl, apiKey: 'test-key', model: 'fake-model', temperature: 0, timeoutMs: 5_000, concurrency: 8, maxRetries: 2, jsonMode: true, ...overrides };
}

function taskDir(tables: string[]): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-ddl-llm-'));
  fs.writeFileSync(path.join(dir, 'table_list.txt'), `${tables.join('\n')}\n`);
  return dir;
}

/** What the prompt asks for: the table and the columns to comment. */
function asked(request: FakeChatRequest): { table: string; columns: string[]; wantsTable: boolean } {
  // The first user message is the prompt (a retry appends the failed answer and a correction).
  const prompt = request.messages.find((m) => m.role === 'user')?.content ?? '';
  const table = /^表: (.+?) \(/m.exec(prompt)?.[1] ?? '?';
  const line = prompt.split('\n').find((l) => l.startsWith('请补充'))!;
  const columns = /以下字段的注释: (.+)$/.exec(line)?.[1]?.split(', ') ?? [];
  return { table, columns, wantsTable: line.includes('table_comment') };
}

/** A realistic, messy answer: reordered, one column left out, one unknown name, keys in varied spellings. */
function messyAnswer(request: FakeChatRequest): FakeReply {
  const { table, columns, wantsTable } = asked(request);
  const shown = [...columns].reverse();
  const dropped = shown.length > 1 ? shown.pop() : undefined; // partial: the first asked column is left out
  void dropped;
  const entries = shown.map((c, i) => [i % 3 === 1 ? `${table.split('.').pop()}.${c}` : i % 3 === 2 ? `"${c}"` : c, `LLM:${c}`] as [string, string]);
  entries.push(['no_such_column', 'LLM:ghost']);
  const value = { table_comment: wantsTable ? `LLM table ${table}` : null, columns: Object.fromEntries(entries) };
  const wrap = [jsonReply, proseWrapped, thinkWrapped, inlineProse][request.index % 4]!;
  return wrap(request.index % 2 ? value : { ...value, columns: entries.map(([name, comment]) => ({ name, comment })) });
}

function readSchema(dir: string): SchemaFile {
  return JSON.parse(fs.readFileSync(path.join(dir, 'schema.json'), 'utf8')) as SchemaFile;
}

describe('ddl_generation with an OpenAI-compatible LLM (fake server)', () => {
  let testDb: TestDatabase;
  let db: Database;
  let fake: FakeOpenAI;

  before(async () => {
    testDb = await createTestSchemaDatabase();
    db = await connect(testDb.url, { max: 4 });
    fake = await startFakeOpenAI({ apiKey: 'test-key' });
  });

  after(async () => {
    await fake?.close();
    await db?.close();
    await testDb?.drop();
  });

  test('one call per table; comments applied by name from reordered, partial, wrapped answers; db comments kept', async () => {
    fake.reset();
    fake.setHandler(messyAnswer);
    const dir = taskDir(TABLES);
    fs.writeFileSync(path.join(dir, 'business_glossary.txt'), 'kind: 备注渠道（call 电话 / mail 邮件）\n');
    const usage: Record<string, number> = {};
    const llm = createLlmClient(llmSettings(fake), (c) => {
      for (const [k, v] of Object.entries(c)) usage[k] = (usage[k] ?? 0) + v;
    });
    const ctx = stepContext({ dir, db, llm, parameters: { business_context: '一个在线零售系统' } });
    await runDdlGeneration(ctx);
    const schema = readSchema(dir);
    assert.equal(schema.llm_model, 'fake-model');

    const calls = fake.chatRequests();
    assert.equal(calls.length, TABLES.length, 'one call per table');
    for (const call of calls) {
      const body = call.body as { messages: Array<{ role: string; content: string }> };
      const user = body.messages.find((m) => m.role === 'user')!.content;
      const system = body.messages.find((m) => m.role === 'system')!.content;
      assert.match(user, /业务背景: 一个在线零售系统/);
      assert.match(user, /kind: 备注渠道/);
      assert.doesNotMatch(system, /高速|服务区|零售/, 'the system prompt is domain-neutral');
    }

    for (const table of schema.tables) {
      const request = calls.find((c) => ((c.body as any).messages as any[]).some((m) => m.role === 'user' && m.content.includes(`表: ${table.full_name} `)));
      assert.ok(request, `a call for ${table.full_name}`);
      const user = ((request.body as any).messages as any[]).find((m) => m.role === 'user').content as string;
      const wanted = (/以下字段的注释: (.+)$/m.exec(user)?.[1] ?? '').split(', ').filter(Boolean);
      const left = wanted[0];
      for (const column of table.columns) {
        if (!wanted.includes(column.name)) {
          assert.equal(column.comment_source, 'db', `${table.full_name}.${column.name} keeps its database comment`);
          assert.doesNotMatch(column.comment ?? '', /^LLM:/);
        } else if (column.name === left && wanted.length > 1) {
          assert.equal(column.comment_source, 'offline', `${table.full_name}.${column.name}: left out by the model, filled offline`);
          assert.doesNotMatch(column.comment ?? '', /^LLM:/);
        } else {
          assert.equal(column.comment, `LLM:${column.name}`, `${table.full_name}.${column.name}: the model's comment for this very column`);
          assert.equal(column.comment_source, 'llm');
        }
      }
      if (table.full_name === 'public.customer') {
        assert.equal(table.comment, '客户');
        assert.equal(table.comment_source, 'db');
        assert.equal(table.columns.find((c) => c.name === 'Full Name')!.comment, '客户全名');
      } else {
        assert.equal(table.comment, `LLM table ${table.full_name}`);
        assert.equal(table.comment_source, 'llm');
      }
      assert.ok(!JSON.stringify(table).includes('ghost'), 'names the table does not have are ignored');
    }
    assert.equal(usage.llm_calls, TABLES.length);
    const ddl = fs.readFileSync(path.join(dir, 'order_note.ddl'), 'utf8');
    assert.match(ddl, /COMMENT ON COLUMN public\.order_note\.kind IS 'LLM:kind'; -- 注释来源: LLM/);
    const md = fs.readFileSync(path.join(dir, 'order_note_detail.md'), 'utf8');
    assert.match(md, /- kind \(varchar\(10\)\) - LLM:kind .*\[LLM生成\]/);
  });

  test('a 429 and a malformed answer are retried, then the answer is used', async () => {
    fake.reset();
    const replies = new Map<string, FakeReply[]>();
    fake.setHandler((request) => {
      const { table } = asked(request);
      if (!replies.has(table)) replies.set(table, [rateLimited(0.05), malformedBody(), { content: 'not json at all' }]);
      const queue = replies.get(table)!;
      return queue.length ? queue.shift()! : messyAnswer(request);
    });
    const dir = taskDir(['order_note']);
    const llm = createLlmClient(llmSettings(fake, { maxRetries: 3 }), undefined, { backoffBaseMs: 5, maxBackoffMs: 20 });
    await runDdlGeneration(stepContext({ dir, db, llm }));
    assert.equal(fake.chatRequests().length, 4);
    const note = readSchema(dir).tables[0]!;
    assert.equal(note.columns.find((c) => c.name === 'kind')!.comment, 'LLM:kind');
  });

  for (const [label, reply, settings] of [
    ['429s', () => rateLimited(0.01), {}],
    ['malformed JSON', () => malformedBody(), {}],
    ['prose without JSON', () => ({ content: '抱歉，我无法完成这个任务。' }), {}],
    ['timeouts', () => ({ hang: true }), { timeoutMs: 300 }],
  ] as Array<[string, () => FakeReply, Partial<LlmSettings>]>) {
    test(`${label}: retried, then LLM_ERROR; nothing is written as a comment`, async () => {
      fake.reset();
      fake.setHandler(reply);
      const dir = taskDir(['order_note']);
      const llm = createLlmClient(llmSettings(fake, { maxRetries: 1, ...settings }), undefined, { backoffBaseMs: 5, maxBackoffMs: 20, maxRetryAfterMs: 50 });
      await assert.rejects(runDdlGeneration(stepContext({ dir, db, llm })), (error: unknown) => {
        assert.ok(error instanceof StepError);
        assert.equal(error.code, 'LLM_ERROR');
        assert.match(error.message, /order_note/);
        return true;
      });
      assert.equal(fake.chatRequests().length, 2, 'one retry');
      assert.ok(!fs.existsSync(path.join(dir, 'schema.json')), 'no output written');
      await fake.idle(2_000);
    });
  }

  test('one table whose call keeps failing gets offline comments; the others keep theirs; roles and entity from the model', async () => {
    fake.reset();
    fake.setHandler((request) => {
      const { table } = asked(request);
      if (table === 'public.order_note') return serverError(503, 'upstream overloaded');
      const base = messyAnswer(request);
      if (table !== 'public.customer') return base;
      return jsonReply({ table_comment: 'LLM table', entity: { zh: '顾客', en: 'customer' }, columns: {}, roles: { email: 'contact' }, relationships: [] });
    });
    const dir = taskDir(['customer', 'order_note', 'public.product']);
    const llm = createLlmClient(llmSettings(fake, { maxRetries: 1 }), undefined, { backoffBaseMs: 5, maxBackoffMs: 20, maxRetryAfterMs: 50 });
    const ctx = stepContext({ dir, db, llm });
    const result = await runDdlGeneration(ctx);
    const schema = readSchema(dir);
    assert.equal(schema.tables.length, 3, 'the step completes');
    const note = schema.tables.find((t) => t.name === 'order_note')!;
    assert.equal(note.annotation, 'offline');
    assert.ok(note.columns.every((c) => c.comment_source !== 'llm'));
    const product = schema.tables.find((t) => t.name === 'product')!;
    assert.equal(product.annotation, 'llm');
    assert.ok(product.columns.some((c) => c.comment_source === 'llm'), 'the other tables keep their LLM comments');
    assert.equal(result.counters?.llm_fallback_tables, 1);
    const customer = schema.tables.find((t) => t.name === 'customer')!;
    assert.deepEqual(customer.entity, { zh: '顾客', en: 'customer', source: 'llm' });
    assert.ok(ctx.logs.some((l) => l.level === 'WARNING' && /order_note/.test(l.message)));
  });

  test('continue_on_error: an LLM failure becomes a warning; offline comments, never the error text', async () => {
    fake.reset();
    fake.setHandler(scripted(rateLimited(0.01)));
    const dir = taskDir(['order_note', 'customer']);
    const llm = createLlmClient(llmSettings(fake, { maxRetries: 1 }), undefined, { backoffBaseMs: 5, maxBackoffMs: 20, maxRetryAfterMs: 50 });
    const ctx = stepContext({ dir, db, llm, parameters: { continue_on_error: true } });
    await runDdlGeneration(ctx);
    const schema = readSchema(dir);
    assert.equal(schema.tables.length, 2);
    assert.deepEqual(schema.failed_tables?.map((f) => f.code).sort(), ['LLM_ERROR', 'LLM_ERROR']);
    assert.equal(schema.llm_model, null);
    for (const t of schema.tables) {
      for (const c of [t, ...t.columns]) {
        assert.notEqual(c.comment_source, 'llm');
        assert.doesNotMatch(c.comment ?? '', /429|rate limit|LLM/i);
      }
    }
    assert.ok(ctx.logs.some((l) => l.level === 'WARNING' && /LLM_ERROR/.test(l.message)));
  });
});
