// Shared plumbing of the HTTP benchmarks: our real server in-process, throwaway PostgreSQL databases,
// the load generator child process, a keep-alive JSON client, statistics, results files and a watchdog.
import { execFileSync, spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance } from 'fastify';
import pg from 'pg';
import { createApp, type App } from '../../src/app.ts';
import { loadSettings } from '../../src/config.ts';
import { buildServer } from '../../src/http/server.ts';
import type { LoadResult } from '../load.ts';

export const BENCH_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const REPO_DIR = path.resolve(BENCH_DIR, '..');
export const ADMIN_URL = 'postgresql://postgres@127.0.0.1:5432/postgres';
export const API = '/api/v0/data_pipeline';

// ------------------------------------------------------------------------------------------- cleanup

const cleanups: Array<() => Promise<unknown>> = [];

/** Registers a cleanup; returns a function that runs it now (once) and unregisters it. */
export function onCleanup(fn: () => Promise<unknown>): () => Promise<void> {
  let done = false;
  const once = async () => {
    if (done) return;
    done = true;
    await fn();
  };
  cleanups.push(once);
  return async () => {
    const i = cleanups.indexOf(once);
    if (i >= 0) cleanups.splice(i, 1);
    await once();
  };
}

/** A connection the server ended (57P01: DROP DATABASE … WITH (FORCE) of a benchmark database, whose
 * pools may still hold idle clients), as pg reports it on such a client. */
function isTerminatedConnection(error: unknown): boolean {
  return (error as { code?: string })?.code === '57P01' || /Connection terminated/.test(String((error as Error)?.message));
}

let guardingCleanup = false;
/**
 * From the first cleanup on, a pg 'error' event about a terminated connection (emitted on an idle client
 * that has no listener: a pool the benchmark made itself, an app still open when it was stopped) is
 * expected, not a crash: dropping the databases ends those connections. Anything else still ends the
 * process as an uncaught exception would (printed, exit code 2).
 */
function guardCleanup(): void {
  if (guardingCleanup) return;
  guardingCleanup = true;
  process.on('uncaughtException', (error) => {
    if (isTerminatedConnection(error)) return;
    console.error(error);
    process.exit(2);
  });
}

export async function runCleanups(): Promise<void> {
  guardCleanup();
  while (cleanups.length) {
    const fn = cleanups.pop()!;
    await Promise.race([fn().catch((e) => console.error('cleanup failed:', (e as Error).message)), sleep(15_000)]);
  }
}

/** Exits (after cleaning up: servers closed, databases dropped) if the benchmark overruns its bound. */
export function startWatchdog(seconds: number): void {
  const stop = async (code: number) => {
    // runCleanups guards against the 'error' events of the connections its database drops terminate.
    await runCleanups();
    process.exit(code);
  };
  setTimeout(() => {
    console.error(`\nwatchdog: benchmark exceeded ${seconds} s, cleaning up and exiting`);
    void stop(2);
  }, seconds * 1000).unref();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stop(130));
}

export const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------- databases

export interface BenchDatabase {
  name: string;
  url: string;
  drop(): Promise<void>;
}

/** A fresh `dp_bench_<random>` database on the local PostgreSQL, dropped by drop() or at cleanup. */
export async function createBenchDatabase(): Promise<BenchDatabase> {
  const name = `dp_bench_${randomBytes(5).toString('hex')}`;
  const admin = new pg.Client({ connectionString: ADMIN_URL });
  await admin.connect();
  try {
    await admin.query(`CREATE DATABASE ${name}`);
  } finally {
    await admin.end();
  }
  const drop = onCleanup(async () => {
    const client = new pg.Client({ connectionString: ADMIN_URL });
    await client.connect();
    try {
      await client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
    } finally {
      await client.end();
    }
  });
  return { name, url: `postgresql://postgres@127.0.0.1:5432/${name}`, drop };
}

