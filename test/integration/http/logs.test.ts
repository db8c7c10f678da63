// The HTTP API end to end: the task log (§5.1, §5.2) and the event stream
// (SSE). A real listening server over a store database of this file's
// own (test/helpers/http-api.ts); every happy path with the guide's field names, every invalid input.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { activeEventStreams } from '../../../src/http/events.ts';
import { waitFor } from '../../helpers/server.ts';
import { noServerErrors, useApiServer, LOCAL_ISO_RE, LOG_TS_RE, stepOptions, server, api, seen, req, expectOk, expectError, createTask, createReadyTask, execute, runToEnd } from '../../helpers/http-api.ts';

useApiServer();

// ------------------------------------------------------------------------------------------------- logs

describe('GET /tasks/{id}/logs (guide §5.1) and POST /tasks/{id}/logs/query (§5.2)', () => {
  let id = '';
  let logFile = '';
  const crafted = [
    '2020-01-01 10:00:00 [ERROR] SQLValidator: SQL验证失败，尝试LLM修复 needle-alpha',
    '2020-01-01 10:00:05 [WARNING] QAGenerator: 主题生成较慢 needle-beta',
    'second line of the warning',
    '2020-01-01 10:00:10 [INFO] DDLMDGenerator: 开始处理表: bss_company needle-gamma',
    '2020-01-02 09:00:00 [CRITICAL] TrainingDataLoader: needle-delta',
  ];

  before(async () => {
    id = await createReadyTask();
    assert.equal((await runToEnd(id)).status, 'completed');
    logFile = path.join(server.app.service.taskDir(id), 'data_pipeline.log');
    fs.appendFileSync(logFile, `${crafted.join('\n')}\n`);
  });

  it('returns the last entries with the guide fields', async () => {
    const data = expectOk(await req(`${api}/tasks/${id}/logs`), 200, '获取任务日志成功');
    assert.equal(data.task_id, id);
    assert.equal(data.source, 'file');
    assert.equal(data.log_file, logFile);
    assert.ok(data.total >= 10, `total ${data.total}`);
    assert.equal(data.logs.length, data.total);
    for (const entry of data.logs) {
      assert.deepEqual(Object.keys(entry).sort(), ['level', 'logger', 'message', 'timestamp']);
      assert.match(entry.timestamp, LOG_TS_RE);
    }
    assert.ok(data.logs.some((e: any) => e.logger === 'SchemaWorkflowOrchestrator'));
    assert.deepEqual(data.logs.at(-1), { timestamp: '2020-01-02 09:00:00', level: 'CRITICAL', logger: 'TrainingDataLoader', message: 'needle-delta' });
  });

  it('limit takes the last N entries; level filters', async () => {
    const two = expectOk(await req(`${api}/tasks/${id}/logs?limit=2`), 200);
    assert.equal(two.total, 2);
    assert.deepEqual(two.logs.map((e: any) => e.message), ['开始处理表: bss_company needle-gamma', 'needle-delta']);
    const errors = expectOk(await req(`${api}/tasks/${id}/logs?level=ERROR`), 200);
    assert.deepEqual(errors.logs.map((e: any) => e.message), ['SQL验证失败，尝试LLM修复 needle-alpha']);
    const warnings = expectOk(await req(`${api}/tasks/${id}/logs?level=warn&limit=5`), 200);
    assert.equal(warnings.total, 1);
    assert.equal(warnings.logs[0].level, 'WARNING');
    assert.equal(warnings.logs[0].message, '主题生成较慢 needle-beta\nsecond line of the warning');
    const info = expectOk(await req(`${api}/tasks/${id}/logs?level=INFO&limit=1000`), 200);
    assert.ok(info.total >= 8);
    for (const e of info.logs) assert.equal(e.level, 'INFO');
  });

  it('refuses invalid limit and unknown level; 404 for an unknown task', async () => {
    for (const limit of ['0', 'abc', '-5', '100001', '']) {
      expectError(await req(`${api}/tasks/${id}/logs?limit=${limit}`), 400, 'VALIDATION_ERROR', { param: 'limit' });
    }
    for (const level of ['LOUD', 'verbose', '']) {
      expectError(await req(`${api}/tasks/${id}/logs?level=${level}`), 400, 'VALIDATION_ERROR', { param: 'level' });
    }
    expectError(await req(`${api}/tasks/task_19990101_000000/logs`), 404, 'TASK_NOT_FOUND');
    expectError(await req(`${api}/tasks/bad.id/logs`), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
  });

  const query = (body: unknown) => req(`${api}/tasks/${id}/logs/query`, { method: 'POST', json: body });

  it('answers with the guide fields: logs with step and line_number, pagination, log_file_info, query_time', async () => {
    const data = expectOk(await query({}), 200, '高级日志查询成功');
    assert.equal(data.task_id, id);
    assert.deepEqual(Object.keys(data.pagination).sort(), ['has_next', 'has_prev', 'page', 'page_size', 'total', 'total_pages']);
    assert.equal(data.pagination.page, 1);
    assert.equal(data.pagination.page_size, 50);
    const lines = fs.readFileSync(logFile, 'utf8').split('\n').filter((l) => /^\d{4}-\d{2}-\d{2} /.test(l));
    assert.equal(data.pagination.total, lines.length);
    assert.equal(data.log_file_info.exists, true);
    assert.equal(data.log_file_info.file_path, logFile);
    assert.equal(data.log_file_info.file_size, fs.statSync(logFile).size);
    assert.match(data.log_file_info.last_modified, LOCAL_ISO_RE);
    assert.match(data.query_time, /^\d+\.\d{3}s$/);
    for (const entry of data.logs) {
      assert.equal(typeof entry.line_number, 'number');
      assert.match(entry.timestamp, LOG_TS_RE);
      for (const key of ['level', 'logger', 'message']) assert.equal(typeof entry[key], 'string');
    }
    // Default order: newest first.
    const stamps = data.logs.map((e: any) => e.timestamp);
    assert.deepEqual(stamps, [...stamps].sort().reverse());
    const qa = data.logs.find((e: any) => e.logger === 'QAGenerator' && !e.message.includes('needle'));
    assert.equal(qa.step, 'qa_generation');
  });

  it('filters by level, keyword, logger_name and step_name', async () => {
    const errors = expectOk(await query({ level: 'error' }), 200);
    assert.equal(errors.pagination.total, 1);
    assert.deepEqual(errors.logs[0], {
      timestamp: '2020-01-01 10:00:00',
      level: 'ERROR',
      logger: 'SQLValidator',
      step: 'sql_validation',
      message: 'SQL验证失败，尝试LLM修复 needle-alpha',
      line_number: fs.readFileSync(logFile, 'utf8').split('\n').indexOf(crafted[0]!) + 1,
    });
    const keyword = expectOk(await query({ keyword: 'NEEDLE-BETA' }), 200);
    assert.equal(keyword.pagination.total, 1);
    assert.equal(keyword.logs[0].message, '主题生成较慢 needle-beta\nsecond line of the warning');
    const continuation = expectOk(await query({ keyword: 'second line of' }), 200);
    assert.equal(continuation.pagination.total, 1);
    const chinese = expectOk(await query({ keyword: 'SQL验证' }), 200);
    assert.equal(chinese.pagination.total, 1);
    const logger = expectOk(await query({ logger_name: 'sqlvalid', page_size: 1000 }), 200);
    assert.ok(logger.pagination.total >= 3, `${logger.pagination.total}`);
    for (const e of logger.logs) assert.equal(e.logger, 'SQLValidator');
    const step = expectOk(await query({ step_name: 'qa_generation', page_size: 1000 }), 200);
    assert.ok(step.pagination.total >= 3);
    for (const e of step.logs) assert.equal(e.step, 'qa_generation');
    assert.ok(step.logs.some((e: any) => e.message.includes('needle-beta')));
    const none = expectOk(await query({ keyword: 'no-such-text-anywhere' }), 200);
    assert.deepEqual(none.pagination, { page: 1, page_size: 50, total: 0, total_pages: 0, has_next: false, has_prev: false });
    assert.deepEqual(none.logs, []);
  });

  it('filters by time range (with T, with a space, date only)', async () => {
    const total = async (range: Record<string, string>) => expectOk(await query(range), 200).pagination.total as number;
    assert.equal(await total({ start_time: '2020-01-01T10:00:00', end_time: '2020-01-01T10:00:05' }), 2);
    assert.equal(await total({ start_time: '2020-01-01 10:00:01', end_time: '2020-01-01 10:00:10' }), 2);
    assert.equal(await total({ start_time: '2020-01-01', end_time: '2020-01-01' }), 3, 'a date-only end is the end of that day');
    assert.equal(await total({ start_time: '2020-01-01', end_time: '2020-01-02' }), 4);
    assert.equal(await total({ end_time: '2020-01-31' }), 4);
    const all = await total({});
    assert.equal(await total({ start_time: '2020-02-01' }), all - 4);
  });

  it('sorts and pages', async () => {
    const asc = expectOk(await query({ sort_by: 'timestamp', sort_order: 'asc', page_size: 3 }), 200);
    assert.equal(asc.logs[0].message, 'SQL验证失败，尝试LLM修复 needle-alpha');
    assert.deepEqual(asc.logs.map((e: any) => e.timestamp), ['2020-01-01 10:00:00', '2020-01-01 10:00:05', '2020-01-01 10:00:10']);
    const byLevel = expectOk(await query({ sort_by: 'level', sort_order: 'desc', page_size: 2 }), 200);
    assert.deepEqual(byLevel.logs.map((e: any) => e.level), ['CRITICAL', 'ERROR']);
    const byLine = expectOk(await query({ sort_by: 'line_number', sort_order: 'asc', page_size: 1000 }), 200);
    const numbers = byLine.logs.map((e: any) => e.line_number);
    assert.deepEqual(numbers, [...numbers].sort((a: number, b: number) => a - b));
    assert.equal(numbers[0], 1);
    const byLogger = expectOk(await query({ sort_by: 'logger', sort_order: 'asc', page_size: 1000 }), 200);
    const loggers = byLogger.logs.map((e: any) => e.logger);
    assert.deepEqual(loggers, [...loggers].sort());

    const p1 = expectOk(await query({ sort_by: 'line_number', sort_order: 'asc', page: 1, page_size: 4 }), 200);
    const p2 = expectOk(await query({ sort_by: 'line_number', sort_order: 'asc', page: 2, page_size: 4 }), 200);
    assert.equal(p1.pagination.total, p2.pagination.total);
    assert.equal(p1.pagination.total_pages, Math.ceil(p1.pagination.total / 4));
    assert.equal(p1.pagination.has_next, true);
    assert.equal(p1.pagination.has_prev, false);
    assert.equal(p2.pagination.page, 2);
    assert.equal(p2.pagination.has_prev, true);
    assert.deepEqual([...p1.logs, ...p2.logs].map((e: any) => e.line_number), numbers.slice(0, 8));
    const beyond = expectOk(await query({ page: 999 }), 200);
    assert.deepEqual(beyond.logs, []);
    assert.equal(beyond.pagination.has_next, false);
  });

  it('refuses invalid step_name, sort_by, sort_order, page, level, times and unknown fields', async () => {
    const cases: Array<[Record<string, unknown>, string]> = [
      [{ step_name: 'bogus' }, 'step_name'],
      [{ sort_by: 'message' }, 'sort_by'],
      [{ sort_order: 'up' }, 'sort_order'],
      [{ page: 0 }, 'page'],
      [{ page: 'x' }, 'page'],
      [{ page_size: 0 }, 'page_size'],
      [{ page_size: 5000 }, 'page_size'],
      [{ level: 'LOUD' }, 'level'],
      [{ start_time: 'yesterday' }, 'start_time'],
      [{ end_time: '2025/06/27' }, 'end_time'],
      [{ start_time: '2025-13-45' }, 'start_time'],
      [{ end_time: '2025-06-27T25:00:00' }, 'end_time'],
      [{ keyword: 5 }, 'keyword'],
      [{ grep: 'x' }, 'grep'],
    ];
    for (const [body, param] of cases) {
      expectError(await query(body), 400, 'VALIDATION_ERROR', { param });
    }
    expectError(await req(`${api}/tasks/${id}/logs/query`, { method: 'POST', headers: { 'Content-Type': 'application/json' }, body: '{bad' }), 400, 'VALIDATION_ERROR', { mention: /JSON/ });
    expectError(await req(`${api}/tasks/task_19990101_000000/logs/query`, { method: 'POST', json: {} }), 404, 'TASK_NOT_FOUND');
  });
});

// ------------------------------------------------------------------------------------------------- SSE

describe('GET /tasks/{id}/events (Server-Sent Events)', () => {
  it('streams status, log and end events while a task runs', async () => {
    const id = await createReadyTask();
    const controller = new AbortController();
    const response = await fetch(`${api}/tasks/${id}/events`, { signal: controller.signal });
    seen.push({ method: 'GET', url: `${api}/tasks/${id}/events`, status: response.status });
    assert.equal(response.status, 200);
    assert.match(String(response.headers.get('content-type')), /^text\/event-stream/);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    const events: Array<{ event: string; data: any }> = [];
    let buffer = '';
    const readUntilEnd = (async () => {
      for (;;) {
        const { value, done } = await reader.read();
        if (done) return;
        buffer += decoder.decode(value, { stream: true });
        let boundary = buffer.indexOf('\n\n');
        while (boundary >= 0) {
          const block = buffer.slice(0, boundary);
          buffer = buffer.slice(boundary + 2);
          const event = /^event: (.+)$/m.exec(block)?.[1];
          const data = /^data: (.+)$/m.exec(block)?.[1];
          if (event) events.push({ event, data: data ? JSON.parse(data) : undefined });
          if (event === 'end') return;
          boundary = buffer.indexOf('\n\n');
        }
      }
    })();
    try {
      stepOptions.durationMs = 400;
      await execute(id);
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        readUntilEnd,
        new Promise((_, reject) => {
          timer = setTimeout(() => reject(new Error(`no end event; got ${events.map((e) => e.event).join(',')}`)), 20_000);
        }),
      ]).finally(() => clearTimeout(timer));
    } finally {
      stepOptions.durationMs = 0;
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }
    const kinds = new Set(events.map((e) => e.event));
    for (const kind of ['status', 'log', 'end']) assert.ok(kinds.has(kind), `no ${kind} event: ${[...kinds].join(',')}`);
    const statuses = events.filter((e) => e.event === 'status').map((e) => e.data.status);
    assert.equal(statuses[0], 'pending');
    assert.ok(statuses.includes('in_progress'));
    assert.equal(statuses.at(-1), 'completed');
    assert.equal(events.filter((e) => e.event === 'status')[0]!.data.task_id, id);
    const logs = events.filter((e) => e.event === 'log').map((e) => e.data);
    assert.ok(logs.some((l) => /开始执行Schema工作流编排/.test(l.message)), JSON.stringify(logs.slice(0, 3)));
    for (const l of logs) assert.match(l.timestamp, LOG_TS_RE);
    assert.deepEqual(events.at(-1), { event: 'end', data: { task_id: id, status: 'completed' } });
  });

  it('log_offset of GET /logs makes the stream continue the log exactly there: nothing lost, nothing twice', async () => {
    const id = await createTask();
    const logger = server.app.service.taskLogger(id);
    logger.write('INFO', 'OffsetTest', 'before the snapshot');
    const snapshot = expectOk(await req(`${api}/tasks/${id}/logs?limit=50`), 200);
    assert.ok(snapshot.logs.some((l: any) => l.message === 'before the snapshot'));
    assert.equal(typeof snapshot.log_offset, 'number');
    logger.write('INFO', 'OffsetTest', 'between the snapshot and the stream');
    const controller = new AbortController();
    const response = await fetch(`${api}/tasks/${id}/events?log_offset=${snapshot.log_offset}`, { signal: controller.signal });
    assert.equal(response.status, 200);
    const reader = response.body!.getReader();
    const decoder = new TextDecoder();
    let text = '';
    const deadline = Date.now() + 10_000;
    try {
      while (!text.includes('between the snapshot') && Date.now() < deadline) {
        const { value, done } = await reader.read();
        if (done) break;
        text += decoder.decode(value, { stream: true });
      }
    } finally {
      controller.abort();
      await reader.cancel().catch(() => undefined);
    }
    const messages = [...text.matchAll(/^event: log\ndata: (.+)$/gm)].map((m) => JSON.parse(m[1]!).message);
    assert.ok(messages.includes('between the snapshot and the stream'), messages.join(' | '));
    assert.ok(!messages.includes('before the snapshot'), 'a line of the snapshot came again');
    for (const bad of ['-1', 'abc', '1.5']) expectError(await req(`${api}/tasks/${id}/events?log_offset=${bad}`), 400, 'VALIDATION_ERROR', { mention: 'log_offset' });
  });

  it('a client that leaves before the stream starts leaves nothing running on the server', async () => {
    const id = await createTask();
    const { port } = new URL(server.baseUrl);
    // Streams of earlier tests end when their clients' sockets close: wait for that first.
    await waitFor(async () => activeEventStreams() === 0, 5000);
    // Gone while the route still reads the task and the log: its 'close' comes before the stream is set up.
    for (let i = 0; i < 20; i += 1) {
      const socket = net.connect(Number(port), '127.0.0.1');
      await new Promise<void>((resolve) => socket.once('connect', () => resolve()));
      socket.end(`GET /api/v0/data_pipeline/tasks/${id}/events HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n`);
      socket.destroy();
    }
    await new Promise((resolve) => setTimeout(resolve, 1500));
    // A stream left behind would keep two intervals (poll and keep-alive) forever.
    assert.equal(activeEventStreams(), 0);
  });

  it('answers 404 before streaming for an unknown task, 400 for an invalid id', async () => {
    expectError(await req(`${api}/tasks/task_19990101_000000/events`), 404, 'TASK_NOT_FOUND');
    expectError(await req(`${api}/tasks/bad.id/events`), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
  });
});

noServerErrors();
