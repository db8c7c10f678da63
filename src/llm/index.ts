// The LLM layer's public surface: the client factory, JSON extraction, prompt templates.
export { createLlmClient, OpenAICompatibleClient, retryAfterMs, estimateTokens, USAGE_KEYS, type LlmClientOptions, type UsageListener } from './client.ts';
export { extractJson, stripThinking, JsonExtractionError, type ExtractedJson } from './json.ts';
export { renderPrompt, type PromptTemplate, type RenderedPrompt } from './prompts/template.ts';
export { LlmError, type ChatMessage, type LlmCallOptions, type LlmClient, type LlmUsage } from './types.ts';
