// The dashboard's retrieval self-test in a real browser (Debian chromium through playwright-core): a
// question set pasted as CSV or uploaded as JSON goes to POST /vector/evaluate, and the page shows recall@k
// overall, per question and the misses, exactly as the API answers the same request. A set the page cannot
// read, or one the server refuses, is explained. Chinese by default, English on request.
import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Browser, Page } from 'playwright-core';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import { browserSkip, launchBrowser, openPage, screenshotAt, SCREENSHOT_VIEWPORT } from '../helpers/browser.ts';
import { createDemoDatabase } from '../helpers/demo.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, startTestServer, waitForStatus, type TestServer } from '../helpers/server.ts';

interface Evaluation {
  k: number;
  summary: { recall: number; questions: number; complete: number };
  results: Array<{ question: string; recall: number; missed: string[] }>;
  misses: Array<{ question: string; missed: string[] }>;
}

// Needs of 2–3 tables each: at k=1 with one collection each question misses at least one table, so the
// misses are drawn whatever the embedder retrieves.
const QUESTIONS = [
  { question: '各服务区每天的车流量是多少？', tables: ['bss_car_day_count', 'bss_service_area'] },
  { question: '每个公司管理多少个服务区？', tables: ['bss_company', 'bss_service_area'] },
  { question: '哪些路段连接了哪些服务区？', tables: ['bss_section_route', 'bss_section_route_area_link', 'bss_service_area'] },
];
const csvOf = (questions: typeof QUESTIONS) => `question,tables\n${questions.map((q) => `${q.question},${q.tables.join(';')}`).join('\n')}\n`;

