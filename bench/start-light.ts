// Benchmark: a light start. `npm start` (node bin/data-pipeline.js serve: the compiled dist/) on an existing embedded store against a bare
// Fastify server started with `node -e`, in the same run: time from spawn to the first answer of
// GET /api/v0/health, and the RSS of the server process after it has been idle a few seconds.
// Targets (issue 15): ours answers /health ≤ 2 s after npm start, and idles at ≤ 300 MB RSS; the ratios to
// the bare start are reported beside them. Rounds alternate bare, ours, bare, ours … so machine noise hits
// both; medians are compared. After the idle period /health must say the demo database is not open (it
// opens on first use only).
// Run: npx tsx bench/start-light.ts   (writes bench/results/start-light.json)
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { codeVersion, makeTempDir, median, onCleanup, printTable, REPO_DIR, round, runCleanups, sleep, startWatchdog, writeResults } from './lib/harness.ts';

const ROUNDS = Number(process.env.BENCH_ROUNDS ?? 3);
/** How long a server idles after its first /health answer before its RSS is read. */
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 5);
const TARGET_HEALTH_MS = 2000;
const TARGET_RSS_MB = 300;
/** A start slower than this is a failure of the start, not a slow one. */
const START_TIMEOUT_MS = 60_000;
const WATCHDOG_SECONDS = 200;

/** The command line of the process that serves: the bin (dist/ or, when that is stale, src/ through tsx). */
const SERVER_COMMAND = / (bin\/data-pipeline\.js|src\/main\.ts) serve$/;

const BARE_SERVER = `import('fastify').then(async ({ default: Fastify }) => {
  const app = Fastify({ logger: false });
  app.get('/api/v0/health', async () => ({ status: 'ok' }));
  await app.listen({ host: '127.0.0.1', port: Number(process.env.PORT) });
});`;

interface Start {
  health_ms: number;
  /** RSS of the process that serves HTTP (for npm start: the node process running src/main.ts). */
  server_rss_mb: number;
  /** RSS of every process the start spawned (npm, its shell, the server, esbuild if tsx runs it). */
  tree_rss_mb: number;
  processes: Array<{ pid: number; command: string; rss_mb: number }>;
  health: unknown;
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = net.createServer();
    probe.once('error', reject);
    probe.listen(0, '127.0.0.1', () => {
      const { port } = probe.address() as net.AddressInfo;
      probe.close(() => resolve(port));
    });
  });
}

function children(pid: number): number[] {
  const found: number[] = [];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      if (Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]) === pid) found.push(Number(entry));
    } catch {
      // gone meanwhile
    }
  }
  return found;
}

function processTree(pid: number): number[] {
  return [pid, ...children(pid).flatMap(processTree)];
}

function rssMb(pid: number): number {
  try {
    const kb = /VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1];
    return kb ? Number(kb) / 1024 : 0;
  } catch {
    return 0;
  }
}

function commandOf(pid: number): string {
  try {
    return fs.readFileSync(`/proc/${pid}/cmdline`, 'utf8').replace(/\0/g, ' ').trim();
  } catch {
    return '?';
  }
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('close', () => resolve()));
  // The start runs in its own process group (detached): npm, its shell, tsx and the server go together.
  try {
    process.kill(-child.pid!, 'SIGTERM');
  } catch {
    return;
  }
  const timer = setTimeout(() => {
    try {
      process.kill(-child.pid!, 'SIGKILL');
    } catch {
      // already gone
    }
  }, 15_000);
  await exited;
  clearTimeout(timer);
}

async function firstHealth(port: number, child: ChildProcess, started: number): Promise<{ ms: number; body: unknown }> {
  for (;;) {
    if (child.exitCode !== null) throw new Error(`the server exited with ${child.exitCode} before answering /health`);
    try {
      const response = await fetch(`http://127.0.0.1:${port}/api/v0/health`);
      if (response.ok) return { ms: performance.now() - started, body: await response.json() };
    } catch {
      // not listening yet
    }
    if (performance.now() - started > START_TIMEOUT_MS) throw new Error(`no /health answer within ${START_TIMEOUT_MS / 1000} s`);
    await sleep(20);
  }
}

/** Spawns a start, times its first /health answer, lets it idle, reads its RSS, stops it. */
async function measureStart(command: string, args: string[], env: NodeJS.ProcessEnv, isServer: (command: string, hasChildren: boolean) => boolean): Promise<Start> {
  const port = await freePort();
  const started = performance.now();
  const child = spawn(command, args, { cwd: REPO_DIR, env: { ...env, PORT: String(port), DATA_PIPELINE_PORT: String(port) }, stdio: ['ignore', 'pipe', 'pipe'], detached: true });
  const stopChild = onCleanup(() => stop(child));
  let output = '';
  child.stdout!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  child.stderr!.on('data', (chunk: Buffer) => (output += chunk.toString()));
  try {
    const first = await firstHealth(port, child, started);
    await sleep(IDLE_SECONDS * 1000);
    const tree = processTree(child.pid!).map((pid) => ({ pid, command: commandOf(pid), rss_mb: round(rssMb(pid), 1), hasChildren: children(pid).some((c) => SERVER_COMMAND.test(commandOf(c))) }));
    const servers = tree.filter((p) => isServer(p.command, p.hasChildren));
    const processes = tree.map(({ pid, command, rss_mb }) => ({ pid, command: command.slice(0, 120), rss_mb }));
    const last = await fetch(`http://127.0.0.1:${port}/api/v0/health`).then((r) => r.json());
    return {
      health_ms: Math.round(first.ms),
      server_rss_mb: round(Math.max(0, ...servers.map((p) => p.rss_mb)), 1),
      tree_rss_mb: round(processes.reduce((sum, p) => sum + p.rss_mb, 0), 1),
      processes,
      health: last,
    };
  } catch (error) {
    throw new Error(`${command} ${args.join(' ')}: ${(error as Error).message}\n${output.slice(-2000)}`);
  } finally {
    await stopChild();
  }
}

