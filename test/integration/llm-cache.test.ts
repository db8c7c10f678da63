// The task's LLM cache (src/llm/cache.ts) with the real client against the fake OpenAI-compatible server:
// the same request is answered once; only accepted answers are kept (not a 503, not an answer the schema
// refused); what decides the answer is in the key, the API key is in neither key nor file; a link where
// the cache folder should be is refused and never written through; a damaged entry is a miss.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { z } from 'zod';
import type { LlmSettings } from '../../src/config.ts';
import { LLM_CACHE_DIR, TaskDirectoryLlmCache } from '../../src/llm/cache.ts';
import { createLlmClient } from '../../src/llm/client.ts';
import { jsonReply, proseWrapped, serverError, startFakeOpenAI, type FakeOpenAI, type FakeReply } from '../helpers/fake-openai.ts';
import { makeTempDir } from '../helpers/server.ts';

const KEY = 'sk-cache-test-secret-7781';
const Answer = z.object({ answer: z.number() });
const ask = [{ role: 'user' as const, content: 'What is 6 × 7? Answer {"answer": n}.' }];

let fake: FakeOpenAI;
let next: () => FakeReply = () => jsonReply({ answer: 42 });

before(async () => {
  fake = await startFakeOpenAI({ handler: () => next(), apiKey: KEY });
});
after(async () => {
  await fake?.close();
});

function settings(extra: Partial<LlmSettings> = {}): LlmSettings {
  return { baseUrl: fake.baseUrl, apiKey: KEY, model: 'fake-model', temperature: 0.2, timeoutMs: 5_000, concurrency: 2, maxRetries: 1, jsonMode: true, ...extra };
}

function client(dir: string, extra: Partial<LlmSettings> = {}) {
  const counters: Record<string, number> = {};
  const warnings: string[] = [];
  const llm = createLlmClient(settings(extra), (c) => {
    for (const [k, v] of Object.entries(c)) counters[k] = (counters[k] ?? 0) + v;
  }, { backoffBaseMs: 5, maxBackoffMs: 20, cache: new TaskDirectoryLlmCache(dir) });
  const log = { debug: () => undefined, warn: (m: string) => warnings.push(m) };
  return { llm, counters, warnings, log };
}

