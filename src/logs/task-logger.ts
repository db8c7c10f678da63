// The task log: `<taskDir>/data_pipeline.log`, one §7.4 line per entry (see format.ts).
import { mkdirSync } from 'node:fs';
import { appendNoFollowSync } from '../files.ts';
import { dirname, join } from 'node:path';
import { maskSecretsInText } from '../postgres/connection-string.ts';
import { isStepName, STEP_LOGGER, type StepName } from '../pipeline/steps.ts';
import { formatLogLine, levelSeverity, type LogLevel } from './format.ts';

export const TASK_LOG_FILE_NAME = 'data_pipeline.log';
export const ORCHESTRATOR_LOGGER = 'SchemaWorkflowOrchestrator';

export function taskLogPath(taskDir: string): string {
  return join(taskDir, TASK_LOG_FILE_NAME);
}

/** The logger name of the task directory itself (guide §7.3.2: `TaskDir_<task_id>`). */
export function taskDirLoggerName(taskId: string): string {
  return `TaskDir_${taskId}`;
}

/** Same shape as the pipeline's StepLogger, so a bound logger can be handed to a step as `ctx.log`. */
export interface BoundLogger {
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

export interface TaskLoggerOptions {
  /** Applied to every message before it is written. Default: masks connection strings. */
  mask?: (text: string) => string;
  /** Clock for the timestamps (tests pin it). */
  now?: () => Date;
}

export class TaskLogger {
  readonly filePath: string;
  readonly minLevel: LogLevel;
  private readonly mask: (text: string) => string;
  private readonly now: () => Date;
  private writeFailureReported = false;

  constructor(filePath: string, minLevel: LogLevel = 'INFO', options: TaskLoggerOptions = {}) {
    this.filePath = filePath;
    this.minLevel = minLevel;
    this.mask = options.mask ?? maskSecretsInText;
    this.now = options.now ?? (() => new Date());
    mkdirSync(dirname(filePath), { recursive: true });
  }

  isEnabled(level: LogLevel): boolean {
    return levelSeverity(level) >= levelSeverity(this.minLevel);
  }

  write(level: LogLevel, logger: string, message: string): void {
    if (!this.isEnabled(level)) return;
    const line = formatLogLine(this.now(), level, logger, this.mask(message));
    try {
      // Opened with O_APPEND for each call and written in one go, so the API process and a worker (or two
      // workers, one after another) appending to the same file never overwrite each other's lines; with
      // O_NOFOLLOW and the directory checked, a planted symbolic link is refused, not written through.
      appendNoFollowSync(this.filePath, line);
    } catch (error) {
      // Like Python's logging handlers: a log that cannot be written must not fail the work it describes
      // (nor hide the error being logged). Say so once, on the process's warning channel.
      if (!this.writeFailureReported) {
        this.writeFailureReported = true;
        process.emitWarning(`task log ${this.filePath} cannot be written: ${(error as Error).message}`);
      }
    }
  }

  forLogger(name: string): BoundLogger {
    return {
      debug: (message) => this.write('DEBUG', name, message),
      info: (message) => this.write('INFO', name, message),
      warn: (message) => this.write('WARNING', name, message),
      error: (message) => this.write('ERROR', name, message),
    };
  }
}

const STEP_BY_LOGGER = new Map<string, StepName>(
  (Object.entries(STEP_LOGGER) as [StepName, string][]).map(([step, logger]) => [logger, step]),
);

/** The step a logger name writes for (`SQLValidator` → `sql_validation`); undefined for the others. */
export function stepOfLogger(logger: string): StepName | undefined {
  return STEP_BY_LOGGER.get(logger);
}

const STEP_PREFIX_PATTERN = /^\[([a-z_]+)\]/;

/** The step of an entry: by its logger, else by a `[step_name]` prefix of its message (orchestrator lines). */
export function stepOfEntry(entry: { logger: string; message: string }): StepName | undefined {
  const byLogger = stepOfLogger(entry.logger);
  if (byLogger) return byLogger;
  const prefix = STEP_PREFIX_PATTERN.exec(entry.message)?.[1];
  return isStepName(prefix) ? prefix : undefined;
}
