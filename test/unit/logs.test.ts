import { test, describe, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatLocalTimestamp, formatLogLine, parseLogLine } from '../../src/logs/format.ts';
import { logFileInfo, LogQueryError, queryLogEntries, tailLogEntries, toLogTimestamp } from '../../src/logs/reader.ts';
import { stepOfEntry, stepOfLogger, TaskLogger, taskLogPath } from '../../src/logs/task-logger.ts';

const at = (text: string) => new Date(text); // no zone → local time, as the log is written

let workDir: string;
before(() => {
  workDir = mkdtempSync(join(tmpdir(), 'logs-test-'));
});
after(() => {
  rmSync(workDir, { recursive: true, force: true });
});

let fileCounter = 0;
function logFile(content: string): string {
  const path = join(workDir, `log-${++fileCounter}.log`);
  writeFileSync(path, content);
  return path;
}

describe('format', () => {
  test('formats guide §7.4 lines and parses them back', () => {
    const line = formatLogLine(at('2025-07-01T14:30:53'), 'INFO', 'SchemaWorkflowOrchestrator', '🚀 开始执行Schema工作流编排');
    assert.equal(line, '2025-07-01 14:30:53 [INFO] SchemaWorkflowOrchestrator: 🚀 开始执行Schema工作流编排\n');
    assert.deepEqual(parseLogLine(line.trimEnd()), {
      timestamp: '2025-07-01 14:30:53',
      level: 'INFO',
      logger: 'SchemaWorkflowOrchestrator',
      message: '🚀 开始执行Schema工作流编排',
    });
  });

  test('keeps colons of the message and accepts an empty message or Python milliseconds', () => {
    assert.deepEqual(parseLogLine('2025-07-01 14:30:54 [INFO] DDLMDGenerator: 开始处理表: bss_business_day_data'), {
      timestamp: '2025-07-01 14:30:54',
      level: 'INFO',
      logger: 'DDLMDGenerator',
      message: '开始处理表: bss_business_day_data',
    });
    assert.equal(parseLogLine('2025-07-01 14:30:54 [INFO] X:')?.message, '');
    assert.equal(parseLogLine('2025-07-01 14:30:54,123 [ERROR] X: m')?.timestamp, '2025-07-01 14:30:54');
  });

  test('non-header lines parse as null', () => {
    for (const line of ['', '  at foo (bar.ts:1:2)', 'Traceback (most recent call last):', '2025-07-01 [INFO] X: y']) {
      assert.equal(parseLogLine(line), null, line);
    }
  });

  test('a multi-line message becomes continuation lines that cannot forge an entry', () => {
    const forged = '2025-01-01 00:00:00 [CRITICAL] Fake: injected';
    const text = formatLogLine(at('2025-07-01T14:30:53'), 'ERROR', 'SQLValidator', `failed:\r\nline two\n${forged}\n\n`);
    const lines = text.trimEnd().split('\n');
    assert.deepEqual(lines, ['2025-07-01 14:30:53 [ERROR] SQLValidator: failed:', 'line two', ` ${forged}`]);
    assert.equal(lines.slice(1).filter((line) => parseLogLine(line)).length, 0);
  });
});

