// Proves one SQL text against the business database without changing it:
//   1. parse gate (src/sql/analyze.ts): exactly one SELECT, no INTO, no locking, no data-modifying CTE;
//   2. function safety (src/sql/functions.ts): denied functions are refused before the database sees them;
//   3. EXPLAIN (FORMAT JSON) inside BEGIN READ ONLY with SET LOCAL statement_timeout / lock_timeout, over
//      the extended protocol (Parse/Bind: the server itself refuses a second statement), then ROLLBACK;
//   4. optional bounded execution (row check) in the same read-only transaction: the query wrapped as
//      SELECT * FROM (<query>) LIMIT n, only when every function and operator is on the allow-list and the
//      planner's cost estimate is under a bound.
// A client-side timer backs the server's statement_timeout: on real PostgreSQL, when it fires, the query
// is cancelled (CancelRequest) and the connection dropped; embedded PGlite runs queries synchronously in this thread and enforces no timeout, so
// there the elapsed time is checked afterwards (the cost bound is what keeps it short).
import pg from 'pg';
import { analyzeSql, indexToPosition, positionToIndex, tokenAt, type SqlAnalysisOk, type SqlRejectReason } from '../../sql/analyze.ts';
import { functionSafety } from '../../sql/functions.ts';
import type { LintFinding } from '../../sql/lint.ts';
import type { Database } from '../../postgres/connect.ts';
import { StepError, stepError } from '../context.ts';
import { maskSecretsInText } from '../../postgres/connection-string.ts';
import { classifySqlState, type CheckPhase, type ErrorClass } from './errors.ts';

export interface CheckerOptions {
  /** statement_timeout (and client-side limit) per query. Default 5000 ms. */
  timeoutMs?: number;
  /** Extra time the client waits beyond timeoutMs before dropping the connection. Default 2000 ms. */
  clientGraceMs?: number;
  /** lock_timeout. Default 2000 ms. */
  lockTimeoutMs?: number;
  /** Run the bounded execution (row check) when the query is safe to run. Default true. */
  executeCheck?: boolean;
  /** Rows fetched at most by the row check. Default 5. */
  rowLimit?: number;
  /** Queries whose EXPLAIN total cost exceeds this stay EXPLAIN-only. Default 1e6 on PostgreSQL (about a
   * few seconds of work), 2.5e5 on PGlite (it cannot be interrupted). */
  maxExecuteCost?: number;
}

export interface SqlCheckError {
  class: ErrorClass;
  phase: CheckPhase;
  message: string;
  sqlstate?: string;
  /** Parse-gate reason when class is parse_gate / syntax found by the parser. */
  reason?: SqlRejectReason;
  detail?: string;
  hint?: string;
  /** 1-based character position in the SQL text that was checked. */
  position?: number;
  /** The token at that position. */
  token?: string;
  /** Denied functions (class unsafe_function). */
  functions?: string[];
  /** The semantic linter's findings (class semantic): errors first. */
  findings?: LintFinding[];
}

export type RowCheckStatus = 'rows' | 'empty' | 'skipped' | 'timeout';

export interface RowCheck {
  status: RowCheckStatus;
  /** Rows fetched (≤ limit). */
  rows?: number;
  limit?: number;
  /** Why the row check did not run (status skipped). */
  reason?: string;
}

export interface OutputColumn {
  name: string;
  type_oid: number;
}

export interface SqlCheckResult {
  ok: boolean;
  sql: string;
  analysis?: SqlAnalysisOk;
  error?: SqlCheckError;
  /** EXPLAIN's estimated total cost of the plan. */
  cost?: number;
  rowCheck: RowCheck;
  /** Output columns as the database returned them (row check ran), else undefined. */
  columns?: OutputColumn[];
  timings: { parse_ms: number; explain_ms: number; execute_ms: number; total_ms: number };
}

const EXPLAIN_PREFIX = 'EXPLAIN (FORMAT JSON) ';
const ROW_CHECK_PREFIX = 'SELECT * FROM (\n';

class ClientTimeoutError extends Error {
  readonly code = '57014';
  constructor(ms: number) {
    super(`canceling statement due to client-side timeout (${ms} ms)`);
  }
}

const round = (ms: number) => Math.round(ms * 100) / 100;

