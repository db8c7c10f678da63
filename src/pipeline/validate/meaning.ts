// The meaning check (semantic_check): a query can run, pass the linter and still answer another question.
// The model reads each SQL alone, writes the question it answers (back-translation), compares it with the
// pair's question and says whether they match, with the reason. Pairs go in batches; the same question
// with the same SQL is asked once per run. A mismatch goes to repair with both questions in the prompt;
// a batch whose call fails (after the client's retries) leaves its pairs unjudged (the caller keeps them
// pending, never drops them).
import { z } from 'zod';
import { t as text, type Lang } from '../../messages.ts';
import { renderPrompt, type PromptTemplate } from '../../llm/prompts/template.ts';
import type { LlmClient } from '../../llm/types.ts';
import type { Catalog, CatalogTable } from './catalog.ts';
import type { UsageTally } from './usage.ts';

export const MEANING_PROMPT: PromptTemplate = {
  id: 'sql_validation.meaning_check',
  version: 1,
  system: {
    en: [
      'You review question–SQL training pairs of a Text-to-SQL assistant for a PostgreSQL business database.',
      'For each pair:',
      '1. Read only the SQL and write the question it answers, in English: its measures and aggregates, entities, filters, time window, grouping, ordering and limit (back_translation).',
      '2. Compare that with the pair\'s question: does the SQL answer it? Different wording, output aliases, a sensible ordering or extra helpful columns are fine. Another measure, entity, filter value, time window, grouping, aggregate or ranking than the question asks for is a mismatch.',
      'Answer with one JSON object: {"results": [{"id": <the pair\'s id>, "back_translation": "<question the SQL answers>", "matches": true or false, "reason": "<one short sentence>"}]}, one result per pair, no prose.',
    ].join('\n'),
    zh: [
      '你负责审核 Text-to-SQL 助手的“问题–SQL”训练对（PostgreSQL 业务数据库）。',
      '对每一对：',
      '1. 只看 SQL，用中文写出这条 SQL 实际回答的问题：它的指标与聚合、实体、过滤条件、时间范围、分组、排序和条数限制（back_translation）。',
      '2. 与该对的问题比较：这条 SQL 是否回答了这个问题？措辞不同、输出别名、合理的排序或多出的辅助列都可以；指标、实体、过滤值、时间范围、分组、聚合方式或排名与问题不同，则为不匹配。',
      '只回答一个 JSON 对象：{"results": [{"id": <该对的编号>, "back_translation": "<SQL 回答的问题>", "matches": true 或 false, "reason": "<一句简短理由>"}]}，每对一个结果，不要其他文字。',
    ].join('\n'),
  },
  user: {
    en: ['Tables the queries use:', '{{schema}}', '', 'Pairs ({{count}}):', '{{pairs}}', '', 'Return {"results": [...]} with {{count}} results.'].join('\n'),
    zh: ['查询用到的表：', '{{schema}}', '', '问答对（{{count}} 个）：', '{{pairs}}', '', '返回 {"results": [...]}，共 {{count}} 个结果。'].join('\n'),
  },
};

export type MeaningVerdict = 'match' | 'mismatch' | 'unknown';

/** What a pair's meta and report carry (the dashboard shows it). */
export interface MeaningCheck {
  verdict: MeaningVerdict;
  /** The question the model read from the SQL. */
  back_translation: string;
  reason: string;
  /** The SQL the verdict is about (the stored one for kept pairs). */
  sql: string;
}

export interface MeaningItem {
  question: string;
  sql: string;
  /** Tables the SQL reads (their columns go into the prompt). */
  tables: string[];
}

/** A batch whose call failed after the client's retries: these pairs were not judged. */
export interface MeaningUnavailable {
  unavailable: string;
}

const flag = z.union([z.boolean(), z.string(), z.number()]).transform((v) => {
  if (typeof v === 'boolean') return v;
  if (typeof v === 'number') return v !== 0;
  const s = v.trim().toLowerCase();
  if (['true', 'yes', 'y', 'match', 'matches', '是', '匹配', '一致'].includes(s)) return true;
  if (['false', 'no', 'n', 'mismatch', '否', '不匹配', '不一致'].includes(s)) return false;
  return undefined;
});

const ResultItem = z.object({
  id: z.union([z.number(), z.string()]).transform((v) => Number(String(v).replace(/\D/g, ''))),
  back_translation: z.string().optional(),
  question: z.string().optional(),
  matches: flag.optional(),
  match: flag.optional(),
  reason: z.string().optional(),
});

const MeaningAnswer = z.union([
  z.object({ results: z.array(z.unknown()) }),
  z.array(z.unknown()).transform((results) => ({ results })),
]);

export interface MeaningCheckerOptions {
  lang: Lang;
  /** Loaded on first use: column comments for the prompt. */
  catalog: () => Promise<Catalog>;
  /** Pairs per call. */
  batchSize?: number;
  usage?: UsageTally;
  signal?: AbortSignal;
  log?: { debug(m: string): void; warn(m: string): void };
}

export const MEANING_BATCH_SIZE = 8;

export class MeaningChecker {
  readonly #llm: LlmClient;
  readonly #options: MeaningCheckerOptions;
  /** question + SQL → its verdict (or the failure), so a pair asked twice in a run costs one item. */
  readonly #asked = new Map<string, Promise<MeaningCheck | MeaningUnavailable>>();
  /** Pairs the model gave a verdict for (an item it skips is asked once more, then `unknown`). */
  checked = 0;

