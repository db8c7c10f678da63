// Review before training: every question–SQL pair of a task with its validation outcome and lint
// findings, a bounded read-only preview of its result, and the curation a team does before the data goes
// into the store — edit (re-validated: parse gate, EXPLAIN, semantic linter), reject / restore, add.
// Curation is recorded in pair_review.json in the task directory (each change with when, what, before →
// after); training_load reads it: rejected pairs are not loaded and their rows leave the store.
import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { appError, taskAlreadyRunning } from '../errors.ts';
import { writeFileAtomic } from '../files.ts';
import {
  latestPairFile,
  PAIR_REVIEW_FILE,
  pairMetaFileName,
  pairMetaFileSchema,
  pairReviewFileSchema,
  readArtifact,
  readSchemaFile,
  readValidationResult,
  type PairReviewFile,
  type ReviewChange,
} from '../pipeline/artifacts.ts';
import type { Database } from '../postgres/connect.ts';
import { readOnly } from '../postgres/read-only.ts';
import type { LintFinding } from '../sql/lint.ts';
import type { TaskService } from './service.ts';

/** The SQL analyser and linter, imported by the first review that needs them: the parser's WASM is
 * instantiated when its module loads, which a server start should not pay for. */
async function sqlTools() {
  const [{ COMPLEXITY_LEVELS }, { analyzeSql }, { functionSafety }, { createReadOnlyProbe, lintPair, schemaFactsFromSchemaFile }] = await Promise.all([
    import('../pipeline/qa/sql-analysis.ts'),
    import('../sql/analyze.ts'),
    import('../sql/functions.ts'),
    import('../sql/lint.ts'),
  ]);
  return { COMPLEXITY_LEVELS, analyzeSql, functionSafety, createReadOnlyProbe, lintPair, schemaFactsFromSchemaFile };
}

export const MAX_QUESTION_CHARS = 1000;
export const MAX_SQL_CHARS = 20_000;
const PREVIEW_ROWS = 20;
const CHECK_TIMEOUT_MS = 5000;

export interface ReviewedPair {
  /** `<n>` for a generated pair (its index in the pair file), `added-<n>` for one added by hand. */
  pair_id: string;
  question: string;
  sql: string;
  original: { question: string; sql: string } | null;
  theme: string | null;
  tables: string[];
  complexity: string | null;
  /** meaning_check: the LLM's back-translation verdict (sql_validation with semantic_check), else null. */
  validation: { status: string; kept: boolean; drop_reason: string | null; lint: LintFinding[]; meaning_check: MeaningVerdict | null } | null;
  review: { rejected: boolean; edited: boolean; added: boolean; reason: string | null; history: ReviewChange[] };
}

export interface MeaningVerdict {
  verdict: string;
  back_translation: string | null;
  reason: string | null;
}

/** The meaning check as the pair meta holds it (older metas have none). */
function meaningOf(validation: object): MeaningVerdict | null {
  const m = (validation as { meaning_check?: unknown }).meaning_check;
  if (!m || typeof m !== 'object' || typeof (m as { verdict?: unknown }).verdict !== 'string') return null;
  const text = (v: unknown) => (typeof v === 'string' ? v : null);
  const o = m as Record<string, unknown>;
  return { verdict: o.verdict as string, back_translation: text(o.back_translation), reason: text(o.reason) };
}

export interface PairFilter {
  status?: string;
  finding?: string;
  table?: string;
  complexity?: string;
  q?: string;
  limit: number;
  offset: number;
}

type OpenDatabase = (url: string) => Promise<Database>;

interface Loaded {
  dir: string;
  pairFile: string;
  review: PairReviewFile;
  pairs: ReviewedPair[];
}

const now = () => new Date().toISOString();

/** What the stats read of a validation report: its funnel, stage name → pairs, in the report's order. */
const reportFunnelSchema = z.looseObject({ funnel: z.record(z.string(), z.number().int().min(0)) });

export interface PairStats {
  task_id: string;
  pair_file: string;
  /** sql_validation's funnel for this pair file, stages in the report's order; null before it ran. */
  funnel: { report_file: string; stages: Array<{ stage: string; pairs: number }> } | null;
  /** The review's counts (as in the list's `counts`); `kept` is what training_load loads. */
  counts: { total: number; kept: number; rejected: number; edited: number; added: number; with_findings: number };
  /** Pairs per complexity level (every level listed, zeros too; `null`: pairs without one: added, or SQL edited). */
  complexity: Array<{ complexity: string | null; pairs: number; kept: number }>;
  /** Pairs per table: the task's tables (schema.json) first, in their order, zeros too. */
  tables: Array<{ table: string; pairs: number; kept: number }>;
}