export class SqlChecker {
  readonly options: Required<CheckerOptions>;

  constructor(
    private readonly db: Database,
    options: CheckerOptions = {},
  ) {
    this.options = {
      timeoutMs: options.timeoutMs ?? 5000,
      clientGraceMs: options.clientGraceMs ?? 2000,
      lockTimeoutMs: options.lockTimeoutMs ?? 2000,
      executeCheck: options.executeCheck ?? true,
      rowLimit: options.rowLimit ?? 5,
      maxExecuteCost: options.maxExecuteCost ?? (db.kind === 'pglite' ? 2.5e5 : 1e6),
    };
  }

  /** Connections the checker may use at once (PGlite: 1). */
  get poolSize(): number {
    const max = (this.db.pool as unknown as { options?: { max?: number } }).options?.max;
    return typeof max === 'number' && max > 0 ? max : 1;
  }

  async check(sql: string): Promise<SqlCheckResult> {
    const started = performance.now();
    const timings = { parse_ms: 0, explain_ms: 0, execute_ms: 0, total_ms: 0 };
    const finish = (result: Omit<SqlCheckResult, 'timings' | 'sql'>): SqlCheckResult => {
      timings.total_ms = round(performance.now() - started);
      return { sql, ...result, timings };
    };

    const analysis = await analyzeSql(sql);
    timings.parse_ms = round(performance.now() - started);
    if (!analysis.ok) {
      const isSyntax = analysis.reason === 'parse_error';
      return finish({
        ok: false,
        error: {
          class: isSyntax ? 'syntax' : 'parse_gate',
          phase: 'parse',
          reason: analysis.reason,
          message: analysis.message,
          ...(analysis.position ? { position: analysis.position, token: tokenAt(sql, analysis.position) } : {}),
        },
        rowCheck: { status: 'skipped', reason: 'not validated' },
      });
    }
    const safety = functionSafety(analysis.functions, analysis.operators);
    if (safety.denied.length) {
      return finish({
        ok: false,
        analysis,
        error: {
          class: 'unsafe_function',
          phase: 'safety',
          message: `Refused: calls ${safety.denied.join(', ')}, which ${safety.denied.length > 1 ? 'have' : 'has'} effects outside the query.`,
          functions: safety.denied,
        },
        rowCheck: { status: 'skipped', reason: 'refused' },
      });
    }

    // A lost connection or exhausted server resources say nothing about the query: try again on a fresh
    // connection (twice, after 0.2 s and 0.8 s), then fail the step.
    for (let attempt = 1; ; attempt += 1) {
      try {
        return await this.#onDatabase(sql, analysis, safety, timings, finish);
      } catch (error) {
        if (error instanceof StepError && error.code === 'DATABASE_CONNECTION_ERROR' && attempt < 3) {
          await new Promise((resolve) => setTimeout(resolve, 200 * 4 ** (attempt - 1)));
          continue;
        }
        throw error;
      }
    }
  }

