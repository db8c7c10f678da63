// One StepContext for running a step directly (no task store, no queue, no runner): in tests and benches.
// What the step logs, counts and reports as progress is kept on the context for the test to read.
import path from 'node:path';
import { loadSettings, type Settings } from '../../src/config.ts';
import type { Embedder } from '../../src/embed/types.ts';
import type { LlmClient } from '../../src/llm/types.ts';
import type { LogLevel } from '../../src/logs/format.ts';
import { StepCancelledError, type StepContext, type TaskParameters } from '../../src/pipeline/context.ts';
import { parseStepParameters } from '../../src/pipeline/parameters.ts';
import type { StepName } from '../../src/pipeline/steps.ts';
import type { Database } from '../../src/postgres/connect.ts';
import { DEFAULT_FLAGS } from '../../src/tasks/model.ts';

export interface FakeStepContext extends StepContext {
  /** Every line the step logged, with the task log's level names. */
  logs: Array<{ level: LogLevel; message: string }>;
  counters: Record<string, number>;
  progressLog: Array<{ done: number; total: number; unit: string }>;
}

export interface FakeStepContextOptions {
  step: StepName;
  /** The task directory. */
  dir: string;
  /** Default: the directory's name. */
  taskId?: string;
  /** The business database (a value, or how to open it); absent: asking for it fails. */
  db?: Database | (() => Promise<Database>);
  llm?: LlmClient;
  embedder?: Embedder;
  vectorDatabase?: () => Promise<Database>;
  /** Task parameters over a new task's defaults (DEFAULT_FLAGS: every step on, nothing backed up or truncated). */
  parameters?: Partial<TaskParameters>;
  /** Default: the defaults, with output and logs in `dir`. */
  settings?: Settings;
  signal?: AbortSignal;
}

export function fakeStepContext(options: FakeStepContextOptions): FakeStepContext {
  const logs: FakeStepContext['logs'] = [];
  const counters: Record<string, number> = {};
  const progressLog: FakeStepContext['progressLog'] = [];
  const signal = options.signal ?? new AbortController().signal;
  const logAt = (level: LogLevel) => (message: string) => logs.push({ level, message });
  const missing = (what: string) => () => Promise.reject(new Error(`no ${what} given to this ${options.step} context`));
  const { db } = options;
  return {
    taskId: options.taskId ?? path.basename(options.dir),
    step: options.step,
    workspaceDir: options.dir,
    params: {
      ...DEFAULT_FLAGS,
      ...options.parameters,
      ...parseStepParameters(options.parameters ?? {}),
    },
    settings: options.settings ?? loadSettings({ DATA_PIPELINE_OUTPUT_DIR: options.dir, DATA_PIPELINE_LOG_DIR: options.dir }, options.dir),
    log: { debug: logAt('DEBUG'), info: logAt('INFO'), warn: logAt('WARNING'), error: logAt('ERROR') },
    signal,
    checkpoint: async () => {
      if (signal.aborted) throw new StepCancelledError();
    },
    progress: (done, total, unit) => progressLog.push({ done, total, unit }),
    count: (added) => {
      for (const [k, v] of Object.entries(added)) counters[k] = (counters[k] ?? 0) + v;
    },
    businessDatabase: db === undefined ? missing('business database') : typeof db === 'function' ? db : async () => db,
    llm: options.llm,
    embedder: options.embedder ? async () => options.embedder! : missing('embedder'),
    vectorDatabase: options.vectorDatabase ?? missing('vector database'),
    logs,
    counters,
    progressLog,
  };
}
