// The OpenAI-compatible chat client every step uses (the `openai` package with a custom baseURL).
// What it adds to the SDK: one retry policy for transport errors, 429/5xx (honouring Retry-After and
// retry-after-ms, with a client-wide pause so a 429 storm is not hammered), timeouts and malformed or
// schema-invalid JSON answers (the model is shown its answer and asked again); JSON mode with a fallback
// to extraction when the server refuses response_format; <think> stripping; a concurrency limit per
// client (= per step); accounting of calls, failures and tokens through onUsage (and per call through
// LlmCallOptions.onUsage); and, given a cache, replay of answers accepted before (cache.ts).
import type OpenAI from 'openai';
import pLimit, { type LimitFunction } from 'p-limit';
import type { ZodType } from 'zod';
import type { LlmSettings } from '../config.ts';
import { extractJson, JsonExtractionError, stripThinking } from './json.ts';
import { llmCacheKey, type LlmResponseCache } from './cache.ts';
import { abortableSleep, backoffMs, isRetryableStatus, retryAfterMs } from './retry.ts';
import { LlmError, type ChatMessage, type LlmCallOptions, type LlmClient, type LlmUsage } from './types.ts';

export { retryAfterMs } from './retry.ts';

type OpenAISdk = typeof import('openai').default;
/** The SDK, imported by the first call: a server start (which makes none) does not pay its ~120 ms of
 * module loading. Until it is loaded no error can be one of its classes. */
let sdk: OpenAISdk | undefined;
async function loadSdk(): Promise<OpenAISdk> {
  return (sdk ??= (await import('openai')).default);
}
type SdkErrorClass = 'APIError' | 'APIConnectionError' | 'APIConnectionTimeoutError' | 'APIUserAbortError';
function isSdkError<K extends SdkErrorClass>(error: unknown, kind: K): error is InstanceType<OpenAISdk[K]> {
  return sdk !== undefined && error instanceof sdk[kind];
}

export type UsageListener = (counters: Record<string, number>) => void;

export interface LlmClientOptions {
  /** First backoff when the server gives no Retry-After (doubles per attempt, ±25% jitter). Default 500 ms. */
  backoffBaseMs?: number;
  /** Longest backoff between attempts. Default 30 s. */
  maxBackoffMs?: number;
  /** Longest Retry-After honoured; longer ones are clamped to this. Default 60 s. */
  maxRetryAfterMs?: number;
  /** Test seam: how to wait. */
  sleep?: (ms: number, signal?: AbortSignal) => Promise<void>;
  /** Where accepted answers are kept and replayed from (a task's llm_cache/); none: every call is sent. */
  cache?: LlmResponseCache;
}

/** Counter keys as the runner shows them in the step's counters. */
export const USAGE_KEYS = ['llm_calls', 'llm_failures', 'prompt_tokens', 'completion_tokens', 'llm_cache_hits'] as const;

export function createLlmClient(settings: LlmSettings, onUsage?: UsageListener, options: LlmClientOptions = {}): OpenAICompatibleClient {
  return new OpenAICompatibleClient(settings, onUsage, options);
}

interface Attempt {
  content: string;
  finishReason: string | null;
}

/** Why an attempt failed, and whether (and after how long) to try again. */
interface Failure {
  message: string;
  retry: boolean;
  waitMs?: number;
  status?: number;
  cause?: unknown;
}

export class OpenAICompatibleClient implements LlmClient {
  readonly model: string;
  readonly #settings: LlmSettings;
  #sdk: Promise<OpenAI> | undefined;
  readonly #limit: LimitFunction;
  readonly #onUsage: UsageListener | undefined;
  readonly #options: Required<Omit<LlmClientOptions, 'sleep' | 'cache'>> & Pick<LlmClientOptions, 'sleep'>;
  readonly #cache: LlmResponseCache | undefined;
  readonly #usage: LlmUsage = { llm_calls: 0, llm_failures: 0, prompt_tokens: 0, completion_tokens: 0, llm_cache_hits: 0 };
  /** False once the server refused response_format: the rest of this client's calls use extraction. */
  #jsonMode: boolean;
  /** Client-wide pause after a 429 with Retry-After: no call starts before this time. */
  #pausedUntil = 0;