  async #onDatabase(
    sql: string,
    analysis: SqlAnalysisOk,
    safety: ReturnType<typeof functionSafety>,
    timings: SqlCheckResult['timings'],
    finish: (result: Omit<SqlCheckResult, 'timings' | 'sql'>) => SqlCheckResult,
  ): Promise<SqlCheckResult> {
    const stmt = analysis.statement;
    const stmtOffset = Math.max(0, sql.indexOf(stmt));
    const mapPosition = (pgPosition: number | undefined, query: string, prefixLength: number): number | undefined => {
      if (!pgPosition) return undefined;
      const inStmt = positionToIndex(query, pgPosition) - prefixLength;
      if (inStmt < 0 || inStmt > stmt.length) return undefined;
      return indexToPosition(sql, stmtOffset + inStmt);
    };

    let client: pg.PoolClient;
    try {
      client = await this.db.pool.connect();
    } catch (error) {
      throw connectionError(error);
    }
    let destroy: Error | undefined;
    let phase: CheckPhase = 'explain';
    let cost: number | undefined;
    let rowCheck: RowCheck = { status: 'skipped' };
    let columns: OutputColumn[] | undefined;
    try {
      const { timeoutMs, lockTimeoutMs } = this.options;
      // Fixed text of ours: one round trip for the transaction setup. JIT compilation and parallel workers
      // cost more than they save for a bounded check, and checks already run side by side on the pool.
      await client.query(
        `BEGIN TRANSACTION READ ONLY; SET LOCAL statement_timeout = ${Math.max(1, Math.round(timeoutMs))}; SET LOCAL lock_timeout = ${Math.max(1, Math.round(lockTimeoutMs))}; SET LOCAL jit = off; SET LOCAL max_parallel_workers_per_gather = 0`,
      );
      const explainText = EXPLAIN_PREFIX + stmt;
      const t0 = performance.now();
      let explained: pg.QueryResult;
      try {
        explained = await this.#run(client, explainText);
      } catch (error) {
        if (error instanceof ClientTimeoutError) destroy = error;
        throw Object.assign(error as object, { __query: explainText, __prefix: EXPLAIN_PREFIX.length });
      } finally {
        timings.explain_ms = round(performance.now() - t0);
      }
      cost = planCost(explained.rows[0]);

      const skipReason = this.#skipReason(analysis, safety, cost);
      if (skipReason) {
        rowCheck = { status: 'skipped', reason: skipReason };
      } else {
        phase = 'execute';
        const execText = `${ROW_CHECK_PREFIX}${stmt}\n) AS dp_row_check LIMIT ${this.options.rowLimit}`;
        const t1 = performance.now();
        try {
          const result = await this.#run(client, execText);
          const elapsed = performance.now() - t1;
          if (this.db.kind === 'pglite' && elapsed > timeoutMs) {
            rowCheck = { status: 'timeout', limit: this.options.rowLimit, reason: `took ${Math.round(elapsed)} ms (limit ${timeoutMs} ms)` };
          } else {
            const n = result.rows.length;
            rowCheck = { status: n > 0 ? 'rows' : 'empty', rows: n, limit: this.options.rowLimit };
          }
          columns = result.fields.map((f) => ({ name: f.name, type_oid: f.dataTypeID }));
        } catch (error) {
          const code = (error as { code?: string }).code;
          if (error instanceof ClientTimeoutError) destroy = error;
          if (code === '57014' || code === '55P03') {
            // The query is proven by EXPLAIN; it only ran too long to count rows.
            rowCheck = { status: 'timeout', limit: this.options.rowLimit, reason: (error as Error).message };
          } else {
            throw Object.assign(error as object, { __query: execText, __prefix: ROW_CHECK_PREFIX.length });
          }
        } finally {
          timings.execute_ms = round(performance.now() - t1);
        }
      }
      return finish({ ok: true, analysis, cost, rowCheck, columns });
    } catch (error) {
      // The database went away (network, shutdown, too many connections): that is no verdict on the query.
      if (isConnectionFailure(error)) {
        destroy = error as Error;
        throw connectionError(error);
      }
      if (!hasSqlState(error) && !(error instanceof ClientTimeoutError)) {
        destroy = error as Error;
        throw error; // not the database's verdict: a bug or an unexpected failure, fail the step
      }
      const e = error as { code?: string; message?: string; position?: string; detail?: string; hint?: string; __query?: string; __prefix?: number };
      const message = e.message ?? String(error);
      const cls = classifySqlState(e.code, message, phase);
      const position = e.__query ? mapPosition(e.position ? Number(e.position) : undefined, e.__query, e.__prefix ?? 0) : undefined;
      return finish({
        ok: false,
        analysis,
        cost,
        error: {
          class: cls,
          phase,
          message,
          ...(e.code ? { sqlstate: e.code } : {}),
          ...(e.detail ? { detail: e.detail } : {}),
          ...(e.hint ? { hint: e.hint } : {}),
          ...(position ? { position, token: tokenAt(sql, position) } : {}),
        },
        rowCheck: phase === 'execute' ? { status: 'skipped', reason: 'execution failed' } : { status: 'skipped', reason: 'EXPLAIN failed' },
      });
    } finally {
      if (!destroy) {
        try {
          await client.query('ROLLBACK');
        } catch (error) {
          destroy = error as Error;
        }
      }
      client.release(destroy ?? undefined);
    }
  }

  #skipReason(analysis: SqlAnalysisOk, safety: ReturnType<typeof functionSafety>, cost: number | undefined): string | undefined {
    if (!this.options.executeCheck) return 'execute_check disabled';
    if (!safety.executable) {
      const parts = [
        ...(safety.unknown.length ? [`functions not on the allow-list: ${safety.unknown.join(', ')}`] : []),
        ...(safety.unknownOperators.length ? [`operators not on the allow-list: ${safety.unknownOperators.join(', ')}`] : []),
      ];
      return `EXPLAIN only (${parts.join('; ')})`;
    }
    if (cost !== undefined && cost > this.options.maxExecuteCost) {
      return `EXPLAIN only (estimated cost ${Math.round(cost)} > ${this.options.maxExecuteCost})`;
    }
    return undefined;
  }

  /** One statement over the extended protocol, with a client-side timeout on real PostgreSQL. */
  async #run(client: pg.PoolClient, text: string): Promise<pg.QueryResult> {
    const query = client.query({ text, queryMode: 'extended' } as pg.QueryConfig);
    if (this.db.kind === 'pglite') return query;
    const limit = this.options.timeoutMs + this.options.clientGraceMs;
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new ClientTimeoutError(limit)), limit);
    });
    query.catch(() => undefined); // settled later on a dropped connection
    try {
      return await Promise.race([query, timeout]);
    } catch (error) {
      // The server did not stop the query: cancel it the way psql's Ctrl-C does (a CancelRequest on a
      // separate socket); the caller then drops this connection.
      if (error instanceof ClientTimeoutError) sendCancelRequest(client);
      throw error;
    } finally {
      clearTimeout(timer);
    }
  }
}