describe('TaskLogger', () => {
  test('writes at or above its level, masks secrets, binds logger names', async () => {
    const path = taskLogPath(join(workDir, 'task_a'));
    const logger = new TaskLogger(path, 'INFO', { now: () => at('2025-06-27T14:30:52') });
    const ddl = logger.forLogger('DDLMDGenerator');
    ddl.debug('dropped');
    ddl.info('connecting to postgresql://pipeline:s3cret@db:5432/highway');
    ddl.warn('slow');
    ddl.error('bad');
    assert.equal(
      readFileSync(path, 'utf8'),
      '2025-06-27 14:30:52 [INFO] DDLMDGenerator: connecting to postgresql://pipeline:***@db:5432/highway\n' +
        '2025-06-27 14:30:52 [WARNING] DDLMDGenerator: slow\n' +
        '2025-06-27 14:30:52 [ERROR] DDLMDGenerator: bad\n',
    );
  });

  test('applies a custom masker to every message', () => {
    const path = join(workDir, 'masked.log');
    new TaskLogger(path, 'DEBUG', { mask: (text) => text.replaceAll('sk-123', '***') }).write('DEBUG', 'QAGenerator', 'key sk-123');
    assert.match(readFileSync(path, 'utf8'), /\[DEBUG\] QAGenerator: key \*\*\*\n$/);
  });

  test('two processes appending one after another keep every line', () => {
    const path = join(workDir, 'shared.log');
    const first = new TaskLogger(path, 'INFO');
    first.write('INFO', 'SchemaWorkflowOrchestrator', 'one');
    const loggerModule = fileURLToPath(new URL('../../src/logs/task-logger.ts', import.meta.url));
    execFileSync(process.execPath, [
      '--import', 'tsx', '--input-type=module', '-e',
      `import { TaskLogger } from ${JSON.stringify(loggerModule)};
       new TaskLogger(${JSON.stringify(path)}, 'INFO').write('INFO', 'QAGenerator', 'two from another process');`,
    ]);
    first.write('INFO', 'SchemaWorkflowOrchestrator', 'three');
    const messages = readFileSync(path, 'utf8').trimEnd().split('\n').map((line) => parseLogLine(line)?.message);
    assert.deepEqual(messages, ['one', 'two from another process', 'three']);
  });

  test('stepOfLogger and stepOfEntry map logger names and [step] prefixes', () => {
    assert.equal(stepOfLogger('DDLMDGenerator'), 'ddl_generation');
    assert.equal(stepOfLogger('QAGenerator'), 'qa_generation');
    assert.equal(stepOfLogger('SQLValidator'), 'sql_validation');
    assert.equal(stepOfLogger('TrainingDataLoader'), 'training_load');
    assert.equal(stepOfLogger('SchemaWorkflowOrchestrator'), undefined);
    assert.equal(stepOfEntry({ logger: 'SchemaWorkflowOrchestrator', message: '[qa_generation] started' }), 'qa_generation');
    assert.equal(stepOfEntry({ logger: 'SchemaWorkflowOrchestrator', message: '[not_a_step] x' }), undefined);
  });
});

// A small task log: 7 entries over 10 lines, two of them multi-line.
const SAMPLE = [
  '2025-06-27 14:30:52 [INFO] TaskDir_task_20250627_143052: 任务目录日志初始化完成',
  '2025-06-27 14:30:52 [INFO] SchemaWorkflowOrchestrator: 🚀 开始执行Schema工作流编排',
  '2025-06-27 14:30:53 [INFO] DDLMDGenerator: 开始处理表: bss_business_day_data',
  '2025-06-27 14:31:25 [ERROR] SQLValidator: SQL验证失败，尝试LLM修复',
  'ERROR:  column "x" does not exist',
  'LINE 1: SELECT x FROM t',
  '2025-06-27 14:45:00 [WARNING] QAGenerator: 主题生成较慢',
  '2025-06-27 23:59:59 [DEBUG] TrainingDataLoader: batch 3/3',
  '2025-06-28 00:00:00 [ERROR] SchemaWorkflowOrchestrator: [training_load] 加载失败',
  '  at load (load.ts:10:3)',
].join('\n') + '\n';

