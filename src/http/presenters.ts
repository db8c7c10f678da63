// Store rows → the guide's JSON shapes (§3.3 status, §3.4 list). db_connection is always masked here.
// Each presenter's output has its response schema here (OpenAPI, and checked on the way out); `satisfies`
// keeps the two in step at compile time.
import { z } from 'zod';
import { maskConnectionString } from '../postgres/connection-string.ts';
import { EXECUTION_MODES, effectiveFlags, STEP_NAMES, STEP_STATUSES, TASK_STATUSES, type StepName, type StepStatus } from '../tasks/model.ts';
import type { StepRow, TaskWithSteps } from '../tasks/store.ts';
import { localIso } from '../time.ts';

const isoTime = z.string().describe('local time, ISO 8601 without offset: 2025-07-01T14:30:53');
const stepProgress = z.object({ done: z.number(), total: z.number(), unit: z.string() }).nullable();
const stepStatusSchema = z.enum(STEP_STATUSES);

export const taskListItemSchema = z.object({
  task_id: z.string(),
  task_name: z.string().nullable(),
  status: z.enum(TASK_STATUSES),
  step_status: z.record(z.enum(STEP_NAMES), stepStatusSchema),
  created_at: isoTime,
  started_at: isoTime.nullable(),
  completed_at: isoTime.nullable(),
  created_by: z.string().nullable(),
  db_name: z.string().nullable(),
  business_context: z.string().nullable(),
  directory_exists: z.boolean(),
  updated_at: isoTime,
  error_message: z.string().nullable(),
});

export const taskStatusSchema = taskListItemSchema.extend({
  execution_mode: z.enum(EXECUTION_MODES).nullable(),
  requested_step: z.enum(STEP_NAMES).nullable(),
  cancel_requested: z.boolean(),
  parameters: z.record(z.string(), z.unknown()).describe('the task\'s parameters as created, with the effective flags; db_connection masked'),
  current_step: z
    .object({ execution_id: z.string().nullable(), step: z.enum(STEP_NAMES), status: stepStatusSchema, started_at: isoTime.nullable(), progress: stepProgress })
    .nullable(),
  total_steps: z.number().int(),
  steps: z.array(
    z.object({
      step_name: z.enum(STEP_NAMES),
      step_status: stepStatusSchema,
      execution_id: z.string().nullable(),
      started_at: isoTime.nullable(),
      completed_at: isoTime.nullable(),
      error_message: z.string().nullable(),
      error_code: z.string().nullable(),
      progress: stepProgress,
      counters: z.record(z.string(), z.number()),
    }),
  ),
  progress: z.record(z.string(), stepProgress),
  counters: z.record(z.string(), z.number()),
  error_code: z.string().nullable(),
  has_table_list: z.boolean(),
  table_count: z.number().int().nullable(),
});

export function stepStatusMap(task: TaskWithSteps): Record<StepName, StepStatus> {
  const map = Object.fromEntries(STEP_NAMES.map((s) => [s, 'pending'])) as Record<StepName, StepStatus>;
  for (const step of task.steps) map[step.step_name] = step.status;
  return map;
}

export function presentParameters(task: TaskWithSteps) {
  return {
    ...task.parameters,
    ...effectiveFlags(task),
    business_context: task.business_context,
    db_name: task.db_name,
    db_connection: task.db_connection ? maskConnectionString(task.db_connection) : null,
    task_name: task.task_name,
  };
}

function presentStep(step: StepRow) {
  return {
    step_name: step.step_name,
    step_status: step.status,
    execution_id: step.execution_id,
    started_at: localIso(step.started_at),
    completed_at: localIso(step.completed_at),
    error_message: step.error_message,
    error_code: step.error_code,
    progress: step.progress,
    counters: step.counters,
  };
}

export function presentTaskStatus(task: TaskWithSteps, directoryExists: boolean) {
  const running = task.steps.find((s) => s.status === 'running');
  const counters: Record<string, number> = {};
  for (const step of task.steps) for (const [k, v] of Object.entries(step.counters ?? {})) counters[k] = (counters[k] ?? 0) + v;
  return {
    ...presentTaskListItem(task, directoryExists),
    execution_mode: task.execution_mode,
    requested_step: task.requested_step,
    cancel_requested: task.cancel_requested,
    parameters: presentParameters(task),
    current_step: running
      ? { execution_id: running.execution_id, step: running.step_name, status: running.status, started_at: localIso(running.started_at), progress: running.progress }
      : null,
    total_steps: STEP_NAMES.length,
    steps: task.steps.map(presentStep),
    progress: Object.fromEntries(task.steps.map((s) => [s.step_name, s.progress])),
    counters,
    error_code: task.error_code,
    has_table_list: task.table_list_at !== null,
    table_count: task.table_count,
  } satisfies z.input<typeof taskStatusSchema>;
}

export function presentTaskListItem(task: TaskWithSteps, directoryExists: boolean) {
  return {
    task_id: task.task_id,
    task_name: task.task_name,
    status: task.status,
    step_status: stepStatusMap(task),
    created_at: localIso(task.created_at),
    started_at: localIso(task.started_at),
    completed_at: localIso(task.completed_at),
    created_by: task.created_by,
    db_name: task.db_name,
    business_context: task.business_context,
    directory_exists: directoryExists,
    updated_at: localIso(task.updated_at),
    error_message: task.error_message,
  } satisfies z.input<typeof taskListItemSchema>;
}
