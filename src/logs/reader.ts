// Reading a task log (format.ts): the tail for GET /logs (guide §5.1), the filtered, sorted, paged query for
// POST /logs/query (§5.2), and the file facts both report. A missing file reads as empty, never an error.
//
// Lines are split on the '\n' byte before decoding: that byte never occurs inside a UTF-8 sequence, so a
// chunk boundary can never cut a character in two, and the tail and the query see exactly the same lines.
import type { FileHandle } from 'node:fs/promises';
import { openForReading, statNoFollow } from '../files.ts';
import { localIso, localTimestamp, parseTimeBound } from '../time.ts';
import { levelSeverity, normalizeLevel, parseLogLine, type LogEntry, type ParsedLogLine } from './format.ts';
import { stepOfEntry } from './task-logger.ts';

const NEWLINE = 0x0a;

export const DEFAULT_TAIL_CHUNK_SIZE = 64 * 1024;
const QUERY_READ_SIZE = 256 * 1024;

/** A query the caller got wrong (bad time, page...); the HTTP layer answers it with a 400. */
export class LogQueryError extends Error {
  override name = 'LogQueryError';
}

// ---------------------------------------------------------------------------------------------- tail

export interface TailOptions {
  limit: number;
  /** Exact level, case-insensitive (`warn` = `WARNING`). */
  level?: string;
  /** Bytes read per step backwards from the end; tests make it tiny to split entries across chunks. */
  chunkSize?: number;
}

export interface TailResult {
  entries: LogEntry[];
  /** Number of entries returned (as in the guide's §5.1 example). */
  total: number;
  /** Size of the file when it was read: the entries are from before this byte offset. */
  endOffset: number;
}

/**
 * The last `limit` entries (of `level`, if given), oldest first. Reads backwards from the end of the file
 * chunk by chunk and stops as soon as it has them, so the cost depends on how far back the entries lie,
 * not on the size of the file.
 */
export async function tailLogEntries(filePath: string, options: TailOptions): Promise<TailResult> {
  const { limit, chunkSize = DEFAULT_TAIL_CHUNK_SIZE } = options;
  const wantedLevel = options.level === undefined ? undefined : normalizeLevel(options.level);
  if (!(limit > 0)) return { entries: [], total: 0, endOffset: (await statNoFollow(filePath))?.size ?? 0 };
  if (!(chunkSize > 0)) throw new RangeError(`chunkSize must be positive, got ${chunkSize}`);

  const handle = await openIfExists(filePath);
  if (!handle) return { entries: [], total: 0, endOffset: 0 };

  const newestFirst: LogEntry[] = [];
  // Lines met (backwards) below the next header up: the continuation of the entry that header starts.
  const continuationNewestFirst: string[] = [];

  /** Takes lines from the end towards the start; true once `limit` entries are collected. */
  const takeLine = (line: string): boolean => {
    const header = parseLogLine(line);
    if (!header) {
      continuationNewestFirst.push(stripCarriageReturn(line));
      return false;
    }
    const continuation = continuationNewestFirst.splice(0).reverse();
    if (wantedLevel === undefined || normalizeLevel(header.level) === wantedLevel) {
      newestFirst.push(entryOf(header, continuation));
    }
    return newestFirst.length >= limit;
  };

  let endOffset = 0;
  try {
    const { size } = await handle.stat();
    endOffset = size;
    let position = size;
    // Bytes in front of the first '\n' read so far: a line that may start further back in the file.
    let head = Buffer.alloc(0);
    let isLastLineOfFile = true;
    let done = false;

    while (position > 0 && !done) {
      const readSize = Math.min(chunkSize, position);
      position -= readSize;
      const chunk = Buffer.allocUnsafe(readSize);
      const { bytesRead } = await handle.read(chunk, 0, readSize, position);
      const window = head.length > 0 ? Buffer.concat([chunk.subarray(0, bytesRead), head]) : chunk.subarray(0, bytesRead);

      let lineEnd = window.length;
      let newline = window.lastIndexOf(NEWLINE, lineEnd - 1);
      while (newline !== -1 && !done) {
        // The file's own final '\n' terminates the last line; it does not start an empty one.
        const skip = isLastLineOfFile && newline + 1 === lineEnd;
        isLastLineOfFile = false;
        if (!skip) done = takeLine(window.toString('utf8', newline + 1, lineEnd));
        lineEnd = newline;
        newline = lineEnd > 0 ? window.lastIndexOf(NEWLINE, lineEnd - 1) : -1;
      }
      head = window.subarray(0, lineEnd);
    }
    // Reached the start of the file: what is left is its first line.
    if (!done && position === 0 && (head.length > 0 || !isLastLineOfFile)) {
      takeLine(head.toString('utf8'));
    }
    // Lines before the first header (a file that does not start with one) belong to no entry: dropped.
  } finally {
    await handle.close();
  }

  const entries = newestFirst.reverse();
  return { entries, total: entries.length, endOffset };
}

