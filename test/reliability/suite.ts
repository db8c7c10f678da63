// The reliability suite (issue 13): attacks a real server (a child process running `data-pipeline serve`)
// over a real PostgreSQL store and business database, and reports figures. `npm run test:reliability`
// runs it in full and writes the report; test/integration/reliability-suite.test.ts runs it reduced.
//
// Sections: fuzz of every route of the OpenAPI document; traversal (corpus + planted symlinks); secrets
// scan of responses, files, logs and the store; concurrency; chaos (workers killed, connections cut);
// hostile business input; the business database's write counters.
import { spawn, type ChildProcess } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createApp } from '../../src/app.ts';
import { loadSettings } from '../../src/config.ts';
import { ensureCompletionTable } from '../fixtures/steps.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { makeTempDir } from '../helpers/server.ts';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

export type Scale = 'full' | 'reduced';

export interface SectionResult {
  name: string;
  passed: boolean;
  figures: Record<string, number | string>;
  problems: string[];
}

export interface SuiteReport {
  scale: Scale;
  startedAt: string;
  durationSeconds: number;
  passed: boolean;
  sections: SectionResult[];
}

const SIZES = {
  reduced: { fuzzRounds: 1, backupRounds: 3, processes: 3, chaosRuns: 4, chaosStepMs: 600, names: 10_000 },
  full: { fuzzRounds: 4, backupRounds: 10, processes: 6, chaosRuns: 20, chaosStepMs: 1000, names: 10_000 },
} as const;

/** Path tricks tried in every path parameter. */
const PATH_TRICKS = [
  '..', '../..', '../../../../etc/passwd', '..%2f..%2fetc%2fpasswd', '%2e%2e%2f%2e%2e%2fetc%2fpasswd', '%252e%252e%252f', '..%5c..%5c',
  '....//....//etc/passwd', '%00', 'a%00b', '%2fetc%2fpasswd', '/etc/passwd', 'C:%5cwindows', '~root', '.', '%2e', '.git',
  'task%20x', 'x'.repeat(300), '%ff%fe', '%c0%ae%c0%ae%2f', '${jndi:ldap://x}', "'%20OR%201=1--", '*', '?', '%3f', '%23', 'CON', 'nul',
  '%e2%80%ae', '..;', 'data_pipeline.log/..', 'vector_bak/../../..',
];

/** Hostile values tried in every body and query parameter. */
const HOSTILE_VALUES: unknown[] = [
  'a\u0000b', '', ' ', 'x'.repeat(100_000), '../../etc/passwd', "'; DROP TABLE bss_company; --", '\uFFFF\uD800', '😀'.repeat(50),
  '%00', '${jndi:ldap://x}', 'postgresql://u:p@/x', 'postgresql://u:p/w@h/db', 'pglite:///etc', -1, 0, 1e308, 2 ** 53 + 1, 3.5, true,
  null, [], [null], {}, { a: 'b\u0000' }, ['a\u0000'], 'true', 'null',
];

const MALFORMED_JSON = ['{', '{"a":', '[1,2', 'nul', '{"a":1}}', "{'a':1}", '\u0000', '{"a":"\\ud800"}', '{"__proto__":{"x":1}}', '1e999999'];

function deepJson(depth: number): string {
  return '{"a":'.repeat(depth) + '1' + '}'.repeat(depth);
}

