// A real listening server on an ephemeral port, over a real store, with its own folders.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import type { FastifyInstance } from 'fastify';
import { createApp, type App } from '../../src/app.ts';
import { loadSettings } from '../../src/config.ts';
import { buildServer } from '../../src/http/server.ts';
import type { StepRegistry } from '../../src/pipeline/registry.ts';

export interface TestServer {
  app: App;
  /** Fastify's in-process request (light-my-request): the same routes, hooks and serializers, no socket. */
  inject: FastifyInstance['inject'];
  baseUrl: string;
  api: string;
  dir: string;
  close(): Promise<void>;
}

export interface TestServerOptions {
  storeUrl: string;
  registry?: StepRegistry;
  env?: Record<string, string>;
  workers?: boolean;
  dir?: string;
}

export function makeTempDir(prefix = 'dp-test-'): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), prefix));
}

export function testEnv(dir: string, storeUrl: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DATA_PIPELINE_STORE_URL: storeUrl,
    DATA_PIPELINE_OUTPUT_DIR: path.join(dir, 'training_data'),
    DATA_PIPELINE_LOG_DIR: path.join(dir, 'logs'),
    DATA_PIPELINE_INPUT_DIR: dir,
    DATA_PIPELINE_PORT: '0',
    DATA_PIPELINE_HEARTBEAT_TIMEOUT_SECONDS: '3',
    ...extra,
  };
}

export async function startTestServer(options: TestServerOptions): Promise<TestServer> {
  const dir = options.dir ?? makeTempDir();
  const settings = loadSettings(testEnv(dir, options.storeUrl, options.env), dir);
  const app = await createApp(settings, { registry: options.registry });
  const server = await buildServer(app);
  if (options.workers !== false) await app.startWorkers();
  await server.listen({ host: '127.0.0.1', port: 0 });
  const { port } = server.server.address() as AddressInfo;
  const baseUrl = `http://127.0.0.1:${port}`;
  return {
    app,
    inject: server.inject.bind(server),
    baseUrl,
    api: `${baseUrl}/api/v0/data_pipeline`,
    dir,
    async close() {
      await server.close();
      await app.close();
    },
  };
}

/** fetch + JSON; returns status and parsed body. */
export async function call(url: string, init: RequestInit & { json?: unknown } = {}) {
  const headers = new Headers(init.headers);
  let body = init.body;
  if (init.json !== undefined) {
    headers.set('Content-Type', 'application/json');
    body = JSON.stringify(init.json);
  }
  const response = await fetch(url, { ...init, headers, body });
  const text = await response.text();
  let json: any;
  try {
    json = JSON.parse(text);
  } catch {
    json = undefined;
  }
  return { status: response.status, body: json, text, headers: response.headers };
}

export async function waitFor<T>(probe: () => Promise<T | undefined | false>, timeoutMs = 20_000, intervalMs = 100): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value) return value;
    if (Date.now() > deadline) throw new Error(`waitFor: timed out after ${timeoutMs} ms`);
    await new Promise((r) => setTimeout(r, intervalMs));
  }
}

export async function waitForStatus(api: string, taskId: string, statuses: string[], timeoutMs = 20_000) {
  return waitFor(async () => {
    const { body } = await call(`${api}/tasks/${taskId}`);
    return statuses.includes(body?.data?.status) ? body.data : undefined;
  }, timeoutMs);
}

export interface StepState {
  step_name: string;
  step_status: string;
  execution_id: string | null;
  error_message?: string | null;
  counters?: Record<string, number>;
}

/** One step of a task as GET /tasks/{id} shows it. */
export async function stepOf(api: string, taskId: string, step: string): Promise<StepState> {
  const steps = (await call(`${api}/tasks/${taskId}`)).body.data.steps as StepState[];
  const found = steps.find((s) => s.step_name === step);
  if (!found) throw new Error(`task ${taskId} has no step ${step}: ${JSON.stringify(steps)}`);
  return found;
}

/**
 * Waits for a run of `step` that is not the one with execution id `previous` to finish (completed or
 * failed), and returns it. Whoever started it (the API, a click on the page) does not matter. On a
 * timeout it says what it saw last and the task's recent log lines.
 */
export async function waitForStepRun(api: string, taskId: string, step: string, previous: string | null, timeoutMs = 120_000): Promise<StepState> {
  let last: unknown;
  return waitFor(async () => {
    const task = (await call(`${api}/tasks/${taskId}`)).body.data;
    const s = (task.steps as StepState[]).find((x) => x.step_name === step)!;
    last = { status: task.status, steps: (task.steps as StepState[]).map((x) => [x.step_name, x.step_status, x.execution_id, x.error_message]) };
    return s.execution_id !== previous && ['completed', 'failed'].includes(s.step_status) ? s : undefined;
  }, timeoutMs).catch(async (error) => {
    const logs = ((await call(`${api}/tasks/${taskId}/logs?limit=100`)).body?.data?.logs ?? []) as Array<{ timestamp: string; message: string }>;
    throw new Error(`${(error as Error).message} waiting for a new run of ${step} (previous ${previous}); last ${JSON.stringify(last)}; log ${JSON.stringify(logs.map((l) => `${l.timestamp} ${l.message}`)).slice(-3000)}`);
  });
}

/** Runs one step again through the API (execution_mode step) and waits for that run to finish. */
export async function runStepAgain(api: string, taskId: string, step: string, timeoutMs = 120_000): Promise<StepState> {
  const previous = (await stepOf(api, taskId, step)).execution_id;
  const res = await call(`${api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: step } });
  if (res.status !== 202) throw new Error(`execute ${step}: ${res.status} ${res.text}`);
  return waitForStepRun(api, taskId, step, previous, timeoutMs);
}