describe('tailLogEntries', () => {
  test('returns the last entries oldest first, with their continuation lines', async () => {
    const { entries, total } = await tailLogEntries(logFile(SAMPLE), { limit: 2 });
    assert.equal(total, 2);
    assert.deepEqual(entries, [
      { timestamp: '2025-06-27 23:59:59', level: 'DEBUG', logger: 'TrainingDataLoader', message: 'batch 3/3' },
      {
        timestamp: '2025-06-28 00:00:00',
        level: 'ERROR',
        logger: 'SchemaWorkflowOrchestrator',
        message: '[training_load] 加载失败\n  at load (load.ts:10:3)',
      },
    ]);
  });

  test('filters by exact level, case-insensitively', async () => {
    const path = logFile(SAMPLE);
    const errors = await tailLogEntries(path, { limit: 10, level: 'error' });
    assert.deepEqual(errors.entries.map((e) => e.timestamp), ['2025-06-27 14:31:25', '2025-06-28 00:00:00']);
    assert.equal(errors.entries[0].message, 'SQL验证失败，尝试LLM修复\nERROR:  column "x" does not exist\nLINE 1: SELECT x FROM t');
    assert.equal((await tailLogEntries(path, { limit: 10, level: 'warn' })).entries[0].logger, 'QAGenerator');
    assert.equal((await tailLogEntries(path, { limit: 10, level: 'CRITICAL' })).total, 0);
  });

  test('gives every chunk size the same answer, including chunks that split entries and characters', async () => {
    const path = logFile(SAMPLE);
    const expected = await tailLogEntries(path, { limit: 100 });
    assert.equal(expected.total, 7);
    for (const chunkSize of [1, 2, 3, 5, 7, 16, 61, 100, 1000]) {
      for (const limit of [1, 3, 7, 100]) {
        const { entries } = await tailLogEntries(path, { limit, chunkSize });
        assert.deepEqual(entries, expected.entries.slice(-limit), `chunkSize ${chunkSize}, limit ${limit}`);
      }
      const errors = await tailLogEntries(path, { limit: 1, level: 'ERROR', chunkSize });
      assert.equal(errors.entries[0].message, '[training_load] 加载失败\n  at load (load.ts:10:3)');
    }
  });

  test('handles a last line without newline, a headerless start and empty files', async () => {
    const unterminated = await tailLogEntries(logFile(SAMPLE.trimEnd()), { limit: 1, chunkSize: 4 });
    assert.equal(unterminated.entries[0].message, '[training_load] 加载失败\n  at load (load.ts:10:3)');
    const headless = await tailLogEntries(logFile(`stray line\n${SAMPLE}`), { limit: 100, chunkSize: 8 });
    assert.equal(headless.total, 7);
    assert.deepEqual(await tailLogEntries(logFile(''), { limit: 5 }), { entries: [], total: 0, endOffset: 0 });
    const size = Buffer.byteLength(SAMPLE);
    assert.deepEqual(await tailLogEntries(logFile(SAMPLE), { limit: 0 }), { entries: [], total: 0, endOffset: size });
    // endOffset: where the read ended (the file's size then), for following the log from exactly there.
    assert.equal((await tailLogEntries(logFile(SAMPLE), { limit: 2, chunkSize: 8 })).endOffset, size);
  });

  test('is exact on a log of many entries', async () => {
    const levels = ['DEBUG', 'INFO', 'WARNING', 'ERROR'] as const;
    let content = '';
    for (let i = 0; i < 5000; i++) {
      const message = i % 7 === 0 ? `entry ${i}\n  detail ${i}` : `entry ${i}`;
      content += formatLogLine(new Date(2025, 5, 27, 0, 0, i), levels[i % 4], 'QAGenerator', message);
    }
    const path = logFile(content);
    const { entries } = await tailLogEntries(path, { limit: 100, chunkSize: 1000 });
    assert.deepEqual(entries.map((e) => e.message.split('\n')[0]), Array.from({ length: 100 }, (_, k) => `entry ${4900 + k}`));
    assert.equal(entries.find((e) => e.message.startsWith('entry 4907'))?.message, 'entry 4907\n  detail 4907');
    const errors = await tailLogEntries(path, { limit: 50, level: 'ERROR', chunkSize: 777 });
    assert.deepEqual(errors.entries.map((e) => e.message.split('\n')[0]), Array.from({ length: 50 }, (_, k) => `entry ${4803 + 4 * k}`));
  });

  test('a missing file is empty', async () => {
    assert.deepEqual(await tailLogEntries(join(workDir, 'nope.log'), { limit: 10 }), { entries: [], total: 0, endOffset: 0 });
  });
});

