// Runs every benchmark in bench/, one after another, each in its own process, then prints a summary
// from their results files (bench/results/<name>.json).
// Run: npm run bench            (all)
//      npx tsx bench/run.ts task-list logs-tail    (some)
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const BENCH_DIR = path.dirname(fileURLToPath(import.meta.url));
const BENCHMARKS = ['status-throughput', 'task-list', 'logs-tail', 'ddl-catalog', 'ddl-profile', 'ddl-llm', 'qa-generation', 'qa-offline', 'validate-throughput', 'load-insert', 'vector-backup', 'retrieval', 'task-end-to-end', 'task-llm', 'start-light'] as const;
/** Each benchmark bounds itself (< 3 minutes); this is the backstop. */
const KILL_AFTER_SECONDS = 240;
/** A benchmark told to stop (SIGTERM: it cleans up, drops its databases) that has not exited after this is killed. */
const GRACE_SECONDS = 45;

interface Outcome {
  name: string;
  exitCode: number | null;
  seconds: number;
  verdict: 'PASS' | 'MISS' | 'ERROR';
  detail: string;
}

function runOne(name: string): Promise<{ exitCode: number | null; seconds: number; stopped: boolean }> {
  const started = Date.now();
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', path.join(BENCH_DIR, `${name}.ts`)], {
      cwd: path.dirname(BENCH_DIR),
      stdio: 'inherit',
    });
    let stopped = false;
    let killTimer: NodeJS.Timeout | undefined;
    const timer = setTimeout(() => {
      stopped = true;
      console.error(`\nbench/run: ${name} exceeded ${KILL_AFTER_SECONDS} s, stopping it`);
      child.kill('SIGTERM');
      killTimer = setTimeout(() => {
        console.error(`bench/run: ${name} did not exit within ${GRACE_SECONDS} s of SIGTERM, killing it`);
        child.kill('SIGKILL');
      }, GRACE_SECONDS * 1000);
    }, KILL_AFTER_SECONDS * 1000);
    // A child that cannot be started is an ERROR of that benchmark, not of the runner.
    child.on('error', (error) => console.error(`bench/run: ${name}: ${error.message}`));
    child.on('close', (code, signal) => {
      clearTimeout(timer);
      clearTimeout(killTimer);
      resolve({ exitCode: code ?? (signal ? 128 : null), seconds: (Date.now() - started) / 1000, stopped });
    });
  });
}

function readVerdict(name: string, since: number): { verdict: 'PASS' | 'MISS' | 'ERROR'; detail: string } {
  const file = path.join(BENCH_DIR, 'results', `${name}.json`);
  if (!fs.existsSync(file) || fs.statSync(file).mtimeMs < since) return { verdict: 'ERROR', detail: 'no fresh results file' };
  const r = JSON.parse(fs.readFileSync(file, 'utf8'));
  const detail =
    name === 'status-throughput'
      ? `worst ours/bare ${r.worst_ratio} (target ≥ ${r.target_ratio})`
      : name === 'start-light'
        ? `/health ${r.median_health_ms.ours} ms (${r.health_ratio}× bare, target ≤ ${r.target_health_ms} ms), idle RSS ${r.median_server_rss_mb.ours} MB (${r.rss_ratio}× bare, target ≤ ${r.target_rss_mb} MB)`
        : name === 'task-llm'
        ? `whole task ${r.critical_ratio}× its LLM critical path (target ≤ ${r.target_ratio}); re-run with the cache: ${r.rerun.chat_requests} LLM calls, LLM time ${r.rerun_llm_time_ratio}× the first run's (target 0 calls, ≤ ${r.target_rerun_ratio})`
        : name === 'vector-backup'
        ? `worst RSS growth ${r.worst_rss_growth_mb} MB (target < ${r.target_mb} MB)`
        : `worst ratio ${r.worst_ratio} (target ≤ ${r.target_ratio})`;
  return { verdict: r.pass ? 'PASS' : 'MISS', detail };
}

const requested = process.argv.slice(2);
const unknown = requested.filter((n) => !(BENCHMARKS as readonly string[]).includes(n));
if (unknown.length) {
  console.error(`unknown benchmark(s): ${unknown.join(', ')}; known: ${BENCHMARKS.join(', ')}`);
  process.exit(2);
}
const selected = requested.length ? requested : [...BENCHMARKS];

const outcomes: Outcome[] = [];
for (const name of selected) {
  console.log(`\n==================== ${name} ====================`);
  const since = Date.now();
  const { exitCode, seconds, stopped } = await runOne(name);
  const { verdict, detail } = readVerdict(name, since);
  outcomes.push({
    name,
    exitCode,
    seconds,
    verdict: stopped || (exitCode !== null && exitCode > 1) ? 'ERROR' : verdict,
    detail: stopped ? `stopped by the runner after ${KILL_AFTER_SECONDS} s (${detail})` : detail,
  });
}

console.log('\n==================== summary ====================');
for (const o of outcomes) {
  console.log(`${o.name.padEnd(18)} ${o.verdict.padEnd(5)} ${o.detail}  (${o.seconds.toFixed(0)} s, exit ${o.exitCode})`);
}
process.exitCode = outcomes.some((o) => o.verdict === 'ERROR') ? 2 : outcomes.some((o) => o.verdict === 'MISS') ? 1 : 0;
