// One embedded PostgreSQL for the tests of a machine without a server: PGlite (with pgvector) on a data
// folder, behind a small wire-protocol server on a free loopback port. It runs in its own process so that a
// test blocked in spawnSync (the CLI tests) cannot stall the database its child uses.
//
// PGlite is a single session, so connections take turns. A turn is not one message: pg sends an extended
// query as Parse/Bind/Describe/Execute/Sync, and a transaction spans many queries, so a connection keeps
// the session from its first message until PGlite answers ReadyForQuery with status idle ('I'), i.e. it is
// neither inside a query sequence nor inside a transaction. (@electric-sql/pglite-socket 0.2 hands the
// session over between single messages, which interleaves two connections' extended queries and hung the
// HTTP suite's concurrent task creation; hence this file instead of that package.)
//
// Usage: node --import tsx test/helpers/embedded-postgres-server.ts <data-dir>; prints {"port":N} once
// listening, and closes the database cleanly on SIGTERM or when its parent goes away.
import net from 'node:net';
import { PGlite } from '@electric-sql/pglite';
import { vector } from '@electric-sql/pglite-pgvector';

const SSL_REQUEST = 80877103;
const GSSENC_REQUEST = 80877104;
const CANCEL_REQUEST = 80877102;
const READY_FOR_QUERY = 0x5a;
const IDLE = 0x49;
const TERMINATE = 0x58;

const dataDir = process.argv[2];
if (!dataDir) {
  console.error('usage: embedded-postgres-server.ts <data-dir>');
  process.exit(2);
}
const db = await PGlite.create({ dataDir, extensions: { vector } });

/** Who holds the session now; the others wait in arrival order. */
class SessionTurns {
  private owner: number | null = null;
  private readonly waiting: Array<{ id: number; go: () => void }> = [];

  async take(id: number): Promise<void> {
    if (this.owner === id) return;
    if (this.owner === null) {
      this.owner = id;
      return;
    }
    await new Promise<void>((go) => this.waiting.push({ id, go }));
  }

  give(id: number): void {
    if (this.owner !== id) return;
    const next = this.waiting.shift();
    this.owner = next?.id ?? null;
    next?.go();
  }

  forget(id: number): void {
    const at = this.waiting.findIndex((w) => w.id === id);
    if (at >= 0) this.waiting.splice(at, 1);
  }

  holds(id: number): boolean {
    return this.owner === id;
  }
}

const turns = new SessionTurns();
let nextId = 1;

function serve(socket: net.Socket): void {
  const id = nextId++;
  let buffer = Buffer.alloc(0);
  let started = false;
  let pumping = false;
  let closed = false;

  const nextMessage = (): Buffer | undefined => {
    if (!started) {
      if (buffer.length < 8) return undefined;
      const length = buffer.readInt32BE(0);
      if (buffer.length < length) return undefined;
      const message = buffer.subarray(0, length);
      buffer = buffer.subarray(length);
      return message;
    }
    if (buffer.length < 5) return undefined;
    const length = 1 + buffer.readInt32BE(1);
    if (buffer.length < length) return undefined;
    const message = buffer.subarray(0, length);
    buffer = buffer.subarray(length);
    return message;
  };

  const handle = async (message: Buffer): Promise<void> => {
    if (!started) {
      const code = message.readInt32BE(4);
      if (code === SSL_REQUEST || code === GSSENC_REQUEST) {
        socket.write('N');
        return;
      }
      if (code === CANCEL_REQUEST) {
        socket.end();
        return;
      }
      started = true;
    } else if (message[0] === TERMINATE) {
      socket.end();
      return;
    }
    await turns.take(id);
    if (closed) return release();
    let tail = Buffer.alloc(0);
    await db.execProtocolRawStream(new Uint8Array(message), {
      onRawData: (data: Uint8Array) => {
        if (!closed && socket.writable) socket.write(Buffer.from(data));
        tail = Buffer.concat([tail, Buffer.from(data)]).subarray(-6);
      },
    });
    if (tail.length === 6 && tail[0] === READY_FOR_QUERY && tail.readInt32BE(1) === 5 && tail[5] === IDLE) turns.give(id);
  };

  /** A connection gone in the middle of its turn must not leave the session in its transaction. */
  const release = async (): Promise<void> => {
    turns.forget(id);
    if (!turns.holds(id)) return;
    if (db.isInTransaction()) await db.exec('ROLLBACK').catch(() => undefined);
    turns.give(id);
  };

  const pump = async (): Promise<void> => {
    if (pumping) return;
    pumping = true;
    try {
      for (let message = nextMessage(); message && !closed; message = nextMessage()) await handle(message);
    } catch (error) {
      console.error(`embedded PostgreSQL: connection ${id}: ${(error as Error).message}`);
      socket.destroy();
    } finally {
      pumping = false;
    }
  };

  socket.on('data', (chunk: Buffer) => {
    buffer = Buffer.concat([buffer, chunk]);
    void pump();
  });
  socket.on('error', () => undefined);
  socket.on('close', () => {
    closed = true;
    void release();
  });
}

const server = net.createServer(serve);
await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
process.stdout.write(`${JSON.stringify({ port: (server.address() as net.AddressInfo).port })}\n`);

let stopping = false;
async function stop(): Promise<void> {
  if (stopping) return;
  stopping = true;
  server.close();
  await db.close().catch(() => undefined);
  process.exit(0);
}
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
process.on('disconnect', stop);