describe('LLM cache in the task directory', () => {
  test('the same request is sent once; a second client (a re-run) is answered from llm_cache/', async () => {
    const dir = makeTempDir('dp-llm-cache-');
    next = () => proseWrapped({ answer: 42 });
    fake.reset();
    const first = client(dir);
    assert.deepEqual(await first.llm.chatJson(ask, Answer, { purpose: 'test.ask' }), { answer: 42 });
    const rerun = client(dir);
    const perCall: Array<Record<string, number>> = [];
    assert.deepEqual(await rerun.llm.chatJson(ask, Answer, { purpose: 'test.ask', onUsage: (u) => perCall.push(u as Record<string, number>) }), { answer: 42 });
    assert.equal(fake.chatRequests().length, 1);
    assert.equal(rerun.counters.llm_cache_hits, 1);
    assert.equal(rerun.counters.llm_calls, undefined);
    assert.deepEqual(perCall, [{ llm_cache_hits: 1 }], 'the call\'s own listener sees the hit');
    const files = fs.readdirSync(path.join(dir, LLM_CACHE_DIR));
    assert.equal(files.length, 1);
    const text = fs.readFileSync(path.join(dir, LLM_CACHE_DIR, files[0]!), 'utf8');
    assert.ok(!text.includes(KEY), 'the API key is not written');
    assert.equal(JSON.parse(text).purpose, 'test.ask');
    // Another temperature, model or text mode is another request.
    await client(dir, { temperature: 0.9 }).llm.chatJson(ask, Answer, { purpose: 'test.ask' });
    await client(dir).llm.chatText(ask, { purpose: 'test.ask' });
    assert.equal(fake.chatRequests().length, 3);
    // The key is not part of what identifies a request: a rotated key still replays.
    await client(dir, { apiKey: 'sk-rotated-key' }).llm.chatJson(ask, Answer, { purpose: 'test.ask' });
    assert.equal(fake.chatRequests().length, 3);
  });

  test('only accepted answers are cached: not a 503, not an answer the schema refused', async () => {
    const dir = makeTempDir('dp-llm-cache-');
    fake.reset();
    next = () => serverError(503, 'overloaded');
    const down = client(dir);
    await assert.rejects(down.llm.chatJson(ask, Answer, { purpose: 'test.ask' }), /HTTP 503/);
    assert.ok(!fs.existsSync(path.join(dir, LLM_CACHE_DIR)) || fs.readdirSync(path.join(dir, LLM_CACHE_DIR)).length === 0);
    // A wrong shape, then a right one: the right one is what a re-run replays.
    let n = 0;
    next = () => (n++ === 0 ? jsonReply({ answer: 'forty-two' }) : jsonReply({ answer: 42 }));
    assert.deepEqual(await client(dir).llm.chatJson(ask, Answer, { purpose: 'test.ask' }), { answer: 42 });
    next = () => jsonReply({ answer: 0 });
    const before = fake.chatRequests().length;
    assert.deepEqual(await client(dir).llm.chatJson(ask, Answer, { purpose: 'test.ask' }), { answer: 42 });
    assert.equal(fake.chatRequests().length, before);
  });

  test('a damaged entry is a miss and is replaced; an entry the schema no longer takes is asked again', async () => {
    const dir = makeTempDir('dp-llm-cache-');
    next = () => jsonReply({ answer: 42 });
    await client(dir).llm.chatJson(ask, Answer, { purpose: 'test.ask' });
    const [file] = fs.readdirSync(path.join(dir, LLM_CACHE_DIR));
    fs.writeFileSync(path.join(dir, LLM_CACHE_DIR, file!), '{"version": 1, "content": ');
    const before = fake.chatRequests().length;
    assert.deepEqual(await client(dir).llm.chatJson(ask, Answer, { purpose: 'test.ask' }), { answer: 42 });
    assert.equal(fake.chatRequests().length, before + 1);
    assert.equal(JSON.parse(fs.readFileSync(path.join(dir, LLM_CACHE_DIR, file!), 'utf8')).version, 1, 'rewritten whole');
    const Stricter = z.object({ answer: z.number(), unit: z.string() });
    next = () => jsonReply({ answer: 42, unit: 'none' });
    assert.deepEqual(await client(dir).llm.chatJson(ask, Stricter, { purpose: 'test.ask' }), { answer: 42, unit: 'none' });
    assert.equal(fake.chatRequests().length, before + 2);
  });

  test('a link where llm_cache/ should be is refused: the call is made, nothing is read or written through it', async () => {
    const dir = makeTempDir('dp-llm-cache-');
    const elsewhere = makeTempDir('dp-llm-cache-elsewhere-');
    fs.symlinkSync(elsewhere, path.join(dir, LLM_CACHE_DIR));
    next = () => jsonReply({ answer: 42 });
    const { llm, warnings, log } = client(dir);
    assert.deepEqual(await llm.chatJson(ask, Answer, { purpose: 'test.ask', log }), { answer: 42 });
    assert.deepEqual(fs.readdirSync(elsewhere), [], 'nothing written through the link');
    assert.ok(warnings.some((w) => /symbolic link/.test(w)), warnings.join('\n'));
    // A planted file inside a real cache folder, linking out: not followed.
    const dir2 = makeTempDir('dp-llm-cache-');
    await client(dir2).llm.chatJson(ask, Answer, { purpose: 'test.ask' });
    const [file] = fs.readdirSync(path.join(dir2, LLM_CACHE_DIR));
    const target = path.join(elsewhere, 'planted.json');
    fs.writeFileSync(target, fs.readFileSync(path.join(dir2, LLM_CACHE_DIR, file!)));
    fs.rmSync(path.join(dir2, LLM_CACHE_DIR, file!));
    fs.symlinkSync(target, path.join(dir2, LLM_CACHE_DIR, file!));
    const before = fake.chatRequests().length;
    const again = client(dir2);
    await again.llm.chatJson(ask, Answer, { purpose: 'test.ask', log: again.log });
    assert.equal(fake.chatRequests().length, before + 1, 'the linked entry was not replayed');
    assert.ok(again.warnings.some((w) => /symbolic link/.test(w)));
    assert.ok(!fs.lstatSync(path.join(dir2, LLM_CACHE_DIR, file!)).isSymbolicLink(), 'the answer replaced the link, not its target');
  });
});