const isKept = (p: ReviewedPair) => !p.review.rejected && (p.validation?.kept ?? true);

function countsOf(pairs: ReviewedPair[]): PairStats['counts'] {
  return {
    total: pairs.length,
    kept: pairs.filter(isKept).length,
    rejected: pairs.filter((p) => p.review.rejected).length,
    edited: pairs.filter((p) => p.review.edited).length,
    added: pairs.filter((p) => p.review.added).length,
    with_findings: pairs.filter((p) => (p.validation?.lint ?? []).length > 0).length,
  };
}

export class PairReview {
  constructor(
    private readonly service: TaskService,
    private readonly openDatabase: OpenDatabase,
    private readonly defaultDbUrl: string,
  ) {}

  private async load(taskId: string): Promise<Loaded> {
    await this.service.getTask(taskId);
    const dir = this.service.taskDir(taskId);
    const pairFile = await latestPairFile(dir);
    if (!pairFile) throw appError('PAIRS_NOT_READY', { params: { task_id: taskId } });
    const meta = await readArtifact(dir, pairMetaFileName(pairFile), pairMetaFileSchema, 'PAIR_META_INVALID').catch(() => undefined);
    let review = await readArtifact(dir, PAIR_REVIEW_FILE, pairReviewFileSchema, 'PAIR_REVIEW_INVALID').catch(() => undefined);
    // A review of an earlier qa run (another pair file) no longer applies.
    if (!review || review.pair_file !== pairFile) review = { version: 1, pair_file: pairFile, pairs: {}, added: [] };
    const source = meta?.pairs ?? [];
    const pairs: ReviewedPair[] = source.map((p) => {
      const entry = review!.pairs[String(p.index)];
      const validation = (p as { validation?: ReviewedPair['validation'] & { final_sql?: string | null } }).validation;
      const stored = { question: p.question, sql: validation?.final_sql ?? p.sql };
      const current = entry?.edit ?? stored;
      return {
        pair_id: String(p.index),
        question: current.question,
        sql: current.sql,
        original: entry?.edit ? stored : null,
        theme: typeof p.theme === 'string' ? p.theme : null,
        tables: entry?.edit && entry.tables ? entry.tables : Array.isArray(p.tables) ? p.tables.filter((t): t is string => typeof t === 'string') : [],
        // The level was qa_generation's reading of its own SQL: an edited SQL has none (it is not re-classified here).
        complexity: typeof p.complexity === 'string' && (!entry?.edit || entry.edit.sql === stored.sql) ? p.complexity : null,
        validation: validation ? { status: validation.status, kept: validation.kept, drop_reason: validation.drop_reason ?? null, lint: validation.lint ?? [], meaning_check: meaningOf(validation) } : null,
        review: { rejected: Boolean(entry?.rejected), edited: Boolean(entry?.edit), added: false, reason: entry?.rejected?.reason ?? null, history: entry?.history ?? [] },
      };
    });
    review.added.forEach((a, i) => {
      pairs.push({
        pair_id: `added-${i + 1}`,
        question: a.question,
        sql: a.sql,
        original: null,
        theme: null,
        tables: a.tables,
        complexity: null,
        validation: { status: 'valid', kept: true, drop_reason: null, lint: a.lint as unknown as LintFinding[], meaning_check: null },
        review: { rejected: Boolean(a.rejected), edited: false, added: true, reason: a.rejected?.reason ?? null, history: a.history },
      });
    });
    return { dir, pairFile, review, pairs };
  }

  async list(taskId: string, filter: PairFilter) {
    const { pairFile, pairs } = await this.load(taskId);
    const q = filter.q?.toLowerCase();
    const matches = pairs.filter((p) => {
      if (filter.status) {
        const s = filter.status;
        const state = p.review.rejected ? 'rejected' : p.validation?.status ?? 'unvalidated';
        if (!(s === state || (s === 'edited' && p.review.edited) || (s === 'added' && p.review.added) || (s === 'kept' && isKept(p)))) return false;
      }
      if (filter.finding && !(p.validation?.lint ?? []).some((f) => filter.finding === 'any' || f.rule === filter.finding)) return false;
      if (filter.table && !p.tables.some((t) => t === filter.table || t.split('.').pop() === filter.table)) return false;
      if (filter.complexity && p.complexity !== filter.complexity) return false;
      if (q && !p.question.toLowerCase().includes(q) && !p.sql.toLowerCase().includes(q)) return false;
      return true;
    });
    return { pair_file: pairFile, counts: countsOf(pairs), total: matches.length, pairs: matches.slice(filter.offset, filter.offset + filter.limit) };
  }

