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
const FIRST_RANGE_PAGES = 4;
/** Upper bound of a range: 64 heap pages (512 KB) of rows with wide, TOASTed vectors expand to ~30 MB of CSV at most. */
const MAX_RANGE_PAGES = 64;

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
  // The row count arrives with CommandComplete, which may follow the stream's end: wait for ReadyForQuery,
  // or for the error that ends the query instead (a connection lost after CopyDone, say).
  let settle!: () => void;
  let fail!: (error: unknown) => void;
  const settled = new Promise<void>((resolve, reject) => {
    settle = resolve;
    fail = reject;
  });
  settled.catch(() => undefined); // observed by the await below; an error during the loop is thrown there first
  stream.handleReadyForQuery = () => settle();
  stream.on('error', (error) => fail(error));
  client.query(stream);
  for await (const chunk of stream as AsyncIterable<Buffer>) {
    try {
      await sink(chunk);
    } catch (error) {
      // A COPY abandoned mid-stream leaves the connection unusable, and reading the rest of a large table
      // first could take minutes: end the connection instead. The server rolls the transaction back; the
      // caller's ROLLBACK then fails harmlessly and the pool drops the client on release.
      await (client as pg.PoolClient & { end(): Promise<void> }).end().catch(() => undefined);
      throw error;
    }
  }
  await settled;
  return stream.rowCount;
}

type Engine = NonNullable<ReturnType<typeof embeddedEngine>>;

async function copyInRanges(engine: Engine, client: pg.PoolClient, source: CsvCopySource, sink: CsvSink): Promise<number> {
  const size = await client.query<{ pages: string }>(
    `SELECT pg_relation_size($1::regclass) / current_setting('block_size')::bigint AS pages`,
    [quoteIdent(source.table)],
  );
  const pages = Number(size.rows[0]!.pages);
  // PGlite (0.5.14) keeps what a failed COPY wrote to /dev/blob and puts it in front of the next blob:
  // drop any such leftovers before the first range, and after a range that fails.
  await engine._getWrittenBlob();
  // A blob holds one piece per row: grouped into a reused buffer, a 64 KB blob is one write, not hundreds.
  const grouped = new Uint8Array(BLOB_TARGET_BYTES);
  let rows = 0;
  let start = 0;
  let span = FIRST_RANGE_PAGES;
  for (let first = true; ; first = false) {
    const last = start + span >= pages;
    const where = ` WHERE ctid >= '(${start},0)'::tid` + (last ? '' : ` AND ctid < '(${start + span},0)'::tid`);
    let result;
    try {
      result = await engine.query(`COPY (${selectSql(source, where)}) TO '/dev/blob' WITH (FORMAT csv${first ? ', HEADER' : ''})`);
    } catch (error) {
      await engine._getWrittenBlob().catch(() => undefined);
      throw error;
    }
    rows += result.affectedRows ?? 0;
    const bytes = result.blob ? await writeGrouped(result.blob, grouped, sink) : 0;
    if (last) break;
    start += span;
    span = nextSpan(span, bytes);
  }
  return rows;
}

/**
 * Pages in the next range: sized from the density of the range just read (not a running average, which a
 * stretch of dead or empty pages would drag down), growing at most 2× per range and never past
 * MAX_RANGE_PAGES, so that one dense stretch after a sparse one cannot land in a single huge blob.
 */
export function nextSpan(span: number, bytes: number): number {
  const limit = Math.min(span * 2, MAX_RANGE_PAGES);
  if (bytes <= 0) return limit;
  return Math.max(1, Math.min(limit, Math.floor(BLOB_TARGET_BYTES / (bytes / span))));
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
