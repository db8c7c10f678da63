// A small HTTP load generator (autocannon is not a dependency): N requests with concurrency C over
// keep-alive sockets, after an unmeasured warm-up, bounded in count and in time, against 127.0.0.1 only.
// Benchmarks run it in a child process so that client and server do not share an event loop.
//
//   node --import tsx bench/load.ts --url http://127.0.0.1:PORT/path [--requests 20000] [--concurrency 32]
//        [--warmup 2000] [--max-seconds 20] [--method GET] [--body '{"json":1}']
//
// Prints one JSON line (LoadResult) on stdout. Exit code 0 when every measured request got a 2xx.
import http from 'node:http';
import { parseArgs } from 'node:util';

export interface LoadResult {
  url: string;
  method: string;
  concurrency: number;
  requested: number;
  /** Requests completed in the measured phase (fewer than requested only if max-seconds ran out). */
  completed: number;
  ok: number;
  non_2xx: number;
  errors: number;
  first_error?: string;
  time_limited: boolean;
  duration_ms: number;
  rps: number;
  bytes_per_response: number;
  /** CPU time of this client process per measured request (user + system). */
  client_cpu_us_per_request: number;
  latency_ms: { p50: number; p90: number; p99: number; max: number };
}

interface PhaseStats {
  completed: number;
  ok: number;
  non2xx: number;
  errors: number;
  firstError?: string;
  timeLimited: boolean;
  durationMs: number;
  bytes: number;
  latencies: Float64Array;
}

const { values } = parseArgs({
  options: {
    url: { type: 'string' },
    requests: { type: 'string', default: '20000' },
    concurrency: { type: 'string', default: '32' },
    warmup: { type: 'string', default: '2000' },
    'max-seconds': { type: 'string', default: '20' },
    method: { type: 'string', default: 'GET' },
    body: { type: 'string' },
  },
});

const positive = (name: string, raw: string | undefined, max: number): number => {
  const n = Number(raw);
  if (!Number.isFinite(n) || n < 0 || n > max) throw new Error(`--${name} must be a number in [0, ${max}], got ${raw}`);
  return n;
};

const target = new URL(values.url ?? '');
if (target.protocol !== 'http:' || target.hostname !== '127.0.0.1') {
  throw new Error(`bench/load.ts only targets http://127.0.0.1, got ${values.url}`);
}
const requests = Math.floor(positive('requests', values.requests, 1_000_000));
const concurrency = Math.max(1, Math.floor(positive('concurrency', values.concurrency, 1024)));
const warmup = Math.floor(positive('warmup', values.warmup, 1_000_000));
const maxSeconds = positive('max-seconds', values['max-seconds'], 600);
const method = (values.method ?? 'GET').toUpperCase();
const body = values.body === undefined ? undefined : Buffer.from(values.body);

// Never outlive the bound, whatever the server does.
setTimeout(() => {
  process.stderr.write(`load: hard time limit reached (${maxSeconds * 2 + 30} s), exiting\n`);
  process.exit(3);
}, (maxSeconds * 2 + 30) * 1000).unref();

const agent = new http.Agent({ keepAlive: true, maxSockets: concurrency, maxFreeSockets: concurrency });
const headers: http.OutgoingHttpHeaders = body ? { 'content-type': 'application/json', 'content-length': body.length } : {};
const requestOptions: http.RequestOptions = {
  host: '127.0.0.1',
  port: Number(target.port),
  path: target.pathname + target.search,
  method,
  agent,
  headers,
};

function once(): Promise<{ status: number; bytes: number }> {
  return new Promise((resolve, reject) => {
    const req = http.request(requestOptions, (res) => {
      let bytes = 0;
      res.on('data', (chunk: Buffer) => (bytes += chunk.length));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, bytes }));
      res.on('error', reject);
    });
    req.setTimeout(10_000, () => req.destroy(new Error('request timed out after 10 s')));
    req.on('error', reject);
    req.end(body);
  });
}

async function phase(count: number, seconds: number): Promise<PhaseStats> {
  const latencies = new Float64Array(count);
  const stats: PhaseStats = { completed: 0, ok: 0, non2xx: 0, errors: 0, timeLimited: false, durationMs: 0, bytes: 0, latencies };
  const deadline = performance.now() + seconds * 1000;
  let issued = 0;
  const started = performance.now();
  const worker = async () => {
    while (issued < count) {
      if (performance.now() > deadline) {
        stats.timeLimited = true;
        return;
      }
      issued += 1;
      const t0 = performance.now();
      try {
        const { status, bytes } = await once();
        if (status >= 200 && status < 300) stats.ok += 1;
        else stats.non2xx += 1;
        stats.bytes = bytes;
      } catch (error) {
        stats.errors += 1;
        stats.firstError ??= (error as Error).message;
      }
      latencies[stats.completed] = performance.now() - t0;
      stats.completed += 1;
    }
  };
  await Promise.all(Array.from({ length: Math.min(concurrency, Math.max(count, 1)) }, worker));
  stats.durationMs = performance.now() - started;
  return stats;
}

function percentile(sorted: Float64Array, p: number): number {
  if (sorted.length === 0) return 0;
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * p))]!;
}

const round3 = (n: number) => Math.round(n * 1000) / 1000;

if (warmup > 0) await phase(warmup, maxSeconds);
const cpuBefore = process.cpuUsage();
const measured = await phase(requests, maxSeconds);
const cpu = process.cpuUsage(cpuBefore);
const lat = measured.latencies.subarray(0, measured.completed).sort();
const result: LoadResult = {
  url: target.href,
  method,
  concurrency,
  requested: requests,
  completed: measured.completed,
  ok: measured.ok,
  non_2xx: measured.non2xx,
  errors: measured.errors,
  ...(measured.firstError ? { first_error: measured.firstError } : {}),
  time_limited: measured.timeLimited,
  duration_ms: round3(measured.durationMs),
  rps: Math.round((measured.completed / measured.durationMs) * 1000 * 10) / 10,
  bytes_per_response: measured.bytes,
  client_cpu_us_per_request: Math.round((cpu.user + cpu.system) / Math.max(1, measured.completed)),
  latency_ms: { p50: round3(percentile(lat, 0.5)), p90: round3(percentile(lat, 0.9)), p99: round3(percentile(lat, 0.99)), max: round3(lat[lat.length - 1] ?? 0) },
};
agent.destroy();
process.stdout.write(JSON.stringify(result) + '\n');
process.exitCode = measured.ok === measured.completed && measured.completed > 0 ? 0 : 1;
