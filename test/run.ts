// `npm test`: finds out once what this machine offers (a PostgreSQL server, a chromium), says which suites
// run where, and runs every test file with node's test runner.
//   - PostgreSQL answering at DATA_PIPELINE_TEST_POSTGRES_URL (default 127.0.0.1:5432, user postgres):
//     the integration suites make their databases there; otherwise on embedded PGlite, and the few suites
//     that need a real server are skipped with the reason.
//   - chromium at CHROMIUM_PATH (default /usr/bin/chromium): the dashboard suites run; otherwise skipped.
//   - DATA_PIPELINE_TEST_REQUIRE=postgres,chromium (set by .ci/run) turns a missing part into a failure.
// Arguments narrow the run to files or folders: `npm test -- test/unit test/integration/queue.test.ts`.
import { spawn } from 'node:child_process';
import fs from 'node:fs';
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
    : `database suites: on embedded PGlite with pgvector (no PostgreSQL answers at ${ADMIN_URL}); suites that need a real server are skipped`,
  chromium ? `browser suites: in ${CHROMIUM}` : `browser suites: skipped (no chromium at ${CHROMIUM}; apt-get install chromium fonts-noto-cjk)`,
];
const banner = ['── npm test ──', ...where.map((line) => `  ${line}`)].join('\n');
console.log(banner);

const files = testFiles(process.argv.length > 2 ? process.argv.slice(2) : ['test']);
const child = spawn(process.execPath, ['--import', 'tsx', '--test', '--test-concurrency=1', ...files], {
  cwd: ROOT,
  stdio: 'inherit',
  env: { ...process.env, DATA_PIPELINE_TEST_BACKEND: postgres ? 'postgres' : 'pglite' },
});
child.on('close', (code, signal) => {
  console.log(`\n${banner}`);
  process.exit(code ?? (signal ? 1 : 0));
});