/** Errors that say nothing about the query: no SQLSTATE (socket errors), connection exceptions (08),
 * operator intervention other than a cancel (57P01-57P05), insufficient resources (53). */
export function isConnectionFailure(error: unknown): boolean {
  if (error instanceof ClientTimeoutError) return false;
  const code = (error as { code?: unknown })?.code;
  if (hasSqlState(error)) return (code as string).startsWith('08') || (code as string).startsWith('57P') || (code as string).startsWith('53');
  if (typeof code === 'string' && /^E[A-Z]+$/.test(code)) return true; // ECONNRESET, ECONNREFUSED, ETIMEDOUT ...
  const message = error instanceof Error ? error.message : String(error);
  return /connection terminated|connection error|not queryable|timeout exceeded when trying to connect|socket/i.test(message);
}

function hasSqlState(error: unknown): boolean {
  const code = (error as { code?: unknown })?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code);
}

function connectionError(error: unknown): StepError {
  const message = maskSecretsInText(error instanceof Error ? error.message : String(error));
  return stepError('DATABASE_CONNECTION_ERROR', 'step.validation_db_error', { reason: message });
}

/** Sends the protocol's CancelRequest for the query running on `client` (fire and forget). */
function sendCancelRequest(client: pg.PoolClient): void {
  const c = client as unknown as { processID?: number; secretKey?: number; connectionParameters?: { host?: string; port?: number } };
  if (!c.processID || c.secretKey === undefined || c.secretKey === null) return;
  const host = c.connectionParameters?.host ?? 'localhost';
  const port = c.connectionParameters?.port ?? 5432;
  const Connection = (pg as unknown as { Connection: new () => PgConnection }).Connection;
  const con = new Connection();
  const stop = setTimeout(() => con.stream?.destroy(), 5000);
  stop.unref();
  con.on('error', () => undefined);
  con.on('end', () => clearTimeout(stop));
  con.on('connect', () => con.cancel(c.processID!, c.secretKey!));
  if (host.startsWith('/')) con.connect(`${host}/.s.PGSQL.${port}`);
  else con.connect(port, host);
}

interface PgConnection {
  stream?: { destroy(): void };
  on(event: string, listener: (...args: unknown[]) => void): void;
  connect(portOrPath: number | string, host?: string): void;
  cancel(processID: number, secretKey: number): void;
}

function planCost(row: Record<string, unknown> | undefined): number | undefined {
  let plan = row?.['QUERY PLAN'] as unknown;
  if (typeof plan === 'string') {
    try {
      plan = JSON.parse(plan);
    } catch {
      return undefined;
    }
  }
  const total = (plan as Array<{ Plan?: { 'Total Cost'?: number } }> | undefined)?.[0]?.Plan?.['Total Cost'];
  return typeof total === 'number' ? total : undefined;
}
