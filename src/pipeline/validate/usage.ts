// LLM accounting of one kind of call in sql_validation (repair, meaning check), beside the step's totals:
// the client reports each call's increments (LlmCallOptions.onUsage) and a tally adds them up.
import type { LlmUsage } from '../../llm/types.ts';

export interface UsageTotals {
  calls: number;
  failures: number;
  prompt_tokens: number;
  completion_tokens: number;
  cache_hits: number;
}

export class UsageTally {
  readonly totals: UsageTotals = { calls: 0, failures: 0, prompt_tokens: 0, completion_tokens: 0, cache_hits: 0 };

  /** `prefix` names the step counters the increments also go to (e.g. meaning_check_ → meaning_check_calls). */
  constructor(
    private readonly prefix: string,
    private readonly onCount?: (counters: Record<string, number>) => void,
  ) {}

  /** The listener to pass as LlmCallOptions.onUsage. */
  readonly listener = (added: Partial<LlmUsage>): void => {
    const mapped: Partial<UsageTotals> = {
      calls: added.llm_calls,
      failures: added.llm_failures,
      prompt_tokens: added.prompt_tokens,
      completion_tokens: added.completion_tokens,
      cache_hits: added.llm_cache_hits,
    };
    const counters: Record<string, number> = {};
    for (const [key, value] of Object.entries(mapped) as Array<[keyof UsageTotals, number | undefined]>) {
      if (!value) continue;
      this.totals[key] += value;
      counters[`${this.prefix}${key}`] = value;
    }
    if (Object.keys(counters).length) this.onCount?.(counters);
  };
}
