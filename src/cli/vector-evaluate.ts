// `data-pipeline vector evaluate --file q.json`: the retrieval self-test of POST /vector/evaluate from the
// command line, against the configured vector store and embedder. The file holds `{questions: [...]}`
// (other keys such as schema/language/note are ignored, so test/fixtures/retrieval/*.json work as they
// are) or a bare array of `{question, tables}`.
import fs from 'node:fs';
import { createApp } from '../app.ts';
import type { Settings } from '../config.ts';
import { t, type Lang, type MessageKey, type MessageParams } from '../messages.ts';
import { AppError } from '../errors.ts';
import { evaluateBody } from '../tasks/vector-admin.ts';
import { errorMessage, VectorStoreError } from '../vector/errors.ts';

export interface EvaluateOptions {
  file: string;
  k?: number;
  collections?: string;
  json?: boolean;
  minRecall?: number;
  lang: Lang;
}

/** Runs the self-test; returns the exit code (0 ok, 1 below --min-recall, 2 bad input or store error). */
export async function runVectorEvaluate(settings: Settings, options: EvaluateOptions): Promise<number> {
  const say = (key: MessageKey, params?: MessageParams) => t(key, options.lang, params);
  let raw: unknown;
  try {
    raw = JSON.parse(fs.readFileSync(options.file, 'utf8').replace(/^\uFEFF/, ''));
  } catch (error) {
    console.error(`data-pipeline: ${say('evaluate.unreadable', { file: options.file, reason: errorMessage(error) })}`);
    return 2;
  }
  const source = Array.isArray(raw) ? { questions: raw } : (raw as Record<string, unknown>) ?? {};
  const parsed = evaluateBody.safeParse({
    questions: source.questions,
    ...(options.k !== undefined ? { k: options.k } : source.k !== undefined ? { k: source.k } : {}),
    ...(options.collections ? { collections: options.collections.split(',').map((c) => c.trim()) } : source.collections !== undefined ? { collections: source.collections } : {}),
  });
  if (!parsed.success) {
    for (const issue of parsed.error.issues.slice(0, 10)) console.error(`data-pipeline: ${issue.path.join('.') || '(file)'}: ${issue.message}`);
    return 2;
  }
  const { questions, k, collections } = parsed.data;
  const app = await createApp(settings, { logToStderr: false });
  try {
    const shown = await app.vectorAdmin.evaluate({ questions, k, collections });
    if (options.json) console.log(JSON.stringify(shown, null, 2));
    else {
      const s = shown.summary;
      console.log(say('evaluate.embedder', { model: shown.embedding_model, dim: shown.embedding_dim, collections: collections.join(', ') }));
      for (const miss of shown.misses) console.log(say('evaluate.missed', { tables: miss.missed.join(', '), question: miss.question }));
      console.log(say('evaluate.summary', { k, recall: s.recall, found: s.tables_found, needed: s.tables_needed, complete: s.complete, questions: s.questions }));
    }
    // The unrounded recall (the shown one has four decimals): found / needed, as evaluateStore computes it.
    const recall = shown.summary.tables_needed ? shown.summary.tables_found / shown.summary.tables_needed : 0;
    if (options.minRecall !== undefined && recall < options.minRecall) return 1;
    return 0;
  } catch (error) {
    console.error(`data-pipeline: ${error instanceof AppError ? `${error.code}: ${error.details(options.lang)}` : error instanceof VectorStoreError ? `${error.code}: ${error.message}` : errorMessage(error)}`);
    return 2;
  } finally {
    await app.close();
  }
}
