// The schema map in a real browser (Debian chromium through playwright-core): the demo task's tables and
// relationships (declared solid, inferred dashed with their evidence), roles per column when a table is
// opened, and a veto of an inferred relationship that the next ddl_generation honours (gone from
// schema.json, checked through the API). Screenshots at 1400×1000 in zh and en go to test/e2e/screenshots/.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser } from 'playwright-core';
import { browserSkip, launchBrowser, openPage, screenshotAt, SCREENSHOT_VIEWPORT, type OpenedPage } from '../helpers/browser.ts';
import { createDemoDatabase } from '../helpers/demo.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, startTestServer, stepOf, waitForStatus, waitForStepRun, type TestServer } from '../helpers/server.ts';

describe('schema map (real browser)', { skip: browserSkip, timeout: 240_000 }, () => {
  let store: TestDatabase;
  let demo: TestDatabase;
  let server: TestServer;
  let browser: Browser;
  let taskId: string;

  before(async () => {
    store = await createTestDatabase('dp_e2e_map');
    demo = await createDemoDatabase({ days: 20 });
    server = await startTestServer({ storeUrl: store.url, env: { DATA_PIPELINE_DB_URL: demo.url } });
    browser = await launchBrowser();
    const created = await call(`${server.api}/tasks`, { method: 'POST', json: { task_name: '关系图测试' } });
    taskId = created.body.data.task_id;
    await call(`${server.api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: ['bss_company', 'bss_service_area', 'bss_car_day_count', 'bss_service_area_mapper'] } });
    await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: 'ddl_generation' } });
    await waitForStatus(server.api, taskId, ['partial_completed', 'completed'], 120_000);
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await demo?.drop();
    await store?.drop();
  });

  async function openMap(lang: 'zh' | 'en'): Promise<OpenedPage> {
    const { page, problems } = await openPage(browser, `${server.baseUrl}/?lang=${lang}`, { viewport: SCREENSHOT_VIEWPORT });
    await page.locator(`#task-rows tr[data-task-id="${taskId}"]`).click();
    await page.locator('#map-button').click();
    await page.locator('#schema-map canvas').first().waitFor();
    await page.locator('#map-edges li').first().waitFor();
    return { page, problems };
  }

  test('tables and relationships: inferred ones with evidence; roles when a table is opened; screenshots zh/en', async () => {
    for (const lang of ['zh', 'en'] as const) {
      const { page, problems } = await openMap(lang);
      const edges = await page.locator('#map-edges li').evaluateAll((items) => items.map((li) => `${li.getAttribute('data-from')}>${li.getAttribute('data-to')}:${li.getAttribute('data-state')}`));
      assert.ok(edges.includes('bss_service_area.company_id>bss_company.id:inferred'), edges.join(', '));
      assert.ok(edges.includes('bss_car_day_count.service_area_id>bss_service_area.id:inferred'), edges.join(', '));
      await page.locator('#map-edges li[data-from="bss_service_area.company_id"] button').click();
      const detail = (await page.getByTestId('edge-detail').textContent()) ?? '';
      assert.match(detail, lang === 'zh' ? /推断/ : /inferred/);
      assert.match((await page.getByTestId('map-detail').textContent()) ?? '', /key_suffix/, 'the evidence is shown');
      // Let the layout settle before the picture.
      await page.waitForTimeout(500);
      await screenshotAt(page, '#map-title', `schema-map-${lang}`);
      assert.deepEqual(problems, []);
      await page.close();
    }
  });

  test('veto an inferred relationship from the map; the next ddl_generation drops it from schema.json', async () => {
    const { page, problems } = await openMap('zh');
    await page.locator('#map-edges li[data-from="bss_car_day_count.service_area_id"] button').click();
    await page.getByTestId('veto-edge').click();
    await page.getByTestId('override-saved').waitFor();
    await page.locator('#map-edges li[data-from="bss_car_day_count.service_area_id"][data-state="vetoed"]').waitFor();
    const saved = await call(`${server.api}/tasks/${taskId}/relationships`);
    assert.deepEqual(saved.body.data.overrides, [{ from: 'bss_car_day_count.service_area_id', to: 'bss_service_area.id', enabled: false }]);

    // Re-run ddl_generation alone from the page's step list, and wait for that run (not the last one) to end.
    const previous = (await stepOf(server.api, taskId, 'ddl_generation')).execution_id;
    await page.locator('#steps li[data-step=ddl_generation] button.step-run').click();
    assert.equal((await waitForStepRun(server.api, taskId, 'ddl_generation', previous)).step_status, 'completed');
    const after = await call(`${server.api}/tasks/${taskId}/relationships`);
    const relationships = after.body.data.relationships.map((r: { from: string; to: string }) => `${r.from}>${r.to}`);
    assert.ok(!relationships.includes('bss_car_day_count.service_area_id>bss_service_area.id'), relationships.join(', '));
    assert.ok(relationships.includes('bss_service_area.company_id>bss_company.id'), 'the others stay');
    const file = await call(`${server.api}/tasks/${taskId}/files/schema.json`);
    assert.doesNotMatch(JSON.stringify(JSON.parse(file.text).tables.find((t: { name: string }) => t.name === 'bss_car_day_count').foreign_keys), /service_area_id/);
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('the relationships API refuses bad input with a 4xx', async () => {
    const cases: Array<[unknown, number]> = [
      [{ relationships: [{ from: 'nope.x', to: 'bss_company.id' }] }, 400],
      [{ relationships: [{ from: 'bss_service_area', to: 'bss_company.id' }] }, 400],
      [{ relationships: 'x' }, 400],
      [{}, 400],
      [{ relationships: [], extra: 1 }, 400],
    ];
    for (const [body, status] of cases) {
      const res = await call(`${server.api}/tasks/${taskId}/relationships`, { method: 'PUT', json: body });
      assert.equal(res.status, status, `${JSON.stringify(body)}: ${res.text}`);
      assert.equal(res.body.success, false);
    }
    assert.equal((await call(`${server.api}/tasks/task_20990101_000000/relationships`)).status, 404);
    const fresh = await call(`${server.api}/tasks`, { method: 'POST', json: {} });
    const notReady = await call(`${server.api}/tasks/${fresh.body.data.task_id}/relationships`);
    assert.equal(notReady.status, 409);
    assert.equal(notReady.body.error.code, 'SCHEMA_NOT_READY');
  });
});
