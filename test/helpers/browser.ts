// The dashboard tests' browser: Debian chromium driven by playwright-core (which downloads no browser).
// A page collects its script errors, so a test can assert that the page ran clean.
import fs from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { requiredByRun } from './postgres.ts';

export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
/** Without a browser these suites are skipped, unless the run requires one (.ci/run: DATA_PIPELINE_TEST_REQUIRE
 * names chromium), where a missing browser is a failure. */
export const browserSkip: string | false =
  !fs.existsSync(CHROMIUM) && !requiredByRun('chromium') ? `no browser at ${CHROMIUM} (apt-get install chromium fonts-noto-cjk)` : false;
/** Git-ignored: pictures to look at, not to compare. */
export const SCREENSHOT_DIR = path.join(import.meta.dirname, '..', 'e2e', 'screenshots');
/** The size the issues ask the screenshots at. */
export const SCREENSHOT_VIEWPORT = { width: 1400, height: 1000 };

export function launchBrowser(): Promise<Browser> {
  return chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update'],
  });
}

export interface OpenedPage {
  page: Page;
  /** Uncaught errors and console errors of the page (failed resource loads aside: 4xx answers are expected). */
  problems: string[];
}

export async function openPage(browser: Browser, url: string, options: { viewport?: { width: number; height: number } } = {}): Promise<OpenedPage> {
  const page = await browser.newPage(options.viewport ? { viewport: options.viewport } : {});
  const problems: string[] = [];
  page.on('pageerror', (error) => problems.push(error.message));
  page.on('console', (message) => {
    if (message.type() === 'error' && !/Failed to load resource/.test(message.text())) problems.push(message.text());
  });
  await page.goto(url);
  return { page, problems };
}

/** A full-viewport picture under test/e2e/screenshots/<name>.png, the element scrolled to the top first. */
export async function screenshotAt(page: Page, selector: string, name: string): Promise<string> {
  fs.mkdirSync(SCREENSHOT_DIR, { recursive: true });
  await page.locator(selector).evaluate((node) => node.scrollIntoView({ block: 'start' }));
  const file = path.join(SCREENSHOT_DIR, `${name}.png`);
  await page.screenshot({ path: file });
  return file;
}
