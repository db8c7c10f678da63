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
}

export interface LlmUsage {
  llm_calls: number;
  llm_failures: number;
  prompt_tokens: number;
  completion_tokens: number;
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
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'LlmError';
  }
}
