// Benchmark: GET /logs tails the task log from its end, so its cost must not grow with the file.
// Target: tailing the last 100 entries of a ~500 MB log takes at most 2× as long as of a ~1 MB log.
// Run: npx tsx bench/logs-tail.ts   (writes bench/results/logs-tail.json)
import { closeSync, mkdirSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { formatLogLine } from '../src/logs/format.ts';
import { tailLogEntries } from '../src/logs/reader.ts';

const MiB = 1024 * 1024;
const SMALL_LOG_BYTES = 1 * MiB;
const BIG_LOG_BYTES = 500 * MiB;
const LIMIT = 100;
const WARMUP_RUNS = 5;
const MEASURED_RUNS = 50;
const TARGET_RATIO = 2;

const LOGGERS = ['SchemaWorkflowOrchestrator', 'DDLMDGenerator', 'QAGenerator', 'SQLValidator', 'TrainingDataLoader'];
const LEVELS = ['DEBUG', 'INFO', 'INFO', 'INFO', 'WARNING', 'INFO', 'INFO', 'INFO', 'INFO', 'ERROR'];

/** ~4 MiB of varied entries (every 25th one multi-line), repeated to reach a file size quickly. */
function buildBlock(): Buffer {
  const parts: string[] = [];
  let bytes = 0;
  const start = new Date(2025, 5, 27, 14, 30, 52).getTime();
  for (let i = 0; bytes < 4 * MiB; i++) {
    const message =
      i % 25 === 0
        ? `SQL验证失败，尝试LLM修复: entry ${i}\nERROR:  column "x${i}" does not exist\nLINE 1: SELECT x${i} FROM bss_business_day_data`
        : `开始处理表: bss_business_day_data (entry ${i}, ${'rows '.repeat(i % 9)})`;
    const line = formatLogLine(new Date(start + i * 1000), LEVELS[i % LEVELS.length], LOGGERS[i % LOGGERS.length], message);
    parts.push(line);
    bytes += Buffer.byteLength(line);
  }
  return Buffer.from(parts.join(''));
}

/** Writes whole blocks, then the whole lines of one more that still fit: the file ends on an entry boundary. */
function writeLog(path: string, targetBytes: number, block: Buffer): number {
  const fd = openSync(path, 'w');
  try {
    let written = 0;
    for (; written + block.length <= targetBytes; written += block.length) writeSync(fd, block);
    const lastFittingNewline = block.lastIndexOf(0x0a, targetBytes - written - 1);
    if (lastFittingNewline >= 0) writeSync(fd, block.subarray(0, lastFittingNewline + 1));
  } finally {
    closeSync(fd);
  }
  return statSync(path).size;
}

async function timeTail(path: string, level?: string): Promise<{ median_ms: number; p90_ms: number; min_ms: number }> {
  const run = async () => {
    const started = process.hrtime.bigint();
    const { total } = await tailLogEntries(path, { limit: LIMIT, level });
    const elapsed = Number(process.hrtime.bigint() - started) / 1e6;
    if (total !== LIMIT) throw new Error(`expected ${LIMIT} entries from ${path}, got ${total}`);
    return elapsed;
  };
  for (let i = 0; i < WARMUP_RUNS; i++) await run();
  const times: number[] = [];
  for (let i = 0; i < MEASURED_RUNS; i++) times.push(await run());
  times.sort((a, b) => a - b);
  const round = (ms: number) => Math.round(ms * 1000) / 1000;
  return {
    median_ms: round(times[Math.floor(times.length / 2)]),
    p90_ms: round(times[Math.floor(times.length * 0.9)]),
    min_ms: round(times[0]),
  };
}

async function main(): Promise<void> {
  const workDir = mkdtempSync(join(tmpdir(), 'bench-logs-tail-'));
  try {
    const block = buildBlock();
    const smallPath = join(workDir, 'small.log');
    const bigPath = join(workDir, 'big.log');
    const smallBytes = writeLog(smallPath, SMALL_LOG_BYTES, block);
    const writeStarted = Date.now();
    const bigBytes = writeLog(bigPath, BIG_LOG_BYTES, block);
    console.log(`wrote ${(bigBytes / MiB).toFixed(0)} MiB in ${((Date.now() - writeStarted) / 1000).toFixed(1)} s`);

    const cases = [
      { name: `limit=${LIMIT}`, level: undefined },
      { name: `limit=${LIMIT} level=ERROR`, level: 'ERROR' },
    ];
    const rows = [];
    for (const { name, level } of cases) {
      const small = await timeTail(smallPath, level);
      const big = await timeTail(bigPath, level);
      rows.push({ case: name, small, big, ratio: Math.round((big.median_ms / small.median_ms) * 100) / 100 });
    }

    console.log(`\ntailLogEntries, median of ${MEASURED_RUNS} runs after ${WARMUP_RUNS} warm-up runs`);
    console.log('case                     | 1 MiB median (p90) | 500 MiB median (p90) | ratio');
    console.log('-------------------------|--------------------|----------------------|------');
    for (const row of rows) {
      const cell = (t: { median_ms: number; p90_ms: number }) => `${t.median_ms.toFixed(3)} ms (${t.p90_ms.toFixed(3)})`;
      console.log(`${row.case.padEnd(24)} | ${cell(row.small).padEnd(18)} | ${cell(row.big).padEnd(20)} | ${row.ratio.toFixed(2)}×`);
    }
    const worstRatio = Math.max(...rows.map((row) => row.ratio));
    const pass = worstRatio <= TARGET_RATIO;
    console.log(`\nworst ratio big/small: ${worstRatio.toFixed(2)}× (target ≤ ${TARGET_RATIO}×) → ${pass ? 'PASS' : 'FAIL'}`);

    const resultsPath = join(dirname(fileURLToPath(import.meta.url)), 'results', 'logs-tail.json');
    mkdirSync(dirname(resultsPath), { recursive: true });
    const results = {
      benchmark: 'logs-tail',
      date: new Date().toISOString(),
      node: process.version,
      limit: LIMIT,
      runs: MEASURED_RUNS,
      warmup_runs: WARMUP_RUNS,
      small_file_bytes: smallBytes,
      big_file_bytes: bigBytes,
      cases: rows,
      worst_ratio: worstRatio,
      target_ratio: TARGET_RATIO,
      pass,
    };
    writeFileSync(resultsPath, JSON.stringify(results, null, 2) + '\n');
    console.log(`results: ${resultsPath}`);
    if (!pass) process.exitCode = 1;
  } finally {
    rmSync(workDir, { recursive: true, force: true });
  }
}

await main();
