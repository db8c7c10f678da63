// The LLM layer against a real OpenAI-compatible HTTP server (test/helpers/fake-openai.ts), through the
// real openai client: retries, Retry-After, timeouts, JSON mode and its fallback, JSON extraction,
// accounting, concurrency, cancellation; and the fake server's embeddings.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import OpenAI from 'openai';
import { z } from 'zod';
import type { LlmSettings } from '../../src/config.ts';
import { createLlmClient, extractJson, LlmError, renderPrompt, retryAfterMs, stripThinking } from '../../src/llm/index.ts';
import {
  fakeEmbedding,
  inlineProse,
  jsonReply,
  malformedBody,
  proseWrapped,
  rateLimited,
  scripted,
  serverError,
  startFakeOpenAI,
  thinkWrapped,
  truncatedReply,
  type FakeOpenAI,
} from '../helpers/fake-openai.ts';

function settings(fake: FakeOpenAI, extra: Partial<LlmSettings> = {}): LlmSettings {
  return { baseUrl: fake.baseUrl, apiKey: 'sk-test', model: 'fake-model', temperature: 0.2, timeoutMs: 5_000, concurrency: 4, maxRetries: 3, jsonMode: true, ...extra };
}
const fast = { backoffBaseMs: 5, maxBackoffMs: 20 };
const Answer = z.object({ answer: z.number() });

describe('extractJson', () => {
  test('bare, fenced, prose-wrapped, <think>-wrapped, trailing commas', () => {
    assert.deepEqual(extractJson('{"a":1}').value, { a: 1 });
    assert.deepEqual(extractJson('Here:\n```json\n{"a": [1,2]}\n```\nDone.').value, { a: [1, 2] });
    assert.deepEqual(extractJson('结果是 {"a": "x}y"} 以上').value, { a: 'x}y' });
    assert.deepEqual(extractJson('<think>maybe {"a": 0}?</think>\n{"a": 2}').value, { a: 2 });
    assert.deepEqual(extractJson('{"a": [1, 2,],}').value, { a: [1, 2] });
    assert.deepEqual(extractJson('[{"q": "a"}, {"q": "b"}]').value, [{ q: 'a' }, { q: 'b' }]);
    assert.equal(stripThinking('<think>unterminated reasoning'), '');
    assert.equal(stripThinking('tail of reasoning</think> answer'), 'answer');
  });

  test('a truncated array keeps its complete elements', () => {
    const full = { pairs: [{ q: 'a', s: 'SELECT 1' }, { q: 'b', s: 'SELECT 2' }, { q: 'c', s: 'SELECT 3' }] };
    const text = JSON.stringify(full);
    const cut = text.slice(0, text.indexOf('"c"') + 2);
    const result = extractJson(cut);
    assert.equal(result.partial, true);
    assert.deepEqual(result.value, { pairs: full.pairs.slice(0, 2) });
    const arr = JSON.stringify(full.pairs);
    assert.deepEqual(extractJson(arr.slice(0, arr.length - 5)).value, full.pairs.slice(0, 2));
  });

  test('nothing usable throws', () => {
    assert.throws(() => extractJson('I cannot help with that.'), /no JSON found/);
    assert.throws(() => extractJson(''), /no JSON found/);
  });
});

describe('retryAfterMs and prompts', () => {
  test('seconds, ms, HTTP date', () => {
    assert.equal(retryAfterMs(new Headers({ 'retry-after': '2' })), 2000);
    assert.equal(retryAfterMs(new Headers({ 'retry-after-ms': '150', 'retry-after': '1' })), 150);
    const inFuture = new Date(Date.now() + 3000).toUTCString();
    const ms = retryAfterMs(new Headers({ 'retry-after': inFuture }))!;
    assert.ok(ms > 1000 && ms <= 3000, String(ms));
    assert.equal(retryAfterMs(new Headers()), undefined);
  });

  test('templates render per language and refuse missing values', () => {
    const t = { id: 't', version: 2, system: { zh: '你是{{role}}', en: 'You are {{role}}' }, user: { zh: '表:{{n}}', en: 'tables: {{n}}' } };
    const r = renderPrompt(t, 'en', { role: 'analyst', n: 3 });
    assert.equal(r.messages[0]!.content, 'You are analyst');
    assert.equal(r.messages[1]!.content, 'tables: 3');
    assert.throws(() => renderPrompt(t, 'zh', { role: 'x' }), /no value for \{\{n\}\}/);
  });
});