  constructor(settings: LlmSettings, onUsage: UsageListener | undefined, options: LlmClientOptions) {
    this.model = settings.model;
    this.#settings = settings;
    this.#onUsage = onUsage;
    this.#jsonMode = settings.jsonMode;
    this.#limit = pLimit(Math.max(1, settings.concurrency));
    this.#options = {
      backoffBaseMs: options.backoffBaseMs ?? 500,
      maxBackoffMs: options.maxBackoffMs ?? 30_000,
      maxRetryAfterMs: options.maxRetryAfterMs ?? 60_000,
      sleep: options.sleep,
    };
    this.#cache = options.cache;
  }

  #client(): Promise<OpenAI> {
    const settings = this.#settings;
    return (this.#sdk ??= loadSdk().then(
      (OpenAISdk) =>
        new OpenAISdk({
          baseURL: settings.baseUrl,
          // Local OpenAI-compatible servers often need no key; the SDK insists on one.
          apiKey: settings.apiKey ?? 'no-key',
          timeout: settings.timeoutMs,
          maxRetries: 0, // retries are ours: one policy, counted, with JSON repair
          organization: null,
          project: null,
        }),
    ));
  }

  /** Totals of this client so far (the same increments were sent to onUsage). */
  get usage(): LlmUsage {
    return { ...this.#usage };
  }

  /** Whether calls currently ask for response_format json_object. */
  get jsonMode(): boolean {
    return this.#jsonMode;
  }

  async chatText(messages: ChatMessage[], options: LlmCallOptions): Promise<string> {
    return this.#withRetries(messages, options, false, (attempt) => {
      const text = stripThinking(attempt.content);
      if (!text) return { ok: false, message: 'empty answer' };
      return { ok: true, value: text };
    });
  }

  async chatJson<T>(messages: ChatMessage[], schema: ZodType<T>, options: LlmCallOptions): Promise<T> {
    const allowPartial = options.allowPartial ?? true;
    return this.#withRetries(messages, options, true, (attempt) => {
      let extracted;
      try {
        extracted = extractJson(attempt.content);
      } catch (error) {
        return { ok: false, message: error instanceof JsonExtractionError ? error.message : String(error) };
      }
      if (extracted.partial && !allowPartial) return { ok: false, message: 'the JSON answer was cut off' };
      const parsed = schema.safeParse(extracted.value);
      if (!parsed.success) {
        const issues = parsed.error.issues
          .slice(0, 5)
          .map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`)
          .join('; ');
        return { ok: false, message: `the JSON does not match the expected shape: ${issues}` };
      }
      if (extracted.partial || attempt.finishReason === 'length') {
        options.log?.warn(`LLM ${options.purpose}: the answer was cut off (finish_reason=${attempt.finishReason ?? '?'}); kept its complete elements`);
      }
      return { ok: true, value: parsed.data };
    });
  }

  /** Whether an accepted answer is replayed from a cache. */
  get cached(): boolean {
    return this.#cache !== undefined;
  }

  async #withRetries<T>(
    messages: ChatMessage[],
    options: LlmCallOptions,
    wantJson: boolean,
    accept: (attempt: Attempt) => { ok: true; value: T } | { ok: false; message: string },
  ): Promise<T> {
    const key = this.#cache
      ? llmCacheKey({
          // What decides the answer besides the messages; the API key is not part of it.
          identity: JSON.stringify([this.#settings.baseUrl, this.#settings.model]),
          json: wantJson,
          temperature: options.temperature ?? this.#settings.temperature,
          maxTokens: options.maxTokens,
          messages,
        })
      : undefined;
    if (key) {
      const replayed = await this.#fromCache(key, options, accept);
      if (replayed) return replayed.value;
    }
    // Only the answer that is returned is cached (not an attempt the acceptance refused).
    let accepted: Attempt | undefined;
    const value = await this.#ask(messages, options, wantJson, (attempt) => {
      const result = accept(attempt);
      if (result.ok) accepted = attempt;
      return result;
    });
    if (key && accepted) await this.#toCache(key, accepted, options);
    return value;
  }

  /** A cached answer that the acceptance still takes (a schema may have changed since it was stored). */
  async #fromCache<T>(
    key: string,
    options: LlmCallOptions,
    accept: (attempt: Attempt) => { ok: true; value: T } | { ok: false; message: string },
  ): Promise<{ value: T } | undefined> {
    let hit;
    try {
      hit = await this.#cache!.get(key);
    } catch (error) {
      options.log?.warn(`LLM ${options.purpose}: the LLM cache could not be read (${(error as Error).message}); asking the model`);
      return undefined;
    }
    if (!hit) return undefined;
    const result = accept({ content: hit.content, finishReason: hit.finishReason });
    if (!result.ok) {
      options.log?.debug(`LLM ${options.purpose}: cached answer no longer accepted (${result.message}); asking the model`);
      return undefined;
    }
    this.#count({ llm_cache_hits: 1 }, options);
    return { value: result.value };
  }

  async #toCache(key: string, attempt: Attempt, options: LlmCallOptions): Promise<void> {
    try {
      await this.#cache!.put(key, { content: attempt.content, finishReason: attempt.finishReason, purpose: options.purpose, model: this.model });
    } catch (error) {
      // The answer is good; only a re-run would pay for it again.
      options.log?.warn(`LLM ${options.purpose}: the answer could not be cached (${(error as Error).message})`);
    }
  }

  async #ask<T>(
    messages: ChatMessage[],
    options: LlmCallOptions,
    wantJson: boolean,
    accept: (attempt: Attempt) => { ok: true; value: T } | { ok: false; message: string },
  ): Promise<T> {
    const maxAttempts = 1 + Math.max(0, this.#settings.maxRetries);
    let conversation = messages;
    let last: Failure | undefined;
    let attempts = 0;
    let jsonModeFallbackUsed = false;
    while (attempts < maxAttempts) {
      throwIfAborted(options.signal);
      await this.#waitForPause(options.signal);
      attempts += 1;
      let attempt: Attempt;
      try {
        attempt = await this.#limit(() => this.#send(conversation, options, wantJson && this.#jsonMode));
      } catch (error) {
        if (isAbort(error, options.signal)) throw abortError(options.signal, error);
        const failure = this.#classify(error, attempts);
        if (failure.status !== undefined && wantJson && this.#jsonMode && refusesJsonMode(error) && !jsonModeFallbackUsed) {
          // The server does not know response_format: switch to extraction, and this attempt is free.
          this.#jsonMode = false;
          jsonModeFallbackUsed = true;
          attempts -= 1;
          options.log?.warn(`LLM ${options.purpose}: the server refused response_format (${failure.message}); using JSON extraction`);
          continue;
        }
        last = failure;
        if (!failure.retry || attempts >= maxAttempts) break;
        options.log?.warn(`LLM ${options.purpose}: attempt ${attempts}/${maxAttempts} failed (${failure.message}); retrying in ${Math.round(failure.waitMs ?? 0)} ms`);
        await this.#sleep(failure.waitMs ?? 0, options.signal);
        continue;
      }
      const result = accept(attempt);
      if (result.ok) return result.value;
      this.#count({ llm_failures: 1 }, options);
      last = { message: result.message, retry: true };
      if (attempts >= maxAttempts) break;
      options.log?.warn(`LLM ${options.purpose}: attempt ${attempts}/${maxAttempts} gave an unusable answer (${result.message}); asking again`);
      // Show the model its answer and what was wrong with it (kept short so the prompt does not grow).
      conversation = [
        ...messages,
        { role: 'assistant', content: clip(attempt.content, 2000) },
        {
          role: 'user',
          content: wantJson
            ? `Your answer could not be used: ${result.message}. Reply again with only the JSON document, no prose, no code fence. / 上面的回答无法使用：${result.message}。请只返回 JSON。`
            : `Your answer could not be used: ${result.message}. Please answer again.`,
        },
      ];
      await this.#sleep(this.#backoff(attempts) / 4, options.signal);
    }
    throw new LlmError(`LLM ${options.purpose} failed after ${attempts} attempt(s): ${last?.message ?? 'unknown error'}`, {
      cause: last?.cause,
      status: last?.status,
      attempts,
    });
  }

  async #send(messages: ChatMessage[], options: LlmCallOptions, jsonMode: boolean): Promise<Attempt> {
    throwIfAborted(options.signal);
    this.#count({ llm_calls: 1 }, options);
    const body: OpenAI.Chat.ChatCompletionCreateParamsNonStreaming = {
      model: this.#settings.model,
      messages,
      temperature: options.temperature ?? this.#settings.temperature,
      ...(options.maxTokens ? { max_tokens: options.maxTokens } : {}),
      ...(jsonMode ? { response_format: { type: 'json_object' } } : {}),
    };
    // A child signal per request: the SDK leaves its listener on the signal it is given, and a step's
    // signal lives for hundreds of requests.
    const child = new AbortController();
    const parent = options.signal;
    const onAbort = () => child.abort(parent?.reason);
    parent?.addEventListener('abort', onAbort, { once: true });
    let completion: OpenAI.Chat.ChatCompletion;
    try {
      const client = await this.#client();
      completion = await client.chat.completions.create(body, {
        signal: child.signal,
        timeout: this.#settings.timeoutMs,
        maxRetries: 0,
      });
    } catch (error) {
      if (!isAbort(error, options.signal)) this.#count({ llm_failures: 1 }, options);
      throw error;
    } finally {
      parent?.removeEventListener('abort', onAbort);
    }
    const choice = completion.choices?.[0];
    const content = messageContent(choice?.message);
    const usage = completion.usage;
    this.#count({
      prompt_tokens: usage?.prompt_tokens ?? estimateTokens(messages.map((m) => m.content).join('\n')),
      completion_tokens: usage?.completion_tokens ?? estimateTokens(content),
    }, options);
    return { content, finishReason: choice?.finish_reason ?? null };
  }

  #classify(error: unknown, attempt: number): Failure {
    if (isSdkError(error, 'APIConnectionTimeoutError')) {
      return { message: `timed out after ${this.#settings.timeoutMs} ms`, retry: true, waitMs: this.#backoff(attempt), cause: error };
    }
    if (isSdkError(error, 'APIConnectionError')) {
      return { message: `connection failed: ${error.message}`, retry: true, waitMs: this.#backoff(attempt), cause: error };
    }
    if (isSdkError(error, 'APIError') && typeof error.status === 'number') {
      const status = error.status;
      const retryable = isRetryableStatus(status);
      const retryAfter = retryAfterMs(error.headers);
      let waitMs = this.#backoff(attempt);
      if (retryAfter !== undefined) {
        waitMs = Math.min(retryAfter, this.#options.maxRetryAfterMs);
        if (status === 429) this.#pausedUntil = Math.max(this.#pausedUntil, Date.now() + waitMs);
      }
      return { message: `HTTP ${status}: ${clip(error.message, 300)}`, retry: retryable, waitMs, status, cause: error };
    }
    if (isSdkError(error, 'APIError')) {
      return { message: clip(error.message, 300), retry: true, waitMs: this.#backoff(attempt), cause: error };
    }
    // Anything else (e.g. the server answered 200 with a body that is not JSON): retry.
    return { message: clip(error instanceof Error ? error.message : String(error), 300), retry: true, waitMs: this.#backoff(attempt), cause: error };
  }

  #backoff(attempt: number): number {
    return backoffMs(attempt - 1, { baseMs: this.#options.backoffBaseMs, maxMs: this.#options.maxBackoffMs, jitter: 0.25 });
  }

  async #waitForPause(signal?: AbortSignal): Promise<void> {
    for (;;) {
      const wait = this.#pausedUntil - Date.now();
      if (wait <= 0) return;
      await this.#sleep(wait, signal);
    }
  }

  async #sleep(ms: number, signal?: AbortSignal): Promise<void> {
    if (ms <= 0) return;
    if (this.#options.sleep) return this.#options.sleep(ms, signal);
    await abortableSleep(ms, signal, (aborted) => abortError(aborted));
  }

  #count(counters: Partial<LlmUsage>, call?: LlmCallOptions): void {
    const added: Record<string, number> = {};
    for (const [key, value] of Object.entries(counters) as Array<[keyof LlmUsage, number]>) {
      if (!value) continue;
      this.#usage[key] += value;
      added[key] = value;
    }
    if (Object.keys(added).length === 0) return;
    this.#onUsage?.(added);
    call?.onUsage?.(added as Partial<LlmUsage>);
  }
}

function refusesJsonMode(error: unknown): boolean {
  if (!isSdkError(error, 'APIError')) return false;
  if (error.status !== 400 && error.status !== 422 && error.status !== 501) return false;
  return /response_format|json_object|json mode|json_mode/i.test(`${error.message} ${JSON.stringify(error.error ?? '')}`);
}

function messageContent(message: OpenAI.Chat.ChatCompletionMessage | undefined): string {
  if (!message) return '';
  const content = message.content as unknown;
  if (typeof content === 'string') return content;
  // Some servers answer with content parts.
  if (Array.isArray(content)) return content.map((part) => (typeof part === 'string' ? part : (part as { text?: string }).text ?? '')).join('');
  return '';
}

/** Rough token estimate (≈ 4 characters per token, 1 per CJK character) when the server reports no usage. */
export function estimateTokens(text: string): number {
  if (!text) return 0;
  const cjk = (text.match(/[\u3000-\u9fff\uf900-\ufaff]/g) ?? []).length;
  return cjk + Math.ceil((text.length - cjk) / 4);
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

function isAbort(error: unknown, signal?: AbortSignal): boolean {
  return Boolean(signal?.aborted) || isSdkError(error, 'APIUserAbortError') || (error instanceof Error && error.name === 'AbortError');
}

function abortError(signal?: AbortSignal, cause?: unknown): Error {
  const reason = signal?.reason;
  if (reason instanceof Error) return reason;
  const error = new Error(`LLM call aborted${reason !== undefined ? ` (${String(reason)})` : ''}`, { cause });
  error.name = 'AbortError';
  return error;
}

function throwIfAborted(signal?: AbortSignal): void {
  if (signal?.aborted) throw abortError(signal);
}
