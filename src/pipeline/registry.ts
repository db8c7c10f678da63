// Steps are registered by name. A step whose issue has not landed yet is absent: executing it fails the
// run with STEP_NOT_AVAILABLE rather than pretending to succeed.
import { stepError, type PipelineStep, type StepContext } from './context.ts';
import type { StepName } from './steps.ts';

export class StepRegistry {
  readonly #steps = new Map<StepName, PipelineStep>();

  register(step: PipelineStep): this {
    this.#steps.set(step.name, step);
    return this;
  }

  has(name: StepName): boolean {
    return this.#steps.has(name);
  }

  get(name: StepName): PipelineStep {
    const step = this.#steps.get(name);
    if (!step) {
      throw stepError('STEP_NOT_AVAILABLE', 'err.step_not_available', { step: name });
    }
    return step;
  }
}

/** A step whose code is imported when it first runs: the four steps and what they pull in (parser WASM,
 * LLM client, embedders, linters) are most of the modules, and a server that is only asked for status
 * should not pay for loading them at start. */
function loadedOnFirstRun(name: StepName, load: () => Promise<PipelineStep>): PipelineStep {
  let loaded: Promise<PipelineStep> | undefined;
  return {
    name,
    async run(ctx: StepContext) {
      loaded ??= load().catch((error) => {
        loaded = undefined;
        throw error;
      });
      return (await loaded).run(ctx);
    },
  };
}

/** The production steps. Each step's issue adds its registration here. */
export function defaultSteps(): StepRegistry {
  return new StepRegistry()
    .register(loadedOnFirstRun('ddl_generation', async () => (await import('./ddl/index.ts')).ddlGenerationStep))
    .register(loadedOnFirstRun('qa_generation', async () => (await import('./qa/index.ts')).qaGenerationStep))
    .register(loadedOnFirstRun('sql_validation', async () => (await import('./validate/index.ts')).sqlValidationStep))
    .register(loadedOnFirstRun('training_load', async () => (await import('./load/index.ts')).trainingLoadStep));
}
