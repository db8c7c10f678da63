// Builds the configured embedder (settings.embedding): hashing (offline default), openai, onnx.
import type { EmbeddingSettings } from '../config.ts';
import { HashingEmbedder } from './hashing.ts';
import { OnnxEmbedder } from './onnx.ts';
import { OpenAIEmbedder } from './openai.ts';
import type { Embedder } from './types.ts';

export type { Embedder } from './types.ts';

export interface CreateEmbedderOptions {
  /** Directory a relative onnx model folder resolves against. */
  cwd?: string;
  /** Retries of a failed openai batch (the LLM client's setting, when there is one). */
  maxRetries?: number;
  timeoutMs?: number;
}

export async function createEmbedder(settings: EmbeddingSettings, options: CreateEmbedderOptions = {}): Promise<Embedder> {
  switch (settings.kind) {
    case 'hashing':
      return HashingEmbedder.create(settings.dim, settings.model);
    case 'openai':
      if (!settings.baseUrl) throw new Error('DATA_PIPELINE_EMBEDDING_BASE_URL is required for the openai embedder');
      return new OpenAIEmbedder({
        baseUrl: settings.baseUrl,
        apiKey: settings.apiKey,
        model: settings.model,
        dim: settings.dim,
        batchSize: settings.batchSize,
        maxRetries: options.maxRetries,
        timeoutMs: options.timeoutMs,
      });
    case 'onnx':
      return OnnxEmbedder.create({ modelDir: settings.model, dim: settings.dim, batchSize: settings.batchSize, cwd: options.cwd });
    default:
      throw new Error(`unknown embedder ${String((settings as { kind: unknown }).kind)}`);
  }
}