describe('queryLogEntries', () => {
  let path: string;
  before(() => {
    path = logFile(SAMPLE);
  });
  const lineNumbers = async (query: Parameters<typeof queryLogEntries>[1]) =>
    (await queryLogEntries(path, query)).entries.map((e) => e.line_number);

  test('without filters: newest first, with step and line_number', async () => {
    const result = await queryLogEntries(path);
    assert.equal(result.total, 7);
    assert.deepEqual(result.entries.map((e) => e.line_number), [9, 8, 7, 4, 3, 2, 1]);
    assert.deepEqual(result.entries[3], {
      timestamp: '2025-06-27 14:31:25',
      level: 'ERROR',
      logger: 'SQLValidator',
      step: 'sql_validation',
      message: 'SQL验证失败，尝试LLM修复\nERROR:  column "x" does not exist\nLINE 1: SELECT x FROM t',
      line_number: 4,
    });
    assert.equal(result.entries[6].step, undefined);
    assert.deepEqual(
      { page: result.page, page_size: result.page_size, total_pages: result.total_pages, has_next: result.has_next, has_prev: result.has_prev },
      { page: 1, page_size: 50, total_pages: 1, has_next: false, has_prev: false },
    );
  });

  test('level filter is exact and case-insensitive', async () => {
    assert.deepEqual(await lineNumbers({ level: 'ERROR' }), [9, 4]);
    assert.deepEqual(await lineNumbers({ level: 'warning' }), [7]);
  });

  test('time ranges with or without T, date-only bounds covering whole days', async () => {
    assert.deepEqual(await lineNumbers({ start_time: '2025-06-27T14:30:53', end_time: '2025-06-27 14:45:00' }), [7, 4, 3]);
    assert.deepEqual(await lineNumbers({ start_time: '2025-06-27 14:31', end_time: '2025-06-27T14:44:59' }), [4]);
    assert.deepEqual(await lineNumbers({ end_time: '2025-06-27' }), [8, 7, 4, 3, 2, 1]);
    assert.deepEqual(await lineNumbers({ start_time: '2025-06-28' }), [9]);
    assert.deepEqual(await lineNumbers({ start_time: '2025-06-27', end_time: '2025-06-27' }), [8, 7, 4, 3, 2, 1]);
  });

  test('time bounds are normalised to the log timestamp format', () => {
    assert.equal(toLogTimestamp('2025-06-27T14:30:00', 'start'), '2025-06-27 14:30:00');
    assert.equal(toLogTimestamp('2025-06-27 14:30:00.999', 'end'), '2025-06-27 14:30:00');
    assert.equal(toLogTimestamp('2025-06-27', 'end'), '2025-06-27 23:59:59');
    // A bound with a zone is an instant: it becomes the server's local wall-clock time, like the log.
    assert.equal(toLogTimestamp('2025-06-27T06:30:00Z', 'start'), formatLocalTimestamp(new Date(Date.UTC(2025, 5, 27, 6, 30))));
    for (const bad of ['yesterday', '2025-13-01', '2025-02-30', '2025-06-27T25:00:00']) {
      assert.throws(() => toLogTimestamp(bad, 'start'), LogQueryError, bad);
    }
  });

  test('keyword searches the whole message, case-insensitively', async () => {
    assert.deepEqual(await lineNumbers({ keyword: 'SQL验证' }), [4]);
    assert.deepEqual(await lineNumbers({ keyword: 'DOES NOT EXIST' }), [4]);
    assert.deepEqual(await lineNumbers({ keyword: 'load.ts' }), [9]);
  });

  test('logger_name is a case-insensitive substring; step_name goes through the step of each entry', async () => {
    assert.deepEqual(await lineNumbers({ logger_name: 'orchestrator' }), [9, 2]);
    assert.deepEqual(await lineNumbers({ logger_name: 'SQLValidator' }), [4]);
    assert.deepEqual(await lineNumbers({ step_name: 'ddl_generation' }), [3]);
    assert.deepEqual(await lineNumbers({ step_name: 'training_load' }), [9, 8]);
    assert.deepEqual(await lineNumbers({ step_name: 'qa_generation', level: 'WARNING', keyword: '主题' }), [7]);
  });

  test('sorts by timestamp, level, logger or line number, ties in file order', async () => {
    assert.deepEqual(await lineNumbers({ sort_order: 'asc' }), [1, 2, 3, 4, 7, 8, 9]);
    assert.deepEqual(await lineNumbers({ sort_by: 'line_number', sort_order: 'asc' }), [1, 2, 3, 4, 7, 8, 9]);
    assert.deepEqual(await lineNumbers({ sort_by: 'level', sort_order: 'desc' }), [9, 4, 7, 3, 2, 1, 8]);
    assert.deepEqual(await lineNumbers({ sort_by: 'level', sort_order: 'asc' }), [8, 1, 2, 3, 7, 4, 9]);
    assert.deepEqual(await lineNumbers({ sort_by: 'logger', sort_order: 'asc' }), [3, 7, 4, 2, 9, 1, 8]);
  });

  test('pages carry true totals', async () => {
    const first = await queryLogEntries(path, { page: 1, page_size: 3 });
    const last = await queryLogEntries(path, { page: 3, page_size: 3 });
    const beyond = await queryLogEntries(path, { page: 4, page_size: 3 });
    assert.deepEqual(first.entries.map((e) => e.line_number), [9, 8, 7]);
    assert.deepEqual([first.total, first.total_pages, first.has_next, first.has_prev], [7, 3, true, false]);
    assert.deepEqual(last.entries.map((e) => e.line_number), [1]);
    assert.deepEqual([last.has_next, last.has_prev], [false, true]);
    assert.deepEqual([beyond.entries.length, beyond.total], [0, 7]);
    const filtered = await queryLogEntries(path, { level: 'ERROR', page_size: 1, page: 2 });
    assert.deepEqual([filtered.total, filtered.total_pages, filtered.entries[0].line_number], [2, 2, 4]);
    await assert.rejects(queryLogEntries(path, { page: 0 }), LogQueryError);
    await assert.rejects(queryLogEntries(path, { page_size: 1.5 }), LogQueryError);
  });

  test('pages of a large log match a full sort', async () => {
    let content = '';
    // Timestamps out of file order, as when two processes share a log.
    for (let i = 0; i < 2000; i++) content += formatLogLine(new Date(2025, 5, 27, 0, 0, (i * 7919) % 2000), 'INFO', 'QAGenerator', `n${i}`);
    const big = logFile(content);
    const all = (await queryLogEntries(big, { page_size: 2000 })).entries;
    for (const page of [1, 2, 7, 40]) {
      const { entries } = await queryLogEntries(big, { page, page_size: 50 });
      assert.deepEqual(entries, all.slice((page - 1) * 50, page * 50), `page ${page}`);
    }
    for (let k = 1; k < all.length; k++) assert.ok(all[k - 1].timestamp >= all[k].timestamp);
  });

  test('a missing file gives an empty page', async () => {
    const result = await queryLogEntries(join(workDir, 'nope.log'), { level: 'ERROR' });
    assert.deepEqual(result, { entries: [], total: 0, page: 1, page_size: 50, total_pages: 0, has_next: false, has_prev: false });
  });
});

describe('logFileInfo', () => {
  test('reports size and local modification time', async () => {
    const path = logFile(SAMPLE);
    const info = await logFileInfo(path);
    assert.equal(info.exists, true);
    assert.equal(info.file_path, path);
    assert.equal(info.file_size, Buffer.byteLength(SAMPLE));
    assert.match(info.last_modified ?? '', /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);
  });

  test('a missing file does not exist', async () => {
    const path = join(workDir, 'nope.log');
    assert.deepEqual(await logFileInfo(path), { exists: false, file_path: path, file_size: 0, last_modified: null });
  });
});