describe('createLlmClient against the fake OpenAI server', () => {
  let fake: FakeOpenAI;
  before(async () => {
    fake = await startFakeOpenAI();
  });
  after(() => fake.close());

  test('JSON mode, model, temperature, API key and usage accounting', async () => {
    fake.reset();
    fake.setHandler(() => ({ ...jsonReply({ answer: 42 }), usage: { prompt_tokens: 11, completion_tokens: 7 } }));
    const seen: Array<Record<string, number>> = [];
    const llm = createLlmClient(settings(fake), (c) => seen.push(c), fast);
    assert.deepEqual(await llm.chatJson([{ role: 'user', content: 'json please' }], Answer, { purpose: 'test' }), { answer: 42 });
    const [req] = fake.chatRequests();
    assert.deepEqual(req!.body.response_format, { type: 'json_object' });
    assert.equal(req!.body.model, 'fake-model');
    assert.equal(req!.body.temperature, 0.2);
    assert.equal(req!.headers.authorization, 'Bearer sk-test');
    assert.deepEqual(llm.usage, { llm_calls: 1, llm_failures: 0, prompt_tokens: 11, completion_tokens: 7, llm_cache_hits: 0 });
    const sum: Record<string, number> = {};
    for (const c of seen) for (const [k, v] of Object.entries(c)) sum[k] = (sum[k] ?? 0) + v;
    assert.deepEqual(sum, { llm_calls: 1, prompt_tokens: 11, completion_tokens: 7 });
  });

  test('prose-wrapped, inline-prose and <think>-wrapped JSON are extracted', async () => {
    for (const reply of [proseWrapped({ answer: 1 }), inlineProse({ answer: 2 }), thinkWrapped({ answer: 3 })]) {
      fake.setHandler(() => reply);
      const llm = createLlmClient(settings(fake), undefined, fast);
      const got = await llm.chatJson([{ role: 'user', content: 'json' }], Answer, { purpose: 'test' });
      assert.ok([1, 2, 3].includes(got.answer));
    }
    fake.setHandler(() => thinkWrapped({ answer: 0 }).content!.replace(/\{"answer":0\}/, 'plain text'));
    const llm = createLlmClient(settings(fake), undefined, fast);
    assert.equal(await llm.chatText([{ role: 'user', content: 'hi' }], { purpose: 'text' }), 'plain text');
  });

  test('a server that refuses response_format: falls back to extraction, once, for the client', async () => {
    const refusing = await startFakeOpenAI({ rejectJsonMode: true, handler: () => proseWrapped({ answer: 5 }) });
    try {
      const llm = createLlmClient(settings(refusing), undefined, fast);
      assert.equal((await llm.chatJson([{ role: 'user', content: 'json' }], Answer, { purpose: 't' })).answer, 5);
      assert.equal((await llm.chatJson([{ role: 'user', content: 'json' }], Answer, { purpose: 't' })).answer, 5);
      const sent = refusing.chatRequests().map((r) => Boolean(r.body.response_format));
      assert.deepEqual(sent, [true, false, false]);
      assert.equal(llm.jsonMode, false);
    } finally {
      await refusing.close();
    }
  });

  test('malformed and schema-invalid answers are retried with the error shown to the model', async () => {
    fake.reset();
    fake.setHandler(scripted('not json at all', jsonReply({ answer: 'forty-two' }), jsonReply({ answer: 42 })));
    const warnings: string[] = [];
    const llm = createLlmClient(settings(fake), undefined, fast);
    const got = await llm.chatJson([{ role: 'user', content: 'json' }], Answer, { purpose: 'repair', log: { debug() {}, warn: (m) => warnings.push(m) } });
    assert.equal(got.answer, 42);
    const reqs = fake.chatRequests();
    assert.equal(reqs.length, 3);
    assert.equal(reqs[1]!.body.messages.at(-2).role, 'assistant');
    assert.match(reqs[1]!.body.messages.at(-1).content, /no JSON found/);
    assert.match(reqs[2]!.body.messages.at(-1).content, /answer: /);
    assert.equal(reqs[2]!.body.messages.length, 3, 'the repair turn replaces the previous one');
    assert.deepEqual(llm.usage.llm_calls, 3);
    assert.deepEqual(llm.usage.llm_failures, 2);
    assert.equal(warnings.length, 2);
  });

  test('gives up after maxRetries with LlmError (LLM_ERROR)', async () => {
    fake.reset();
    fake.setHandler(() => 'never json');
    const llm = createLlmClient(settings(fake, { maxRetries: 2 }), undefined, fast);
    await assert.rejects(llm.chatJson([{ role: 'user', content: 'json' }], Answer, { purpose: 'x' }), (e: unknown) => {
      assert.ok(e instanceof LlmError);
      assert.equal(e.code, 'LLM_ERROR');
      assert.equal(e.attempts, 3);
      assert.match(e.message, /LLM x failed after 3 attempt/);
      return true;
    });
    assert.equal(fake.chatRequests().length, 3);
  });

  test('429 honours Retry-After (client-wide pause), 500 and a malformed body are retried', async () => {
    fake.reset();
    fake.setHandler(scripted(rateLimited(0.3), serverError(503), malformedBody(), jsonReply({ answer: 7 })));
    const llm = createLlmClient(settings(fake), undefined, { backoffBaseMs: 5, maxBackoffMs: 10 });
    const t0 = Date.now();
    assert.equal((await llm.chatJson([{ role: 'user', content: 'json' }], Answer, { purpose: 'r' })).answer, 7);
    const reqs = fake.chatRequests();
    assert.equal(reqs.length, 4);
    assert.ok(reqs[1]!.receivedAt - reqs[0]!.answeredAt! >= 280, `waited ${reqs[1]!.receivedAt - reqs[0]!.answeredAt!} ms after the 429`);
    assert.ok(Date.now() - t0 < 3000);
    assert.equal(llm.usage.llm_failures, 3);
    // A non-retryable status fails at once.
    fake.reset();
    fake.setHandler(() => serverError(401, 'bad key'));
    await assert.rejects(llm.chatText([{ role: 'user', content: 'x' }], { purpose: 'auth' }), (e: LlmError) => e.status === 401);
    assert.equal(fake.chatRequests().length, 1);
  });

  test('a 429 storm: every call waits out Retry-After and all succeed', async () => {
    fake.reset();
    let n = 0;
    fake.setHandler(() => (n++ < 12 ? rateLimited(0.2) : jsonReply({ answer: 1 })));
    const llm = createLlmClient(settings(fake, { concurrency: 4, maxRetries: 6 }), undefined, fast);
    const results = await Promise.all(Array.from({ length: 6 }, () => llm.chatJson([{ role: 'user', content: 'json' }], Answer, { purpose: 'storm' })));
    assert.equal(results.length, 6);
    assert.ok(fake.maxInFlight <= 4);
    assert.equal(llm.usage.llm_failures, 12);
    assert.equal(llm.usage.llm_calls, 18);
  });

  test('timeouts are retried, then reported', async () => {
    fake.reset();
    fake.setHandler(scripted({ hang: true }, jsonReply({ answer: 9 })));
    const llm = createLlmClient(settings(fake, { timeoutMs: 200 }), undefined, fast);
    assert.equal((await llm.chatJson([{ role: 'user', content: 'json' }], Answer, { purpose: 'slow' })).answer, 9);
    fake.setHandler(() => ({ delayMs: 1000 }));
    const llm2 = createLlmClient(settings(fake, { timeoutMs: 150, maxRetries: 1 }), undefined, fast);
    await assert.rejects(llm2.chatText([{ role: 'user', content: 'x' }], { purpose: 'slow' }), /timed out after 150 ms/);
  });

  test('concurrency limit per client, and cancellation', async () => {
    await fake.idle();
    fake.reset();
    fake.setHandler(() => ({ ...jsonReply({ answer: 1 }), delayMs: 60 }));
    const llm = createLlmClient(settings(fake, { concurrency: 2 }), undefined, fast);
    await Promise.all(Array.from({ length: 6 }, () => llm.chatJson([{ role: 'user', content: 'json' }], Answer, { purpose: 'c' })));
    assert.equal(fake.maxInFlight, 2);

    const controller = new AbortController();
    fake.setHandler(() => ({ hang: true }));
    const pending = llm.chatText([{ role: 'user', content: 'x' }], { purpose: 'cancel', signal: controller.signal });
    setTimeout(() => controller.abort('cancelled'), 50);
    await assert.rejects(pending, /aborted/);
  });

  test('partial arrays: kept by default, refused with allowPartial=false', async () => {
    const pairs = { pairs: [{ q: 'a' }, { q: 'b' }, { q: 'c' }] };
    const text = JSON.stringify(pairs);
    fake.setHandler(() => truncatedReply(pairs, text.indexOf('"c"') + 1));
    const Schema = z.object({ pairs: z.array(z.object({ q: z.string() })) });
    const llm = createLlmClient(settings(fake, { maxRetries: 0 }), undefined, fast);
    assert.deepEqual(await llm.chatJson([{ role: 'user', content: 'json' }], Schema, { purpose: 'p' }), { pairs: pairs.pairs.slice(0, 2) });
    await assert.rejects(llm.chatJson([{ role: 'user', content: 'json' }], Schema, { purpose: 'p', allowPartial: false }), /cut off/);
  });

  test('no usage reported: tokens are estimated', async () => {
    fake.setHandler(() => ({ ...jsonReply({ answer: 1 }), usage: null }));
    const llm = createLlmClient(settings(fake), undefined, fast);
    await llm.chatJson([{ role: 'user', content: 'json please, twelve chars' }], Answer, { purpose: 'e' });
    assert.ok(llm.usage.prompt_tokens > 0 && llm.usage.completion_tokens > 0);
  });
});

