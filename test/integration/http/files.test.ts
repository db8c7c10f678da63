// The HTTP API end to end: the table list (§4.3–4.5) and the task files
// (§4.1, §4.2). A real listening server over a store database of this file's
// own (test/helpers/http-api.ts); every happy path with the guide's field names, every invalid input.
import { before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { makeTempDir, startTestServer } from '../../helpers/server.ts';
import { noServerErrors, useApiServer, LOCAL_ISO_RE, db, server, api, extraServers, req, raw, expectOk, expectError, createTask, createReadyTask, status, runToEnd, startSlowRun, stopRun, multipart, upload, type Res } from '../../helpers/http-api.ts';

useApiServer();

// ---------------------------------------------------------------------- upload-table-list / table-list-info

describe('POST /tasks/{id}/upload-table-list (guide §4.3) and GET /tasks/{id}/table-list-info (§4.4)', () => {
  it('table-list-info before any list: has_table_list false', async () => {
    const id = await createTask();
    const info = expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200, '获取表清单信息成功');
    assert.equal(info.task_id, id);
    assert.equal(info.has_table_list, false);
    assert.equal(info.table_count, 0);
    assert.deepEqual(info.tables, []);
  });

  it('uploads a .txt list (comments, duplicates, BOM, commas) and reports it', async () => {
    const id = await createTask();
    const content = '\uFEFF# 高速公路表\nbss_business_day_data\n-- comment line\nbss_car_day_count, bss_company\nbss_company\n\npublic.bss_service_area # trailing comment\n';
    const res = await upload(id, multipart('tables.txt', content));
    const data = expectOk(res, 200, '表清单文件上传成功');
    assert.equal(data.task_id, id);
    assert.equal(data.file_name, 'table_list.txt');
    assert.equal(data.table_count, 4);
    assert.deepEqual(data.tables, ['bss_business_day_data', 'bss_car_day_count', 'bss_company', 'public.bss_service_area']);
    const onDisk = path.join(server.app.service.taskDir(id), 'table_list.txt');
    assert.equal(data.file_size, fs.statSync(onDisk).size);
    assert.ok(data.file_path.endsWith(`${id}/table_list.txt`), data.file_path);
    assert.ok(!fs.readFileSync(onDisk, 'utf8').includes('\uFEFF'));

    const info = expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200);
    assert.equal(info.task_id, id);
    assert.equal(info.has_table_list, true);
    assert.equal(info.file_name, 'table_list.txt');
    assert.equal(info.file_size, data.file_size);
    assert.equal(info.file_path, data.file_path);
    assert.equal(info.table_count, 4);
    assert.deepEqual(info.tables, data.tables);
    assert.match(info.uploaded_at, LOCAL_ISO_RE);
    assert.equal((await status(id)).has_table_list, true);

    // A new upload replaces the list.
    expectOk(await upload(id, multipart('TABLES.TXT', 'bss_company\n')), 200);
    assert.deepEqual(expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200).tables, ['bss_company']);
  });

  it('refuses a file that is not .txt (415 UNSUPPORTED_FILE_TYPE)', async () => {
    const id = await createTask();
    for (const name of ['tables.csv', 'tables.txt.exe', 'tables']) {
      const error = expectError(await upload(id, multipart(name, 'bss_company\n')), 415, 'UNSUPPORTED_FILE_TYPE', { param: 'file', mention: name });
      assert.deepEqual(error.invalid_params, ['file']);
    }
    assert.equal(expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200).has_table_list, false);
  });

  it('refuses an empty file or a list without names (400)', async () => {
    const id = await createTask();
    expectError(await upload(id, multipart('tables.txt', '')), 400, 'VALIDATION_ERROR', { param: 'file', mention: /文件为空/ });
    expectError(await upload(id, multipart('tables.txt', '# only a comment\n\n')), 400, 'EMPTY_TABLE_LIST', { param: 'file', mention: /表清单为空/ });
  });

  it('refuses invalid table names in the file (INVALID_TABLE_NAME)', async () => {
    const id = await createTask();
    const error = expectError(await upload(id, multipart('tables.txt', 'bss_company\n1bad_name\nDROP TABLE x;\n')), 400, 'INVALID_TABLE_NAME', {
      param: 'file',
      mention: '1bad_name',
    });
    assert.deepEqual(error.invalid_params, ['file']);
    assert.equal(expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200).has_table_list, false);
  });

  it('refuses a request without the file field, or not multipart (400)', async () => {
    const id = await createTask();
    expectError(await upload(id, multipart('tables.txt', 'bss_company\n', 'upload')), 400, 'VALIDATION_ERROR', { param: 'file' });
    expectError(await upload(id, multipart(undefined, 'bss_company')), 400, 'VALIDATION_ERROR', { param: 'file' });
    expectError(await req(`${api}/tasks/${id}/upload-table-list`, { method: 'POST', json: { file: 'bss_company' } }), 400, 'VALIDATION_ERROR', { param: 'file' });
    expectError(await req(`${api}/tasks/${id}/upload-table-list`, { method: 'POST' }), 400, 'VALIDATION_ERROR', { param: 'file' });
  });

  it('refuses an upload over the limit (413 PAYLOAD_TOO_LARGE)', async () => {
    const id = await createTask();
    const limited = await startTestServer({ storeUrl: db.url, env: { DATA_PIPELINE_MAX_UPLOAD_BYTES: '1024' }, workers: false, dir: makeTempDir() });
    extraServers.push(limited);
    const big = Array.from({ length: 200 }, (_, i) => `table_${i}`).join('\n');
    assert.ok(Buffer.byteLength(big) > 1024);
    expectError(await upload(id, multipart('tables.txt', big), limited.api), 413, 'PAYLOAD_TOO_LARGE', { param: 'file', mention: /上传文件过大.*1(\.0)? KB/ });
    // Within that server's limit it works.
    expectOk(await upload(id, multipart('tables.txt', 'bss_company\n'), limited.api), 200);
    // The default server's limit is 1 MiB.
    const huge = `${'a'.repeat(60)}\n`.repeat(Math.ceil((1024 * 1024 + 10) / 61));
    expectError(await upload(id, multipart('tables.txt', huge)), 413, 'PAYLOAD_TOO_LARGE', { param: 'file', mention: /上传文件过大.*1(\.0)? MB/ });
  });

  it('answers 404 for an unknown task and 400 for an invalid id', async () => {
    expectError(await upload('task_19990101_000000', multipart('tables.txt', 'bss_company\n')), 404, 'TASK_NOT_FOUND');
    expectError(await upload('bad.id', multipart('tables.txt', 'bss_company\n')), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
    expectError(await req(`${api}/tasks/task_19990101_000000/table-list-info`), 404, 'TASK_NOT_FOUND');
    expectError(await req(`${api}/tasks/bad.id/table-list-info`), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
  });

  it('refuses to replace the table list while the task is running (409)', async () => {
    const id = await createReadyTask();
    try {
      await startSlowRun(id);
      expectError(await upload(id, multipart('tables.txt', 'bss_service_area\n')), 409, 'TASK_ALREADY_RUNNING');
      expectError(await req(`${api}/tasks/${id}/table-list`, { method: 'POST', json: { table_names: ['bss_service_area'] } }), 409, 'TASK_ALREADY_RUNNING');
      assert.deepEqual(expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200).tables, ['bss_company', 'bss_car_day_count']);
    } finally {
      await stopRun(id);
    }
  });
});