async function main(): Promise<void> {
  startWatchdog(WATCHDOG_SECONDS);
  const tmp = makeTempDir('bench-start-');
  // Everything the server writes goes to the temporary folder; the repository's ./data is not touched.
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    DATA_PIPELINE_STORE_URL: `pglite://${path.join(tmp.dir, 'store')}`,
    DATA_PIPELINE_DB_URL: `pglite://${path.join(tmp.dir, 'highway_db')}`,
    DATA_PIPELINE_OUTPUT_DIR: path.join(tmp.dir, 'training_data'),
    DATA_PIPELINE_LOG_DIR: path.join(tmp.dir, 'logs'),
    DATA_PIPELINE_HOST: '127.0.0.1',
  };
  const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';
  // The server is the process running the CLI's serve that has no such child itself (were npm start to use
  // tsx's launcher, that would run it in a child process).
  const ours = () => measureStart(npm, ['start', '--silent'], env, (command, hasChildren) => SERVER_COMMAND.test(command) && !hasChildren);
  const bare = () => measureStart(process.execPath, ['-e', BARE_SERVER], process.env, () => true);

  // npm start runs dist/ as `npm ci` (prepare) builds it; built here too, so that edited sources are measured.
  execFileSync(process.execPath, [path.join(REPO_DIR, 'scripts/build.mjs'), '--quiet'], { stdio: 'inherit' });

  // The existing store: the first start creates it (initdb, migrations, queue schema); not measured.
  const creating = performance.now();
  const created = await ours();
  console.log(`store created by a first start in ${((performance.now() - creating) / 1000).toFixed(1)} s (first /health after ${created.health_ms} ms)`);

  const rounds: Array<{ round: number; bare: Start; ours: Start }> = [];
  for (let round = 1; round <= ROUNDS; round++) {
    const b = await bare();
    const o = await ours();
    rounds.push({ round, bare: b, ours: o });
    console.log(
      `round ${round}: /health bare ${b.health_ms} ms, ours ${o.health_ms} ms; idle RSS bare ${b.server_rss_mb} MB, ours ${o.server_rss_mb} MB (all processes of npm start ${o.tree_rss_mb} MB)`,
    );
  }
  await tmp.remove();

  const med = (pick: (s: Start) => number, side: 'bare' | 'ours') => median(rounds.map((r) => pick(r[side])));
  const healthMs = { bare: med((s) => s.health_ms, 'bare'), ours: med((s) => s.health_ms, 'ours') };
  const rss = { bare: med((s) => s.server_rss_mb, 'bare'), ours: med((s) => s.server_rss_mb, 'ours') };
  const treeRss = med((s) => s.tree_rss_mb, 'ours');
  const demoClosed = rounds.every((r) => (r.ours.health as { data?: { business_database?: { open?: boolean } } }).data?.business_database?.open === false);
  const healthPass = healthMs.ours <= TARGET_HEALTH_MS;
  const rssPass = rss.ours <= TARGET_RSS_MB;
  const pass = healthPass && rssPass && demoClosed;

  console.log(`\nnpm start on an existing embedded store vs node -e Fastify; median of ${ROUNDS} alternating rounds, RSS after ${IDLE_SECONDS} s idle`);
  printTable(
    ['measure', 'bare', 'ours', 'ours/bare', 'target (ours)', 'result'],
    [
      ['first /health (ms)', healthMs.bare, healthMs.ours, (healthMs.ours / healthMs.bare).toFixed(2), `≤ ${TARGET_HEALTH_MS}`, healthPass ? 'PASS' : 'MISS'],
      ['idle RSS, server (MB)', rss.bare.toFixed(0), rss.ours.toFixed(0), (rss.ours / rss.bare).toFixed(2), `≤ ${TARGET_RSS_MB}`, rssPass ? 'PASS' : 'MISS'],
      ['idle RSS, all of npm start (MB)', rss.bare.toFixed(0), treeRss.toFixed(0), (treeRss / rss.bare).toFixed(2), '(informational)', ''],
      ['demo database open when idle', '', demoClosed ? 'no' : 'yes', '', 'no', demoClosed ? 'PASS' : 'MISS'],
    ],
  );
  console.log(`\n→ ${pass ? 'PASS' : 'MISS'}  (load average ${os.loadavg().map((l) => l.toFixed(1)).join(' ')} on ${os.cpus().length} cores)`);
  const file = writeResults('start-light', {
    benchmark: 'start-light',
    date: new Date().toISOString(),
    node: process.version,
    code: codeVersion(),
    cpus: os.cpus().length,
    load_average: os.loadavg(),
    rounds_count: ROUNDS,
    idle_seconds: IDLE_SECONDS,
    target_health_ms: TARGET_HEALTH_MS,
    target_rss_mb: TARGET_RSS_MB,
    first_start_ms: created.health_ms,
    median_health_ms: healthMs,
    median_server_rss_mb: rss,
    median_tree_rss_mb_ours: treeRss,
    health_ratio: round(healthMs.ours / healthMs.bare, 2),
    rss_ratio: round(rss.ours / rss.bare, 2),
    demo_database_closed_when_idle: demoClosed,
    rounds,
    pass,
  });
  console.log(`results: ${file}`);
  if (!pass) process.exitCode = 1;
}

try {
  await main();
} catch (error) {
  console.error(error);
  await runCleanups();
  process.exitCode = 2;
}
