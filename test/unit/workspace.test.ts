import { localIso as formatLocalIso } from '../../src/time.ts';
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import { promises as fsp } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import {
  TASK_ID_PATTERN,
  WorkspacePathError,
  describeFile,
  downloadUrl,
  fileType,
  humanSize,
  isPrimaryName,
  isValidTaskId,
  listTaskFiles,
  resolveInputFile,
  resolveInsideDirectory,
  taskDirectory,
  writeFileAtomic,
} from '../../src/tasks/workspace.ts';

let root: string; // real path of a temporary folder
let outputDir: string;
let taskDir: string;
let outsideFile: string;

async function write(file: string, content: string | Buffer): Promise<void> {
  await fsp.mkdir(path.dirname(file), { recursive: true });
  await fsp.writeFile(file, content);
}

function isPathError(code: string) {
  return (err: unknown): boolean => {
    assert.ok(err instanceof WorkspacePathError, `WorkspacePathError expected, got ${String(err)}`);
    assert.equal(err.code, code);
    assert.equal(err.statusCode, code === 'FILE_NOT_FOUND' ? 404 : 400);
    assert.ok(err.message.length > 0);
    assert.ok(err.messageEn.length > 0);
    return true;
  };
}

before(async () => {
  root = await fsp.realpath(await fsp.mkdtemp(path.join(os.tmpdir(), 'dp-workspace-')));
  outputDir = path.join(root, 'training_data');
  taskDir = path.join(outputDir, 'task_20250627_143052');
  outsideFile = path.join(root, 'secret.txt');
  await write(outsideFile, 'top secret');
  await write(path.join(taskDir, 'data_pipeline.log'), 'log\n');
  await write(path.join(taskDir, 'vector_bak', 'langchain_pg_embedding_20250627_143052.csv'), 'id\n');
  await write(path.join(taskDir, 'deep', 'er', 'file name #1.txt'), 'x');
  await fsp.symlink(outsideFile, path.join(taskDir, 'link_out.txt'));
  await fsp.symlink(path.join(taskDir, 'data_pipeline.log'), path.join(taskDir, 'link_in.log'));
  await fsp.symlink(root, path.join(taskDir, 'dir_link_out'));
});

after(async () => {
  await fsp.rm(root, { recursive: true, force: true });
});

describe('task ids and directories', () => {
  it('TASK_ID_PATTERN / isValidTaskId', () => {
    assert.equal(String(TASK_ID_PATTERN), String(/^[A-Za-z0-9_-]{1,64}$/));
    for (const id of ['task_20250627_143052', 'task_20250627_143052_2', 'a', 'A-b_9', 'x'.repeat(64)]) {
      assert.equal(isValidTaskId(id), true, id);
    }
    for (const id of ['', 'x'.repeat(65), '../x', 'a/b', 'a.b', 'a b', 'a\u0000', '任务', 'a%2e', 5, null, undefined]) {
      assert.equal(isValidTaskId(id), false, String(id));
    }
  });

  it('taskDirectory returns an absolute path and validates the id', () => {
    assert.equal(taskDirectory(outputDir, 'task_1'), path.join(outputDir, 'task_1'));
    const rel = taskDirectory('./data_pipeline/training_data', 'task_1');
    assert.ok(path.isAbsolute(rel));
    assert.equal(rel, path.resolve('data_pipeline/training_data/task_1'));
    for (const bad of ['..', '../etc', 'a/b', '', 'x'.repeat(65)]) {
      assert.throws(() => taskDirectory(outputDir, bad), isPathError('INVALID_TASK_ID'), bad);
    }
  });
});

