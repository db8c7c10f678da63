// Task and step statuses and the pure rules between them (api-decisions.md "Statuses").
import type { TaskFlags } from '../pipeline/context.ts';
import { STEP_NAMES, type StepName } from '../pipeline/steps.ts';

// What a task is made of, as the layers above (http, cli) see it: the steps it runs and the step
// parameters it takes (each step folder's zod slice, merged once in pipeline/parameters.ts).
export { STEP_NAMES, type StepName };
export { stepParameterFields } from '../pipeline/parameters.ts';

export const TASK_STATUSES = ['pending', 'in_progress', 'partial_completed', 'completed', 'failed', 'cancelled'] as const;
export type TaskStatus = (typeof TASK_STATUSES)[number];

export const STEP_STATUSES = ['pending', 'running', 'completed', 'failed', 'skipped', 'cancelled'] as const;
export type StepStatus = (typeof STEP_STATUSES)[number];

export const EXECUTION_MODES = ['complete', 'step'] as const;
export type ExecutionMode = (typeof EXECUTION_MODES)[number];

export type { TaskFlags };

export const DEFAULT_FLAGS: TaskFlags = {
  enable_sql_validation: true,
  enable_llm_repair: true,
  modify_original_file: true,
  enable_training_data_load: true,
  backup_vector_tables: false,
  truncate_vector_tables: false,
};

/** truncate implies backup (guide §2.4). */
export function normaliseVectorFlags<T extends { backup_vector_tables?: boolean; truncate_vector_tables?: boolean }>(flags: T): T {
  return flags.truncate_vector_tables ? { ...flags, backup_vector_tables: true } : flags;
}

/** Steps a flag switches off: they become `skipped` in complete mode. */
export function isStepEnabled(step: StepName, flags: TaskFlags): boolean {
  if (step === 'sql_validation') return flags.enable_sql_validation;
  if (step === 'training_load') return flags.enable_training_data_load;
  return true;
}

export interface RunPlan {
  /** Steps this run executes, in order. */
  run: StepName[];
  /** Steps marked skipped by this run. */
  skipped: StepName[];
}

export function planRun(mode: ExecutionMode, stepName: StepName | undefined, flags: TaskFlags): RunPlan {
  if (mode === 'step') return { run: [stepName as StepName], skipped: [] };
  const run = STEP_NAMES.filter((s) => isStepEnabled(s, flags));
  return { run, skipped: STEP_NAMES.filter((s) => !run.includes(s)) };
}

/** The task status after a run whose steps all succeeded. */
export function finishedStatus(mode: ExecutionMode, stepStatuses: Record<StepName, StepStatus>, flags: TaskFlags): TaskStatus {
  if (mode === 'complete') return 'completed';
  const remaining = STEP_NAMES.filter((s) => isStepEnabled(s, flags) && stepStatuses[s] !== 'completed');
  return remaining.length === 0 ? 'completed' : 'partial_completed';
}

/** The flags a run uses: the task's creation parameters with the execute overrides applied. */
export function effectiveFlags(task: { parameters: TaskFlags; run_overrides: Partial<TaskFlags> }): TaskFlags {
  const merged = { ...task.parameters, ...task.run_overrides };
  return {
    enable_sql_validation: merged.enable_sql_validation,
    enable_llm_repair: merged.enable_llm_repair,
    modify_original_file: merged.modify_original_file,
    enable_training_data_load: merged.enable_training_data_load,
    backup_vector_tables: merged.backup_vector_tables || merged.truncate_vector_tables,
    truncate_vector_tables: merged.truncate_vector_tables,
  };
}