// --------------------------------------------------------------------------------------------- query

export const LOG_SORT_FIELDS = ['timestamp', 'level', 'logger', 'line_number'] as const;
export type LogSortField = (typeof LOG_SORT_FIELDS)[number];
export const LOG_SORT_ORDERS = ['asc', 'desc'] as const;
export type LogSortOrder = (typeof LOG_SORT_ORDERS)[number];

export interface LogQuery {
  page?: number;
  page_size?: number;
  /** Exact level, case-insensitive. */
  level?: string;
  /** Inclusive; `2025-06-27T14:30:00`, `2025-06-27 14:30:00` or `2025-06-27` (start of that day). */
  start_time?: string;
  /** Inclusive; as start_time, a date alone meaning the end of that day. */
  end_time?: string;
  /** Case-insensitive substring of the message. */
  keyword?: string;
  /** Case-insensitive substring of the logger name. */
  logger_name?: string;
  /** Step name (ddl_generation, ...), matched through the entry's logger or `[step]` prefix. */
  step_name?: string;
  sort_by?: LogSortField;
  sort_order?: LogSortOrder;
}

export interface LogQueryResult {
  /** The requested page. */
  entries: LogEntry[];
  /** All matching entries in the file. */
  total: number;
  page: number;
  page_size: number;
  total_pages: number;
  has_next: boolean;
  has_prev: boolean;
}

export const DEFAULT_PAGE_SIZE = 50;

/**
 * One pass over the whole file applying every filter of guide §5.2. Memory holds the entry being read
 * plus, of the matches, only those that can still land on the requested page (page × page_size of them).
 */
export async function queryLogEntries(filePath: string, query: LogQuery = {}): Promise<LogQueryResult> {
  const page = positiveInteger(query.page ?? 1, 'page');
  const pageSize = positiveInteger(query.page_size ?? DEFAULT_PAGE_SIZE, 'page_size');
  const matches = compileFilter(query);
  const selection = new BestEntries(page * pageSize, entryOrder(query.sort_by ?? 'timestamp', query.sort_order ?? 'desc'));
  let total = 0;

  let header: ParsedLogLine | undefined;
  let headerLineNumber = 0;
  let continuation: string[] = [];
  const finishEntry = () => {
    if (!header) return;
    const entry = entryOf(header, continuation, headerLineNumber);
    if (matches(entry)) {
      total += 1;
      selection.add(entry);
    }
    header = undefined;
    continuation = [];
  };

  const handle = await openIfExists(filePath);
  if (handle) {
    try {
      let lineNumber = 0;
      await forEachLine(handle, (line) => {
        lineNumber += 1;
        const parsed = parseLogLine(line);
        if (parsed) {
          finishEntry();
          header = parsed;
          headerLineNumber = lineNumber;
        } else if (header) {
          continuation.push(stripCarriageReturn(line));
        }
        // else: lines before the first header belong to no entry.
      });
      finishEntry();
    } finally {
      await handle.close();
    }
  }

  const totalPages = Math.ceil(total / pageSize);
  return {
    entries: selection.sorted().slice((page - 1) * pageSize, page * pageSize),
    total,
    page,
    page_size: pageSize,
    total_pages: totalPages,
    has_next: page < totalPages,
    has_prev: page > 1,
  };
}

function compileFilter(query: LogQuery): (entry: LogEntry) => boolean {
  const level = query.level ? normalizeLevel(query.level) : undefined;
  const start = query.start_time ? toLogTimestamp(query.start_time, 'start') : undefined;
  const end = query.end_time ? toLogTimestamp(query.end_time, 'end') : undefined;
  const keyword = query.keyword ? query.keyword.toLowerCase() : undefined;
  const loggerName = query.logger_name ? query.logger_name.toLowerCase() : undefined;
  const stepName = query.step_name || undefined;

  // Timestamps are fixed-width `YYYY-MM-DD HH:MM:SS`, so comparing the strings compares the times.
  return (entry) =>
    (level === undefined || normalizeLevel(entry.level) === level) &&
    (start === undefined || entry.timestamp >= start) &&
    (end === undefined || entry.timestamp <= end) &&
    (loggerName === undefined || entry.logger.toLowerCase().includes(loggerName)) &&
    (stepName === undefined || entry.step === stepName) &&
    (keyword === undefined || entry.message.toLowerCase().includes(keyword));
}

/** A query bound as a log timestamp (`YYYY-MM-DD HH:MM:SS`, local time, like the log; no fractions). */
export function toLogTimestamp(value: string, bound: 'start' | 'end'): string {
  const instant = parseTimeBound(value, bound);
  if (!instant) throw new LogQueryError(`${bound}_time must be a date or date-time like 2025-06-27T14:30:00, got '${value}'`);
  return localTimestamp(instant);
}

