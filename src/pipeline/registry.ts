// Steps are registered by name. A step whose issue has not landed yet is absent: executing it fails the
// run with STEP_NOT_AVAILABLE rather than pretending to succeed.
import { StepError, type PipelineStep } from './context.ts';
import { ddlGenerationStep } from './ddl/index.ts';
import { trainingLoadStep } from './load/index.ts';
import { qaGenerationStep } from './qa/index.ts';
import { sqlValidationStep } from './validate/index.ts';
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
      throw new StepError('STEP_NOT_AVAILABLE', `步骤 ${name} 在当前版本中尚不可用 (step ${name} is not available in this version yet)`);
    }
    return step;
  }
}

/** The production steps. Each step's issue adds its registration here. */
export function defaultSteps(): StepRegistry {
  return new StepRegistry()
    .register(ddlGenerationStep)
    .register(qaGenerationStep)
    .register(sqlValidationStep)
    .register(trainingLoadStep);
}