describe('retrieval self-test (real browser)', { skip: browserSkip, timeout: 300_000 }, () => {
  let store: TestDatabase;
  let demo: TestDatabase;
  let server: TestServer;
  let browser: Browser;

  before(async () => {
    store = await createTestDatabase('dp_e2e_eval');
    demo = await createDemoDatabase({ days: 20 });
    server = await startTestServer({ storeUrl: store.url, env: { DATA_PIPELINE_DB_URL: demo.url } });
    browser = await launchBrowser();
    const taskId = (await call(`${server.api}/tasks`, { method: 'POST', json: { task_name: '检索自测' } })).body.data.task_id;
    await call(`${server.api}/tasks/${taskId}/table-list`, { method: 'POST', json: { table_names: [...DEMO_TABLES] } });
    await call(`${server.api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'complete' } });
    assert.equal((await waitForStatus(server.api, taskId, ['completed', 'failed'], 240_000)).status, 'completed');
  });
  after(async () => {
    await browser?.close();
    await server?.close();
    await demo?.drop();
    await store?.drop();
  });

  const evaluate = async (body: unknown): Promise<Evaluation> => {
    const res = await call(`${server.api}/vector/evaluate`, { method: 'POST', json: body });
    assert.equal(res.status, 200, res.text);
    return res.body.data;
  };

  /** The page shows what the API answered: overall, per question (in order), and the misses. */
  async function assertShows(page: Page, expected: Evaluation) {
    const recall = page.getByTestId('eval-recall');
    await recall.waitFor();
    assert.equal(await recall.textContent(), `recall@${expected.k} = ${expected.summary.recall.toFixed(3)}`);
    const rows = await page.locator('[data-testid=eval-questions] tbody tr').evaluateAll((trs) =>
      trs.map((tr) => ({ question: tr.children[1]!.textContent, missed: tr.children[3]!.textContent, recall: Number(tr.getAttribute('data-recall')), miss: tr.classList.contains('miss') })),
    );
    assert.deepEqual(
      rows,
      expected.results.map((r) => ({ question: r.question, missed: r.missed.join(', '), recall: r.recall, miss: r.missed.length > 0 })),
    );
    const misses = await page.locator('[data-testid=eval-misses] li').allTextContents();
    assert.equal(misses.length, expected.misses.length);
    expected.misses.forEach((m, i) => {
      assert.ok(misses[i]!.startsWith(m.question), misses[i]);
      for (const table of m.missed) assert.ok(misses[i]!.includes(table), `${table} in ${misses[i]}`);
    });
  }

  test('paste a CSV set: recall@k, per question and the misses as the API answers; upload a JSON set with its k and collections', async () => {
    const { page, problems } = await openPage(browser, `${server.baseUrl}/`, { viewport: SCREENSHOT_VIEWPORT });
    assert.equal(await page.locator('#eval-button').textContent(), '评估');
    await page.getByTestId('eval-input').fill(csvOf(QUESTIONS));
    await page.locator('#eval-form select[name=k]').selectOption('1');
    await page.locator('#eval-button').click();
    const atOne = await evaluate({ questions: QUESTIONS, k: 1, collections: ['ddl'] });
    assert.ok(atOne.misses.length >= QUESTIONS.length, 'k=1 cannot find two tables');
    await assertShows(page, atOne);
    assert.match((await page.getByTestId('eval-summary').textContent()) ?? '', new RegExp(`${atOne.summary.complete}/${atOne.summary.questions} 题全部命中`));
    await page.waitForTimeout(200);
    await screenshotAt(page, '#search-title', 'retrieval-zh');

    // A JSON file (the API's own body) read in the page: its k and collections are put in the form and used.
    const body = { questions: QUESTIONS.slice(0, 2), k: 3, collections: ['ddl', 'documentation'] };
    await page.locator('#eval-file').setInputFiles({ name: 'questions.json', mimeType: 'application/json', buffer: Buffer.from(JSON.stringify(body)) });
    await page.getByTestId('eval-file-name').filter({ hasText: 'questions.json' }).waitFor();
    await page.locator('#eval-button').click();
    await page.getByTestId('eval-recall').filter({ hasText: 'recall@3' }).waitFor();
    assert.equal(await page.locator('#eval-form select[name=k]').inputValue(), '3');
    assert.deepEqual(await page.locator('#eval-form input[name=collection]:checked').evaluateAll((boxes) => boxes.map((b) => (b as HTMLInputElement).value)), ['ddl', 'documentation']);
    await assertShows(page, await evaluate(body));
    assert.deepEqual(problems, []);
    await page.close();
  });

  test('a set the page cannot read, and one the server refuses, are explained; English on request', async () => {
    const { page, problems } = await openPage(browser, `${server.baseUrl}/`);
    // No header row: the page says what it needs, nothing is sent.
    let sent = 0;
    page.on('request', (request) => {
      if (request.url().endsWith('/vector/evaluate')) sent += 1;
    });
    await page.getByTestId('eval-input').fill('各服务区的车流量,bss_car_day_count\n');
    await page.locator('#eval-button').click();
    await page.getByTestId('eval-error').filter({ hasText: '表头' }).waitFor();
    assert.equal(sent, 0);
    // A table the store has no document of: the server's 400 is shown, naming it.
    await page.getByTestId('eval-input').fill(csvOf([{ question: '每个公司的营业额？', tables: ['bss_no_such_table'] }]));
    await page.locator('#eval-button').click();
    await page.getByTestId('eval-error').filter({ hasText: 'bss_no_such_table' }).waitFor();
    assert.match((await page.getByTestId('eval-error').textContent()) ?? '', /VALIDATION_ERROR/);
    assert.equal(await page.getByTestId('eval-results').textContent(), '');
    await page.close();

    const english = await openPage(browser, `${server.baseUrl}/?lang=en`, { viewport: SCREENSHOT_VIEWPORT });
    assert.equal(await english.page.locator('#eval-button').textContent(), 'Evaluate');
    await english.page.getByTestId('eval-input').fill(JSON.stringify({ questions: QUESTIONS, k: 1 }));
    await english.page.locator('#eval-button').click();
    await assertShows(english.page, await evaluate({ questions: QUESTIONS, k: 1, collections: ['ddl'] }));
    assert.match((await english.page.getByTestId('eval-summary').textContent()) ?? '', /questions found every table/);
    await english.page.getByTestId('eval-input').fill('{"questions": [');
    await english.page.locator('#eval-button').click();
    await english.page.getByTestId('eval-error').filter({ hasText: 'not valid JSON' }).waitFor();
    await english.page.getByTestId('eval-input').fill(JSON.stringify({ questions: QUESTIONS, k: 1 }));
    await english.page.locator('#eval-button').click();
    await english.page.getByTestId('eval-recall').waitFor();
    await english.page.waitForTimeout(200);
    await screenshotAt(english.page, '#search-title', 'retrieval-en');
    assert.deepEqual([...problems, ...english.problems], []);
    await english.page.close();
  });
});