function multipartBodies(boundary: string): Array<[string, Buffer | string]> {
  const part = (name: string, body: string, file?: string) =>
    `--${boundary}\r\nContent-Disposition: form-data; name="${name}"${file ? `; filename="${file}"` : ''}\r\n\r\n${body}\r\n`;
  return [
    ['multipart/form-data', part('file', 'bss_company', 'a.txt') + `--${boundary}--\r\n`],
    [`multipart/form-data; boundary=${boundary}`, part('file', 'bss_company', 'a.txt').slice(0, 50)],
    [`multipart/form-data; boundary=${boundary}`, Array.from({ length: 12 }, (_, i) => part(`f${i}`, 'x')).join('') + part('file', 'x', 'a.txt') + `--${boundary}--\r\n`],
    [`multipart/form-data; boundary=${boundary}`, 'no parts at all'],
    [`multipart/form-data; boundary=${boundary}`, part('file', 'a\u0000b', 'a\u0000.txt') + `--${boundary}--\r\n`],
    [`multipart/form-data; boundary=${boundary}`, part('file', '\xff\xfe\x00bad', '../../x.txt') + `--${boundary}--\r\n`],
    [`multipart/form-data; boundary=${boundary}`, part('file', 'x'.repeat(2 * 1024 * 1024), 'big.txt') + `--${boundary}--\r\n`],
    [`multipart/form-data; boundary=${boundary}`, part('file', 'a', 'a.exe') + part('file', 'b', 'b.txt') + `--${boundary}--\r\n`],
  ];
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

function rssKb(pid: number): number {
  const status = fs.readFileSync(`/proc/${pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+)/.exec(status)?.[1] ?? 0);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

interface Answer {
  status: number;
  text: string;
  json: any;
}

type RequestOptions = { json?: unknown; body?: string | Buffer; headers?: Record<string, string>; auth?: boolean; stream?: boolean };

/** Everything the suite needs from one running server. */
class Harness {
  readonly responses = { count: 0, byClass: new Map<string, number>(), fiveHundreds: [] as string[] };
  /** Secret markers found in responses: marker → count. */
  readonly leaks = new Map<string, number>();
  /** Requests whose connection was lost before any answer, each retried once. */
  readonly connectionRetries: string[] = [];
  markers: string[] = [];
  outsideMarkers: string[] = [];
  escapes: string[] = [];
  output = '';

  constructor(
    readonly baseUrl: string,
    readonly apiKey: string,
    readonly child: ChildProcess,
  ) {}

  async request(method: string, url: string, init: RequestOptions = {}): Promise<Answer> {
    let answer = await this.send(method, url, init);
    if (answer.status === 0 && answer.connectionLost) {
      // The connection went before an answer (under load, an early 413 to a body still being written does
      // that): one more try on a fresh connection. A server that is down fails this one too.
      this.connectionRetries.push(`${method} ${url.slice(0, 80)}: ${answer.text}`);
      answer = await this.send(method, url, init);
    }
    this.record(method, url, answer.status, answer.text);
    let json: any;
    try {
      json = JSON.parse(answer.text);
    } catch {
      json = undefined;
    }
    return { status: answer.status, text: answer.text, json };
  }

  private async send(method: string, url: string, init: RequestOptions): Promise<{ status: number; text: string; connectionLost: boolean }> {
    const headers: Record<string, string> = { ...(init.headers ?? {}) };
    if (init.auth !== false) headers.Authorization = `Bearer ${this.apiKey}`;
    let body: string | Buffer | undefined = init.body;
    if (init.json !== undefined) {
      headers['Content-Type'] = 'application/json';
      body = JSON.stringify(init.json);
    }
    const controller = new AbortController();
    // Generous: a first call that builds the embedder or the vector store is slow on a loaded machine; a hang is not.
    const timer = setTimeout(() => controller.abort(), 60_000);
    let status = 0;
    let text = '';
    try {
      const response = await fetch(`${this.baseUrl}${url}`, { method, headers, body: method === 'GET' || method === 'HEAD' ? undefined : (body as BodyInit | undefined), signal: controller.signal });
      status = response.status;
      if ((response.headers.get('content-type') ?? '').includes('text/event-stream')) {
        // An event stream does not end: read what is there now, then hang up.
        const reader = response.body!.getReader();
        const first = await Promise.race([reader.read(), sleep(500).then(() => undefined)]);
        text = first?.value ? Buffer.from(first.value).toString('utf8') : '';
        controller.abort();
      } else {
        text = await response.text();
      }
    } catch (error) {
      if (status === 0) {
        const cause = (error as Error & { cause?: { code?: string; message?: string } }).cause;
        text = `request failed: ${(error as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ''}`;
        return { status, text, connectionLost: !controller.signal.aborted };
      }
    } finally {
      clearTimeout(timer);
    }
    return { status, text, connectionLost: false };
  }

  private record(method: string, url: string, status: number, text: string): void {
    this.responses.count += 1;
    const cls = status === 0 ? 'no answer' : `${Math.floor(status / 100)}xx`;
    this.responses.byClass.set(cls, (this.responses.byClass.get(cls) ?? 0) + 1);
    if (status >= 500 || status === 0) this.responses.fiveHundreds.push(`${method} ${url.slice(0, 120)} → ${status} ${text.slice(0, 160)}`);
    for (const marker of this.markers) if (text.includes(marker)) this.leaks.set(marker, (this.leaks.get(marker) ?? 0) + 1);
    for (const marker of this.outsideMarkers) if (text.includes(marker)) this.escapes.push(`${method} ${url.slice(0, 120)} showed ${marker}`);
  }

  api(method: string, route: string, init: Parameters<Harness['request']>[2] = {}) {
    return this.request(method, `/api/v0/data_pipeline${route}`, init);
  }

  async waitTerminal(taskId: string, timeoutMs: number): Promise<string> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const answer = await this.api('GET', `/tasks/${taskId}`);
      const status = answer.json?.data?.status;
      if (['completed', 'failed', 'cancelled', 'partial_completed'].includes(status)) return status;
      if (Date.now() > deadline) return `stuck (${status})`;
      await sleep(300);
    }
  }
}

function section(name: string): SectionResult {
  return { name, passed: true, figures: {}, problems: [] };
}

function fail(result: SectionResult, problem: string): void {
  result.passed = false;
  if (result.problems.length < 20) result.problems.push(problem);
}

async function writeCounters(url: string): Promise<number> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    await client.query('SELECT pg_stat_clear_snapshot()');
    const { rows } = await client.query<{ n: string }>('SELECT coalesce(sum(n_tup_ins + n_tup_upd + n_tup_del), 0)::bigint AS n FROM pg_stat_user_tables');
    return Number(rows[0]!.n);
  } finally {
    await client.end();
  }
}

function spawnNode(args: string[], env: Record<string, string>): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', ...args], { cwd: ROOT, env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
}

function filesUnder(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const entry of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, entry.name);
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) walk(p);
      else if (entry.isFile()) out.push(p);
    }
  };
  if (fs.existsSync(dir)) walk(dir);
  return out;
}

function hashTree(dir: string): string {
  const hash = createHash('sha256');
  for (const file of filesUnder(dir).sort()) hash.update(file).update(fs.readFileSync(file));
  return hash.digest('hex');
}

export async function runReliabilitySuite(scale: Scale, log: (line: string) => void = () => undefined, only?: string[]): Promise<SuiteReport> {
  const want = (name: string) => !only?.length || only.includes(name);
  const sizes = SIZES[scale];
  const started = Date.now();
  const startedAt = new Date().toISOString();
  const sections: SectionResult[] = [];
  const hex = randomBytes(4).toString('hex');
  const dir = makeTempDir('dp-reliability-');
  const store = await createTestDatabase('dp_rel_store');
  const business = await createTestDatabase('dp_rel_biz');
  const cleanups: Array<() => Promise<unknown>> = [() => store.drop(), () => business.drop()];
  let server: ChildProcess | undefined;
  let serverOutput = () => '';
  try {
    const biz = new pg.Client({ connectionString: business.url });
    await biz.connect();
    await biz.query(`CREATE TABLE bss_company (id int PRIMARY KEY, company_name text, created_at timestamptz DEFAULT now());
      INSERT INTO bss_company (id, company_name) SELECT g, 'company ' || g FROM generate_series(1, 30) g;
      CREATE TABLE "Robert'); DROP TABLE students;--" (id int PRIMARY KEY, company_id int REFERENCES bss_company(id), note text);
      INSERT INTO "Robert'); DROP TABLE students;--" SELECT g, 1 + g % 30, 'n' || g FROM generate_series(1, 20) g;
      CREATE TABLE "a""b" (x text);`);
    await biz.end();

    // Secrets the suite plants and then looks for everywhere.
    const apiKey = `rel-api-key-${hex}-${randomBytes(8).toString('hex')}`;
    const secretKey = `rel-secret-key-${randomBytes(12).toString('hex')}`;
    const passwords = { rawAt: `Pw@Rel1${hex}`, encoded: `Pw/Rel2#?${hex}`, query: `PwQs3${hex}`, slash: `Pw/Rel4${hex}`, hash: `Pw#Rel5${hex}`, question: `Pw?Rel6${hex}`, unreachable: `PwDown7${hex}` };
    const markers = [apiKey, secretKey, ...Object.values(passwords), encodeURIComponent(passwords.encoded)];

    const port = await freePort();
    const env = {
      DATA_PIPELINE_STORE_URL: store.url,
      DATA_PIPELINE_DB_URL: business.url,
      DATA_PIPELINE_VECTOR_URL: `pglite://${path.join(dir, 'vector')}`,
      DATA_PIPELINE_OUTPUT_DIR: path.join(dir, 'training_data'),
      DATA_PIPELINE_LOG_DIR: path.join(dir, 'logs'),
      DATA_PIPELINE_INPUT_DIR: dir,
      DATA_PIPELINE_PORT: String(port),
      DATA_PIPELINE_API_KEY: apiKey,
      DATA_PIPELINE_SECRET_KEY: secretKey,
      DATA_PIPELINE_HEARTBEAT_TIMEOUT_SECONDS: '3',
      DATA_PIPELINE_EMBEDDING_DIM: '64',
    };
    server = spawnNode(['src/main.ts', 'serve'], env);
    const h = new Harness(`http://127.0.0.1:${port}`, apiKey, server);
    h.markers = markers;
    server.stdout!.on('data', (c) => (h.output += c));
    server.stderr!.on('data', (c) => (h.output += c));
    serverOutput = () => h.output;
    let exited: string | undefined;
    server.on('exit', (code, signal) => (exited = `server exited (${code ?? signal})`));
    for (let i = 0; ; i += 1) {
      const health = await h.request('GET', '/api/v0/health').catch(() => undefined);
      if (health?.status === 200) break;
      if (exited || i > 200) throw new Error(`server did not start: ${exited ?? ''} ${h.output.slice(-2000)}`);
      await sleep(200);
    }
    const countersBefore = (await sleep(1500), await writeCounters(business.url));

    const newTask = async (extra: Record<string, unknown> = {}, tables?: string[]) => {
      const created = await h.api('POST', '/tasks', { json: { task_name: 'reliability', ...extra } });
      const taskId = created.json?.data?.task_id as string;
      if (!taskId) throw new Error(`create failed: ${created.status} ${created.text}`);
      if (tables) await h.api('POST', `/tasks/${taskId}/table-list`, { json: { table_names: tables } });
      return taskId;
    };

    // ------------------------------------------------------------------------------------------ fuzz
    if (want('fuzz')) {
      const result = section('fuzz');
      log('fuzz: every route of /api/docs/json');
      const docs = await h.request('GET', '/api/docs/json', { auth: false });
      const paths = Object.entries((docs.json?.paths ?? {}) as Record<string, Record<string, any>>);
      const fuzzTask = await newTask({}, ['bss_company']);
      const before = h.responses.count;
      const fiveBefore = h.responses.fiveHundreds.length;
      const retriesBefore = h.connectionRetries.length;
      let operations = 0;
      let rssAfterWarmup = 0;
      for (let round = 0; round < sizes.fuzzRounds; round += 1) {
        for (const [template, methods] of paths) {
          if (template.startsWith('/api/docs')) continue;
          for (const [method, operation] of Object.entries(methods)) {
            if (!['get', 'post', 'delete', 'put', 'patch'].includes(method)) continue;
            operations += round === 0 ? 1 : 0;
            const M = method.toUpperCase();
            const params = [...template.matchAll(/\{([^}]+)\}/g)].map((m) => m[1]!);
            const fill = (overrides: Record<string, string> = {}) =>
              template.replace(/\{([^}]+)\}/g, (_m, name: string) => overrides[name] ?? (name === 'task_id' ? fuzzTask : 'table_list.txt'));
            // Path tricks in every path parameter.
            for (const name of params) for (const trick of PATH_TRICKS) await h.request(M, fill({ [name]: trick }), M === 'GET' ? {} : { json: {} });
            const content = operation.requestBody?.content ?? {};
            const schema = content['application/json']?.schema;
            if (schema || M === 'POST') {
              const url = fill();
              for (const text of MALFORMED_JSON) await h.request(M, url, { body: text, headers: { 'Content-Type': 'application/json' } });
              await h.request(M, url, { body: Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0xc3, 0x28, 0x22, 0x7d]), headers: { 'Content-Type': 'application/json' } });
              await h.request(M, url, { body: JSON.stringify({ a: 'x'.repeat(2 * 1024 * 1024) }), headers: { 'Content-Type': 'application/json' } });
              await h.request(M, url, { body: deepJson(5000), headers: { 'Content-Type': 'application/json' } });
              await h.request(M, url, { body: '['.repeat(10_000) + ']'.repeat(10_000), headers: { 'Content-Type': 'application/json' } });
              await h.request(M, url, { body: 'a=1', headers: { 'Content-Type': 'text/plain' } });
              await h.request(M, url, { body: '<a/>', headers: { 'Content-Type': 'application/xml' } });
              for (const value of [[], 'str', 42, null]) await h.request(M, url, { json: value });
              const properties = Object.keys(schema?.properties ?? {});
              for (const property of properties) for (const value of HOSTILE_VALUES) await h.request(M, url, { json: { [property]: value } });
              await h.request(M, url, { json: { unknown_parameter_x: 1 } });
            }
            if (content['multipart/form-data'] || template.endsWith('upload-table-list')) {
              for (const [type, body] of multipartBodies(`B${hex}`)) await h.request(M, fill(), { body, headers: { 'Content-Type': type } });
            }
            const query = ((operation.parameters ?? []) as Array<{ in: string; name: string }>).filter((p) => p.in === 'query').map((p) => p.name);
            for (const name of query) {
              for (const value of ['a%00b', '-1', '1e999', 'x'.repeat(5000), '%ff', '[]', 'true&' + name + '=false', '']) await h.request(M, `${fill()}?${name}=${value}`, M === 'GET' ? {} : { json: {} });
            }
          }
        }
        if (round === 0) rssAfterWarmup = rssKb(server.pid!);
      }
      const rssEnd = rssKb(server.pid!);
      const health = await h.request('GET', '/api/v0/health');
      result.figures = {
        routes_in_openapi: operations,
        requests: h.responses.count - before,
        responses_5xx: h.responses.fiveHundreds.length - fiveBefore,
        connections_lost_then_retried: h.connectionRetries.length - retriesBefore,
        server_up_after: health.status === 200 && !exited ? 'yes' : 'no',
        rss_after_first_round_mb: Math.round(rssAfterWarmup / 1024),
        rss_end_mb: Math.round(rssEnd / 1024),
      };
      for (const problem of h.responses.fiveHundreds.slice(fiveBefore)) fail(result, problem);
      const retried = h.connectionRetries.slice(retriesBefore);
      if (retried.length > (h.responses.count - before) / 100) fail(result, `${retried.length} connections lost before an answer: ${retried.slice(0, 3).join('; ')}`);
      if (health.status !== 200 || exited) fail(result, `server not up after fuzz: ${exited ?? health.status}`);
      if (operations < 20) fail(result, `only ${operations} operations in the OpenAPI document`);
      if (sizes.fuzzRounds > 1 && rssEnd > rssAfterWarmup * 1.5 + 50 * 1024) fail(result, `RSS grew from ${rssAfterWarmup} kB to ${rssEnd} kB`);
      sections.push(result);
    }

    // ------------------------------------------------------------------------------------- traversal
    if (want('traversal')) {
      const result = section('traversal');
      log('traversal: planted symbolic links');
      const outside = makeTempDir('dp-rel-outside-');
      const marker = `OUTSIDE-MARKER-${hex}`;
      h.outsideMarkers = [marker, 'root:x:0:0'];
      fs.writeFileSync(path.join(outside, 'secret.log'), `2025-01-01 00:00:00 [INFO] Outside: ${marker}\n`);
      fs.writeFileSync(path.join(outside, 'list.txt'), `${marker.toLowerCase().replace(/-/g, '_')}\n`);
      fs.writeFileSync(path.join(outside, 'data_pipeline.log'), `2025-01-01 00:00:00 [INFO] Outside: ${marker}\n`);
      fs.writeFileSync(path.join(outside, 'table_list.txt'), `${marker.toLowerCase().replace(/-/g, '_')}\n`);
      fs.mkdirSync(path.join(outside, 'bak'));
      const outsideHash = hashTree(outside);
      const taskDir = (id: string) => path.join(dir, 'training_data', id);
      const escapesBefore = h.escapes.length;
      let tries = 0;

      const linked = await newTask({}, ['bss_company']);
      const linkIn = (id: string, name: string, target: string) => {
        fs.rmSync(path.join(taskDir(id), name), { force: true, recursive: true });
        fs.mkdirSync(path.dirname(path.join(taskDir(id), name)), { recursive: true });
        fs.symlinkSync(target, path.join(taskDir(id), name));
      };
      linkIn(linked, 'data_pipeline.log', path.join(outside, 'secret.log'));
      linkIn(linked, 'table_list.txt', path.join(outside, 'list.txt'));
      linkIn(linked, 'leak.txt', '/etc/passwd');
      linkIn(linked, 'vector_bak', path.join(outside, 'bak'));
      const logLinked = await newTask({}, ['bss_company']);
      linkIn(logLinked, 'vector_bak/vector_backup_log.txt', path.join(outside, 'secret.log'));
      const dirLinked = await newTask({}, ['bss_company']);
      fs.rmSync(taskDir(dirLinked), { recursive: true });
      fs.symlinkSync(outside, taskDir(dirLinked));

      const boundary = `T${hex}`;
      const upload = `--${boundary}\r\nContent-Disposition: form-data; name="file"; filename="t.txt"\r\n\r\nbss_company\r\n--${boundary}--\r\n`;
      for (const id of [linked, logLinked, dirLinked]) {
        const calls: Array<[string, string, Parameters<Harness['request']>[2]]> = [
          ['GET', `/tasks/${id}/logs`, {}],
          ['POST', `/tasks/${id}/logs/query`, { json: { keyword: 'Outside' } }],
          ['GET', `/tasks/${id}/events`, {}],
          ['GET', `/tasks/${id}/files`, {}],
          ['GET', `/tasks/${id}/files/leak.txt`, {}],
          ['GET', `/tasks/${id}/files/data_pipeline.log`, {}],
          ['GET', `/tasks/${id}/files/table_list.txt`, {}],
          ['GET', `/tasks/${id}/files/secret.log`, {}],
          ['GET', `/tasks/${id}/table-list-info`, {}],
          ['POST', `/tasks/${id}/table-list`, { json: { table_names: ['bss_company'] } }],
          ['POST', `/tasks/${id}/upload-table-list`, { body: upload, headers: { 'Content-Type': `multipart/form-data; boundary=${boundary}` } }],
          ['POST', `/tasks/${id}/execute`, { json: { execution_mode: 'step', step_name: 'ddl_generation' } }],
          ['POST', '/vector/backup', { json: { task_id: id } }],
          ['GET', '/vector/restore/list', {}],
        ];
        for (const [method, route, init] of calls) {
          await h.api(method, route, init);
          tries += 1;
        }
        await h.waitTerminal(id, 30_000);
      }
      await h.api('DELETE', `/tasks/${dirLinked}?force=true`);
      tries += 1;
      const outsideChanged = hashTree(outside) !== outsideHash || !fs.existsSync(path.join(outside, 'secret.log'));
      const escapes = h.escapes.length - escapesBefore + (outsideChanged ? 1 : 0);
      result.figures = { path_tricks: PATH_TRICKS.length, planted_links: 6, planted_link_tries: tries, escapes_over_http: h.escapes.length, outside_files_changed: outsideChanged ? 'yes' : 'no' };
      if (escapes > 0 || h.escapes.length > 0) fail(result, `escapes: ${[...h.escapes, outsideChanged ? 'files outside the task directory changed' : ''].filter(Boolean).join('; ')}`);
      sections.push(result);
    }

    // --------------------------------------------------------------------------------------- secrets
    if (want('secrets')) {
      const result = section('secrets');
      log('secrets: connection strings and API keys, then a scan');
      const at = (credentials: string, query = '') => `postgresql://${credentials}@127.0.0.1:5432/${business.name}${query}`;
      const accepted = [
        at(`postgres:${passwords.rawAt}`),
        `postgres://postgres:${encodeURIComponent(passwords.encoded)}@127.0.0.1:5432/${business.name}`,
        at('postgres', `?password=${passwords.query}&sslmode=disable`),
      ];
      const refused = [at(`postgres:${passwords.slash}`), at(`postgres:${passwords.hash}`), at(`postgres:${passwords.question}`)];
      let acceptedOk = 0;
      let refusedOk = 0;
      const runs: string[] = [];
      for (const url of accepted) {
        const created = await h.api('POST', '/tasks', { json: { db_connection: url, task_name: 'secrets' } });
        if (created.status !== 201) {
          fail(result, `accepted form refused: ${created.status} ${created.text.slice(0, 200)}`);
          continue;
        }
        acceptedOk += 1;
        const id = created.json.data.task_id as string;
        await h.api('POST', `/tasks/${id}/table-list`, { json: { table_names: ['bss_company'] } });
        const executed = await h.api('POST', `/tasks/${id}/execute`, { json: { execution_mode: 'step', step_name: 'ddl_generation' } });
        if (executed.status === 202) runs.push(id);
        await h.request('POST', '/api/v0/database/tables', { json: { db_connection: url } });
      }
      for (const url of refused) {
        const answer = await h.api('POST', '/tasks', { json: { db_connection: url } });
        if (answer.status === 400 && answer.json?.error?.invalid_params?.includes('db_connection')) refusedOk += 1;
        else fail(result, `raw @/#? form: ${answer.status}`);
        await h.request('POST', '/api/v0/database/table/ddl', { json: { db_connection: url, table: 'bss_company' } });
      }
      const down = await h.api('POST', '/tasks', { json: { db_connection: `postgresql://u:${passwords.unreachable}@127.0.0.1:1/x` } });
      if (down.json?.data?.task_id) {
        await h.api('POST', `/tasks/${down.json.data.task_id}/table-list`, { json: { table_names: ['bss_company'] } });
        await h.api('POST', `/tasks/${down.json.data.task_id}/execute`, { json: {} });
      }
      // API keys offered where they must not be taken or written: query strings (refused: 401), headers.
      for (const name of ['api_key', 'token', 'access_token', 'key']) {
        const answer = await h.request('GET', `/api/v0/data_pipeline/tasks?${name}=${apiKey}`, { auth: false });
        if (answer.status !== 401) fail(result, `?${name}= was accepted as a key (${answer.status})`);
      }
      await h.request('GET', '/api/v0/data_pipeline/tasks', { auth: false, headers: { Authorization: `Bearer ${apiKey}x` } });
      for (const id of runs) await h.waitTerminal(id, 90_000);
      await sleep(500);

      // Scan: every file under the server's folders (task files, logs, the embedded vector store), the
      // server's own output, and every row of the task store.
      const fileHits: string[] = [];
      let filesScanned = 0;
      for (const file of filesUnder(dir)) {
        filesScanned += 1;
        const bytes = fs.readFileSync(file).toString('latin1');
        for (const m of markers) if (bytes.includes(Buffer.from(m, 'utf8').toString('latin1'))) fileHits.push(`${path.relative(dir, file)}: ${m.slice(0, 12)}…`);
      }
      const storeClient = new pg.Client({ connectionString: store.url });
      await storeClient.connect();
      const storeHits: string[] = [];
      let rowsScanned = 0;
      try {
        const tables = await storeClient.query<{ s: string; t: string }>(
          `SELECT table_schema AS s, table_name AS t FROM information_schema.tables WHERE table_schema IN ('data_pipeline', 'pgboss') AND table_type = 'BASE TABLE'`,
        );
        for (const { s, t } of tables.rows) {
          const rows = await storeClient.query<{ r: string }>(`SELECT r::text AS r FROM "${s}"."${t}" r`);
          rowsScanned += rows.rowCount ?? 0;
          for (const { r } of rows.rows) for (const m of markers) if (r.includes(m)) storeHits.push(`${s}.${t}: ${m.slice(0, 12)}…`);
        }
        const plain = await storeClient.query<{ n: number }>(`SELECT count(*)::int AS n FROM data_pipeline.tasks WHERE db_connection IS NOT NULL AND db_connection NOT LIKE 'enc:v1:%'`);
        result.figures.stored_connections_in_plaintext = plain.rows[0]!.n;
        if (plain.rows[0]!.n > 0) fail(result, `${plain.rows[0]!.n} stored db_connection(s) not encrypted`);
      } finally {
        await storeClient.end();
      }
      const outputHits = markers.filter((m) => h.output.includes(m));
      const responseHits = [...h.leaks.entries()].map(([m, n]) => `${n} × ${m.slice(0, 12)}…`);
      Object.assign(result.figures, {
        url_forms_accepted: `${acceptedOk}/${accepted.length}`,
        raw_at_slash_hash_question_refused: `${refusedOk}/${refused.length}`,
        responses_scanned: h.responses.count,
        files_scanned: filesScanned,
        store_rows_scanned: rowsScanned,
        occurrences_in_responses: [...h.leaks.values()].reduce((a, b) => a + b, 0),
        occurrences_in_files_and_logs: fileHits.length,
        occurrences_in_store: storeHits.length,
        occurrences_in_server_output: outputHits.length,
      });
      for (const hit of [...responseHits, ...fileHits, ...storeHits, ...outputHits]) fail(result, `secret found: ${hit}`);
      sections.push(result);
    }

    // ----------------------------------------------------------------------------------- concurrency
    if (want('concurrency')) {
      const result = section('concurrency');
      log('concurrency: 50 executes, concurrent backups, processes starting together');
      const id = await newTask({}, ['bss_company']);
      // A complete run: its training_load also creates the vector tables the backups below copy.
      const answers = await Promise.all(Array.from({ length: 50 }, () => h.api('POST', `/tasks/${id}/execute`, { json: { execution_mode: 'complete' } })));
      const accepted = answers.filter((a) => a.status === 202).length;
      const conflicts = answers.filter((a) => a.status === 409).length;
      if (accepted !== 1 || conflicts !== 49) fail(result, `50 executes: ${accepted} × 202, ${conflicts} × 409`);
      const runStatus = await h.waitTerminal(id, 180_000);
      if (runStatus !== 'completed') fail(result, `the executed run: ${runStatus}`);

      let backupsOk = 0;
      let backups409 = 0;
      const stamps = new Set<string>();
      for (let round = 0; round < sizes.backupRounds; round += 1) {
        const results = await Promise.all([1, 2, 3].map(() => h.api('POST', '/vector/backup', { json: {} })));
        for (const r of results) {
          if (r.status === 200 && r.json?.data?.backup_performed === true) {
            backupsOk += 1;
            stamps.add(r.json.data.timestamp);
          } else if (r.status === 200) fail(result, `backup not performed: ${r.text.slice(0, 200)}`);
          else if (r.status === 409) backups409 += 1;
          else fail(result, `backup: ${r.status} ${r.text.slice(0, 200)}`);
        }
      }
      const list = await h.api('GET', '/vector/restore/list');
      const listed = JSON.stringify(list.json ?? {});
      const unverifiable = [...stamps].filter((s) => !listed.includes(s));
      if (unverifiable.length) fail(result, `backups not listed as restorable: ${unverifiable.join(', ')}`);

      const fresh = await createTestDatabase('dp_rel_fresh');
      cleanups.push(() => fresh.drop());
      const procs = Array.from({ length: sizes.processes }, () =>
        spawnNode(['test/reliability/start-once.ts'], { DATA_PIPELINE_STORE_URL: fresh.url, DATA_PIPELINE_LOG_DIR: path.join(dir, 'logs-start'), DATA_PIPELINE_OUTPUT_DIR: path.join(dir, 'out-start') }),
      );
      const codes = await Promise.all(procs.map((p) => new Promise<number>((resolve) => p.on('exit', (code) => resolve(code ?? 1)))));
      const startedOk = codes.filter((c) => c === 0).length;
      if (startedOk !== procs.length) fail(result, `${startedOk}/${procs.length} processes started on a fresh store`);
      result.figures = {
        concurrent_executes: 50,
        accepted_202: accepted,
        conflicts_409: conflicts,
        concurrent_backups: sizes.backupRounds * 3,
        backups_ok: backupsOk,
        backups_409: backups409,
        distinct_verified_backups: stamps.size - unverifiable.length,
        processes_started_together: `${startedOk}/${procs.length}`,
      };
      sections.push(result);
    }

    // ----------------------------------------------------------------------------------------- chaos
    if (want('chaos')) {
      const result = section('chaos');
      log(`chaos: ${sizes.chaosRuns} runs, 2 workers, SIGKILLs and cut store connections`);
      const chaosStore = await createTestDatabase('dp_rel_chaos');
      cleanups.push(() => chaosStore.drop());
      const chaosDir = makeTempDir('dp-rel-chaos-');
      const workerUrl = `${chaosStore.url}?application_name=chaos-worker`;
      const workerEnv = {
        DATA_PIPELINE_STORE_URL: workerUrl,
        DATA_PIPELINE_OUTPUT_DIR: path.join(chaosDir, 'training_data'),
        DATA_PIPELINE_LOG_DIR: path.join(chaosDir, 'logs'),
        DATA_PIPELINE_HEARTBEAT_TIMEOUT_SECONDS: '2',
        DATA_PIPELINE_DB_URL: business.url,
        FIXTURE_STEP_MS: String(sizes.chaosStepMs),
        // The fixture steps record their work through their own connections, which are not cut: what is
        // tested is the run machinery (claims, heartbeats, step and run states) losing its store connections.
        FIXTURE_DB_URL: chaosStore.url,
      };
      const app = await createApp(loadSettings({ ...workerEnv, DATA_PIPELINE_STORE_URL: chaosStore.url, DATA_PIPELINE_INPUT_DIR: chaosDir }, chaosDir));
      cleanups.unshift(() => app.close());
      await ensureCompletionTable(app.storeDb.pool);
      const ids: string[] = [];
      for (let i = 0; i < sizes.chaosRuns; i += 1) {
        const task = await app.service.createTask({ task_name: `chaos ${i}` });
        await app.service.createTableList(task.task_id, ['bss_company']);
        await app.service.execute(task.task_id, { execution_mode: 'complete' });
        ids.push(task.task_id);
      }
      // The machine-loss case: a worker took the job and died before claiming the run.
      const orphaned = ids.filter((_, i) => i % 4 === 0);
      for (const id of orphaned) {
        await app.storeDb.pool.query(`UPDATE pgboss.job SET state = 'active', started_on = now() - interval '1 hour' WHERE data->>'task_id' = $1`, [id]);
        await app.storeDb.pool.query(`UPDATE data_pipeline.tasks SET heartbeat_at = now() - interval '1 hour' WHERE task_id = $1`, [id]);
      }
      const workerLog = fs.createWriteStream(path.join(chaosDir, 'workers.log'));
      let crashes = 0;
      const crashOutput: string[] = [];
      const startWorker = () => {
        const child = spawnNode(['test/fixtures/worker.ts'], workerEnv);
        let out = '';
        let ready = false;
        child.stdout!.on('data', (c) => ((ready ||= String(c).includes('ready')), workerLog.write(c)));
        child.stderr!.on('data', (c) => ((out += c), workerLog.write(c)));
        child.on('exit', (code, signal) => {
          // A start-up cut short by a cut connection is a failed start (restarted below), not a crash.
          if (signal !== 'SIGKILL' && ready) {
            crashes += 1;
            crashOutput.push(`exit ${code ?? signal}: ${out.slice(-600)}`);
          }
        });
        return child;
      };
      const workers = [startWorker(), startWorker()];
      let kills = 0;
      let cuts = 0;
      let seed = 12345;
      const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31), seed / 2 ** 31);
      const deadline = Date.now() + (scale === 'full' ? 300_000 : 120_000);
      const terminal = async () => {
        const { rows } = await app.storeDb.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM data_pipeline.tasks WHERE task_id = ANY($1) AND status <> 'in_progress'`, [ids]);
        return rows[0]!.n;
      };
      while ((await terminal()) < ids.length && Date.now() < deadline) {
        await sleep(800 + random() * 1200);
        // A worker that died on its own is restarted (as a service manager would), and counted below.
        for (let i = 0; i < workers.length; i += 1) if (workers[i]!.exitCode !== null || workers[i]!.signalCode !== null) workers[i] = startWorker();
        if (Date.now() > deadline - 30_000) continue; // the last stretch without chaos, so the runs can finish
        if (random() < 0.5 && kills < sizes.chaosRuns) {
          const i = Math.floor(random() * workers.length);
          workers[i]!.kill('SIGKILL');
          workers[i] = startWorker();
          kills += 1;
        } else {
          const cut = await app.storeDb.pool.query(`SELECT count(pg_terminate_backend(pid))::int AS n FROM pg_stat_activity WHERE application_name = 'chaos-worker' AND datname = $1`, [chaosStore.name]);
          cuts += cut.rows[0]!.n;
        }
      }
      const statuses = await app.storeDb.pool.query<{ status: string; n: number }>(`SELECT status, count(*)::int AS n FROM data_pipeline.tasks WHERE task_id = ANY($1) GROUP BY status`, [ids]);
      const completions = await app.storeDb.pool.query<{ n: number; distinct_steps: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT (task_id, step_name))::int AS distinct_steps FROM test_step_completions WHERE task_id = ANY($1)`,
        [ids],
      );
      const active = await app.storeDb.pool.query<{ n: number }>(`SELECT count(*)::int AS n FROM pgboss.job WHERE data->>'task_id' = ANY($1) AND state = 'active'`, [ids]);
      for (const w of workers) w.kill('SIGKILL');
      const byStatus = Object.fromEntries(statuses.rows.map((r) => [r.status, r.n]));
      result.figures = {
        runs: ids.length,
        workers: 2,
        sigkills: kills,
        killed_between_fetch_and_claim: orphaned.length,
        store_connections_cut: cuts,
        completed: byStatus.completed ?? 0,
        stuck: byStatus.in_progress ?? 0,
        steps_completed: completions.rows[0]!.distinct_steps,
        step_reexecutions_after_kills: completions.rows[0]!.n - completions.rows[0]!.distinct_steps,
        jobs_left_active: active.rows[0]!.n,
        worker_crashes: crashes,
      };
      for (const crash of crashOutput) fail(result, `a worker died on its own: ${crash}`);
      if ((byStatus.completed ?? 0) !== ids.length) fail(result, `statuses: ${JSON.stringify(byStatus)}`);
      if (completions.rows[0]!.distinct_steps !== ids.length * 4) fail(result, `${completions.rows[0]!.distinct_steps} of ${ids.length * 4} steps completed`);
      if (active.rows[0]!.n > 0) fail(result, `${active.rows[0]!.n} jobs left active`);
      sections.push(result);
    }

    // ------------------------------------------------------------------------------ hostile business
    if (want('hostile')) {
      const result = section('hostile business input');
      log('hostile business input');
      const id = await newTask();
      const names = Array.from({ length: sizes.names }, (_, i) => (i % 2 ? `"t${i}'); DROP TABLE bss_company;--"` : `x${i}"; DROP TABLE bss_company; --`));
      const invalid = await h.api('POST', `/tasks/${id}/table-list`, { json: { table_names: names } });
      const quoted = names.filter((_, i) => i % 2);
      const valid = await h.api('POST', `/tasks/${id}/table-list`, { json: { table_names: quoted } });
      const executed = await h.api('POST', `/tasks/${id}/execute`, { json: {} });
      const answers: Record<string, string> = {
        [`${names.length} injection-shaped names (half invalid)`]: `${invalid.status} ${invalid.json?.error?.code ?? ''}`,
        [`${quoted.length} quoted injection names, then execute`]: `${valid.status} → ${executed.status} ${executed.json?.error?.code ?? ''}`,
      };
      if (invalid.status !== 400) fail(result, `invalid names: ${invalid.status}`);
      if (valid.status !== 200 || executed.status !== 400) fail(result, `quoted names: ${valid.status}, execute ${executed.status}`);
      const databases: Array<[string, string]> = [
        ['unreachable', 'postgresql://postgres@127.0.0.1:1/x'],
        ['missing database', `postgresql://postgres@127.0.0.1:5432/no_such_db_${hex}`],
        ['not PostgreSQL (an HTTP server)', `postgresql://postgres@127.0.0.1:${port}/x`],
        ['file-reading parameter', `postgresql://postgres@127.0.0.1:5432/${business.name}?sslrootcert=/etc/passwd`],
        ['server-setting parameter', `postgresql://postgres@127.0.0.1:5432/${business.name}?options=-c%20default_transaction_read_only%3Doff`],
      ];
      for (const [label, url] of databases) {
        const created = await h.api('POST', '/tasks', { json: { db_connection: url } });
        if (created.status !== 201) {
          answers[label] = `${created.status} ${created.json?.error?.code ?? ''} at create`;
          if (created.status !== 400) fail(result, `${label}: ${created.status} at create`);
          continue;
        }
        const taskId = created.json.data.task_id as string;
        await h.api('POST', `/tasks/${taskId}/table-list`, { json: { table_names: ['bss_company'] } });
        const run = await h.api('POST', `/tasks/${taskId}/execute`, { json: {} });
        const code = run.json?.error?.code ?? '';
        answers[label] = `${run.status} ${code} at execute`;
        // The guide's code for a database that cannot be reached is DATABASE_CONNECTION_ERROR (500), with the reason.
        const clear = (run.status >= 400 && run.status < 500) || (code === 'DATABASE_CONNECTION_ERROR' && /:/.test(run.json?.error?.details ?? ''));
        if (!clear) fail(result, `${label}: ${run.status} ${run.text.slice(0, 200)}`);
      }
      // A real run of the real steps over tables with hostile names: completes, or fails with its reason.
      const real = await newTask({ task_name: 'hostile names' }, ['bss_company', `"Robert'); DROP TABLE students;--"`, '"a""b"']);
      const realRun = await h.api('POST', `/tasks/${real}/execute`, { json: { execution_mode: 'complete' } });
      const realStatus = realRun.status === 202 ? await h.waitTerminal(real, 180_000) : `execute ${realRun.status}`;
      answers['real pipeline over hostile table names'] = realStatus;
      if (realStatus !== 'completed' && realStatus !== 'failed') fail(result, `real run: ${realStatus}`);
      await sleep(1500);
      const countersAfter = await writeCounters(business.url);
      const client = new pg.Client({ connectionString: business.url });
      await client.connect();
      const tablesLeft = (await client.query(`SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'`)).rows[0].n as number;
      await client.end();
      Object.assign(result.figures, answers, {
        business_write_counters_before: countersBefore,
        business_write_counters_after: countersAfter,
        business_tables_left: `${tablesLeft}/3`,
      });
      if (countersAfter !== countersBefore) fail(result, `business write counters moved: ${countersBefore} → ${countersAfter}`);
      if (tablesLeft !== 3) fail(result, `business tables: ${tablesLeft}`);
      sections.push(result);
    }

    const finalHealth = await h.request('GET', '/api/v0/health');
    if (finalHealth.status !== 200 || exited) {
      const result = section('server');
      fail(result, `server not up at the end: ${exited ?? finalHealth.status}`);
      sections.push(result);
    }
  } catch (error) {
    throw new Error(`${(error as Error).message}\n--- server output (end) ---\n${serverOutput().slice(-4000)}`, { cause: error });
  } finally {
    server?.kill('SIGTERM');
    await new Promise((resolve) => (server && server.exitCode === null ? server.once('exit', resolve) : resolve(undefined)));
    for (const cleanup of cleanups) await cleanup().catch(() => undefined);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  return { scale, startedAt, durationSeconds: Math.round((Date.now() - started) / 1000), passed: sections.every((s) => s.passed), sections };
}

export function renderReport(report: SuiteReport): string {
  const lines = [
    `# Reliability report (${report.scale})`,
    '',
    `Started ${report.startedAt}, ${report.durationSeconds} s. Result: **${report.passed ? 'PASSED' : 'FAILED'}**.`,
    '',
  ];
  for (const s of report.sections) {
    lines.push(`## ${s.name}: ${s.passed ? 'passed' : 'FAILED'}`, '', '| figure | value |', '|---|---|');
    for (const [k, v] of Object.entries(s.figures)) lines.push(`| ${k.replace(/\|/g, '\\|')} | ${String(v).replace(/\|/g, '\\|')} |`);
    if (s.problems.length) lines.push('', ...s.problems.map((p) => `- ${p.replace(/\n/g, ' ')}`));
    lines.push('');
  }
  return lines.join('\n');
}