describe('POST /tasks/{id}/table-list (guide §4.5)', () => {
  it('creates the list from table_names', async () => {
    const id = await createTask();
    const res = await req(`${api}/tasks/${id}/table-list`, {
      method: 'POST',
      json: { table_names: ['bss_business_day_data', 'bss_car_day_count', 'bss_company', 'bss_company'], business_context: '高速公路服务区管理系统' },
    });
    const data = expectOk(res, 200, '表清单创建成功');
    assert.equal(data.task_id, id);
    assert.equal(data.file_name, 'table_list.txt');
    assert.equal(data.table_count, 3);
    assert.deepEqual(data.tables, ['bss_business_day_data', 'bss_car_day_count', 'bss_company']);
    assert.ok(data.file_size > 0);
    assert.ok(data.file_path.endsWith(`${id}/table_list.txt`));
    const task = await status(id);
    assert.equal(task.has_table_list, true);
    assert.equal(task.table_count, 3);
    assert.equal(task.business_context, '高速公路服务区管理系统');
  });

  it('accepts tables as a comma-separated string and as an array', async () => {
    const id = await createTask();
    const a = expectOk(await req(`${api}/tasks/${id}/table-list`, { method: 'POST', json: { tables: 'bss_company, bss_car_day_count,，public.bss_service_area' } }), 200);
    assert.deepEqual(a.tables, ['bss_company', 'bss_car_day_count', 'public.bss_service_area']);
    const b = expectOk(await req(`${api}/tasks/${id}/table-list`, { method: 'POST', json: { tables: ['bss_company'] } }), 200);
    assert.deepEqual(b.tables, ['bss_company']);
    assert.deepEqual(expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200).tables, ['bss_company']);
  });

  it('refuses missing, empty, wrongly typed and invalid names', async () => {
    const id = await createTask();
    const post = (json: unknown) => req(`${api}/tasks/${id}/table-list`, { method: 'POST', json });
    expectError(await post({}), 400, 'VALIDATION_ERROR', { param: 'table_names' });
    expectError(await post({ business_context: 'x' }), 400, 'VALIDATION_ERROR', { param: 'table_names' });
    expectError(await post({ table_names: [] }), 400, 'VALIDATION_ERROR', { param: 'table_names' });
    expectError(await post({ table_names: 'x' }), 400, 'VALIDATION_ERROR', { param: 'table_names' });
    expectError(await post({ table_names: [1, 2] }), 400, 'VALIDATION_ERROR', { mention: 'table_names' });
    expectError(await post({ tables: '' }), 400, 'VALIDATION_ERROR', { mention: 'tables' });
    expectError(await post({ tables: 5 }), 400, 'VALIDATION_ERROR', { mention: 'tables' });
    expectError(await post({ table_names: ['bss_company'], extra: 1 }), 400, 'VALIDATION_ERROR', { param: 'extra' });
    expectError(await post({ table_names: ['   ', ''] }), 400, 'EMPTY_TABLE_LIST', { param: 'table_names', mention: /表清单为空/ });
    expectError(await post({ tables: ' , ,' }), 400, 'EMPTY_TABLE_LIST', { param: 'table_names', mention: /表清单为空/ });
    expectError(await post({ table_names: ['bss_company', 'bad name;'] }), 400, 'INVALID_TABLE_NAME', { param: 'table_names', mention: 'bad name;' });
    expectError(await post({ table_names: ['a.b.c'] }), 400, 'INVALID_TABLE_NAME', { param: 'table_names', mention: 'a.b.c' });
    expectError(await post(['bss_company']), 400, 'VALIDATION_ERROR', { param: 'body' });
    assert.equal(expectOk(await req(`${api}/tasks/${id}/table-list-info`), 200).has_table_list, false);
    expectError(await req(`${api}/tasks/task_19990101_000000/table-list`, { method: 'POST', json: { table_names: ['a'] } }), 404, 'TASK_NOT_FOUND');
  });
});

