// Store rows → the guide's JSON shapes (§3.3 status, §3.4 list). db_connection is always masked here.
import { maskConnectionString } from '../postgres/connection-string.ts';
import { effectiveFlags, STEP_NAMES, type StepName, type StepStatus } from '../tasks/model.ts';
import type { StepRow, TaskWithSteps } from '../tasks/store.ts';
import { localIso } from '../time.ts';

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
  };
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
  };
}
