// Review before training in a real browser (Debian chromium through playwright-core), on a finished demo
// task: show the pairs, filter to those with findings, preview one, edit one so that it breaks and see the
// server refuse it, fix it and save, reject one and re-run training_load: the vector store holds exactly
// one sql row fewer (checked through the API). The charts of the task (validation funnel, complexity mix,
// pairs per table) show the API's numbers and follow a rejection. Screenshots of the pairs view and the
// funnel at 1400×1000, zh and en.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import { browserSkip, launchBrowser, openPage, screenshotAt, SCREENSHOT_VIEWPORT, type OpenedPage } from '../helpers/browser.ts';
import { createDemoDatabase } from '../helpers/demo.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, runStepAgain, startTestServer, stepOf, waitFor, waitForStepRun, type TestServer } from '../helpers/server.ts';

describe('pairs review (real browser)', { skip: browserSkip, timeout: 300_000 }, () => {
  let store: TestDatabase;
  let demo: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let taskId: string;

  const sqlRows = async () =>
    ((await call(`${server.api}/vector/stats`)).body.data.collections as Array<{ name: string; rows: number }>).find((c) => c.name === 'sql')?.rows ?? 0;

  before(async () => {
    store = await createTestDatabase('dp_e2e_pairs');
    demo = await createDemoDatabase();
    server = await startTestServer({ storeUrl: store.url, env: { DATA_PIPELINE_DB_URL: demo.url } });
    browser = await launchBrowser();
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
    await runStepAgain(server.api, taskId, 'training_load');
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await demo?.drop();
    await store?.drop();
  });

  async function openTask(lang: 'zh' | 'en'): Promise<OpenedPage> {
    const opened = await openPage(browser, `${server.baseUrl}/?lang=${lang}`, { viewport: SCREENSHOT_VIEWPORT });
    await opened.page.locator(`#task-rows tr[data-task-id="${taskId}"]`).click();
    return opened;
  }

  async function openPairs(lang: 'zh' | 'en'): Promise<OpenedPage> {
    const { page, problems } = await openTask(lang);
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
    await screenshotAt(page, '#pairs-title', 'pairs-zh');

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
    const loadBefore = (await stepOf(server.api, taskId, 'training_load')).execution_id;
    await page.locator('#steps li[data-step=training_load] button.step-run').click();
    assert.equal((await waitForStepRun(server.api, taskId, 'training_load', loadBefore)).step_status, 'completed');
    assert.equal(await sqlRows(), rowsBefore - 1, 'exactly one row fewer: the rejected pair (the edit replaced its row one for one)');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('the pairs view in English', async () => {
    const { page, problems } = await openPairs('en');
    assert.equal(await page.locator('#pairs-button').textContent(), 'Show the pairs');
    await screenshotAt(page, '#pairs-title', 'pairs-en');
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('charts: funnel, complexity mix and pairs per table show the API numbers; a table left without pairs is marked; a rejection moves them', async () => {
    const api = server.api;
    type Stats = { funnel: { stages: Array<{ stage: string; pairs: number }> } | null; counts: { kept: number }; complexity: Array<{ complexity: string | null; pairs: number; kept: number }>; tables: Array<{ table: string; pairs: number; kept: number }> };
    const stats = async (): Promise<Stats> => {
      const res = await call(`${api}/tasks/${taskId}/pairs/stats`);
      assert.equal(res.status, 200, res.text);
      return res.body.data;
    };
    // Every pair of one table rejected: its row must say it has none.
    const emptied = 'public.bss_section_route';
    const ofTable = (await call(`${api}/tasks/${taskId}/pairs?table=${emptied}&status=kept&limit=1000`)).body.data.pairs as Array<{ pair_id: string }>;
    assert.ok(ofTable.length > 0, `the demo task has pairs on ${emptied}`);
    for (const p of ofTable) assert.equal((await call(`${api}/tasks/${taskId}/pairs/${p.pair_id}/reject`, { method: 'POST', json: { reason: 'chart test' } })).status, 200);
    try {
      const expected = await stats();
      assert.ok(expected.funnel, 'sql_validation ran: the funnel is there');
      assert.equal(expected.tables.find((t) => t.table === emptied)?.kept, 0);
      for (const lang of ['zh', 'en'] as const) {
        const { page, problems } = await openTask(lang);
        await page.locator('#funnel-bars .bar-row').first().waitFor();
        // Funnel: each stage of the issue in order; a stage the report has shows its count, one it lacks
        // (e.g. the meaning check before it lands) is drawn as not measured; none of the report's is lost.
        const rows = await page.locator('#funnel-bars .bar-row').evaluateAll((items) =>
          items.map((r) => ({ stage: r.getAttribute('data-stage'), pairs: r.getAttribute('data-pairs'), absent: r.getAttribute('data-absent') === 'true', label: r.querySelector('.bar-label')!.textContent })),
        );
        const reported = new Set<string>(expected.funnel!.stages.map((st) => st.stage));
        for (const st of expected.funnel!.stages) assert.equal(rows.find((r) => r.stage === st.stage)?.pairs, String(st.pairs), `${st.stage} shown with its count`);
        for (const r of rows) if (!reported.has(r.stage!)) assert.ok(r.absent, `${r.stage} is not in the report: shown as absent`);
        const order = rows.map((r) => r.stage);
        for (const [a, b] of [['generated', 'parsed'], ['parsed', 'explain_valid'], ['explain_valid', 'lint_clean'], ['lint_clean', 'meaning_checked'], ['meaning_checked', 'repaired'], ['repaired', 'kept']]) {
          assert.ok(order.indexOf(a!) >= 0 && order.indexOf(a!) < order.indexOf(b!), `${a} before ${b}: ${order.join(' → ')}`);
        }
        assert.equal(rows[0]!.label, lang === 'zh' ? '生成' : 'generated');
        assert.match((await page.getByTestId('funnel-review').textContent()) ?? '', new RegExp(`\\b${expected.counts.kept}\\b`));
        // Complexity mix: every level with the API's counts.
        const mix = await page.locator('#complexity-bars .bar-row').evaluateAll((items) => items.map((r) => [r.getAttribute('data-complexity'), r.getAttribute('data-kept'), r.getAttribute('data-pairs')]));
        assert.deepEqual(
          mix,
          expected.complexity.filter((c) => c.complexity !== null || c.pairs > 0).map((c) => [c.complexity ?? '', String(c.kept), String(c.pairs)]),
        );
        for (const level of ['single_table', 'join', 'aggregate', 'window_cte']) assert.ok(mix.some((m) => m[0] === level), level);
        // Pairs per table: every table of the task, the emptied one marked.
        const coverage = await page.locator('#coverage-bars .bar-row').evaluateAll((items) => items.map((r) => [r.getAttribute('data-table'), r.getAttribute('data-kept'), r.classList.contains('bar-none')]));
        assert.deepEqual(coverage, expected.tables.map((t) => [t.table, String(t.kept), t.kept === 0]));
        assert.equal(coverage.length, DEMO_TABLES.length);
        // Its pairs are all rejected: none of them to load, out of how many.
        assert.equal(await page.locator(`#coverage-bars .bar-row[data-table="${emptied}"] .bar-value`).textContent(), `0 / ${expected.tables.find((t) => t.table === emptied)!.pairs}`);
        await page.waitForTimeout(200);
        await screenshotAt(page, '#charts-title', `funnel-${lang}`);
        assert.deepEqual(problems, []);
        await page.close();
      }
    } finally {
      for (const p of ofTable) await call(`${api}/tasks/${taskId}/pairs/${p.pair_id}/restore`, { method: 'POST' });
    }

    // A rejection from the pairs view moves the charts at once.
    const { page, problems } = await openPairs('zh');
    await page.locator('#pair-status').selectOption('kept');
    await page.waitForFunction(() => [...document.querySelectorAll('#pair-rows [data-status]')].every((b) => b.getAttribute('data-status') !== 'rejected'));
    const row = page.locator('#pair-rows tr[data-pair]').first();
    const pairId = await row.getAttribute('data-pair');
    const pair = (await call(`${api}/tasks/${taskId}/pairs?limit=1000`)).body.data.pairs.find((p: { pair_id: string }) => p.pair_id === pairId);
    const table = pair.tables[0] as string;
    const before = (await stats()).tables.find((t) => t.table === table)!.kept;
    await page.locator(`#coverage-bars .bar-row[data-table="${table}"][data-kept="${before}"]`).waitFor();
    await row.locator('button[data-action=reject]').click();
    await page.locator(`#coverage-bars .bar-row[data-table="${table}"][data-kept="${before - 1}"]`).waitFor();
    await call(`${api}/tasks/${taskId}/pairs/${pairId}/restore`, { method: 'POST' });
    assert.deepEqual(problems, []);
    await page.close();
  });
});