  /** The numbers behind the dashboard's charts: the validation funnel, the complexity mix, coverage per table. */
  async stats(taskId: string): Promise<PairStats> {
    const { dir, pairFile, pairs } = await this.load(taskId);
    const counts = countsOf(pairs);
    const tally = <K>(keys: K[], keysOf: (p: ReviewedPair) => K[]) => {
      const rows = new Map<K, { pairs: number; kept: number }>(keys.map((k) => [k, { pairs: 0, kept: 0 }]));
      for (const p of pairs) {
        for (const k of new Set(keysOf(p))) {
          const row = rows.get(k) ?? { pairs: 0, kept: 0 };
          row.pairs += 1;
          if (isKept(p)) row.kept += 1;
          rows.set(k, row);
        }
      }
      return [...rows];
    };
    const schema = await readSchemaFile(dir, 'SCHEMA_INVALID').catch(() => undefined);
    const taskTables = schema?.tables.map((t) => t.full_name) ?? [];
    // Pairs name tables schema-qualified (public.x); a bare name of one of the task's tables is that table.
    const qualify = (name: string) => (name.includes('.') ? name : taskTables.find((t) => t.split('.').pop() === name) ?? name);
    const { COMPLEXITY_LEVELS } = await sqlTools();
    const complexity = tally<string | null>([...COMPLEXITY_LEVELS], (p) => [p.complexity]).map(([level, n]) => ({ complexity: level, ...n }));
    const tables = tally(taskTables, (p) => p.tables.map(qualify)).map(([table, n]) => ({ table, ...n }));
    return { task_id: taskId, pair_file: pairFile, funnel: await this.funnel(dir, pairFile), counts, complexity, tables };
  }

  /** The funnel of the latest validation run, if it validated this pair file (a later qa run starts anew). */
  private async funnel(dir: string, pairFile: string): Promise<PairStats['funnel']> {
    const result = await readValidationResult(dir, 'VALIDATION_RESULT_INVALID').catch(() => undefined);
    if (!result || result.pair_file !== pairFile) return null;
    const report = await readArtifact(dir, result.report_file, reportFunnelSchema, 'VALIDATION_REPORT_INVALID').catch(() => undefined);
    if (!report) return null;
    return { report_file: result.report_file, stages: Object.entries(report.funnel).map(([stage, pairs]) => ({ stage, pairs })) };
  }

  private find(loaded: Loaded, pairId: string): ReviewedPair {
    const pair = loaded.pairs.find((p) => p.pair_id === pairId);
    if (!pair) throw appError('PAIR_NOT_FOUND', { params: { pair_id: pairId } });
    return pair;
  }

  private async editable(taskId: string): Promise<void> {
    const task = await this.service.getTask(taskId);
    if (task.status === 'in_progress') throw taskAlreadyRunning(taskId);
  }

  private async save(loaded: Loaded): Promise<void> {
    await writeFileAtomic(path.join(loaded.dir, PAIR_REVIEW_FILE), `${JSON.stringify(loaded.review, null, 2)}\n`);
  }

  private async database(taskId: string): Promise<Database> {
    const task = await this.service.getTask(taskId);
    return this.openDatabase(task.db_connection ?? this.defaultDbUrl);
  }

  /**
   * The checks an edited or added pair must pass before it is saved: the parse gate (one read-only
   * statement), EXPLAIN in a READ ONLY transaction on the business database, and the semantic linter.
   * A failure is a 400 naming what is wrong (lint errors listed).
   */
  private async check(taskId: string, dir: string, question: string, sql: string): Promise<{ tables: string[]; lint: LintFinding[] }> {
    const { analyzeSql, createReadOnlyProbe, lintPair, schemaFactsFromSchemaFile } = await sqlTools();
    const analysis = await analyzeSql(sql);
    if (!analysis.ok) throw appError('PAIR_SQL_REJECTED', { params: { reason: analysis.message }, invalidParams: ['sql'] });
    const db = await this.database(taskId);
    try {
      await readOnly(db, (client) => client.query(`EXPLAIN ${analysis.statement}`), { statementTimeoutMs: CHECK_TIMEOUT_MS }).catch((error: Error & { code?: string }) => {
        throw appError('PAIR_SQL_INVALID', { params: { reason: `${error.code ? `${error.code} ` : ''}${error.message}` }, invalidParams: ['sql'] });
      });
      const schema = await readSchemaFile(dir, 'SCHEMA_INVALID').catch(() => undefined);
      const lint = schema ? await lintPair(analysis, schemaFactsFromSchemaFile(schema), { question, probe: createReadOnlyProbe(db, { timeoutMs: 2000 }) }) : [];
      const errors = lint.filter((f) => f.severity === 'error');
      if (errors.length) {
        throw appError('PAIR_LINT_ERROR', { params: { findings: errors.map((f) => `${f.rule}: ${f.message}`).join('; ') }, invalidParams: ['sql'] });
      }
      return { tables: analysis.relations.map((r) => (r.schema ? `${r.schema}.${r.name}` : `public.${r.name}`)), lint };
    } finally {
      await db.close();
    }
  }

