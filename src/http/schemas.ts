// Schemas shared by several route files.
import { z } from 'zod';
import { TASK_ID_PATTERN } from '../tasks/workspace.ts';
import { parseTimeBound } from '../time.ts';

/** Ids are checked before any file system or database access (api-decisions.md). */
export const taskIdSchema = z.string().regex(TASK_ID_PATTERN, 'letters, digits, _ and - only, 1-64 characters');
export const taskIdParams = z.object({ task_id: taskIdSchema });

/** A time-range bound (task query, log query); what it means is src/time.ts parseTimeBound. */
export const timeBound = z
  .string()
  .refine((v) => parseTimeBound(v, 'start') !== null, 'expected a real date or time: YYYY-MM-DD or YYYY-MM-DDTHH:MM[:SS] (local time, or with Z / ±HH:MM)');

/** The guide's page of a query (tasks/query §3.5, logs/query §5.2). */
export const paginationSchema = z.object({
  page: z.number().int(),
  page_size: z.number().int(),
  total: z.number().int(),
  total_pages: z.number().int(),
  has_next: z.boolean(),
  has_prev: z.boolean(),
});

/** The guide's success envelope around a route's data: for response schemas (checked on the way out, and in OpenAPI). */
export function okEnvelope<T extends z.ZodType>(data: T) {
  return z.object({ success: z.literal(true), code: z.number().int(), message: z.string(), data });
}
