// `npm test`: finds out once what this machine offers (a PostgreSQL server, a chromium), says which suites
// run where, and runs every test file with node's test runner.
//   - PostgreSQL answering at DATA_PIPELINE_TEST_POSTGRES_URL (default 127.0.0.1:5432, user postgres):
//     the integration suites make their databases there; otherwise on embedded PGlite, and the few suites
//     that need a real server are skipped with the reason.
//   - chromium at CHROMIUM_PATH (default /usr/bin/chromium): the dashboard suites run; otherwise skipped.
//   - DATA_PIPELINE_TEST_REQUIRE=postgres,chromium (set by .ci/run) turns a missing part into a failure.
//   - files run two at a time on a PostgreSQL server (DATA_PIPELINE_TEST_CONCURRENCY=n to change it), the
//     load-sensitive ones alone after.
// Arguments narrow the run to files or folders: `npm test -- test/unit test/integration/queue.test.ts`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { CHROMIUM } from './helpers/browser.ts';
import { ADMIN_URL, postgresAnswers, requiredByRun } from './helpers/postgres.ts';

const ROOT = path.dirname(import.meta.dirname);

function testFiles(roots: string[]): string[] {
  const found: string[] = [];
  const walk = (entry: string) => {
    const stat = fs.statSync(entry, { throwIfNoEntry: false });
    if (!stat) throw new Error(`no such test file or folder: ${entry}`);
    if (stat.isDirectory()) {
      for (const name of fs.readdirSync(entry)) if (name !== 'fixtures' && name !== 'node_modules') walk(path.join(entry, name));
    } else if (entry.endsWith('.test.ts')) found.push(path.relative(ROOT, path.resolve(entry)));
  };
  for (const root of roots) walk(root);
  return found.sort();
}

const postgres = process.env.DATA_PIPELINE_TEST_BACKEND === 'pglite' ? false : await postgresAnswers();
const chromium = fs.existsSync(CHROMIUM);
const missing = [!postgres && requiredByRun('postgres') ? `PostgreSQL at ${ADMIN_URL}` : '', !chromium && requiredByRun('chromium') ? `chromium at ${CHROMIUM}` : ''].filter(Boolean);
if (missing.length) {
  console.error(`DATA_PIPELINE_TEST_REQUIRE=${process.env.DATA_PIPELINE_TEST_REQUIRE}: missing ${missing.join(' and ')}; no test was run.`);
  process.exit(1);
}

const where = [
  postgres
    ? `database suites: on the PostgreSQL server at ${ADMIN_URL.replace(/\/[^/]*$/, '')} (each file makes and drops its own database)`
    : `database suites: on embedded PGlite with pgvector (${process.env.DATA_PIPELINE_TEST_BACKEND === 'pglite' ? 'DATA_PIPELINE_TEST_BACKEND=pglite' : `no PostgreSQL answers at ${ADMIN_URL}`}); suites that need a real server are skipped`,
  chromium ? `browser suites: in ${CHROMIUM}` : `browser suites: skipped (no chromium at ${CHROMIUM}; apt-get install chromium fonts-noto-cjk)`,
];
const banner = ['── npm test ──', ...where.map((line) => `  ${line}`)].join('\n');
console.log(banner);

const files = testFiles(process.argv.length > 2 ? process.argv.slice(2) : ['test']);
// Every file makes and drops its own database, so files run side by side: two at a time on a
// PostgreSQL server when the machine has two cores or more (DATA_PIPELINE_TEST_CONCURRENCY=n sets it;
// on embedded PGlite, where each database is a process of its own, the default is one at a time). The
// files below measure load and drive a browser: they always run alone, after the others.
const ALONE = [/reliability-suite\.test\.ts$/, /^test\/e2e\//];
const defaultConcurrency = postgres && os.availableParallelism() >= 2 ? 2 : 1;
const concurrency = Math.max(1, Number.parseInt(process.env.DATA_PIPELINE_TEST_CONCURRENCY ?? String(defaultConcurrency), 10) || 1);
const batches = concurrency > 1 ? [files.filter((f) => !ALONE.some((r) => r.test(f))), files.filter((f) => ALONE.some((r) => r.test(f)))] : [files];
console.log(
  concurrency > 1
    ? `  test files: ${concurrency} at a time, then ${batches[1]!.length} alone (DATA_PIPELINE_TEST_CONCURRENCY=n changes it)`
    : '  test files: one at a time (DATA_PIPELINE_TEST_CONCURRENCY=n runs n side by side)',
);

function run(batch: string[], n: number): Promise<number> {
  if (!batch.length) return Promise.resolve(0);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', '--test', `--test-concurrency=${n}`, ...batch], {
      cwd: ROOT,
      stdio: 'inherit',
      env: { ...process.env, DATA_PIPELINE_TEST_BACKEND: postgres ? 'postgres' : 'pglite' },
    });
    child.on('close', (code, signal) => resolve(code ?? (signal ? 1 : 0)));
  });
}

let exitCode = 0;
for (const [i, batch] of batches.entries()) exitCode = (await run(batch, i === 0 ? concurrency : 1)) || exitCode;
console.log(`\n${banner}`);
process.exit(exitCode);
