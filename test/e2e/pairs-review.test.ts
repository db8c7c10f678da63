// Review before training in a real browser (Debian chromium through playwright-core), on a finished demo
// task: show the pairs, filter to those with findings, preview one, edit one so that it breaks and see the
// server refuse it, fix it and save, reject one and re-run training_load: the vector store holds exactly
// one sql row fewer (checked through the API). Screenshots of the pairs view at 1400×1000, zh and en.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { chromium, type Browser, type Page } from 'playwright-core';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import { createDemoDatabase } from '../helpers/demo.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, startTestServer, waitFor, type TestServer } from '../helpers/server.ts';

const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
const hasBrowser = fs.existsSync(CHROMIUM);
const skip = !hasBrowser && !process.env.CI ? `no browser at ${CHROMIUM} (apt-get install chromium)` : false;
const SHOTS = path.join(import.meta.dirname, 'screenshots');

describe('pairs review (real browser)', { skip, timeout: 300_000 }, () => {
  let store: TestDatabase;
  let demo: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let taskId: string;

  const sqlRows = async () =>
    ((await call(`${server.api}/vector/stats`)).body.data.collections as Array<{ name: string; rows: number }>).find((c) => c.name === 'sql')?.rows ?? 0;

  const runStep = async (step: string) => {
    const stepOf = async () => (await call(`${server.api}/tasks/${taskId}`)).body.data.steps.find((s: { step_name: string }) => s.step_name === step);
    const before = (await stepOf()).execution_id;
    await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: step } });
    await waitFor(async () => {
      const s = await stepOf();
      return s.execution_id !== before && s.step_status === 'completed';
    }, 120_000);
  };

  before(async () => {
    store = await createTestDatabase('dp_e2e_pairs');
    demo = await createDemoDatabase();
    server = await startTestServer({ storeUrl: store.url, env: { DATA_PIPELINE_DB_URL: demo.url } });
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
    });
    taskId = (await call(`${server.api}/tasks`, { method: 'POST', json: { task_name: '审阅测试' } })).body.data.task_id;
    await call(`${server.api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: [...DEMO_TABLES] } });
    await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'complete' } });
    await waitFor(async () => (['completed', 'failed'].includes((await call(`${server.api}/tasks/${taskId}`)).body.data.status) ? true : undefined), 240_000);
    // A pair added by hand that carries a lint warning (RANK() ≤ N keeps ties), so the "with findings"
    // filter has something to show; then loaded, so the store holds it.
    const added = await call(`${server.api}/tasks/${taskId}/pairs`, {
      method: 'POST',
      json: {
        question: '每个公司按服务区名称排在前两位的服务区是哪些？',
        sql: 'SELECT c.company_name, x.service_area_name FROM (SELECT service_area_name, company_id, RANK() OVER (PARTITION BY company_id ORDER BY service_area_name) AS r FROM bss_service_area WHERE delete_ts IS NULL) x JOIN bss_company c ON c.id = x.company_id WHERE x.r <= 2 AND c.delete_ts IS NULL',
      },
    });
    assert.equal(added.status, 201, added.text);
    await runStep('training_load');
    fs.mkdirSync(SHOTS, { recursive: true });
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await demo?.drop();
    await store?.drop();
  });

  async function openPairs(lang: 'zh' | 'en'): Promise<{ page: Page; problems: string[] }> {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const problems: string[] = [];
    page.on('pageerror', (error) => problems.push(error.message));
    await page.goto(`${server.baseUrl}/?lang=${lang}`);
    await page.locator(`#task-rows tr[data-task-id="${taskId}"]`).click();
    await page.locator('#pairs-button').click();
    await page.locator('#pair-rows tr[data-pair]').first().waitFor();
    return { page, problems };
  }

  test('filter, preview, a refused edit, a saved fix, a rejection that the next load applies', async () => {
    assert.equal((await call(`${server.api}/tasks/${taskId}`)).body.data.status, 'completed');
    const rowsBefore = await sqlRows();
    const { page, problems } = await openPairs('zh');

    // Only pairs with findings.
    await page.locator('#pair-findings').check();
    await page.waitForFunction(() => [...document.querySelectorAll('#pair-rows tr[data-pair]')].every((tr) => tr.querySelector('.finding')));
    assert.ok((await page.locator('#pair-rows tr[data-pair]').count()) > 0, `the demo run has pairs with findings: ${JSON.stringify((await call(`${server.api}/tasks/${taskId}/pairs?limit=3`)).body.data).slice(0, 1500)}`);
    await page.locator('#pair-findings').uncheck();
    await page.locator('#pair-rows tr[data-pair]').nth(1).waitFor();

    // Kept pairs: preview the first.
    await page.locator('#pair-status').selectOption('kept');
    await page.waitForFunction(() => [...document.querySelectorAll('#pair-rows [data-status]')].every((b) => ['valid', 'repaired', 'empty'].includes(b.getAttribute('data-status')!)));
    const first = page.locator('#pair-rows tr[data-pair]').first();
    const firstId = await first.getAttribute('data-pair');
    await first.locator('button[data-action=preview]').click();
    await page.getByTestId('pair-preview').first().waitFor();
    await page.waitForTimeout(200);
    await page.screenshot({ path: path.join(SHOTS, 'pairs-zh.png') });

    // Break it: the server refuses, nothing is saved.
    await first.locator('button[data-action=edit]').click();
    await page.locator('.pair-extra textarea[data-field=sql]').fill('SELECT no_such_column FROM bss_company');
    await page.locator('.pair-extra button[data-action=save]').click();
    await page.getByTestId('edit-error').filter({ hasText: /EXPLAIN|no_such_column/ }).waitFor();
    assert.equal((await call(`${server.api}/tasks/${taskId}/pairs`)).body.data.counts.edited, 0);

    // Fix it and save.
    await page.locator('.pair-extra textarea[data-field=question]').fill('列出所有公司及其编码。');
    await page.locator('.pair-extra textarea[data-field=sql]').fill('SELECT company_name, company_no FROM bss_company WHERE delete_ts IS NULL ORDER BY company_no');
    await page.locator('.pair-extra button[data-action=save]').click();
    await page.getByTestId('pair-saved').waitFor();
    const edited = (await call(`${server.api}/tasks/${taskId}/pairs?status=edited`)).body.data.pairs;
    assert.deepEqual(edited.map((p: { pair_id: string }) => p.pair_id), [firstId]);

    // Reject another kept pair, then re-run training_load from the step list.
    const other = page.locator(`#pair-rows tr[data-pair]:not([data-pair="${firstId}"])`).first();
    const otherId = await other.getAttribute('data-pair');
    await other.locator('button[data-action=reject]').click();
    await page.locator(`#pair-rows tr[data-pair="${otherId}"]`).waitFor({ state: 'detached' }).catch(() => undefined);
    assert.equal((await call(`${server.api}/tasks/${taskId}/pairs?status=rejected`)).body.data.pairs[0]?.pair_id, otherId);
    const loadBefore = (await call(`${server.api}/tasks/${taskId}`)).body.data.steps.find((s: { step_name: string }) => s.step_name === 'training_load').execution_id;
    await page.locator('#steps li[data-step=training_load] button.step-run').click();
    await waitFor(async () => {
      const step = (await call(`${server.api}/tasks/${taskId}`)).body.data.steps.find((s: { step_name: string }) => s.step_name === 'training_load');
      return step.execution_id !== loadBefore && step.step_status === 'completed';
    }, 120_000);
    assert.equal(await sqlRows(), rowsBefore - 1, 'exactly one row fewer: the rejected pair (the edit replaced its row one for one)');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('the pairs view in English', async () => {
    const { page, problems } = await openPairs('en');
    assert.equal(await page.locator('#pairs-button').textContent(), 'Show the pairs');
    await page.locator('#pairs-button').evaluate((button) => button.scrollIntoView({ block: 'start' }));
    await page.screenshot({ path: path.join(SHOTS, 'pairs-en.png') });
    assert.deepEqual(problems, []);
    await page.close();
  });
});
