// The error catalogue and the text system: every code the source uses has a row, every row's texts exist,
// and every text has both languages with the same placeholders.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, it } from 'node:test';
import { AppError, ERRORS, StepError, appError, isErrorCode } from '../../src/errors.ts';
import { messageEntries, phrase, t } from '../../src/messages.ts';

const SRC = path.resolve(import.meta.dirname, '../../src');

function sourceFiles(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
    const full = path.join(dir, e.name);
    return e.isDirectory() ? sourceFiles(full) : e.name.endsWith('.ts') ? [full] : [];
  });
}

/** Codes of other systems that the source compares against (Fastify's), and our setting names. */
const FOREIGN = /^(FST_|DATA_PIPELINE_)/;
const CODE = /'([A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)'/g;

/** Every upper-snake string the source puts in an error-code position. */
function codesUsed(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sourceFiles(SRC)) {
    const text = fs.readFileSync(file, 'utf8');
    const where = path.relative(SRC, file);
    // Calls and comparisons: appError('X', stepError('X', new StepError('X', code: 'X', code === 'X', error_code = 'X'.
    for (const line of text.split('\n')) {
      if (!/(appError|stepError|AppError|StepError|[cC]ode\b|readArtifact|readSchemaFile|readValidationResult|vectorError|toAppError)/.test(line)) continue;
      for (const m of line.matchAll(CODE)) if (!FOREIGN.test(m[1]!)) found.set(m[1]!, where);
    }
    // Unions of codes: `type VectorErrorCode = | 'A' | 'B'`.
    for (const m of text.matchAll(/type \w*ErrorCode\s*=([^;]+);/g)) for (const c of m[1]!.matchAll(CODE)) found.set(c[1]!, where);
  }
  return found;
}

describe('error catalogue', () => {
  it('has a row for every error code the source uses', () => {
    const used = codesUsed();
    assert.ok(used.size > 50, `found only ${used.size} codes: the scan is broken`);
    const missing = [...used].filter(([code]) => !isErrorCode(code)).map(([code, file]) => `${code} (${file})`);
    assert.deepEqual(missing, []);
  });

  it('names only message keys that exist, each code with a status', () => {
    const keys = new Set(messageEntries().map(([key]) => key));
    for (const [code, entry] of Object.entries(ERRORS)) {
      assert.ok(entry.status >= 400 && entry.status < 600, code);
      for (const key of entry.keys) assert.ok(keys.has(key), `${code} → ${key}`);
    }
  });

  it('builds an error from its row: status, type and text in both languages', () => {
    const error = appError('TASK_NOT_FOUND', { params: { task_id: 'task_x' } });
    assert.ok(error instanceof AppError);
    assert.equal(error.status, 404);
    assert.equal(error.type, 'NotFoundError');
    assert.equal(error.details('zh'), '任务不存在: task_x');
    assert.equal(error.details('en'), 'Task not found: task_x');
    assert.equal(appError('DATABASE_CONNECTION_ERROR', { params: { url: 'u', reason: 'r' } }).status, 500);
    // /health without its task store answers 503 (the key's status), still as a DatabaseConnectionError.
    const health = appError('DATABASE_CONNECTION_ERROR', { key: 'err.store_unreachable', params: { store: 's' } });
    assert.equal(health.status, 503);
    assert.equal(health.type, 'DatabaseConnectionError');
    const step = new StepError('TABLES_NOT_FOUND', 'step.tables_not_found', { tables: 'public.x' });
    assert.equal(step.text('zh'), '以下表不存在或无权读取: public.x');
    assert.equal(step.message, 'Tables not found or not readable: public.x');
  });
});

describe('messages', () => {
  it('every key has a zh and an en text with the same placeholders', () => {
    const placeholders = (s: string) => [...new Set([...s.matchAll(/\{(\w+)\}/g)].map((m) => m[1]))].sort();
    // Chinese says 缺少必需参数 for every kind of parameter; English names the kind.
    const oneSided: Record<string, string[]> = { 'validation.missing': ['where'] };
    for (const [key, entry] of messageEntries()) {
      assert.ok(entry.zh.trim() && entry.en.trim(), `${key}: empty text`);
      const zh = placeholders(entry.zh);
      const en = placeholders(entry.en).filter((p) => zh.includes(p) || !oneSided[key]?.includes(p));
      assert.deepEqual(zh, en, `${key}: placeholders differ`);
    }
  });

  it('words nested texts and lower layers\' bilingual reasons in the reader\'s language', () => {
    const params = { file: 'table_list.txt', line: phrase('err.table_list_line', { line: 3 }), reason: { zh: '无效', en: 'invalid' } };
    assert.equal(t('err.task_table_list_invalid', 'zh', params), '任务目录中的 table_list.txt 第 3 行: 无效（请重新上传或创建表清单）');
    assert.equal(t('err.task_table_list_invalid', 'en', params), 'table_list.txt in the task directory, line 3: invalid (upload or create the table list again)');
  });
});
