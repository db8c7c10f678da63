// The one parameter schema of the steps: each step folder declares a slice of its own parameters (ranges,
// defaults); this file merges them. The task's create body (http/tasks.ts) and the CLI take the request
// form (every field optional, defaults documented but not stored), and the runner parses a task's stored
// parameters once with the merged form, so every step reads typed values from `ctx.params`.
import { z } from 'zod';
import { ddlParameters } from './ddl/parameters.ts';
import { loadParameters } from './load/parameters.ts';
import { qaParameters } from './qa/parameters.ts';
import { validationParameters } from './validate/parameters.ts';
import { stepError } from './context.ts';

/** Read by more than one step. */
export const sharedParameters = z.object({
  language: z.enum(['zh', 'en']).default('zh').describe('language of comments, questions and reports'),
  use_llm_cache: z
    .boolean()
    .default(true)
    .describe('every LLM call (annotate, themes, pairs, meaning check, repair) is answered from the task\'s llm_cache/ when the same request succeeded before; false: every call is sent'),
});

const SLICES = { shared: sharedParameters, ddl: ddlParameters, qa: qaParameters, validate: validationParameters, load: loadParameters };

/** Parameter names declared by more than one slice (must stay empty: a test checks it). */
export function overlappingParameterNames(): string[] {
  const seen = new Map<string, number>();
  for (const slice of Object.values(SLICES)) for (const key of Object.keys(slice.shape)) seen.set(key, (seen.get(key) ?? 0) + 1);
  return [...seen].filter(([, n]) => n > 1).map(([key]) => key);
}

export const stepParameters = z.object({
  ...sharedParameters.shape,
  ...ddlParameters.shape,
  ...qaParameters.shape,
  ...validationParameters.shape,
  ...loadParameters.shape,
});

/** Every step parameter, defaults applied. */
export type StepParameters = z.output<typeof stepParameters>;

/** A field as a client sends it: a default becomes documentation (OpenAPI `default`), not a stored value,
 * so a task records only what was asked for and a later default applies to it. */
function requestField(field: z.ZodType): z.ZodType {
  if (!(field instanceof z.ZodDefault)) return field;
  const meta = z.globalRegistry.get(field) ?? {};
  return (field.unwrap() as z.ZodType).optional().meta({ ...meta, default: field.def.defaultValue });
}

type RequestShape<S extends z.ZodRawShape> = {
  [K in keyof S]: S[K] extends z.ZodDefault<infer Inner extends z.ZodType> ? z.ZodOptional<Inner> : S[K];
};

/** The step parameters in the create body (http/tasks.ts createTaskBody spreads them beside the guide's fields). */
export const stepParameterFields = Object.fromEntries(
  Object.entries(stepParameters.shape).map(([key, field]) => [key, requestField(field)]),
) as RequestShape<typeof stepParameters.shape>;

export const STEP_PARAMETER_NAMES = Object.keys(stepParameters.shape) as Array<keyof StepParameters>;

/** One line per problem, naming the parameter: `enum_threshold: Too big: expected number to be <=1000`. */
export function describeParameterIssues(error: z.ZodError): Array<{ param: string; reason: string }> {
  return error.issues.map((issue) => {
    const keys = issue.code === 'unrecognized_keys' ? issue.keys : [];
    const param = [...issue.path.map(String), ...(keys.length ? [keys.join(', ')] : [])].join('.') || 'parameters';
    return { param, reason: issue.message };
  });
}

/** A task's stored parameters → the typed step parameters. Keys of other layers (the guide's flags, names
 * an older version stored) are ignored; a value out of range fails the step with INVALID_PARAMETER. */
export function parseStepParameters(stored: Record<string, unknown>): StepParameters {
  const result = stepParameters.safeParse(stored);
  if (result.success) return result.data;
  const problems = describeParameterIssues(result.error);
  throw stepError('INVALID_PARAMETER', 'step.invalid_parameters', { problems: problems.map((p) => `${p.param}: ${p.reason}`).join('; ') });
}