describe('fake server embeddings', () => {
  test('float and base64 through the real openai client, deterministic, dimensions honoured', async () => {
    const fake = await startFakeOpenAI({ embeddingDim: 16 });
    try {
      const client = new OpenAI({ baseURL: fake.baseUrl, apiKey: 'k', maxRetries: 0 });
      const floats = await client.embeddings.create({ model: 'e', input: ['服务区', 'b'], encoding_format: 'float' });
      assert.equal(floats.data.length, 2);
      assert.equal(floats.data[0]!.embedding.length, 16);
      assert.deepEqual(floats.data[0]!.embedding, fakeEmbedding('服务区', 16));
      const b64 = await client.embeddings.create({ model: 'e', input: '服务区' });
      assert.equal(b64.data[0]!.embedding.length, 16);
      assert.ok(Math.abs(b64.data[0]!.embedding[0]! - fakeEmbedding('服务区', 16)[0]!) < 1e-6);
      const dims = await client.embeddings.create({ model: 'e', input: 'x', dimensions: 4, encoding_format: 'float' });
      assert.equal(dims.data[0]!.embedding.length, 4);
      assert.equal(fake.embeddingRequests().length, 3);
      assert.equal(fake.embeddingRequests()[0]!.body.encoding_format, 'float');
    } finally {
      await fake.close();
    }
  });
});
