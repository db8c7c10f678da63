// The LLM response cache of a task: every answer the client accepted, stored by the content of its request
// in the task directory (`llm_cache/<sha256>.json`), so a re-run of any step pays only for the calls that
// did not succeed before. The key is a hash of what decides the answer (endpoint, model, temperature,
// token limit, JSON or text, the messages); the API key is no part of it, nor of the file. Only accepted
// answers are written, atomically; the cache directory and its files are never reached through a link.
import { createHash } from 'node:crypto';
import fsp from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { checkRealDirectory, readFileNoFollow, writeFileAtomic } from '../files.ts';
import type { ChatMessage } from './types.ts';

/** The folder of the cache inside a task directory. */
export const LLM_CACHE_DIR = 'llm_cache';

export interface CachedAnswer {
  /** The assistant's text as the server sent it (before <think> stripping and JSON extraction): a replay
   * goes through the same acceptance as a live answer. */
  content: string;
  finishReason: string | null;
  /** What the call was for (e.g. qa.themes): for a reader of the folder, not part of the key. */
  purpose: string;
  model: string;
}

export interface LlmResponseCache {
  get(key: string): Promise<CachedAnswer | undefined>;
  put(key: string, answer: CachedAnswer): Promise<void>;
}

export interface CacheKeyInput {
  /** Endpoint, model and default temperature of the client (never its key). */
  identity: string;
  json: boolean;
  temperature: number;
  maxTokens: number | undefined;
  messages: ChatMessage[];
}

const KEY = /^[0-9a-f]{64}$/;

/** sha256 over the request's content; the same request always gets the same key. */
export function llmCacheKey(input: CacheKeyInput): string {
  const canonical = JSON.stringify({
    v: 1,
    identity: input.identity,
    json: input.json,
    temperature: input.temperature,
    max_tokens: input.maxTokens ?? null,
    messages: input.messages.map((m) => [m.role, m.content]),
  });
  return createHash('sha256').update(canonical).digest('hex');
}

const cacheFileSchema = z.object({
  version: z.literal(1),
  key: z.string().regex(KEY),
  purpose: z.string(),
  model: z.string(),
  created_at: z.string(),
  finish_reason: z.string().nullable(),
  content: z.string(),
});

/** The cache in `<taskDir>/llm_cache/`. A file that is missing, unreadable as a cache entry or written for
 * another key is a miss (the next success overwrites it); a link where the folder or a file should be is
 * refused (UnsafePathError), never followed. */
export class TaskDirectoryLlmCache implements LlmResponseCache {
  readonly dir: string;

  constructor(taskDir: string) {
    this.dir = path.join(taskDir, LLM_CACHE_DIR);
  }

  async get(key: string): Promise<CachedAnswer | undefined> {
    if (!KEY.test(key)) return undefined;
    const bytes = await readFileNoFollow(path.join(this.dir, `${key}.json`));
    if (!bytes) return undefined;
    let parsed;
    try {
      parsed = cacheFileSchema.safeParse(JSON.parse(bytes.toString('utf8')));
    } catch {
      return undefined;
    }
    if (!parsed.success || parsed.data.key !== key) return undefined;
    return { content: parsed.data.content, finishReason: parsed.data.finish_reason, purpose: parsed.data.purpose, model: parsed.data.model };
  }

  async put(key: string, answer: CachedAnswer): Promise<void> {
    if (!KEY.test(key)) throw new Error(`not a cache key: ${key}`);
    await checkRealDirectory(path.dirname(this.dir));
    await checkRealDirectory(this.dir);
    await fsp.mkdir(this.dir).catch((error: NodeJS.ErrnoException) => {
      if (error.code !== 'EEXIST') throw error;
    });
    const entry: z.infer<typeof cacheFileSchema> = {
      version: 1,
      key,
      purpose: answer.purpose,
      model: answer.model,
      created_at: new Date().toISOString(),
      finish_reason: answer.finishReason,
      content: answer.content,
    };
    // Regenerable (a lost entry costs one call), so no fsync per answer.
    await writeFileAtomic(path.join(this.dir, `${key}.json`), `${JSON.stringify(entry, null, 2)}\n`, { fsync: false });
  }
}
