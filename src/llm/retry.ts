// The retry arithmetic shared by the chat client (client.ts) and the embeddings client (embed/openai.ts):
// which HTTP statuses are worth another attempt, exponential backoff with jitter, Retry-After /
// retry-after-ms parsing and an abortable sleep. Each client keeps its own loop, error classification
// and limits.

/** HTTP statuses worth another attempt: request timeout, conflict, rate limit and server errors. */
export function isRetryableStatus(status: number): boolean {
  return status === 408 || status === 409 || status === 429 || status >= 500;
}

export interface BackoffOptions {
  /** Delay before any doubling. */
  baseMs: number;
  /** Longest delay. */
  maxMs: number;
  /** Random spread as a fraction: 0.25 gives a factor in [0.75, 1.25). */
  jitter: number;
  /** Cap the delay before applying the jitter (so it may exceed maxMs by the jitter). Default: after. */
  capBeforeJitter?: boolean;
}

/** `baseMs · 2^doublings` (negative doublings count as 0), capped at maxMs and jittered. */
export function backoffMs(doublings: number, options: BackoffOptions): number {
  const base = options.baseMs * 2 ** Math.max(0, doublings);
  const factor = 1 - options.jitter + Math.random() * (2 * options.jitter);
  return options.capBeforeJitter ? Math.min(options.maxMs, base) * factor : Math.min(options.maxMs, base * factor);
}

export interface RetryAfterOptions {
  /** `retry-after-ms: 0` is ignored (falling back to `retry-after`) instead of meaning "now". Default false. */
  ignoreZeroMs?: boolean;
  /**
   * How `retry-after` seconds are read. `strict` (default): digits with an optional fraction only.
   * `lenient`: anything Number() reads as finite, negative values as 0.
   */
  seconds?: 'strict' | 'lenient';
}

/** Retry-After as milliseconds: `retry-after-ms`, `retry-after` in seconds, or an HTTP date. */
export function retryAfterMs(
  headers: Headers | Record<string, string> | undefined | null,
  options: RetryAfterOptions = {},
): number | undefined {
  if (!headers) return undefined;
  const get = (name: string): string | null | undefined =>
    headers instanceof Headers ? headers.get(name) : (headers as Record<string, string>)[name] ?? (headers as Record<string, string>)[name.toLowerCase()];
  const ms = get('retry-after-ms');
  if (ms && Number.isFinite(Number(ms)) && (options.ignoreZeroMs ? Number(ms) > 0 : Number(ms) >= 0)) return Number(ms);
  const value = get('retry-after');
  if (!value) return undefined;
  if (options.seconds === 'lenient') {
    const seconds = Number(value);
    if (Number.isFinite(seconds)) return Math.max(0, seconds * 1000);
  } else if (/^\s*\d+(\.\d+)?\s*$/.test(value)) {
    return Number(value) * 1000;
  }
  const date = Date.parse(value);
  if (Number.isNaN(date)) return undefined;
  return Math.max(0, date - Date.now());
}

/**
 * Waits `ms` milliseconds; when `signal` aborts (or already has), rejects with `abortReason(signal)`
 * (default: the signal's reason) and clears the timer.
 */
export function abortableSleep(
  ms: number,
  signal?: AbortSignal,
  abortReason: (signal: AbortSignal) => unknown = (s) => s.reason,
): Promise<void> {
  return new Promise<void>((resolve, reject) => {
    if (signal?.aborted) return reject(abortReason(signal));
    const timer = setTimeout(() => {
      signal?.removeEventListener('abort', onAbort);
      resolve();
    }, ms);
    const onAbort = () => {
      clearTimeout(timer);
      reject(abortReason(signal!));
    };
    signal?.addEventListener('abort', onAbort, { once: true });
  });
}