export function makeTempDir(prefix: string): { dir: string; remove: () => Promise<void> } {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), prefix));
  const remove = onCleanup(async () => fs.rmSync(dir, { recursive: true, force: true }));
  return { dir, remove };
}

// ------------------------------------------------------------------------------------------- server

export interface OurServer {
  app: App;
  server: FastifyInstance;
  port: number;
  baseUrl: string;
  close(): Promise<void>;
}

/** Our real server, as `serve` builds it, without workers: createApp + buildServer on 127.0.0.1:0. */
export async function startOurServer(storeUrl: string, dir: string): Promise<OurServer> {
  const settings = loadSettings(
    {
      DATA_PIPELINE_STORE_URL: storeUrl,
      DATA_PIPELINE_OUTPUT_DIR: path.join(dir, 'training_data'),
      DATA_PIPELINE_LOG_DIR: path.join(dir, 'logs'),
      DATA_PIPELINE_INPUT_DIR: dir,
      DATA_PIPELINE_HOST: '127.0.0.1',
      DATA_PIPELINE_PORT: '0',
    },
    dir,
  );
  const app = await createApp(settings);
  const server = await buildServer(app);
  await server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.server.address() as AddressInfo;
  const close = onCleanup(async () => {
    await server.close();
    await app.close();
  });
  return { app, server, port, baseUrl: `http://127.0.0.1:${port}`, close };
}

export function storeLabel(url: string): 'pglite' | 'postgres' {
  return url.startsWith('pglite://') ? 'pglite' : 'postgres';
}

// ------------------------------------------------------------------------------------- HTTP clients

const agent = new http.Agent({ keepAlive: true, maxSockets: 4 });

export interface JsonResponse {
  status: number;
  bytes: number;
  body: any;
}

/** One request over a keep-alive socket; resolves with status, body size and parsed JSON. */
export function requestJson(baseUrl: string, method: string, urlPath: string, json?: unknown): Promise<JsonResponse> {
  const url = new URL(urlPath, baseUrl);
  const payload = json === undefined ? undefined : Buffer.from(JSON.stringify(json));
  return new Promise((resolve, reject) => {
    const req = http.request(
      {
        host: url.hostname,
        port: Number(url.port),
        path: url.pathname + url.search,
        method,
        agent,
        headers: payload ? { 'content-type': 'application/json', 'content-length': payload.length } : {},
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          let body: unknown;
          try {
            body = JSON.parse(text);
          } catch {
            body = text;
          }
          resolve({ status: res.statusCode ?? 0, bytes: Buffer.byteLength(text), body });
        });
        res.on('error', reject);
      },
    );
    req.setTimeout(30_000, () => req.destroy(new Error(`${method} ${urlPath} timed out`)));
    req.on('error', reject);
    req.end(payload);
  });
}

export function closeClientSockets(): void {
  agent.destroy();
}

export interface LoadOptions {
  url: string;
  requests: number;
  concurrency: number;
  warmup: number;
  maxSeconds: number;
  method?: string;
  body?: unknown;
}

/** Runs bench/load.ts in a child process (its own event loop) and returns its result. */
export function runLoad(options: LoadOptions): Promise<LoadResult> {
  const args = [
    '--import',
    'tsx',
    path.join(BENCH_DIR, 'load.ts'),
    '--url',
    options.url,
    '--requests',
    String(options.requests),
    '--concurrency',
    String(options.concurrency),
    '--warmup',
    String(options.warmup),
    '--max-seconds',
    String(options.maxSeconds),
    '--method',
    options.method ?? 'GET',
  ];
  if (options.body !== undefined) args.push('--body', JSON.stringify(options.body));
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, args, { cwd: REPO_DIR, stdio: ['ignore', 'pipe', 'pipe'] });
    const kill = onCleanup(async () => {
      if (child.exitCode === null) child.kill('SIGKILL');
    });
    let out = '';
    let err = '';
    child.stdout.on('data', (c: Buffer) => (out += c.toString()));
    child.stderr.on('data', (c: Buffer) => (err += c.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      void kill();
      const line = out.trim().split('\n').pop() ?? '';
      try {
        const result = JSON.parse(line) as LoadResult;
        if (code !== 0) console.error(`  load generator exit ${code}: ${result.non_2xx} non-2xx, ${result.errors} errors ${result.first_error ?? ''}`);
        resolve(result);
      } catch {
        reject(new Error(`load generator failed (exit ${code}): ${err.trim() || out.trim()}`));
      }
    });
  });
}

