// `data-pipeline demo`: the whole pipeline on the embedded demo database (highway_db, the 7 bss_* tables),
// executed in the foreground, then a short report: tables, pairs, validity, rows loaded, where the files
// are, and a sample search as a Vanna app would run it. A step that is not available in this build is
// named as such instead of failing obscurely.
import fs from 'node:fs';
import path from 'node:path';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import { createApp } from '../app.ts';
import type { Settings } from '../config.ts';
import { t, type Lang, type MessageKey, type MessageParams } from '../messages.ts';
import { AppError } from '../errors.ts';
import { createTaskBody } from '../http/tasks.ts';
import { latestPairFile, pairFileSchema, questionSqlPairSchema, readArtifact, readSchemaFile, readValidationResult } from '../pipeline/artifacts.ts';
import { STEP_NAMES, type StepName } from '../pipeline/steps.ts';
import type { TaskWithSteps } from '../tasks/store.ts';
import { searchCollections, vectorStats } from '../vector/store.ts';
import { parseQuestionSqlDocument } from '../vector/documents.ts';
import { createProgressReporter } from './progress.ts';

export const DEMO_DB_URL = 'pglite://./data/highway_db';
export const DEMO_BUSINESS_CONTEXT = '高速公路服务区管理系统';

export interface DemoOptions {
  lang?: Lang;
  /** Only the report (no progress lines). */
  quiet?: boolean;
  /** Where report lines go (default: stdout). */
  out?: (line: string) => void;
  /** Tables (default: the 7 demo tables). */
  tables?: string[];
  /** Sample search question (default: the first validated question). */
  question?: string;
}

export interface DemoReport {
  task_id: string;
  task_dir: string;
  status: string;
  steps: Array<{ step: StepName; status: string; error_code: string | null; error: string | null }>;
  unavailable_steps: StepName[];
  tables: number | null;
  pairs: number | null;
  validation: { total: number; valid: number; repaired: number; invalid: number } | null;
  load: { added: number; unchanged: number; failed: number; by_collection: Record<string, number> } | null;
  vector_store: string | null;
  sample: { question: string; top: { question: string | null; sql: string | null; score: number } | null } | null;
}

export async function runDemo(settings: Settings, options: DemoOptions = {}): Promise<{ exitCode: number; report: DemoReport }> {
  const lang = options.lang ?? settings.lang;
  const out = options.out ?? ((line: string) => console.log(line));
  // The demo always reads the embedded demo database, whatever DATA_PIPELINE_DB_URL says.
  const demoSettings: Settings = settings.businessDbUrl.startsWith('pglite://') ? settings : { ...settings, businessDbUrl: DEMO_DB_URL };
  const reporter = createProgressReporter({ lang, quiet: Boolean(options.quiet), tty: Boolean(process.stderr.isTTY) });
  const app = await createApp(demoSettings, { observer: reporter.observer });
  try {
    const unavailable = STEP_NAMES.filter((s) => !app.registry.has(s));
    let final: TaskWithSteps;
    try {
      final = await app.runInForeground({
        // Through the API's own schema, like every other way of creating a task.
        input: createTaskBody.parse({
          business_context: DEMO_BUSINESS_CONTEXT,
          db_name: 'highway_db',
          task_name: t('demo.task_name', lang),
          created_by: 'demo',
        }),
        tables: options.tables ?? DEMO_TABLES,
        onStart: (taskId, dir) => {
          reporter.start(taskId, dir);
          if (unavailable.length && !options.quiet) out(t('demo.steps_unavailable', lang, { steps: unavailable.join(', ') }));
        },
      });
    } catch (error) {
      reporter.stop();
      if (error instanceof AppError) throw new Error(`${error.code}: ${error.details(lang)}`);
      throw error;
    }
    reporter.stop();
    const report = await buildReport(final, app.service.taskDir(final.task_id), unavailable, app, options.question);
    for (const line of renderReport(report, lang, browsableUrl(settings.host, settings.port))) out(line);
    return { exitCode: final.status === 'completed' ? 0 : 1, report };
  } finally {
    await app.close();
  }
}

