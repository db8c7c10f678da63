// What a step may use. Steps meet only through files in the task directory (ctx.workspaceDir); they
// never import each other, nor anything from tasks/ or http/.
import type { Settings } from '../config.ts';
import type { Embedder } from '../embed/types.ts';
import type { LlmResponseCache } from '../llm/cache.ts';
import type { LlmClient } from '../llm/types.ts';
import type { Database } from '../postgres/connect.ts';
import type { StepParameters } from './parameters.ts';
import type { StepName } from './steps.ts';

export interface StepLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface Progress {
  done: number;
  total: number;
  unit: string;
}

/** The guide's switches of a task (§3.1), as steps see them. */
export interface TaskFlags {
  enable_sql_validation: boolean;
  enable_llm_repair: boolean;
  modify_original_file: boolean;
  enable_training_data_load: boolean;
  backup_vector_tables: boolean;
  truncate_vector_tables: boolean;
}

/** Everything a step can read of its task: the guide's flags (execute overrides applied), the task's
 * context, and the steps' own parameters (parameters.ts), parsed once by the runner, defaults applied. */
export interface TaskParameters extends TaskFlags, StepParameters {
  business_context?: string;
  db_name?: string;
  /** Unmasked: never log or return it. */
  db_connection?: string;
}

export interface StepContext {
  readonly taskId: string;
  readonly step: StepName;
  /** Absolute path of the task directory; every file a step reads or writes lies inside it. */
  readonly workspaceDir: string;
  readonly params: TaskParameters;
  readonly settings: Settings;
  readonly log: StepLogger;
  /** Aborted when the run is cancelled or taken over by another worker. */
  readonly signal: AbortSignal;
  /** Throws StepCancelledError when the run should stop; call it between units of work. */
  checkpoint(): Promise<void>;
  /** Reports progress (persisted, shown in the task status, the SSE stream and the CLI). */
  progress(done: number, total: number, unit: string): void;
  /** Adds to the step's counters (e.g. { tables: 1 }); persisted with the step. */
  count(counters: Record<string, number>): void;
  /** The business database of this task. Only ever read: catalog queries, bounded samples, EXPLAIN. */
  businessDatabase(): Promise<Database>;
  /** The configured LLM, with this step's accounting; undefined when none is configured (offline mode). */
  readonly llm: LlmClient | undefined;
  /** The configured embedder (training_load, vector search). */
  embedder(): Promise<Embedder>;
  /** The vector store database (langchain_pg_* tables). */
  vectorDatabase(): Promise<Database>;
}

/** What the composition root provides to steps; the runner wraps it into each StepContext. */
export interface StepServices {
  openBusinessDatabase(url: string): Promise<Database>;
  /** Returns undefined when no LLM is configured. `onUsage` receives counter increments; with a cache,
   * accepted answers are kept and replayed (the task's llm_cache/). */
  createLlm(onUsage: (counters: Record<string, number>) => void, options?: { cache?: LlmResponseCache }): LlmClient | undefined;
  createEmbedder(): Promise<Embedder>;
  openVectorDatabase(): Promise<Database>;
}

export interface StepResult {
  /** Short human summary, logged at the end of the step. */
  summary?: string;
  counters?: Record<string, number>;
}

export interface PipelineStep {
  readonly name: StepName;
  run(ctx: StepContext): Promise<StepResult | void>;
}

// Steps fail with the catalogue's StepError (src/errors.ts): a code, a message key and its parameters.
export { StepError, stepError } from '../errors.ts';

export class StepCancelledError extends Error {
  constructor(message = 'cancelled') {
    super(message);
    this.name = 'StepCancelledError';
  }
}
