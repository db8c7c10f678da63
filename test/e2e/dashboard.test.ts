// The dashboard in a real browser (Debian chromium driven by playwright-core): one button runs the whole
// pipeline on the demo database and the page follows it live; bad input is shown, not thrown; texts are
// Chinese by default and English on request; with an API key the page asks for it; server text stays text.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { browserSkip, launchBrowser, openPage } from '../helpers/browser.ts';
import { createDemoDatabase } from '../helpers/demo.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, startTestServer, type TestServer } from '../helpers/server.ts';

describe('dashboard (real browser)', { skip: browserSkip, timeout: 300_000 }, () => {
  let store: TestDatabase;
  let demo: TestDatabase;
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    store = await createTestDatabase('dp_e2e_store');
    demo = await createDemoDatabase();
    server = await startTestServer({ storeUrl: store.url, env: { DATA_PIPELINE_DB_URL: demo.url } });
    browser = await launchBrowser();
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await demo?.drop();
    await store?.drop();
  });

  const problemsOfPage = new WeakMap<Page, string[]>();
  async function open(url: string): Promise<Page> {
    const { page, problems } = await openPage(browser, url);
    problemsOfPage.set(page, problems);
    return page;
  }
  const problemsOf = (page: Page) => problemsOfPage.get(page)!;

  test('one button: pick tables, create and run; the page follows the run to completion', async () => {
    const page = await open(`${server.baseUrl}/`);
    await page.getByTestId('health').filter({ hasText: '服务正常' }).waitFor();
    assert.equal(await page.locator('#new-task-title').textContent(), '新建任务');

    await page.locator('input[name=task_name]').fill('看板测试');
    await page.locator('textarea[name=business_context]').fill('高速公路服务区管理系统');
    await page.getByRole('button', { name: '读取数据库表' }).click();
    await page.locator('#tables-status').filter({ hasText: '共 7 张表' }).waitFor();
    assert.equal(await page.locator('#table-options input:checked').count(), 7);
    await page.getByRole('button', { name: '创建并执行' }).click();

    const status = page.getByTestId('detail-status');
    await page.locator('[data-testid=detail-status][data-status=completed]').waitFor({ timeout: 240_000 });
    assert.equal(await status.textContent(), '已完成');
    for (const step of ['ddl_generation', 'qa_generation', 'sql_validation', 'training_load']) {
      assert.equal(await page.locator(`#steps li[data-step=${step}] .badge`).getAttribute('data-status'), 'completed', step);
    }
    // Counters of the run are shown with their step.
    assert.match((await page.locator('#steps li[data-step=training_load]').textContent()) ?? '', /\d/);
    // The file list follows the steps (it is read again when a step's status changes).
    await page.locator('#files a', { hasText: /\.ddl$/ }).first().waitFor();
    await page.locator('#files a', { hasText: /_pair\.json$/ }).first().waitFor();
    const files = await page.locator('#files a').allTextContents();
    assert.ok(files.some((f) => f.endsWith('.ddl')), files.join(', '));
    assert.ok(files.some((f) => f.endsWith('_pair.json')), files.join(', '));
    const href = await page.locator('#files a', { hasText: '.ddl' }).first().getAttribute('href');
    assert.match(href!, /^\/api\/v0\/data_pipeline\/tasks\/task_[^/]+\/files\/[^/]+\.ddl$/);
    const download = await call(`${server.baseUrl}${href}`);
    assert.equal(download.status, 200);
    assert.match(download.text, /CREATE TABLE/);
    // Log lines arrived (a snapshot from the API, then live from the event stream at the snapshot's
    // offset): the page shows the task's log entries exactly, none lost, none twice.
    const taskId = /task_\d{8}_\d{6}(?:_\d+)?/.exec((await page.locator('#detail-title').textContent()) ?? '')![0];
    const logged = async () =>
      ((await call(`${server.api}/tasks/${taskId}/logs?limit=10000`)).body.data.logs as Array<{ timestamp: string; level: string; logger: string; message: string }>).map(
        (l) => `${l.timestamp} [${l.level}] ${l.logger}: ${l.message}`,
      );
    const shown = async () => (await page.locator('#logs div').allTextContents()).filter((line) => /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2} \[/.test(line));
    let expected = await logged();
    for (let i = 0; i < 20 && (await shown()).length !== expected.length; i += 1) {
      await page.waitForTimeout(250);
      expected = await logged();
    }
    assert.ok(expected.length > 5);
    assert.deepEqual(await shown(), expected);
    // The list shows the task, completed.
    const row = page.locator('#task-rows tr', { hasText: '看板测试' });
    await row.locator('.badge[data-status=completed]').waitFor();
    // The vector store counter in the header reflects the load.
    await page.getByTestId('vector-stats').filter({ hasText: /向量库: [1-9]\d* 行/ }).waitFor();

    // One step again, alone (guide §8.3): queued in step mode, run, and the page follows it.
    await page.locator('#steps li[data-step=ddl_generation] button', { hasText: '单独执行此步骤' }).click();
    await page.locator('#logs div', { hasText: '任务执行已排队: mode=step, step=ddl_generation' }).first().waitFor(); // accepted: in_progress from here on
    let afterStep = (await call(`${server.api}/tasks/${taskId}`)).body.data;
    for (let i = 0; i < 300 && afterStep.status === 'in_progress'; i += 1) {
      await page.waitForTimeout(200);
      afterStep = (await call(`${server.api}/tasks/${taskId}`)).body.data;
    }
    assert.equal(afterStep.execution_mode, 'step');
    assert.equal(afterStep.step_status.ddl_generation, 'completed');
    await page.locator(`[data-testid=detail-status][data-status=${afterStep.status}]`).waitFor();
    await page.locator('#steps li[data-step=ddl_generation] .badge[data-status=completed]').waitFor();

    // Retrieval check: a question of the pair file finds its own pair first.
    const pairHref = await page.locator('#files a', { hasText: /_pair\.json$/ }).first().getAttribute('href');
    const pairs = JSON.parse((await call(`${server.baseUrl}${pairHref}`)).text) as Array<{ question: string; sql: string }>;
    await page.locator('#search-form input[name=question]').fill(pairs[3]!.question);
    await page.getByRole('button', { name: '检索' }).click();
    const firstSqlHit = page.locator('#search-results [data-collection=sql] .hit').first();
    await firstSqlHit.waitFor();
    assert.equal(await firstSqlHit.locator('div').first().textContent(), pairs[3]!.question);
    assert.equal(await firstSqlHit.locator('pre').textContent(), pairs[3]!.sql);
    assert.deepEqual(problemsOf(page), []);
    await page.close();
  });

  test('bad input is explained on the page: no tables, an unreachable database', async () => {
    const page = await open(`${server.baseUrl}/`);
    await page.getByRole('button', { name: '创建并执行' }).click();
    await page.locator('#form-error').filter({ hasText: '请至少选择或填写一张表' }).waitFor();

    await page.locator('input[name=db_connection]').fill('postgresql://nobody:secret-pw@127.0.0.1:1/nowhere');
    await page.getByRole('button', { name: '读取数据库表' }).click();
    const error = page.locator('#form-error').filter({ hasText: 'DATABASE_CONNECTION_ERROR' });
    await error.waitFor({ timeout: 20_000 });
    assert.doesNotMatch((await error.textContent()) ?? '', /secret-pw/);

    // A table that does not exist: refused before anything runs, with its name.
    await page.locator('input[name=db_connection]').fill('');
    await page.locator('textarea[name=table_names]').fill('no_such_table');
    await page.getByRole('button', { name: '创建并执行' }).click();
    await page.locator('#form-error').filter({ hasText: 'no_such_table' }).waitFor();
    assert.match((await page.locator('#form-error').textContent()) ?? '', /TABLES_NOT_FOUND/);
    await page.close();
  });

  test('English on request; server text is shown as text, never as HTML', async () => {
    const hostile = '<img src=x onerror="window.__pwned=1">';
    const created = await call(`${server.api}/tasks`, { method: 'POST', json: { task_name: hostile } });
    assert.equal(created.status, 201);
    const page = await open(`${server.baseUrl}/?lang=en`);
    await page.getByTestId('health').filter({ hasText: 'healthy' }).waitFor();
    assert.equal(await page.locator('#new-task-title').textContent(), 'New task');
    const row = page.locator('#task-rows tr', { hasText: hostile });
    await row.waitFor();
    assert.equal(await row.locator('.badge').textContent(), 'pending');
    assert.equal(await page.locator('#task-rows img').count(), 0);
    assert.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined);
    // Switching back to Chinese re-labels the page.
    await page.locator('#lang').selectOption('zh');
    await page.locator('#new-task-title').filter({ hasText: '新建任务' }).waitFor();
    assert.deepEqual(problemsOf(page), []);
    await page.close();
  });

  test('switching tasks quickly never shows the task that was left', async () => {
    const a = (await call(`${server.api}/tasks`, { method: 'POST', json: { task_name: 'slow task A' } })).body.data.task_id as string;
    const b = (await call(`${server.api}/tasks`, { method: 'POST', json: { task_name: 'task B' } })).body.data.task_id as string;
    const page = await open(`${server.baseUrl}/`);
    // A's status answers late: it must not replace B's.
    await page.route(`**/api/v0/data_pipeline/tasks/${a}`, async (route) => {
      await new Promise((resolve) => setTimeout(resolve, 1500));
      await route.continue().catch(() => undefined);
    });
    await page.locator(`#task-rows tr[data-task-id="${a}"]`).click();
    await page.locator(`#task-rows tr[data-task-id="${b}"]`).click();
    await page.locator('#detail-title', { hasText: 'task B' }).waitFor();
    await page.waitForTimeout(2500);
    assert.match((await page.locator('#detail-title').textContent()) ?? '', new RegExp(b));
    assert.equal(await page.locator('#task-rows tr.selected').getAttribute('data-task-id'), b);
    await page.close();
  });

  test('with an API key the page asks for it, then works; the page itself is public', async () => {
    const secured = await startTestServer({ storeUrl: store.url, env: { DATA_PIPELINE_DB_URL: demo.url, DATA_PIPELINE_API_KEY: 'k-123456789' }, workers: false });
    try {
      const page = await browser.newPage();
      const prompts: string[] = [];
      page.on('dialog', (dialog) => {
        prompts.push(dialog.message());
        void dialog.accept('k-123456789');
      });
      await page.goto(`${secured.baseUrl}/`);
      await page.getByTestId('health').filter({ hasText: '服务正常' }).waitFor();
      await page.locator('#task-rows tr').first().waitFor();
      await page.waitForTimeout(3500); // one more refresh of the list: still no second prompt
      assert.equal(prompts.length, 1, 'one prompt for all the refused requests');
      assert.match(prompts[0]!, /API 密钥/);
      await page.close();

      // Dismissed: the page says a key is needed and does not ask again by itself.
      const dismissed = await browser.newPage();
      let asked = 0;
      dismissed.on('dialog', (dialog) => {
        asked += 1;
        void dialog.dismiss();
      });
      await dismissed.goto(`${secured.baseUrl}/`);
      await dismissed.getByTestId('health').filter({ hasText: '需要 API 密钥' }).waitFor();
      await dismissed.waitForTimeout(3500);
      assert.equal(asked, 1);
      await dismissed.close();
      const headers = (await call(`${secured.baseUrl}/`)).headers;
      assert.match(headers.get('content-security-policy') ?? '', /default-src 'self'/);
    } finally {
      await secured.close();
    }
  });
});
