// A small OpenAI-compatible HTTP server for tests and benches: the real `openai` client talks to it over
// real HTTP. It answers POST /v1/chat/completions (scripted by a handler), POST /v1/embeddings
// (deterministic vectors) and GET /v1/models, and records every request.
//
//   const fake = await startFakeOpenAI({ handler: (req) => jsonReply({ themes: [] }) });
//   settings.llm = { baseUrl: fake.baseUrl, ... }   // baseUrl ends in /v1
//   ...; await fake.close();
//
// A handler returns a FakeReply: a string (the assistant content) or an object that can set the HTTP
// status and headers (429 + Retry-After, 500 ...), send a raw body (malformed JSON), delay or hang
// (timeouts), omit usage, or set finish_reason. Helpers below build the usual replies.
import { createHash } from 'node:crypto';
import http, { type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface FakeChatMessage {
  role: string;
  content: string;
}

export interface FakeChatRequest {
  /** 0-based number of this chat request among all chat requests the server received. */
  index: number;
  messages: FakeChatMessage[];
  model: string;
  /** As sent, e.g. { type: 'json_object' }; undefined when the client did not ask for JSON mode. */
  response_format: unknown;
  /** The whole parsed request body. */
  body: any;
  headers: IncomingHttpHeaders;
  /** Content of the system message ('' if none). */
  system: string;
  /** Content of the last user message ('' if none). */
  user: string;
}

export interface FakeReplyObject {
  /** Assistant message content (default '{}'). */
  content?: string;
  /** HTTP status (default 200). Non-2xx statuses answer with an OpenAI error envelope. */
  status?: number;
  headers?: Record<string, string>;
  /** Error message of a non-2xx answer. */
  error?: string;
  /** Sent verbatim as the response body (e.g. malformed JSON), with the status above. */
  rawBody?: string;
  /** Extra delay before answering, on top of latencyMs. */
  delayMs?: number;
  /** Never answer (the client's timeout fires); the socket is destroyed on close(). */
  hang?: boolean;
  /** Token usage to report; null omits the usage object. Default: estimated from the text. */
  usage?: { prompt_tokens: number; completion_tokens: number } | null;
  finishReason?: string;
}

export type FakeReply = string | FakeReplyObject;
export type FakeChatHandler = (request: FakeChatRequest) => FakeReply | Promise<FakeReply>;

export interface FakeEmbeddingRequest {
  index: number;
  input: string[];
  model: string;
  dimensions: number | undefined;
  encoding_format: string | undefined;
  body: any;
}

export interface FakeOpenAIOptions {
  /** Answers chat completions; default replies '{}'. */
  handler?: FakeChatHandler;
  /** Fixed delay before every answer (chat and embeddings). */
  latencyMs?: number;
  /** Answer 400 "response_format is not supported" whenever a chat request sets response_format. */
  rejectJsonMode?: boolean;
  /** When set, requests must carry `Authorization: Bearer <apiKey>` (401 otherwise). */
  apiKey?: string;
  /** Embedding dimension when the request gives no `dimensions`. Default 8. */
  embeddingDim?: number;
  /** Overrides embeddings answers (status codes, delays ...); return undefined for the default vectors. */
  embeddingHandler?: (request: FakeEmbeddingRequest) => FakeReplyObject | undefined | Promise<FakeReplyObject | undefined>;
  /** Always answer float arrays, ignoring encoding_format (like some OpenAI-compatible servers do). */
  ignoreEncodingFormat?: boolean;
  port?: number;
}

export interface RecordedRequest {
  kind: 'chat' | 'embeddings' | 'models' | 'other';
  method: string;
  path: string;
  headers: IncomingHttpHeaders;
  body: any;
  /** Date.now() when the request arrived and when its answer was sent (undefined if never). */
  receivedAt: number;
  answeredAt?: number;
  status?: number;
}

export interface FakeOpenAI {
  /** e.g. http://127.0.0.1:41234/v1 */
  baseUrl: string;
  port: number;
  /** Every request, in arrival order. */
  requests: RecordedRequest[];
  chatRequests(): RecordedRequest[];
  embeddingRequests(): RecordedRequest[];
  /** Requests being answered right now, and the most at once since start (or reset). */
  readonly inFlight: number;
  readonly maxInFlight: number;
  /** Resolves once no request is being answered (e.g. after clients timed out on slow answers). */
  idle(timeoutMs?: number): Promise<void>;
  /** Replaces the chat handler. */
  setHandler(handler: FakeChatHandler): void;
  /** Forgets recorded requests and counters. */
  reset(): void;
  close(): Promise<void>;
}

// ----------------------------------------------------------------------------------------- reply helpers

/** The object as JSON content. */
export function jsonReply(value: unknown): FakeReplyObject {
  return { content: JSON.stringify(value) };
}

/** JSON inside a ```json fence with prose around it. */
export function proseWrapped(value: unknown): FakeReplyObject {
  return { content: `Sure! Here is the result you asked for:\n\n\`\`\`json\n${JSON.stringify(value, null, 2)}\n\`\`\`\n\nLet me know if you need anything else.` };
}

/** JSON in prose without a fence. */
export function inlineProse(value: unknown): FakeReplyObject {
  return { content: `好的，结果如下：${JSON.stringify(value)} 以上。` };
}

/** A reasoning model's answer: a <think> block, then the JSON. */
export function thinkWrapped(value: unknown, thinking = 'Let me look at the tables {"not": "this"} first.'): FakeReplyObject {
  return { content: `<think>\n${thinking}\n</think>\n\n${JSON.stringify(value)}` };
}

/** The JSON text cut off after `keepChars` characters (finish_reason length). */
export function truncatedReply(value: unknown, keepChars: number): FakeReplyObject {
  return { content: JSON.stringify(value).slice(0, keepChars), finishReason: 'length' };
}

/** 429 Too Many Requests with Retry-After in seconds (fractions allowed; sent as retry-after-ms too when < 1 s). */
export function rateLimited(retryAfterSeconds = 1): FakeReplyObject {
  const headers: Record<string, string> = { 'retry-after': String(Math.max(0, Math.ceil(retryAfterSeconds))) };
  if (retryAfterSeconds < 1) headers['retry-after-ms'] = String(Math.round(retryAfterSeconds * 1000));
  return { status: 429, headers, error: 'Rate limit reached, please retry later' };
}

export function serverError(status = 500, message = 'internal server error'): FakeReplyObject {
  return { status, error: message };
}

/** 200 with a body that is not JSON at all. */
export function malformedBody(): FakeReplyObject {
  return { rawBody: '{"id": "chatcmpl-x", "choices": [ {"message": ', status: 200 };
}

/** Replies in order; the last one repeats. */
export function scripted(...replies: FakeReply[]): FakeChatHandler {
  let i = 0;
  return () => replies[Math.min(i++, replies.length - 1)]!;
}

// ------------------------------------------------------------------------------------------------ server

/** Deterministic unit vector of `dim` floats for a text (sha256 stream, then L2-normalised). */
export function fakeEmbedding(text: string, dim: number): number[] {
  const out: number[] = [];
  let block = 0;
  while (out.length < dim) {
    const digest = createHash('sha256').update(`${block++}:${text}`).digest();
    for (let i = 0; i + 1 < digest.length && out.length < dim; i += 2) out.push((digest.readUInt16LE(i) / 65535) * 2 - 1);
  }
  const norm = Math.hypot(...out) || 1;
  return out.map((v) => v / norm);
}

function estimate(text: string): number {
  return Math.max(1, Math.ceil(text.length / 4));
}

export async function startFakeOpenAI(options: FakeOpenAIOptions = {}): Promise<FakeOpenAI> {
  let handler: FakeChatHandler = options.handler ?? (() => '{}');
  const requests: RecordedRequest[] = [];
  let chatCount = 0;
  let embeddingCount = 0;
  let inFlight = 0;
  let maxInFlight = 0;
  const sockets = new Set<import('node:net').Socket>();
  const timers = new Set<NodeJS.Timeout>();

  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0) return resolve();
      const t = setTimeout(() => {
        timers.delete(t);
        resolve();
      }, ms);
      timers.add(t);
    });

  const server = http.createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      void (async () => {
        const path = (req.url ?? '/').split('?')[0]!;
        const raw = Buffer.concat(chunks).toString('utf8');
        let body: any;
        try {
          body = raw ? JSON.parse(raw) : undefined;
        } catch {
          body = raw;
        }
        const kind: RecordedRequest['kind'] = /\/chat\/completions$/.test(path)
          ? 'chat'
          : /\/embeddings$/.test(path)
            ? 'embeddings'
            : /\/models$/.test(path)
              ? 'models'
              : 'other';
        const record: RecordedRequest = { kind, method: req.method ?? 'GET', path, headers: req.headers, body, receivedAt: Date.now() };
        requests.push(record);
        inFlight += 1;
        maxInFlight = Math.max(maxInFlight, inFlight);
        let closed = false;
        res.on('close', () => {
          if (!closed) {
            closed = true;
            inFlight -= 1;
          }
        });
        const send = (status: number, payload: string, headers: Record<string, string> = {}) => {
          if (res.destroyed || res.writableEnded) return;
          record.answeredAt = Date.now();
          record.status = status;
          res.writeHead(status, { 'content-type': 'application/json', ...headers });
          res.end(payload);
        };
        const sendError = (status: number, message: string, headers?: Record<string, string>) =>
          send(status, JSON.stringify({ error: { message, type: status === 429 ? 'rate_limit_error' : 'invalid_request_error', code: null, param: null } }), headers);
        const answer = async (reply: FakeReplyObject, success: () => string) => {
          await sleep((options.latencyMs ?? 0) + (reply.delayMs ?? 0));
          if (reply.hang) return; // the client times out; close() destroys the socket
          const status = reply.status ?? 200;
          if (reply.rawBody !== undefined) return send(status, reply.rawBody, reply.headers);
          if (status >= 400) return sendError(status, reply.error ?? `HTTP ${status}`, reply.headers);
          send(status, success(), reply.headers);
        };

        try {
          if (options.apiKey && req.headers.authorization !== `Bearer ${options.apiKey}`) {
            return sendError(401, 'Incorrect API key provided');
          }
          if (kind === 'models' && req.method === 'GET') {
            return send(200, JSON.stringify({ object: 'list', data: [{ id: 'fake-model', object: 'model', created: 0, owned_by: 'fake' }] }));
          }
          if (kind === 'chat' && req.method === 'POST') {
            const messages: FakeChatMessage[] = Array.isArray(body?.messages) ? body.messages : [];
            const request: FakeChatRequest = {
              index: chatCount++,
              messages,
              model: body?.model,
              response_format: body?.response_format,
              body,
              headers: req.headers,
              system: messages.find((m) => m.role === 'system')?.content ?? '',
              user: [...messages].reverse().find((m) => m.role === 'user')?.content ?? '',
            };
            if (options.rejectJsonMode && body?.response_format) {
              await sleep(options.latencyMs ?? 0);
              return sendError(400, "Invalid parameter: 'response_format' of type 'json_object' is not supported with this model.");
            }
            const produced = await handler(request);
            const reply: FakeReplyObject = typeof produced === 'string' ? { content: produced } : produced;
            return answer(reply, () => {
              const content = reply.content ?? '{}';
              const promptText = messages.map((m) => m.content).join('\n');
              return JSON.stringify({
                id: `chatcmpl-fake-${request.index}`,
                object: 'chat.completion',
                created: Math.floor(Date.now() / 1000),
                model: body?.model ?? 'fake-model',
                choices: [{ index: 0, message: { role: 'assistant', content }, finish_reason: reply.finishReason ?? 'stop', logprobs: null }],
                ...(reply.usage === null
                  ? {}
                  : {
                      usage: reply.usage
                        ? { ...reply.usage, total_tokens: reply.usage.prompt_tokens + reply.usage.completion_tokens }
                        : { prompt_tokens: estimate(promptText), completion_tokens: estimate(content), total_tokens: estimate(promptText) + estimate(content) },
                    }),
              });
            });
          }
          if (kind === 'embeddings' && req.method === 'POST') {
            const input: string[] = typeof body?.input === 'string' ? [body.input] : Array.isArray(body?.input) ? body.input.map(String) : [];
            const dim = Number(body?.dimensions) || options.embeddingDim || 8;
            const request: FakeEmbeddingRequest = {
              index: embeddingCount++,
              input,
              model: body?.model,
              dimensions: body?.dimensions,
              encoding_format: body?.encoding_format,
              body,
            };
            const override = (await options.embeddingHandler?.(request)) ?? {};
            return answer(override, () => {
              const asBase64 = !options.ignoreEncodingFormat && body?.encoding_format === 'base64';
              return JSON.stringify({
                object: 'list',
                model: body?.model ?? 'fake-embedding',
                data: input.map((text, index) => {
                  const vector = fakeEmbedding(text, dim);
                  return {
                    object: 'embedding',
                    index,
                    embedding: asBase64 ? Buffer.from(new Float32Array(vector).buffer).toString('base64') : vector,
                  };
                }),
                usage: { prompt_tokens: input.reduce((n, t) => n + estimate(t), 0), total_tokens: input.reduce((n, t) => n + estimate(t), 0) },
              });
            });
          }
          sendError(404, `no route ${req.method} ${path}`);
        } catch (error) {
          sendError(500, `fake server handler failed: ${error instanceof Error ? error.message : String(error)}`);
        }
      })();
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(options.port ?? 0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;

  return {
    baseUrl: `http://127.0.0.1:${port}/v1`,
    port,
    requests,
    chatRequests: () => requests.filter((r) => r.kind === 'chat'),
    embeddingRequests: () => requests.filter((r) => r.kind === 'embeddings'),
    get inFlight() {
      return inFlight;
    },
    get maxInFlight() {
      return maxInFlight;
    },
    async idle(timeoutMs = 5000) {
      const deadline = Date.now() + timeoutMs;
      while (inFlight > 0) {
        if (Date.now() > deadline) throw new Error(`fake OpenAI server: ${inFlight} request(s) still in flight after ${timeoutMs} ms`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    setHandler(next) {
      handler = next;
    },
    reset() {
      requests.length = 0;
      chatCount = 0;
      embeddingCount = 0;
      maxInFlight = inFlight;
    },
    async close() {
      for (const t of timers) clearTimeout(t);
      timers.clear();
      for (const socket of sockets) socket.destroy();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
