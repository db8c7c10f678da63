// Schemas shared by several route files.
import { z } from 'zod';
import { TASK_ID_PATTERN } from '../tasks/workspace.ts';

/** Ids are checked before any file system or database access (api-decisions.md). */
export const taskIdParams = z.object({
  task_id: z.string().regex(TASK_ID_PATTERN, 'letters, digits, _ and - only, 1-64 characters'),
});