// ------------------------------------------------------------------------------------------------ files

describe('GET /tasks/{id}/files and /files/{name} (guide §4.1, §4.2)', () => {
  let id = '';
  let dir = '';
  const outsideSecret = `OUTSIDE-CONTENT-${Date.now()}`;

  before(async () => {
    id = await createReadyTask();
    assert.equal((await runToEnd(id)).status, 'completed');
    dir = server.app.service.taskDir(id);
    fs.mkdirSync(path.join(dir, 'vector_bak'));
    fs.writeFileSync(path.join(dir, 'vector_bak', 'x.csv'), 'id,document\n1,hello\n');
    fs.writeFileSync(path.join(dir, 'qs_highway_db_20250627_143052_pair.json'), '[{"question":"q","sql":"SELECT 1"}]');
    const outside = path.join(server.dir, 'outside.txt');
    fs.writeFileSync(outside, outsideSecret);
    fs.symlinkSync(outside, path.join(dir, 'link_out.txt'));
    fs.symlinkSync('/etc/passwd', path.join(dir, 'passwd.txt'));
  });

  it('lists the files with the guide fields and totals', async () => {
    const data = expectOk(await req(`${api}/tasks/${id}/files`), 200, '获取文件列表成功');
    assert.equal(data.task_id, id);
    const names = data.files.map((f: any) => f.file_name);
    for (const expected of ['data_pipeline.log', 'table_list.txt', 'task_config.json', 'vector_bak/x.csv', 'ddl_generation.out']) {
      assert.ok(names.includes(expected), `${expected} missing from ${names.join(', ')}`);
    }
    assert.ok(!names.includes('link_out.txt') && !names.includes('passwd.txt'), 'links pointing outside are not listed');
    assert.equal(names[0], 'qs_highway_db_20250627_143052_pair.json', 'the primary file comes first');
    for (const f of data.files) {
      for (const key of ['file_name', 'file_type', 'file_size', 'file_size_human', 'created_at', 'is_primary', 'description', 'download_url']) assert.ok(key in f, `files[].${key}`);
      assert.equal(f.file_size, fs.statSync(path.join(dir, f.file_name)).size);
      assert.match(f.created_at, LOCAL_ISO_RE);
      assert.equal(typeof f.description, 'string');
      assert.equal(typeof f.file_size_human, 'string');
    }
    const log = data.files.find((f: any) => f.file_name === 'data_pipeline.log');
    assert.equal(log.file_type, 'log');
    assert.equal(log.is_primary, false);
    assert.equal(log.description, '任务执行日志');
    assert.equal(log.download_url, `/api/v0/data_pipeline/tasks/${id}/files/data_pipeline.log`);
    const primary = data.files[0];
    assert.equal(primary.is_primary, true);
    assert.equal(primary.file_type, 'json');
    assert.equal(primary.description, 'Question-SQL训练数据对');
    const csv = data.files.find((f: any) => f.file_name === 'vector_bak/x.csv');
    assert.equal(csv.file_type, 'csv');
    assert.equal(csv.download_url, `/api/v0/data_pipeline/tasks/${id}/files/vector_bak/x.csv`);
    assert.equal(data.total_files, data.files.length);
    assert.equal(data.total_size, data.files.reduce((s: number, f: any) => s + f.file_size, 0));
    assert.equal(typeof data.total_size_human, 'string');
  });

  it('downloads the log and a nested file through their download_url', async () => {
    const data = expectOk(await req(`${api}/tasks/${id}/files`), 200);
    const log = data.files.find((f: any) => f.file_name === 'data_pipeline.log');
    const res = await req(`${server.baseUrl}${log.download_url}`);
    assert.equal(res.status, 200);
    assert.match(String((res.headers as Headers).get('content-type')), /^text\/plain/);
    assert.match(String((res.headers as Headers).get('content-disposition')), /attachment; filename\*=UTF-8''data_pipeline\.log/);
    assert.equal(res.text, fs.readFileSync(path.join(dir, 'data_pipeline.log'), 'utf8'));
    assert.match(res.text, /任务目录日志初始化完成/);
    const csv = data.files.find((f: any) => f.file_name === 'vector_bak/x.csv');
    const nested = await req(`${server.baseUrl}${csv.download_url}`);
    assert.equal(nested.status, 200);
    assert.equal(nested.text, 'id,document\n1,hello\n');
    assert.match(String((nested.headers as Headers).get('content-type')), /^text\/csv/);
  });

  it('answers 404 FILE_NOT_FOUND for a missing file, a directory, and an unknown task', async () => {
    expectError(await req(`${api}/tasks/${id}/files/nope.json`), 404, 'FILE_NOT_FOUND', { mention: 'nope.json' });
    expectError(await req(`${api}/tasks/${id}/files/vector_bak/nope.csv`), 404, 'FILE_NOT_FOUND', { mention: 'vector_bak/nope.csv' });
    expectError(await req(`${api}/tasks/${id}/files/vector_bak`), 404, 'FILE_NOT_FOUND');
    expectError(await req(`${api}/tasks/task_19990101_000000/files/data_pipeline.log`), 404, 'TASK_NOT_FOUND');
    expectError(await req(`${api}/tasks/task_19990101_000000/files`), 404, 'TASK_NOT_FOUND');
    expectError(await req(`${api}/tasks/bad.id/files`), 400, 'VALIDATION_ERROR', { mention: 'task_id' });
  });

  it('never serves anything outside the task directory', async () => {
    const refused = (res: Res, what: string, exactly?: number) => {
      assert.ok(res.status === 400 || res.status === 404, `${what}: ${res.status} ${res.text.slice(0, 200)}`);
      if (exactly) assert.equal(res.status, exactly, `${what}: ${res.text.slice(0, 200)}`);
      assert.ok(!res.text.includes('root:'), `${what} served /etc/passwd`);
      assert.ok(!res.text.includes(outsideSecret), `${what} served a file outside the task directory`);
      assert.equal(res.body?.success, false, `${what}: JSON error envelope expected`);
      assert.equal(res.body.code, res.status);
      if (res.status === 400) assert.equal(res.body.error.code, 'INVALID_PATH', what);
    };
    const prefix = `/api/v0/data_pipeline/tasks/${id}/files/`;
    const attempts = [
      '..%2f..%2fetc%2fpasswd',
      '..%2F..%2F..%2F..%2F..%2F..%2Fetc%2Fpasswd',
      '%2e%2e/%2e%2e/etc/passwd',
      '%2e%2e%2f%2e%2e%2fetc%2fpasswd',
      '..%252f..%252fetc%252fpasswd',
      '%252e%252e%252fetc%252fpasswd',
      '%2fetc%2fpasswd',
      '%2Fetc%2Fpasswd',
      '..%5c..%5cetc%5cpasswd',
      'vector_bak/..%2f..%2f..%2f..%2fetc%2fpasswd',
      `..%2f..%2f..%2f${encodeURIComponent(path.basename(server.dir))}%2foutside.txt`,
      'link_out.txt',
      'passwd.txt',
      'data_pipeline.log%00.txt',
    ];
    for (const attempt of attempts) {
      refused(await req(`${server.baseUrl}${prefix}${attempt}`), `fetch ${attempt}`);
      // Sent as is, the attempt reaches the download route, which must see through it.
      refused(await raw(server.baseUrl, `${prefix}${attempt}`), `raw ${attempt}`, 400);
    }
    // Raw `..` segments, sent without any client-side normalisation.
    for (const attempt of ['../../../../../../etc/passwd', '../../outside.txt', 'vector_bak/../../../../etc/passwd', './../../etc/passwd', '//etc/passwd']) {
      refused(await raw(server.baseUrl, `${prefix}${attempt}`), `raw ${attempt}`, 400);
    }
    // The same file stays reachable the legitimate way.
    assert.equal((await req(`${server.baseUrl}${prefix}vector_bak/x.csv`)).status, 200);
  });
});

noServerErrors();
