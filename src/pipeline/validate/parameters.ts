// sql_validation's own task parameters (README "Task parameters"): ranges and defaults, declared once.
// It also reads the guide's enable_llm_repair and modify_original_file (task flags).
import { z } from 'zod';

export const validationParameters = z.object({
  execute_check: z.boolean().default(true).describe('sql_validation runs the bounded row check, not only EXPLAIN'),
  max_repair_attempts: z.number().int().min(0).max(10).default(3).describe('LLM repairs per failed pair'),
  sql_timeout_ms: z.number().int().min(100).max(600_000).default(5000).describe('statement timeout of each check, in milliseconds'),
  row_check_limit: z.number().int().min(1).max(1000).default(5).describe('rows fetched by the row check'),
  validation_concurrency: z.number().int().min(1).max(64).optional().describe('pairs checked at once (default: the pool size)'),
  semantic_lint: z.boolean().default(true).describe('sql_validation runs the semantic linter (column roles, grain, joins, time, literals) on every pair; errors are repaired by the LLM or dropped'),
  semantic_check: z
    .boolean()
    .optional()
    .describe('sql_validation asks the LLM, in batches, which question each SQL answers (back-translation) and whether it matches the pair\'s question; a mismatch goes to repair with both questions. Default: on when an LLM is configured, off otherwise'),
  max_execute_cost: z.number().min(0).optional().describe('planner cost above which a statement is only EXPLAINed (default: by database)'),
});
