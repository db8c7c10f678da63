// Any OpenAI-compatible /embeddings endpoint (OpenAI, Azure-style gateways, vLLM, Ollama, DashScope ...).
// Inputs go in batches; a failed batch is retried like the LLM client does (429, 5xx, timeouts, connection
// errors, malformed answers), with exponential backoff that honours Retry-After. `encoding_format: 'float'`
// is always sent: openai 6.x asks for base64 by default, which many compatible servers answer with nothing.
import OpenAI from 'openai';
import { abortableSleep, backoffMs, isRetryableStatus, retryAfterMs } from '../llm/retry.ts';
import type { Embedder } from './types.ts';

export interface OpenAIEmbedderOptions {
  baseUrl: string;
  apiKey: string | undefined;
  model: string;
  dim: number;
  batchSize: number;
  /** Retries of a failed batch (default 3). */
  maxRetries?: number;
  /** Timeout of one request (default 60 s). */
  timeoutMs?: number;
  /** First backoff delay (default 500 ms); doubles per attempt, capped at 20 s. */
  backoffMs?: number;
  /** Also send `dimensions` (only for models that support shortening, e.g. text-embedding-3-*). */
  sendDimensions?: boolean;
}

export class EmbeddingError extends Error {
  constructor(
    message: string,
    readonly retryable: boolean,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.name = 'EmbeddingError';
  }
}

export class OpenAIEmbedder implements Embedder {
  readonly model: string;
  readonly dim: number;
  readonly #client: OpenAI;
  readonly #options: Required<Omit<OpenAIEmbedderOptions, 'apiKey'>>;
  /** Requests made (including retries): for tests and reports. */
  requests = 0;

  constructor(options: OpenAIEmbedderOptions) {
    this.model = options.model;
    this.dim = options.dim;
    this.#options = {
      baseUrl: options.baseUrl,
      model: options.model,
      dim: options.dim,
      batchSize: Math.max(1, options.batchSize),
      maxRetries: options.maxRetries ?? 3,
      timeoutMs: options.timeoutMs ?? 60_000,
      backoffMs: options.backoffMs ?? 500,
      sendDimensions: options.sendDimensions ?? false,
    };
    this.#client = new OpenAI({
      baseURL: options.baseUrl,
      apiKey: options.apiKey ?? 'not-needed',
      maxRetries: 0, // our own loop below, which also retries malformed answers
      timeout: this.#options.timeoutMs,
    });
  }

  async embed(texts: string[], signal?: AbortSignal): Promise<number[][]> {
    const out: number[][] = [];
    for (let i = 0; i < texts.length; i += this.#options.batchSize) {
      out.push(...(await this.#batchWithRetries(texts.slice(i, i + this.#options.batchSize), signal)));
    }
    return out;
  }

  async #batchWithRetries(batch: string[], signal?: AbortSignal): Promise<number[][]> {
    for (let attempt = 0; ; attempt += 1) {
      try {
        return await this.#batch(batch, signal);
      } catch (error) {
        const failure = classify(error);
        if (signal?.aborted) throw signal.reason instanceof Error ? signal.reason : failure;
        if (!failure.retryable || attempt >= this.#options.maxRetries) {
          throw new EmbeddingError(
            `embeddings request to ${this.#options.baseUrl} failed${attempt ? ` after ${attempt + 1} attempts` : ''}: ${failure.message}`,
            failure.retryable,
            { cause: error },
          );
        }
        const backoff = backoffMs(attempt, { baseMs: this.#options.backoffMs, maxMs: 20_000, jitter: 0.2, capBeforeJitter: true });
        await abortableSleep(Math.min(60_000, serverRetryAfterMs(error) ?? backoff), signal);
      }
    }
  }

  async #batch(batch: string[], signal?: AbortSignal): Promise<number[][]> {
    this.requests += 1;
    const response = await this.#client.embeddings.create(
      {
        model: this.#options.model,
        // Empty strings are refused by several servers; a single space embeds as "nothing" everywhere.
        input: batch.map((text) => (text === '' ? ' ' : text)),
        encoding_format: 'float',
        ...(this.#options.sendDimensions ? { dimensions: this.#options.dim } : {}),
      },
      { signal },
    );
    const data = Array.isArray(response?.data) ? response.data : undefined;
    if (!data || data.length !== batch.length) {
      throw new EmbeddingError(`malformed answer: expected ${batch.length} embeddings, got ${data ? data.length : 'none'}`, true);
    }
    const vectors = new Array<number[]>(batch.length);
    data.forEach((item, position) => {
      const index = typeof item.index === 'number' ? item.index : position;
      vectors[index] = item.embedding as unknown as number[];
    });
    for (let i = 0; i < vectors.length; i += 1) {
      const v = vectors[i];
      if (!Array.isArray(v) || v.length === 0 || typeof v[0] !== 'number') {
        throw new EmbeddingError('malformed answer: an embedding is missing or not a list of numbers (is encoding_format float supported?)', true);
      }
      if (v.length !== this.dim) {
        throw new EmbeddingError(
          `model ${this.model} returns vectors of dimension ${v.length}, but DATA_PIPELINE_EMBEDDING_DIM is ${this.dim}; set DATA_PIPELINE_EMBEDDING_DIM=${v.length}`,
          false,
        );
      }
      if (!v.every(Number.isFinite)) throw new EmbeddingError('malformed answer: an embedding holds a non-finite number', true);
    }
    return vectors;
  }
}

function classify(error: unknown): EmbeddingError {
  if (error instanceof EmbeddingError) return error;
  if (error instanceof OpenAI.APIUserAbortError) return new EmbeddingError('aborted', false);
  if (error instanceof OpenAI.APIConnectionError) return new EmbeddingError(error.message || 'connection error', true); // includes timeouts
  if (error instanceof OpenAI.APIError) {
    const status = error.status ?? 0;
    const retryable = isRetryableStatus(status);
    return new EmbeddingError(`HTTP ${status}: ${error.message}`, retryable);
  }
  if (error instanceof SyntaxError) return new EmbeddingError(`malformed answer: ${error.message}`, true);
  return new EmbeddingError(error instanceof Error ? error.message : String(error), false);
}

function serverRetryAfterMs(error: unknown): number | undefined {
  if (!(error instanceof OpenAI.APIError) || !error.headers) return undefined;
  return retryAfterMs(error.headers as Headers, { ignoreZeroMs: true, seconds: 'lenient' });
}
