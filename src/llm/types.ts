// The LLM contract every step uses. The implementation (OpenAI-compatible client with retries, JSON
// extraction and accounting) lives beside this file; steps depend only on this interface.
import type { ZodType } from 'zod';

export interface ChatMessage {
  role: 'system' | 'user' | 'assistant';
  content: string;
}

export interface LlmCallOptions {
  /** What the call is for (e.g. 'ddl.annotate'), recorded in the accounting and in error messages. */
  purpose: string;
  temperature?: number;
  signal?: AbortSignal;
  /** Upper bound of the answer's tokens (max_tokens). */
  maxTokens?: number;
  /** Where retries and recovered answers are reported (a step passes ctx.log). */
  log?: { debug(message: string): void; warn(message: string): void };
  /** chatJson only: accept an answer whose top-level array (or the one array property of the top-level
   * object) was cut off, keeping its complete elements, when the result still passes the schema.
   * Default true. */
  allowPartial?: boolean;
  /** Receives this call's own increments (calls, failures, tokens, cache hits), beside the client-wide
   * accounting: a step that must count one kind of call separately (sql_validation's meaning check). */
  onUsage?: (added: Partial<LlmUsage>) => void;
}

export interface LlmUsage {
  llm_calls: number;
  llm_failures: number;
  prompt_tokens: number;
  completion_tokens: number;
  /** Answers replayed from the task's LLM cache (no request was sent for them). */
  llm_cache_hits: number;
}

export interface LlmClient {
  readonly model: string;
  /** Asks for JSON and validates it with the schema; retries transport errors and malformed answers,
   * then throws LlmError (code LLM_ERROR). */
  chatJson<T>(messages: ChatMessage[], schema: ZodType<T>, options: LlmCallOptions): Promise<T>;
  chatText(messages: ChatMessage[], options: LlmCallOptions): Promise<string>;
}

export class LlmError extends Error {
  readonly code = 'LLM_ERROR';
  /** HTTP status of the last failed attempt, when there was one. */
  readonly status: number | undefined;
  /** Attempts made (1 + retries). */
  readonly attempts: number | undefined;
  constructor(message: string, options?: { cause?: unknown; status?: number; attempts?: number }) {
    super(message, options);
    this.name = 'LlmError';
    this.status = options?.status;
    this.attempts = options?.attempts;
  }
}