function positiveInteger(value: number, name: string): number {
  if (!Number.isInteger(value) || value < 1) throw new LogQueryError(`${name} must be a positive integer, got ${value}`);
  return value;
}

type EntryOrder = (a: LogEntry, b: LogEntry) => number;

function entryOrder(sortBy: LogSortField, sortOrder: LogSortOrder): EntryOrder {
  const byField: EntryOrder =
    sortBy === 'level'
      ? (a, b) => levelSeverity(a.level) - levelSeverity(b.level)
      : sortBy === 'logger'
        ? (a, b) => compareStrings(a.logger, b.logger)
        : sortBy === 'timestamp'
          ? (a, b) => compareStrings(a.timestamp, b.timestamp)
          : () => 0;
  // Ties go by position in the file, in the same direction: the order is total, so every page is stable.
  const ascending: EntryOrder = (a, b) => byField(a, b) || (a.line_number ?? 0) - (b.line_number ?? 0);
  return sortOrder === 'asc' ? ascending : (a, b) => ascending(b, a);
}

function compareStrings(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Keeps the first `capacity` entries of an order among all it is given, in O(capacity) memory. */
class BestEntries {
  private entries: LogEntry[] = [];

  constructor(
    private readonly capacity: number,
    private readonly order: EntryOrder,
  ) {}

  add(entry: LogEntry): void {
    this.entries.push(entry);
    // Trim only when twice over capacity: one sort per `capacity` additions keeps this O(n log capacity).
    if (this.entries.length >= 2 * this.capacity) this.trim();
  }

  sorted(): LogEntry[] {
    this.trim();
    return this.entries;
  }

  private trim(): void {
    this.entries.sort(this.order);
    if (this.entries.length > this.capacity) this.entries.length = this.capacity;
  }
}

/** Calls `onLine` for every line of the file, front to back, without its '\n'. */
async function forEachLine(handle: FileHandle, onLine: (line: string) => void): Promise<void> {
  let rest: Buffer | undefined;
  for await (const chunk of handle.createReadStream({ highWaterMark: QUERY_READ_SIZE, autoClose: false })) {
    const data: Buffer = rest ? Buffer.concat([rest, chunk as Buffer]) : (chunk as Buffer);
    let lineStart = 0;
    let newline = data.indexOf(NEWLINE, lineStart);
    while (newline !== -1) {
      onLine(data.toString('utf8', lineStart, newline));
      lineStart = newline + 1;
      newline = data.indexOf(NEWLINE, lineStart);
    }
    rest = lineStart < data.length ? data.subarray(lineStart) : undefined;
  }
  // A last line without its '\n' (a writer may be in the middle of appending it) still counts.
  if (rest) onLine(rest.toString('utf8'));
}

// ---------------------------------------------------------------------------------------------- file

export interface LogFileInfo {
  exists: boolean;
  file_path: string;
  file_size: number;
  /** Local time without milliseconds, e.g. `2025-06-27T14:45:30`; null when the file does not exist. */
  last_modified: string | null;
}

export async function logFileInfo(filePath: string): Promise<LogFileInfo> {
  try {
    const facts = await statNoFollow(filePath);
    if (!facts) return { exists: false, file_path: filePath, file_size: 0, last_modified: null };
    return { exists: true, file_path: filePath, file_size: facts.size, last_modified: localIso(facts.mtime) };
  } catch (error) {
    if (isMissingFile(error)) return { exists: false, file_path: filePath, file_size: 0, last_modified: null };
    throw error;
  }
}

// ------------------------------------------------------------------------------------------- helpers

function entryOf(header: ParsedLogLine, continuation: string[], lineNumber?: number): LogEntry {
  const { timestamp, level, logger } = header;
  const message = continuation.length > 0 ? [header.message, ...continuation].join('\n') : header.message;
  // The tail answers with the guide's §5.1 fields only; the query adds step and line_number (§5.2).
  if (lineNumber === undefined) return { timestamp, level, logger, message };
  const step = stepOfEntry({ logger, message });
  return step
    ? { timestamp, level, logger, step, message, line_number: lineNumber }
    : { timestamp, level, logger, message, line_number: lineNumber };
}

function stripCarriageReturn(line: string): string {
  return line.endsWith('\r') ? line.slice(0, -1) : line;
}

/** Never through a symbolic link, nor a FIFO or device (see files.ts). */
function openIfExists(filePath: string): Promise<FileHandle | undefined> {
  return openForReading(filePath);
}

function isMissingFile(error: unknown): boolean {
  return (error as NodeJS.ErrnoException)?.code === 'ENOENT';
}