describe('resolveInsideDirectory', () => {
  it('resolves a good top-level and nested file to its real path', async () => {
    assert.equal(await resolveInsideDirectory(taskDir, 'data_pipeline.log'), path.join(taskDir, 'data_pipeline.log'));
    assert.equal(
      await resolveInsideDirectory(taskDir, 'vector_bak/langchain_pg_embedding_20250627_143052.csv'),
      path.join(taskDir, 'vector_bak', 'langchain_pg_embedding_20250627_143052.csv'),
    );
    assert.equal(
      await resolveInsideDirectory(taskDir, 'deep/er/file name #1.txt'),
      path.join(taskDir, 'deep', 'er', 'file name #1.txt'),
    );
  });

  it('follows a symlink that stays inside, returning the real target', async () => {
    assert.equal(await resolveInsideDirectory(taskDir, 'link_in.log'), path.join(taskDir, 'data_pipeline.log'));
  });

  it('refuses a symlink inside the task directory pointing to a file outside', async () => {
    await assert.rejects(resolveInsideDirectory(taskDir, 'link_out.txt'), isPathError('INVALID_PATH'));
    await assert.rejects(resolveInsideDirectory(taskDir, 'dir_link_out/secret.txt'), isPathError('INVALID_PATH'));
  });

  it('refuses raw .. traversal', async () => {
    for (const p of ['../x', '../secret.txt', 'a/../../x', 'vector_bak/../../secret.txt', '..', './data_pipeline.log']) {
      await assert.rejects(resolveInsideDirectory(taskDir, p), isPathError('INVALID_PATH'), p);
    }
  });

  it('refuses encoded traversal left in the decoded parameter', async () => {
    for (const p of ['%2e%2e/x', '%2E%2E/secret.txt', '..%2fx', '..%2Fsecret.txt', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', 'a%2fb', '%252e%252e/x', 'a%5cb', 'a%00b']) {
      await assert.rejects(resolveInsideDirectory(taskDir, p), isPathError('INVALID_PATH'), p);
    }
  });

  it('refuses absolute paths', async () => {
    for (const p of ['/etc/passwd', outsideFile, path.join(taskDir, 'data_pipeline.log'), 'C:/x', '%2fetc%2fpasswd']) {
      await assert.rejects(resolveInsideDirectory(taskDir, p), isPathError('INVALID_PATH'), p);
    }
  });

  it('refuses backslashes, NUL bytes, control characters and empty segments', async () => {
    for (const p of ['..\\secret.txt', 'vector_bak\\x.csv', 'data_pipeline.log\u0000.txt', 'a\nb', 'vector_bak//x.csv', 'vector_bak/', '', '/']) {
      await assert.rejects(resolveInsideDirectory(taskDir, p), isPathError('INVALID_PATH'), JSON.stringify(p));
    }
  });

  it('answers FILE_NOT_FOUND for a directory, a missing file and a missing task directory', async () => {
    await assert.rejects(resolveInsideDirectory(taskDir, 'vector_bak'), isPathError('FILE_NOT_FOUND'));
    await assert.rejects(resolveInsideDirectory(taskDir, 'nope.json'), isPathError('FILE_NOT_FOUND'));
    await assert.rejects(resolveInsideDirectory(taskDir, 'data_pipeline.log/x'), isPathError('FILE_NOT_FOUND'));
    await assert.rejects(
      resolveInsideDirectory(path.join(outputDir, 'task_missing'), 'data_pipeline.log'),
      isPathError('FILE_NOT_FOUND'),
    );
  });

  it('accepts a literal % that is not an escape', async () => {
    await write(path.join(taskDir, '100%.txt'), 'p');
    assert.equal(await resolveInsideDirectory(taskDir, '100%.txt'), path.join(taskDir, '100%.txt'));
    await fsp.rm(path.join(taskDir, '100%.txt'));
  });
});

describe('resolveInputFile', () => {
  let inputDir: string;
  before(async () => {
    inputDir = path.join(root, 'input');
    await write(path.join(inputDir, 'tables.txt'), 'a\n');
    await write(path.join(inputDir, 'sub', 'more.txt'), 'b\n');
    await fsp.symlink(outsideFile, path.join(inputDir, 'escape.txt'));
    await fsp.symlink(path.join(inputDir, 'tables.txt'), path.join(inputDir, 'alias.txt'));
  });

  it('resolves relative paths against the input folder', async () => {
    assert.equal(await resolveInputFile(inputDir, 'tables.txt'), path.join(inputDir, 'tables.txt'));
    assert.equal(await resolveInputFile(inputDir, './sub/more.txt'), path.join(inputDir, 'sub', 'more.txt'));
    assert.equal(await resolveInputFile(inputDir, 'sub/../tables.txt'), path.join(inputDir, 'tables.txt'));
    assert.equal(await resolveInputFile(inputDir, 'alias.txt'), path.join(inputDir, 'tables.txt'));
  });

  it('accepts an absolute path only inside the input folder', async () => {
    assert.equal(await resolveInputFile(inputDir, path.join(inputDir, 'tables.txt')), path.join(inputDir, 'tables.txt'));
    await assert.rejects(resolveInputFile(inputDir, outsideFile), isPathError('INVALID_PATH'));
    await assert.rejects(resolveInputFile(inputDir, '/etc/passwd'), isPathError('INVALID_PATH'));
    await assert.rejects(resolveInputFile(inputDir, inputDir), isPathError('INVALID_PATH'));
  });

  it('accepts an input folder given as a relative path', async () => {
    const rel = path.relative(process.cwd(), inputDir);
    assert.equal(await resolveInputFile(rel, 'tables.txt'), path.join(inputDir, 'tables.txt'));
  });

  it('refuses escapes with .. even when the target does not exist', async () => {
    await assert.rejects(resolveInputFile(inputDir, '../secret.txt'), isPathError('INVALID_PATH'));
    await assert.rejects(resolveInputFile(inputDir, 'sub/../../secret.txt'), isPathError('INVALID_PATH'));
    await assert.rejects(resolveInputFile(inputDir, '../does-not-exist.txt'), isPathError('INVALID_PATH'));
    await assert.rejects(resolveInputFile(inputDir, '..'), isPathError('INVALID_PATH'));
  });

  it('refuses a symlink pointing out of the input folder', async () => {
    await assert.rejects(resolveInputFile(inputDir, 'escape.txt'), isPathError('INVALID_PATH'));
  });

  it('refuses NUL bytes, backslashes and empty paths', async () => {
    for (const p of ['tables.txt\u0000', '..\\secret.txt', '', '   ']) {
      await assert.rejects(resolveInputFile(inputDir, p), isPathError('INVALID_PATH'), JSON.stringify(p));
    }
  });

  it('answers FILE_NOT_FOUND for missing files and directories', async () => {
    await assert.rejects(resolveInputFile(inputDir, 'missing.txt'), isPathError('FILE_NOT_FOUND'));
    await assert.rejects(resolveInputFile(inputDir, 'sub'), isPathError('FILE_NOT_FOUND'));
    await assert.rejects(resolveInputFile(path.join(root, 'no-input'), 'tables.txt'), isPathError('FILE_NOT_FOUND'));
  });
});

describe('humanSize and helpers', () => {
  it('formats sizes like the guide', () => {
    assert.equal(humanSize(0), '0 B');
    assert.equal(humanSize(512), '512 B');
    assert.equal(humanSize(1023), '1023 B');
    assert.equal(humanSize(1024), '1.0 KB');
    assert.equal(humanSize(1536), '1.5 KB');
    assert.equal(humanSize(51200), '50.0 KB');
    assert.equal(humanSize(102400), '100.0 KB');
    assert.equal(humanSize(153600), '150.0 KB');
    assert.equal(humanSize(1024 * 1024 - 1), '1.0 MB');
    assert.equal(humanSize(1024 * 1024), '1.0 MB');
    assert.equal(humanSize(5.5 * 1024 * 1024), '5.5 MB');
    assert.equal(humanSize(3 * 1024 ** 3), '3.0 GB');
    assert.equal(humanSize(2048 * 1024 ** 3), '2048.0 GB');
  });

  it('formatLocalIso has no milliseconds and no zone', () => {
    assert.equal(formatLocalIso(new Date(2025, 5, 27, 14, 40, 30, 123)), '2025-06-27T14:40:30');
    assert.equal(formatLocalIso(new Date(2025, 0, 2, 3, 4, 5)), '2025-01-02T03:04:05');
  });

  it('file types, primary names, URLs', () => {
    assert.equal(fileType('a.JSON'), 'json');
    assert.equal(fileType('qs_x_pair.json.backup'), 'backup');
    assert.equal(fileType('vector_bak/x.csv'), 'csv');
    assert.equal(fileType('README'), '');
    assert.equal(isPrimaryName('qs_highway_db_20250627_143052_pair.json'), true);
    assert.equal(isPrimaryName('qs_highway_db_20250627_143052_pair.json.meta.json'), false);
    assert.equal(isPrimaryName('qs_highway_db_20250627_143052_pair.meta.json'), false);
    assert.equal(isPrimaryName('qs_highway_db_20250627_143052_pair.json.backup'), false);
    assert.equal(downloadUrl('/api/x/files/', 'vector_bak/a b#?.csv'), '/api/x/files/vector_bak/a%20b%23%3F.csv');
    assert.equal(downloadUrl('/api/x/files', '订单.ddl'), `/api/x/files/${encodeURIComponent('订单.ddl')}`);
  });

  it('describes every known file kind, in Chinese and English', () => {
    const cases: Array<[string, string, string]> = [
      ['qs_highway_db_20250627_143052_pair.json', 'Question-SQL训练数据对', 'Question-SQL training pairs'],
      ['data_pipeline.log', '任务执行日志', 'Task execution log'],
      ['bss_company.ddl', 'DDL建表语句', 'DDL statements'],
      ['bss_company_detail.md', '表结构详细文档 (MD)', 'Table structure documentation (MD)'],
      ['table_list.txt', '表清单文件', 'Table list file'],
      ['metadata.txt', '主题元数据 (SQL)', 'Theme metadata (SQL)'],
      ['metadata_detail.md', '主题元数据详细说明 (MD)', 'Theme metadata details (MD)'],
      ['db_query_decision_prompt.txt', '数据库查询决策提示词', 'Database query decision prompt'],
      ['filename_mapping.txt', '文件名映射', 'File name mapping'],
      ['schema.json', '数据库结构 (JSON)', 'Database schema (JSON)'],
      ['sql_validation_20250627_150000_summary.txt', 'SQL验证摘要', 'SQL validation summary'],
      ['sql_validation_20250627_150000_report.json', 'SQL验证报告 (JSON)', 'SQL validation report (JSON)'],
      ['qs_highway_db_20250627_143052_pair.json.backup', '备份文件', 'Backup file'],
      ['vector_bak/langchain_pg_collection_20250627_143052.csv', 'Vector表备份', 'Vector table backup'],
      ['vector_bak/vector_backup_log.txt', 'Vector备份日志', 'Vector backup log'],
      ['task_config.json', '任务配置', 'Task configuration'],
      ['qs_highway_db_20250627_143052_pair.json.meta.json', '元数据文件 (JSON)', 'Metadata file (JSON)'],
      ['random.bin', '其他文件', 'Other file'],
      ['notes.txt', '其他文件', 'Other file'],
    ];
    for (const [name, zh, en] of cases) {
      assert.equal(describeFile(name), zh, name);
      assert.equal(describeFile(name, 'zh'), zh, name);
      assert.equal(describeFile(name, 'en'), en, name);
    }
  });
});

describe('listTaskFiles', () => {
  const prefix = '/api/v0/data_pipeline/tasks/task_L/files';
  let dir: string;
  const mtime = new Date(2025, 5, 27, 14, 40, 30);

  before(async () => {
    dir = path.join(outputDir, 'task_L');
    const files: Array<[string, number]> = [
      ['qs_highway_db_20250627_143052_pair.json', 102400],
      ['qs_highway_db_20250627_143052_pair.json.meta.json', 10],
      ['data_pipeline.log', 51200],
      ['bss_company.ddl', 300],
      ['bss_company_detail.md', 2048],
      ['table_list.txt', 20],
      ['vector_bak/langchain_pg_embedding_20250627_143052.csv', 512],
      ['vector_bak/sub dir/x y.csv', 1],
    ];
    for (const [name, size] of files) {
      const p = path.join(dir, ...name.split('/'));
      await write(p, Buffer.alloc(size, 0x61));
      await fsp.utimes(p, mtime, mtime);
    }
    await fsp.symlink(outsideFile, path.join(dir, 'outside_link.txt'));
    await fsp.symlink(root, path.join(dir, 'outside_dir_link'));
    await fsp.symlink(path.join(dir, 'missing'), path.join(dir, 'dangling.txt'));
    await fsp.symlink(path.join(dir, 'table_list.txt'), path.join(dir, 'inside_link.txt'));
    await write(path.join(dir, '.table_list.txt.123.0123456789ab.tmp'), 'partial');
    await fsp.mkdir(path.join(dir, 'empty_dir'));
  });

  it('lists files recursively with the guide fields, primary first then by name', async () => {
    const list = await listTaskFiles(dir, prefix);
    assert.deepEqual(
      list.files.map((f) => f.file_name),
      [
        'qs_highway_db_20250627_143052_pair.json',
        'bss_company.ddl',
        'bss_company_detail.md',
        'data_pipeline.log',
        'inside_link.txt',
        'qs_highway_db_20250627_143052_pair.json.meta.json',
        'table_list.txt',
        'vector_bak/langchain_pg_embedding_20250627_143052.csv',
        'vector_bak/sub dir/x y.csv',
      ],
    );
    const first = list.files[0];
    assert.deepEqual(Object.keys(first).sort(), [
      'created_at',
      'description',
      'download_url',
      'file_name',
      'file_size',
      'file_size_human',
      'file_type',
      'is_primary',
    ]);
    assert.equal(first.file_type, 'json');
    assert.equal(first.file_size, 102400);
    assert.equal(first.file_size_human, '100.0 KB');
    assert.equal(first.is_primary, true);
    assert.equal(first.description, 'Question-SQL训练数据对');
    assert.equal(first.download_url, `${prefix}/qs_highway_db_20250627_143052_pair.json`);
    assert.match(first.created_at, /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}$/);

    const byName = new Map(list.files.map((f) => [f.file_name, f]));
    const log = byName.get('data_pipeline.log')!;
    assert.deepEqual(
      { ...log, created_at: undefined },
      {
        file_name: 'data_pipeline.log',
        file_type: 'log',
        file_size: 51200,
        file_size_human: '50.0 KB',
        created_at: undefined,
        is_primary: false,
        description: '任务执行日志',
        download_url: `${prefix}/data_pipeline.log`,
      },
    );
    assert.equal(byName.get('bss_company.ddl')!.description, 'DDL建表语句');
    assert.equal(byName.get('bss_company.ddl')!.file_size_human, '300 B');
    assert.equal(byName.get('bss_company_detail.md')!.file_type, 'md');
    assert.equal(byName.get('bss_company_detail.md')!.file_size_human, '2.0 KB');
    assert.equal(byName.get('table_list.txt')!.description, '表清单文件');
    assert.equal(byName.get('qs_highway_db_20250627_143052_pair.json.meta.json')!.is_primary, false);
    const csv = byName.get('vector_bak/langchain_pg_embedding_20250627_143052.csv')!;
    assert.equal(csv.file_type, 'csv');
    assert.equal(csv.description, 'Vector表备份');
    assert.equal(csv.download_url, `${prefix}/vector_bak/langchain_pg_embedding_20250627_143052.csv`);
    assert.equal(byName.get('vector_bak/sub dir/x y.csv')!.download_url, `${prefix}/vector_bak/sub%20dir/x%20y.csv`);
    assert.equal(byName.get('inside_link.txt')!.file_size, 20);

    for (const skipped of ['outside_link.txt', 'outside_dir_link', 'dangling.txt', 'empty_dir']) {
      assert.ok(!byName.has(skipped), skipped);
    }
    assert.ok(!list.files.some((f) => f.file_name.includes('secret') || f.file_name.endsWith('.tmp')));

    const total = list.files.reduce((s, f) => s + f.file_size, 0);
    assert.equal(list.total_files, list.files.length);
    assert.equal(list.total_size, total);
    assert.equal(list.total_size_human, humanSize(total));
  });

  it('uses birthtime when available, else mtime, formatted as local time', async () => {
    const list = await listTaskFiles(dir, prefix);
    const log = list.files.find((f) => f.file_name === 'data_pipeline.log')!;
    const st = await fsp.stat(path.join(dir, 'data_pipeline.log'));
    const expected = formatLocalIso(st.birthtimeMs > 0 ? st.birthtime : mtime);
    assert.equal(log.created_at, expected);
  });

  it('every listed download path resolves inside the task directory', async () => {
    const list = await listTaskFiles(dir, prefix);
    for (const f of list.files) {
      const resolved = await resolveInsideDirectory(dir, f.file_name);
      assert.ok(resolved.startsWith(dir + path.sep), f.file_name);
      const fromUrl = f.download_url.slice(prefix.length + 1).split('/').map(decodeURIComponent).join('/');
      assert.equal(fromUrl, f.file_name);
    }
  });

  it('describes in English with lang = en', async () => {
    const list = await listTaskFiles(dir, prefix, 'en');
    const byName = new Map(list.files.map((f) => [f.file_name, f]));
    assert.equal(byName.get('qs_highway_db_20250627_143052_pair.json')!.description, 'Question-SQL training pairs');
    assert.equal(byName.get('data_pipeline.log')!.description, 'Task execution log');
    assert.equal(byName.get('vector_bak/sub dir/x y.csv')!.description, 'Other file');
  });

  it('matches the guide example totals', async () => {
    const d = path.join(outputDir, 'task_guide');
    await write(path.join(d, 'qs_highway_db_20250627_143052_pair.json'), Buffer.alloc(102400));
    await write(path.join(d, 'data_pipeline.log'), Buffer.alloc(51200));
    const list = await listTaskFiles(d, '/api/v0/data_pipeline/tasks/task_guide/files/');
    assert.deepEqual(
      list.files.map((f) => [f.file_name, f.file_size_human, f.is_primary]),
      [
        ['qs_highway_db_20250627_143052_pair.json', '100.0 KB', true],
        ['data_pipeline.log', '50.0 KB', false],
      ],
    );
    assert.equal(list.files[1].download_url, '/api/v0/data_pipeline/tasks/task_guide/files/data_pipeline.log');
    assert.equal(list.total_files, 2);
    assert.equal(list.total_size, 153600);
    assert.equal(list.total_size_human, '150.0 KB');
  });

  it('returns an empty list for a missing task directory', async () => {
    assert.deepEqual(await listTaskFiles(path.join(outputDir, 'task_none'), prefix), {
      files: [],
      total_files: 0,
      total_size: 0,
      total_size_human: '0 B',
    });
  });
});

