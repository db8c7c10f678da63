// Server-Sent Events: status and progress changes and new log lines of one task, as they happen. Works
// across processes (the worker may be elsewhere): it follows the store and the task's log file.
import { openForReading, statNoFollow } from '../files.ts';
import type { FastifyPluginAsyncZod } from 'fastify-type-provider-zod';
import { z } from 'zod';
import { everyWithoutOverlap, type SerialInterval } from '../interval.ts';
import { parseLogLine } from '../logs/format.ts';
import { taskLogPath } from '../logs/task-logger.ts';
import type { TaskChangeFeed } from '../tasks/change-feed.ts';
import type { TaskService } from '../tasks/service.ts';
import { presentTaskStatus } from './presenters.ts';
import { taskIdParams } from './schemas.ts';

const POLL_MS = 500;
const KEEPALIVE_MS = 15_000;
const MAX_LOG_BYTES_PER_TICK = 256 * 1024;

let openStreams = 0;
/** Event streams this process is serving now (each holds two timers until its client goes). */
export function activeEventStreams(): number {
  return openStreams;
}

export function eventRoutes(service: TaskService, changes: TaskChangeFeed): FastifyPluginAsyncZod {
  return async (app) => {
    app.get(
      '/api/v0/data_pipeline/tasks/:task_id/events',
      {
        schema: {
          tags: ['tasks'],
          summary: '任务事件流 (SSE): status, log, end',
          params: taskIdParams,
          response: { 200: z.string().describe('text/event-stream: `status` events (the task status data), `log` events (one log entry each), then `end`') },
          querystring: z.object({
            logs: z.enum(['true', 'false']).default('true'),
            /** Where to start following the log: the `log_offset` of GET /logs (default: its current end). */
            log_offset: z.coerce.number().int().min(0).max(Number.MAX_SAFE_INTEGER).optional(),
          }),
        },
      },
      async (request, reply) => {
        const taskId = request.params.task_id;
        await service.getTask(taskId); // 404 before the stream starts
        const logFile = taskLogPath(service.taskDir(taskId));
        const logSize = (await statNoFollow(logFile))?.size ?? 0;
        // An offset past the end (the file was replaced since) starts at the end.
        let logOffset = request.query.logs === 'true' ? Math.min(request.query.log_offset ?? logSize, logSize) : -1;
        let lastStatus = '';
        let lastActive: boolean | undefined;
        let closed = false;
        let ticker: SerialInterval | undefined;

        reply.hijack();
        const res = reply.raw;
        // The client may have gone while the task and the log were read above; its 'close' has then been
        // emitted already and would never reach the listener below: nothing to follow.
        if (request.raw.socket?.destroyed || res.destroyed) {
          res.destroy();
          return;
        }
        res.writeHead(200, {
          'Content-Type': 'text/event-stream; charset=utf-8',
          'Cache-Control': 'no-cache, no-transform',
          Connection: 'keep-alive',
          'X-Accel-Buffering': 'no',
        });
        const send = (event: string, data: unknown) => closed || res.write(`event: ${event}\ndata: ${JSON.stringify(data)}\n\n`);

        // The store is read only when the change feed reports this task changed (or cannot vouch for
        // completeness); the log file is followed by its size, which is cheap.
        let statusStale = true;
        const onChange = (changed: string) => {
          if (changed === taskId) statusStale = true;
        };
        changes.on('change', onChange);
        const tick = async () => {
          if (logOffset >= 0) logOffset = await sendNewLogLines(logFile, logOffset, (entry) => send('log', entry));
          if (!statusStale && changes.reliable) return;
          statusStale = false;
          const task = await service.store.getTask(taskId);
          if (!task) {
            send('end', { task_id: taskId, reason: 'deleted' });
            return stop();
          }
          const status = presentTaskStatus(task, true);
          const serialized = JSON.stringify(status);
          if (serialized !== lastStatus) {
            lastStatus = serialized;
            send('status', status);
          }
          const active = task.status === 'in_progress';
          if (lastActive === true && !active) send('end', { task_id: taskId, status: task.status });
          lastActive = active;
        };

        const keepalive = setInterval(() => res.write(': keepalive\n\n'), KEEPALIVE_MS);
        const stop = () => {
          if (closed) return;
          closed = true;
          openStreams -= 1;
          changes.off('change', onChange);
          ticker?.stop();
          clearInterval(keepalive);
          res.end();
        };
        // Registered in the same tick as the check above: a disconnect from here on is seen.
        openStreams += 1;
        res.on('close', stop);
        // One tick at a time: two that overlap (a slow disk or store) would read the log from the same
        // offset and send its lines twice. A failed tick reads the store again on the next one.
        ticker = everyWithoutOverlap(tick, POLL_MS, () => (statusStale = true));
        if (closed) ticker.stop();
        await ticker.idle();
      },
    );
  };
}

/** Sends whole lines appended since `offset`; returns the new offset (a partial last line waits). */
async function sendNewLogLines(file: string, offset: number, emit: (entry: unknown) => void): Promise<number> {
  const handle = await openForReading(file).catch(() => undefined);
  if (!handle) return offset;
  try {
    const { size } = await handle.stat();
    if (size < offset) return size; // truncated or replaced
    if (size === offset) return offset;
    const length = Math.min(size - offset, MAX_LOG_BYTES_PER_TICK);
    const buffer = Buffer.alloc(length);
    await handle.read(buffer, 0, length, offset);
    const lastNewline = buffer.lastIndexOf(0x0a);
    if (lastNewline < 0) return offset;
    for (const line of buffer.subarray(0, lastNewline).toString('utf8').split('\n')) {
      const parsed = parseLogLine(line);
      if (parsed) emit(parsed);
      else if (line) emit({ continuation: line });
    }
    return offset + lastNewline + 1;
  } finally {
    await handle.close();
  }
}
