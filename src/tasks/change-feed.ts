// Tells this process which tasks changed, whichever process changed them: the store's triggers NOTIFY on
// every task or step write, and a dedicated LISTEN connection relays them. For the embedded store (one
// process by construction) the store's own writes are relayed in-process. While the feed cannot vouch
// for completeness (LISTEN connection lost), `reliable` is false and caches must not be trusted.
import { EventEmitter } from 'node:events';
import pg from 'pg';
import type { Database } from '../postgres/connect.ts';
import { TASK_CHANGE_CHANNEL, TASK_COUNTS_CHANNEL } from './migrations.ts';

const RECONNECT_MS = 1000;

export class TaskChangeFeed extends EventEmitter<{ change: [taskId: string]; counts: []; reset: [] }> {
  #reliable: boolean;
  #client: pg.Client | undefined;
  #closed = false;
  #timer: NodeJS.Timeout | undefined;
  #missedWhileAway = false;

  private constructor(private readonly db: Database) {
    super();
    this.setMaxListeners(100);
    this.#reliable = db.kind === 'pglite';
  }

  static async start(db: Database): Promise<TaskChangeFeed> {
    const feed = new TaskChangeFeed(db);
    if (db.kind === 'postgres') await feed.listen();
    return feed;
  }

  get reliable(): boolean {
    return this.#reliable;
  }

  /** In-process writes (the only ones for the embedded store). */
  changed(taskId: string): void {
    this.emit('change', taskId);
  }

  /** In-process writes that can change list totals (insert, delete, status). */
  countsChanged(): void {
    this.emit('counts');
  }

  private async listen(): Promise<void> {
    const client = new pg.Client((this.db.pool as unknown as { options: pg.ClientConfig }).options);
    client.on('notification', (message) => {
      if (message.channel === TASK_CHANGE_CHANNEL && message.payload) this.emit('change', message.payload);
      else if (message.channel === TASK_COUNTS_CHANNEL) this.emit('counts');
    });
    client.on('error', () => this.lost(client));
    client.on('end', () => this.lost(client));
    try {
      await client.connect();
      await client.query(`LISTEN ${TASK_CHANGE_CHANNEL}; LISTEN ${TASK_COUNTS_CHANNEL}`);
      this.#client = client;
      this.#reliable = true;
      if (this.#missedWhileAway) {
        this.#missedWhileAway = false;
        this.emit('reset');
      }
    } catch {
      this.lost(client);
    }
  }

  private lost(client: pg.Client): void {
    if (this.#client && this.#client !== client) return;
    this.#client = undefined;
    client.end().catch(() => undefined);
    if (this.#reliable) {
      this.#reliable = false;
      this.emit('reset');
    }
    // Writes may be missed while disconnected: everything cached is suspect once we are back.
    this.#missedWhileAway = true;
    if (this.#closed || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (!this.#closed) this.listen().catch(() => undefined);
    }, RECONNECT_MS);
    this.#timer.unref();
  }

  async close(): Promise<void> {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    const client = this.#client;
    this.#client = undefined;
    this.#reliable = false;
    await client?.end().catch(() => undefined);
  }
}
