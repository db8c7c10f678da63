// Serialized task-status answers, kept until the task changes. GET /tasks/{id} is what every client polls;
// answering it from memory keeps polling cheap. Entries are dropped on every change the feed reports and
// after a short age (directory_exists is read from disk), and nothing is cached while the feed is unreliable.
import type { TaskChangeFeed } from '../tasks/change-feed.ts';

const MAX_AGE_MS = 1000;
const MAX_ENTRIES = 10_000;
/** The variants an answer comes in: its language. */
const VARIANTS = ['zh', 'en'] as const;

export class StatusCache {
  readonly #entries = new Map<string, { body: string; at: number }>();
  /** Per task: bumped on every change, so an answer computed across a change is not stored. */
  readonly #versions = new Map<string, number>();

  constructor(private readonly feed: TaskChangeFeed) {
    feed.on('change', (taskId) => this.invalidate(taskId));
    feed.on('reset', () => this.#entries.clear());
  }

  version(taskId: string): number {
    return this.#versions.get(taskId) ?? 0;
  }

  get(taskId: string, variant: (typeof VARIANTS)[number]): string | undefined {
    if (!this.feed.reliable) return undefined;
    const entry = this.#entries.get(`${taskId}\u0000${variant}`);
    if (!entry || Date.now() - entry.at > MAX_AGE_MS) return undefined;
    return entry.body;
  }

  set(taskId: string, variant: (typeof VARIANTS)[number], body: string, versionAtRead: number): void {
    if (!this.feed.reliable || this.version(taskId) !== versionAtRead) return;
    if (this.#entries.size >= MAX_ENTRIES) this.#entries.delete(this.#entries.keys().next().value!);
    this.#entries.set(`${taskId}\u0000${variant}`, { body, at: Date.now() });
  }

  private invalidate(taskId: string): void {
    this.#versions.set(taskId, this.version(taskId) + 1);
    if (this.#versions.size > MAX_ENTRIES) this.#versions.delete(this.#versions.keys().next().value!);
    for (const variant of VARIANTS) this.#entries.delete(`${taskId}\u0000${variant}`);
  }
}