  constructor(llm: LlmClient, options: MeaningCheckerOptions) {
    this.#llm = llm;
    this.#options = options;
  }

  /** Verdicts for the items, in order, asked in batches (all batches at once; the client bounds them). */
  check(items: MeaningItem[]): Promise<Array<MeaningCheck | MeaningUnavailable>> {
    return Promise.all(this.checkEach(items));
  }

  /**
   * The verdict of each item as its own promise, settled when its batch is answered: a caller can act on
   * the first batch back (repair a mismatch) while later ones are still being asked.
   */
  checkEach(items: MeaningItem[]): Array<Promise<MeaningCheck | MeaningUnavailable>> {
    type Waiting = { item: MeaningItem; resolve: (v: MeaningCheck | MeaningUnavailable) => void; reject: (error: unknown) => void };
    const fresh: Waiting[] = [];
    const results = items.map((item) => {
      const key = `${item.question.trim()}\u0000${item.sql.trim()}`;
      let known = this.#asked.get(key);
      if (!known) {
        known = new Promise((resolve, reject) => fresh.push({ item, resolve, reject }));
        this.#asked.set(key, known);
      }
      return known;
    });
    const size = Math.max(1, this.#options.batchSize ?? MEANING_BATCH_SIZE);
    for (let i = 0; i < fresh.length; i += size) {
      const batch = fresh.slice(i, i + size);
      // #ask turns a failed call into `unavailable` verdicts; it throws only when the run is cancelled.
      this.#ask(batch.map((b) => b.item)).then(
        (verdicts) => batch.forEach((b, n) => b.resolve(verdicts[n]!)),
        (error: unknown) => batch.forEach((b) => b.reject(error)),
      );
    }
    return results;
  }

  async #ask(items: MeaningItem[], retryMissing = true): Promise<Array<MeaningCheck | MeaningUnavailable>> {
    const prompt = await this.#prompt(items);
    let answer;
    try {
      answer = await this.#llm.chatJson(prompt.messages, MeaningAnswer, {
        purpose: 'sql_validation.meaning_check',
        temperature: 0,
        signal: this.#options.signal,
        log: this.#options.log,
        onUsage: this.#options.usage?.listener,
      });
    } catch (error) {
      if (this.#options.signal?.aborted) throw error;
      const unavailable = `meaning check call failed: ${(error as Error).message}`;
      return items.map(() => ({ unavailable }));
    }
    const byId = new Map<number, z.infer<typeof ResultItem>>();
    for (const raw of answer.results) {
      const parsed = ResultItem.safeParse(raw);
      if (parsed.success && Number.isInteger(parsed.data.id) && !byId.has(parsed.data.id)) byId.set(parsed.data.id, parsed.data);
    }
    const out: Array<MeaningCheck | MeaningUnavailable | undefined> = items.map((item, i) => {
      const r = byId.get(i + 1);
      const matches = r?.matches ?? r?.match;
      if (!r || matches === undefined) return undefined;
      this.checked += 1;
      return { verdict: matches ? 'match' : 'mismatch', back_translation: (r.back_translation ?? r.question ?? '').trim(), reason: (r.reason ?? '').trim(), sql: item.sql };
    });
    const missing = out.flatMap((v, i) => (v ? [] : [i]));
    if (missing.length && retryMissing) {
      // A batch answered in part: the rest is asked once more on its own.
      this.#options.log?.warn(`语义核对: 模型未对 ${missing.length} 个问答对给出判断，重新询问 (meaning check: no verdict for ${missing.length} pair(s), asking again)`);
      const again = await this.#ask(missing.map((i) => items[i]!), false);
      missing.forEach((i, n) => (out[i] = again[n]));
    }
    return out.map(
      (v, i) =>
        v ?? { verdict: 'unknown', back_translation: '', reason: 'the model gave no verdict for this pair', sql: items[i]!.sql },
    );
  }

  async #prompt(items: MeaningItem[]) {
    const { lang } = this.#options;
    const catalog = await this.#options.catalog();
    const tables: CatalogTable[] = [];
    for (const item of items) {
      for (const name of item.tables) {
        const t = catalog.resolve(name) ?? catalog.findTables(name)[0];
        if (t && !tables.includes(t)) tables.push(t);
      }
    }
    const schema = tables.length ? clip(tables.map(describeTable).join('\n'), 6000) : text('prompt.no_tables', lang);
    const pairs = items
      .map((item, i) => `### ${i + 1}\n${text('prompt.question_label', lang)}: ${item.question.trim()}\nSQL:\n${item.sql.trim()}`)
      .join('\n\n');
    return renderPrompt(MEANING_PROMPT, lang, { schema, pairs, count: items.length });
  }
}

/** One line per table: its columns with their comments (what the model needs to read a query back). */
function describeTable(t: CatalogTable): string {
  const columns = t.columns.map((c) => (c.comment ? `${c.name} (${c.comment})` : c.name)).join(', ');
  return `- ${t.schema}.${t.name}${t.comment ? ` (${t.comment})` : ''}: ${columns}`;
}

function clip(text: string, max: number): string {
  return text.length > max ? `${text.slice(0, max)}…` : text;
}

export function isUnavailable(v: MeaningCheck | MeaningUnavailable): v is MeaningUnavailable {
  return 'unavailable' in v;
}

/** The text the repair prompt shows for a mismatch: both questions and why they differ. */
export function mismatchMessage(question: string, check: MeaningCheck, lang: Lang): string {
  return text('prompt.meaning_mismatch', lang, { question: question.trim(), answers: check.back_translation, reason: check.reason || '-' });
}
