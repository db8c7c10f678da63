// The four steps of a task, in execution order. Pure data: used by tasks/, http/ and the CLI alike.
export const STEP_NAMES = ['ddl_generation', 'qa_generation', 'sql_validation', 'training_load'] as const;
export type StepName = (typeof STEP_NAMES)[number];

export function isStepName(value: unknown): value is StepName {
  return typeof value === 'string' && (STEP_NAMES as readonly string[]).includes(value);
}

/** The logger name each step writes to the task log (guide §7.4 shows class-like names). */
export const STEP_LOGGER: Record<StepName, string> = {
  ddl_generation: 'DDLMDGenerator',
  qa_generation: 'QAGenerator',
  sql_validation: 'SQLValidator',
  training_load: 'TrainingDataLoader',
};