// ------------------------------------------------------------------------------------------- numbers

export function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

export function percentile(values: number[], p: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))] ?? 0;
}

export const round = (n: number, digits = 3) => Math.round(n * 10 ** digits) / 10 ** digits;

export function writeResults(name: string, results: unknown): string {
  const file = path.join(BENCH_DIR, 'results', `${name}.json`);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, JSON.stringify(results, null, 2) + '\n');
  return file;
}

export function printTable(headers: string[], rows: Array<Array<string | number>>): void {
  const cells = rows.map((r) => r.map(String));
  const widths = headers.map((h, i) => Math.max(h.length, ...cells.map((r) => r[i]!.length)));
  const line = (r: string[]) => r.map((c, i) => (i === 0 ? c.padEnd(widths[i]!) : c.padStart(widths[i]!))).join(' | ');
  console.log(line(headers));
  console.log(widths.map((w) => '-'.repeat(w)).join('-|-'));
  for (const r of cells) console.log(line(r));
}

// ---------------------------------------------------------------------------------- CPU accounting

const CLOCK_TICKS_PER_SECOND = 100;

/** User + system CPU seconds of the given processes so far (Linux /proc; 0 for pids it cannot read). */
export function cpuSecondsOf(pids: number[]): number {
  let total = 0;
  for (const pid of pids) {
    try {
      const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      total += (Number(fields[11]) + Number(fields[12])) / CLOCK_TICKS_PER_SECOND;
    } catch {
      // gone or not Linux
    }
  }
  return total;
}

/** PostgreSQL backend pids serving this pool's database (the store's own connections). */
export async function backendPids(pool: pg.Pool): Promise<number[]> {
  const { rows } = await pool.query<{ pid: number }>(
    `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND backend_type = 'client backend'`,
  );
  return rows.map((r) => r.pid);
}

/** Runs fn and reports the CPU seconds this process and the store's PostgreSQL backends spent meanwhile. */
export async function withCpu<T>(pool: pg.Pool | undefined, fn: () => Promise<T>): Promise<{ result: T; serverCpu: number; postgresCpu: number }> {
  const before = new Map((pool ? await backendPids(pool) : []).map((pid) => [pid, cpuSecondsOf([pid])]));
  const cpuBefore = process.cpuUsage();
  const result = await fn();
  const used = process.cpuUsage(cpuBefore);
  let postgresCpu = 0;
  // A backend that appeared meanwhile spent all its CPU inside the window; one that ended is not counted.
  for (const pid of pool ? await backendPids(pool) : []) postgresCpu += cpuSecondsOf([pid]) - (before.get(pid) ?? 0);
  return { result, serverCpu: (used.user + used.system) / 1e6, postgresCpu };
}

/** Which code was measured: HEAD and whether src/ had uncommitted changes. */
export function codeVersion(): { commit: string; src_dirty: boolean } {
  try {
    const commit = execFileSync('git', ['rev-parse', 'HEAD'], { cwd: REPO_DIR, encoding: 'utf8' }).trim();
    const dirty = execFileSync('git', ['status', '--porcelain', '--', 'src'], { cwd: REPO_DIR, encoding: 'utf8' }).trim() !== '';
    return { commit, src_dirty: dirty };
  } catch {
    return { commit: 'unknown', src_dirty: false };
  }
}
