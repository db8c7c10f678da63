// Periodic work that awaits: a plain setInterval starts the next run while the previous one still waits
// (a slow disk or store under load), and two runs that read the same offset send the same lines twice.

export interface SerialInterval {
  /** No run starts after this; a run in progress finishes. */
  stop(): void;
  /** Resolves when the run in progress (if any) has finished. */
  idle(): Promise<void>;
}

/**
 * Runs `work` now (or after `everyMs` with `startNow: false`), then again `everyMs` after each run has finished, never two at once. A run that throws
 * is reported to `onError` and the next one is still scheduled.
 */
export function everyWithoutOverlap(work: () => Promise<void>, everyMs: number, onError: (error: unknown) => void, options: { unref?: boolean; startNow?: boolean } = {}): SerialInterval {
  let stopped = false;
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> = Promise.resolve();
  const schedule = () => {
    timer = setTimeout(run, everyMs);
    if (options.unref) timer.unref();
  };
  const run = () => {
    timer = undefined;
    if (stopped) return;
    running = work()
      .catch(onError)
      .finally(() => {
        if (!stopped) schedule();
      });
  };
  if (options.startNow === false) schedule();
  else run();
  return {
    stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
    },
    idle: () => running,
  };
}
