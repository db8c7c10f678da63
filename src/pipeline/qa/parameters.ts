// qa_generation's own task parameters (README "Task parameters"): ranges and defaults, declared once.
import { z } from 'zod';

export const DEFAULT_THEME_COUNT = 5;
export const DEFAULT_QUESTIONS_PER_THEME = 10;
export const DEFAULT_SEED = 42;

export const qaParameters = z.object({
  // Left undefined when not given (the default is applied by the step): a size the user asked for keeps
  // the half-of-requested rule, the default size does not (see qa_generation).
  theme_count: z.number().int().min(1).max(50).optional().meta({ default: DEFAULT_THEME_COUNT }).describe('number of themes of qa_generation'),
  questions_per_theme: z
    .number()
    .int()
    .min(1)
    .max(100)
    .optional()
    .meta({ default: DEFAULT_QUESTIONS_PER_THEME })
    .describe('questions per theme of qa_generation'),
  qa_seed: z.number().int().min(0).max(2_147_483_647).default(DEFAULT_SEED).describe('seed of the offline generator (deterministic for a given seed)'),
  qa_execution_check: z.boolean().default(true).describe('the offline generator checks its candidates against the database'),
  allow_offline_fallback: z
    .boolean()
    .default(false)
    .describe('with an LLM: a themes call that still fails after its retries falls back to offline themes (counted and shown in the summary) instead of failing qa_generation with LLM_UNAVAILABLE'),
});