describe('writeFileAtomic', () => {
  it('writes, replaces and leaves no temporary file', async () => {
    const d = path.join(root, 'atomic');
    await fsp.mkdir(d);
    const target = path.join(d, 'task_config.json');
    await writeFileAtomic(target, '{"a":1}');
    assert.equal(await fsp.readFile(target, 'utf8'), '{"a":1}');
    await writeFileAtomic(target, Buffer.from('{"a":2}'));
    assert.equal(await fsp.readFile(target, 'utf8'), '{"a":2}');
    assert.deepEqual(await fsp.readdir(d), ['task_config.json']);
  });

  it('concurrent writers leave one complete version', async () => {
    const d = path.join(root, 'atomic2');
    await fsp.mkdir(d);
    const target = path.join(d, 'f.txt');
    const versions = Array.from({ length: 20 }, (_, i) => String(i).repeat(10_000));
    await Promise.all(versions.map((v) => writeFileAtomic(target, v)));
    assert.ok(versions.includes(await fsp.readFile(target, 'utf8')));
    assert.deepEqual(await fsp.readdir(d), ['f.txt']);
  });

  it('fails cleanly when the directory does not exist', async () => {
    await assert.rejects(writeFileAtomic(path.join(root, 'no-such-dir', 'f.txt'), 'x'), { code: 'ENOENT' });
  });
});