  /** The first rows of the pair's result: read-only, bounded in rows and time. */
  async preview(taskId: string, pairId: string) {
    const loaded = await this.load(taskId);
    const pair = this.find(loaded, pairId);
    const { analyzeSql, functionSafety } = await sqlTools();
    const analysis = await analyzeSql(pair.sql);
    if (!analysis.ok) throw appError('PAIR_SQL_REJECTED', { params: { reason: analysis.message } });
    if (!functionSafety(analysis.functions, analysis.operators).executable) {
      throw appError('PAIR_NOT_PREVIEWABLE', { params: { pair_id: pairId } });
    }
    const db = await this.database(taskId);
    try {
      const { value } = await readOnly(db, (client) => client.query(`SELECT * FROM (${analysis.statement}) AS preview LIMIT ${PREVIEW_ROWS + 1}`), { statementTimeoutMs: CHECK_TIMEOUT_MS }).catch(
        (error: Error & { code?: string }) => {
          throw appError('PAIR_SQL_INVALID', { params: { reason: `${error.code ? `${error.code} ` : ''}${error.message}` } });
        },
      );
      const columns = value.fields.map((f) => f.name);
      const rows = value.rows.slice(0, PREVIEW_ROWS).map((row) => columns.map((c) => (row[c] === null || row[c] === undefined ? null : row[c] instanceof Date ? row[c].toISOString() : String(row[c]))));
      return { pair_id: pairId, sql: pair.sql, columns, rows, truncated: value.rows.length > PREVIEW_ROWS };
    } finally {
      await db.close();
    }
  }

  async edit(taskId: string, pairId: string, change: { question?: string; sql?: string }) {
    await this.editable(taskId);
    const loaded = await this.load(taskId);
    const pair = this.find(loaded, pairId);
    const after = { question: change.question ?? pair.question, sql: change.sql ?? pair.sql };
    const checked = await this.check(taskId, loaded.dir, after.question, after.sql);
    const before = { question: pair.question, sql: pair.sql };
    if (pair.review.added) {
      const added = loaded.review.added[Number(pairId.slice('added-'.length)) - 1]!;
      Object.assign(added, after, { tables: checked.tables, lint: checked.lint.map((f) => ({ ...f })) });
      added.history.push({ at: now(), action: 'edit', before, after });
    } else {
      const entry = (loaded.review.pairs[pairId] ??= { history: [] });
      entry.edit = after;
      entry.tables = checked.tables;
      entry.history.push({ at: now(), action: 'edit', before, after });
    }
    await this.save(loaded);
    return this.find(await this.load(taskId), pairId);
  }

  async setRejected(taskId: string, pairId: string, rejected: boolean, reason: string | undefined) {
    await this.editable(taskId);
    const loaded = await this.load(taskId);
    const pair = this.find(loaded, pairId);
    const change: ReviewChange = { at: now(), action: rejected ? 'reject' : 'restore', ...(reason ? { reason } : {}) };
    const target = pair.review.added ? loaded.review.added[Number(pairId.slice('added-'.length)) - 1]! : (loaded.review.pairs[pairId] ??= { history: [] });
    if (rejected) target.rejected = { at: change.at, reason: reason ?? null };
    else delete target.rejected;
    target.history.push(change);
    await this.save(loaded);
    return this.find(await this.load(taskId), pairId);
  }

  async add(taskId: string, pair: { question: string; sql: string }) {
    await this.editable(taskId);
    const loaded = await this.load(taskId);
    const checked = await this.check(taskId, loaded.dir, pair.question, pair.sql);
    loaded.review.added.push({ question: pair.question, sql: pair.sql, tables: checked.tables, lint: checked.lint.map((f) => ({ ...f })), history: [{ at: now(), action: 'add', after: pair }] });
    await this.save(loaded);
    return this.find(await this.load(taskId), `added-${loaded.review.added.length}`);
  }
}

/** Whether a file exists in the task directory (for tests and status). */
export async function hasReview(dir: string): Promise<boolean> {
  return fs.lstat(path.join(dir, PAIR_REVIEW_FILE)).then((s) => s.isFile(), () => false);
}