async function buildReport(
  task: TaskWithSteps,
  dir: string,
  unavailable: StepName[],
  app: Awaited<ReturnType<typeof createApp>>,
  question: string | undefined,
): Promise<DemoReport> {
  const ignore = <T>(p: Promise<T>) => p.catch(() => undefined);
  const schema = await ignore(readSchemaFile(dir, 'SCHEMA_INVALID'));
  const validation = await ignore(readValidationResult(dir, 'VALIDATION_RESULT_INVALID'));
  const pairFile = await ignore(latestPairFile(dir));
  const pairs = pairFile ? await ignore(readArtifact(dir, pairFile, pairFileSchema, 'PAIR_FILE_INVALID')) : undefined;
  const validated = validation ? await ignore(readArtifact(dir, validation.validated_file, pairFileSchema, 'PAIR_FILE_INVALID')) : undefined;
  const firstQuestion = (list: unknown[] | undefined) => {
    const first = questionSqlPairSchema.safeParse(list?.[0]);
    return first.success ? first.data.question : undefined;
  };
  const loadStep = task.steps.find((s) => s.step_name === 'training_load');
  const c = loadStep?.status === 'completed' || loadStep?.status === 'failed' ? loadStep.counters : undefined;

  let vectorLabel: string | null = null;
  let sample: DemoReport['sample'] = null;
  if (c && Object.keys(c).length) {
    const db = await ignore(app.services.openVectorDatabase());
    if (db) {
      try {
        vectorLabel = db.label;
        const stats = await ignore(vectorStats(db.pool));
        const q = question ?? firstQuestion(validated ?? pairs);
        if (q && stats?.exists) {
          const embedder = await ignore(app.services.createEmbedder());
          const hits = embedder ? await ignore(embedder.embed([q]).then(([v]) => searchCollections(db.pool, v!, ['sql'], 3))) : undefined;
          const top = hits?.sql?.[0];
          sample = { question: q, top: top ? { ...parseQuestionSqlDocument(top.document), score: top.score } : null };
        }
      } finally {
        await db.close();
      }
    }
  }
  return {
    task_id: task.task_id,
    task_dir: dir,
    status: task.status,
    steps: task.steps.map((s) => ({ step: s.step_name, status: s.status, error_code: s.error_code, error: s.error_message })),
    unavailable_steps: unavailable,
    tables: schema ? schema.tables.length : null,
    pairs: pairs ? pairs.length : null,
    validation: validation ? { total: validation.total, valid: validation.valid, repaired: validation.repaired, invalid: validation.invalid } : null,
    load: c
      ? {
          added: c.rows_added ?? 0,
          unchanged: c.rows_unchanged ?? 0,
          failed: c.rows_failed ?? 0,
          by_collection: { ddl: (c.ddl_added ?? 0) + (c.ddl_unchanged ?? 0), documentation: (c.documentation_added ?? 0) + (c.documentation_unchanged ?? 0), sql: (c.sql_added ?? 0) + (c.sql_unchanged ?? 0) },
        }
      : null,
    vector_store: vectorLabel,
    sample,
  };
}

/** The URL to type for a server bound to `host`: loopback and wildcard addresses as localhost, IPv6 in brackets. */
export function browsableUrl(host: string, port: number): string {
  const local = ['127.0.0.1', '::1', '0.0.0.0', '::', 'localhost'].includes(host);
  const name = local ? 'localhost' : host.includes(':') ? `[${host}]` : host;
  return `http://${name}:${port}`;
}

export function renderReport(r: DemoReport, lang: Lang, baseUrl: string): string[] {
  const say = (key: MessageKey, params?: MessageParams) => t(key, lang, params);
  const rel = (p: string) => {
    const relative = path.relative(process.cwd(), p);
    return relative && !relative.startsWith('..') ? `./${relative}` : p;
  };
  const lines: string[] = [''];
  lines.push(say('demo.report_title', { task_id: r.task_id }));
  lines.push(`${say('demo.status')}: ${r.status}   ${r.steps.map((s) => `${s.step}=${s.status}`).join('  ')}`);
  for (const s of r.steps) {
    if (s.status !== 'failed') continue;
    if (s.error_code === 'STEP_NOT_AVAILABLE') lines.push(say('demo.step_unavailable', { step: s.step }));
    else lines.push(`  ✗ ${s.step}: [${s.error_code}] ${s.error}`);
  }
  const na = '—';
  lines.push(`${say('demo.tables')}: ${r.tables ?? na}`);
  lines.push(`${say('demo.pairs')}: ${r.pairs ?? na}`);
  const v = r.validation;
  lines.push(`${say('demo.validity')}: ${v ? say(v.repaired ? 'demo.validity_repaired' : 'demo.validity_counts', v) : na}`);
  lines.push(
    `${say('demo.rows_loaded')}: ${
      r.load
        ? `ddl ${r.load.by_collection.ddl}, documentation ${r.load.by_collection.documentation}, sql ${r.load.by_collection.sql} ` +
          say('demo.load_counts', { added: r.load.added, unchanged: r.load.unchanged, failed: r.load.failed })
        : na
    }${r.vector_store ? `  → ${r.vector_store}` : ''}`,
  );
  lines.push(`${say('demo.files')}: ${rel(r.task_dir)}${fs.existsSync(r.task_dir) ? '' : say('demo.missing')}`);
  if (r.sample) {
    lines.push(`${say('demo.sample_search')}: "${r.sample.question}"`);
    if (r.sample.top) {
      lines.push(`  #1 (score ${r.sample.top.score.toFixed(3)}) ${r.sample.top.question ?? ''}`);
      if (r.sample.top.sql) lines.push(`     ${r.sample.top.sql.replace(/\s+/g, ' ').slice(0, 200)}`);
    } else {
      lines.push(say('demo.no_results'));
    }
  }
  const search = `curl -X POST ${baseUrl}/api/v0/data_pipeline/vector/search -H "Content-Type: application/json" -d '{"question": "...", "k": 3}'`;
  lines.push(say('demo.dashboard', { url: baseUrl }));
  lines.push(say('demo.try', { command: search }));
  return lines;
}
