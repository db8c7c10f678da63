import { localTimestamp } from '../time.ts';
// The task log line format of guide §7.4:
//   2025-07-01 14:30:52 [INFO] SchemaWorkflowOrchestrator: 🚀 开始执行Schema工作流编排
// One header line per entry, in server local time. A multi-line message continues on the following
// lines; any line that does not start like a header belongs to the entry above it.

export const LOG_LEVELS = ['DEBUG', 'INFO', 'WARNING', 'ERROR', 'CRITICAL'] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

export interface LogEntry {
  /** `YYYY-MM-DD HH:MM:SS`, server local time, exactly as written in the file. */
  timestamp: string;
  level: string;
  logger: string;
  /** The step the entry belongs to, when its logger (or a `[step_name]` prefix) tells. */
  step?: string;
  /** The whole message, continuation lines joined with '\n'. */
  message: string;
  /** 1-based line of the entry's header line; only filled in by reads that scan from the start. */
  line_number?: number;
}

export type ParsedLogLine = Pick<LogEntry, 'timestamp' | 'level' | 'logger' | 'message'>;

// Python's logging writes `,123` milliseconds after the seconds; accept (and drop) them so logs written by
// the original tool read the same. The logger name ends at the first ': ' (names never contain one).
const HEADER_PATTERN = /^(\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2})(?:[.,]\d{1,6})? \[([A-Za-z]+)\] (.+?):(?: (.*))?$/;

export function isLogLevel(value: unknown): value is LogLevel {
  return typeof value === 'string' && (LOG_LEVELS as readonly string[]).includes(value);
}

/** `warn`/`Warning`/`WARN` → `WARNING`; other names are upper-cased (unknown names stay unknown). */
export function normalizeLevel(level: string): string {
  const upper = level.trim().toUpperCase();
  return upper === 'WARN' ? 'WARNING' : upper;
}

/** Position of a level in LOG_LEVELS (higher = more severe); -1 for a name outside the list. */
export function levelSeverity(level: string): number {
  return (LOG_LEVELS as readonly string[]).indexOf(normalizeLevel(level));
}

/** `YYYY-MM-DD HH:MM:SS` in the server's local time zone. */
export const formatLocalTimestamp = (date: Date): string => localTimestamp(date);

/**
 * One entry as written to the file, ending with '\n'. Line breaks of any style become '\n'; trailing
 * ones are dropped. A continuation line that would itself read as a header gets one leading space, so a
 * message can never forge a separate entry.
 */
export function formatLogLine(date: Date, level: string, logger: string, message: string): string {
  const [first = '', ...continuation] = message.replace(/\r\n?/g, '\n').replace(/\n+$/, '').split('\n');
  const guarded = continuation.map((line) => (parseLogLine(line) ? ` ${line}` : line));
  return [`${formatLocalTimestamp(date)} [${level}] ${logger}: ${first}`, ...guarded].join('\n') + '\n';
}

/** The parts of a header line, or null for a continuation line (or anything else). */
export function parseLogLine(line: string): ParsedLogLine | null {
  const match = HEADER_PATTERN.exec(line.endsWith('\r') ? line.slice(0, -1) : line);
  if (!match) return null;
  const [, timestamp, level, logger, message = ''] = match;
  return { timestamp, level, logger, message };
}
