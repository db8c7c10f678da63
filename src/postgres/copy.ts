// COPY … TO as CSV: how rows leave a database in bulk (vector backups). PostgreSQL writes the CSV itself,
// so no row ever becomes a JS object and memory stays flat whatever the table size.
// - Real PostgreSQL: one `COPY … TO STDOUT` through pg-copy-streams, read with backpressure.
// - Embedded PGlite: pg-copy-streams cannot work in-process, so `COPY … TO '/dev/blob'` through PGlite's own
//   query API (PGlite has one session, so this runs inside the caller's transaction and snapshot), one
//   range of heap pages at a time (a TID range scan) so that each blob stays small. The last range is
//   open-ended: no row can fall between the page count read at the start and the end of the table.
import type pg from 'pg';
import { to as copyTo, type CopyToStreamQuery } from 'pg-copy-streams';
import { embeddedEngine } from './connect.ts';
import { quoteIdent } from './identifiers.ts';

export interface CsvCopySource {
  /** Table name (unqualified, resolved through search_path). */
  table: string;
  /** The SELECT list, e.g. `id, embedding::text`; it names the CSV header. */
  selectList: string;
}

/**
 * Receives the CSV bytes in order; a rejection stops the copy and is re-thrown. The chunk may be a view of a
 * reused buffer: it is valid until the returned promise settles.
 */
export type CsvSink = (chunk: Uint8Array) => Promise<void>;

/**
 * Target size of one PGlite blob; ranges adapt to the bytes per page seen so far. Each blob leaves dead
 * buffers behind (PGlite keeps one piece per row until the COPY ends, then copies them into the blob), which
 * V8 frees only when its external-memory limit is reached; small blobs die young instead. Measured with
 * 100,000 rows in a fresh process: 64 KB → RSS growth 35-62 MB, 256 KB → 60-92 MB, 4 MB → ~230 MB
 * (bench/vector-backup.ts).
 */
const BLOB_TARGET_BYTES = 64 * 1024;
const FIRST_RANGE_PAGES = 16;

/**
 * Streams `SELECT <selectList> FROM <table>` (physical order) as PostgreSQL CSV with a header row to `sink`,
 * on `client` and inside its current transaction. Returns the number of rows copied.
 */
export async function copyTableToCsv(pool: pg.Pool, client: pg.PoolClient, source: CsvCopySource, sink: CsvSink): Promise<number> {
  const engine = embeddedEngine(pool);
  return engine ? copyInRanges(engine, client, source, sink) : copyStreamed(client, source, sink);
}

const selectSql = (source: CsvCopySource, where = '') => `SELECT ${source.selectList} FROM ${quoteIdent(source.table)}${where}`;

async function copyStreamed(client: pg.PoolClient, source: CsvCopySource, sink: CsvSink): Promise<number> {
  const stream: CopyToStreamQuery & { handleReadyForQuery?: () => void } = copyTo(`COPY (${selectSql(source)}) TO STDOUT WITH (FORMAT csv, HEADER)`);
  // The row count arrives with CommandComplete, which may follow the stream's end: wait for ReadyForQuery.
  const settled = new Promise<void>((resolve) => {
    stream.handleReadyForQuery = () => resolve();
  });
  client.query(stream);
  let failure: unknown;
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    if (failure !== undefined) continue;
    // A failing sink does not abandon the COPY mid-stream (the connection could not run ROLLBACK after that):
    // the rest is read and dropped, then the failure is reported.
    await sink(chunk).catch((error: unknown) => (failure = error ?? new Error('CSV sink failed')));
  }
  await settled;
  if (failure !== undefined) throw failure;
  return stream.rowCount;
}

type Engine = NonNullable<ReturnType<typeof embeddedEngine>>;

async function copyInRanges(engine: Engine, client: pg.PoolClient, source: CsvCopySource, sink: CsvSink): Promise<number> {
  const size = await client.query<{ pages: string }>(
    `SELECT pg_relation_size($1::regclass) / current_setting('block_size')::bigint AS pages`,
    [quoteIdent(source.table)],
  );
  const pages = Number(size.rows[0]!.pages);
  // A blob holds one piece per row: grouped into a reused buffer, a 256 KB blob is one write, not hundreds.
  const grouped = new Uint8Array(BLOB_TARGET_BYTES);
  let rows = 0;
  let bytes = 0;
  let start = 0;
  let span = FIRST_RANGE_PAGES;
  for (let first = true; ; first = false) {
    const last = start + span >= pages;
    const where = ` WHERE ctid >= '(${start},0)'::tid` + (last ? '' : ` AND ctid < '(${start + span},0)'::tid`);
    const result = await engine.query(`COPY (${selectSql(source, where)}) TO '/dev/blob' WITH (FORMAT csv${first ? ', HEADER' : ''})`);
    rows += result.affectedRows ?? 0;
    if (result.blob) bytes += await writeGrouped(result.blob, grouped, sink);
    start += span;
    const seenPages = Math.min(start, pages);
    if (seenPages > 0 && bytes > 0) span = Math.max(1, Math.floor(BLOB_TARGET_BYTES / (bytes / seenPages)));
    if (last) break;
  }
  return rows;
}

/** Passes the blob's pieces to `sink` in writes of up to `buffer.byteLength` bytes; returns the blob's size. */
async function writeGrouped(blob: Blob, buffer: Uint8Array, sink: CsvSink): Promise<number> {
  let used = 0;
  let total = 0;
  for await (const piece of blob.stream() as unknown as AsyncIterable<Uint8Array>) {
    total += piece.byteLength;
    if (used > 0 && used + piece.byteLength > buffer.byteLength) {
      await sink(buffer.subarray(0, used));
      used = 0;
    }
    if (piece.byteLength >= buffer.byteLength) {
      await sink(piece);
    } else {
      buffer.set(piece, used);
      used += piece.byteLength;
    }
  }
  if (used > 0) await sink(buffer.subarray(0, used));
  return total;
}
