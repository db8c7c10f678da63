// Benchmark: sql_validation throughput.
// Target: 1,000 pairs validate in ≤ 3 s on the local PostgreSQL with the default pool (10 connections),
// with execute_check and the semantic linter on, end to end through the step (read pair file → parse gate
// → EXPLAIN in READ ONLY tx → row check → linter → report, summary, validated file, result file). Also
// reported: the EXPLAIN-only time (execute_check=false); with --all, the same without the linter for the
// heavy and distinct-SQL workloads too; with --pglite, the generated workload on embedded PGlite
// (informational, no target). The default run stays inside bench/run.ts's 240 s watchdog.
// Two workloads on the demo database with its default 365 days of data (bss_business_day_data ~30k rows,
// bss_car_day_count ~65k rows):
//   generated — what the pipeline really validates: the offline pipeline's output (ddl_generation →
//               qa_generation without LLM), several seeds concatenated up to 1,000 pairs;
//   heavy     — the 20 hand-written demo queries (most aggregate a whole daily table: joins, window
//               functions, CTEs) in 1,000 text variants: a worst case for the row check.
// Semantic linter: the generated and heavy workloads run with the linter on (schema.json of the demo in the
// task directory, semantic_lint=true) and off, interleaved run by run; target: on ≤ 1.2 × off.
// Run: npx tsx bench/validate-throughput.ts [--pairs 1000] [--runs 3] [--all] [--pglite]   (writes bench/results/validate-throughput.json)
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { seedDemoDatabase } from '../demo/highway-db.ts';
import { connect, type Database } from '../src/postgres/connect.ts';
import { runSqlValidation } from '../src/pipeline/validate/step.ts';
import { VALIDATION_RESULT_FILE, type ValidationResultFile } from '../src/pipeline/artifacts.ts';
import type { ValidationReport } from '../src/pipeline/validate/report.ts';
import { createBenchDatabase, makeTempDir, median, printTable, round, runCleanups, startWatchdog, writeResults } from './lib/harness.ts';
import { benchPairs, validationContext, writePairFile } from '../test/fixtures/validate-pairs.ts';
import { DEMO_TABLES } from '../demo/highway-db.ts';
import { ddlGenerationStep } from '../src/pipeline/ddl/index.ts';
import { qaGenerationStep } from '../src/pipeline/qa/index.ts';
import { latestPairFile, type QuestionSqlPair } from '../src/pipeline/artifacts.ts';

const args = process.argv.slice(2);
const arg = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const PAIRS = arg('pairs', 1000);
const RUNS = arg('runs', 3);
const WITH_PGLITE = args.includes('--pglite');
const ALL_CASES = args.includes('--all');
const TARGET_MS = 3000;
const LINT_TARGET_RATIO = 1.2;

interface Measured {
  case: string;
  pairs: number;
  database: 'postgres' | 'pglite';
  execute_check: boolean;
  runs_ms: number[];
  median_ms: number;
  pairs_per_s: number;
  valid: number;
  row_checked: number;
  explain_only: number;
  median_explain_ms_per_pair: number;
  median_execute_ms_per_pair: number;
  semantic_lint: boolean;
  lint_errors: number;
  lint_warnings: number;
  lint_data_checks: number;
}

/** The offline pipeline's pairs for the demo database: schema.json once, then qa seeds 1, 2, ... until `n`
 * distinct SQL texts (or 40 seeds). Returns every pair in order (repeats included) and the distinct ones. */
async function generatedPairs(db: Database, n: number): Promise<{ all: QuestionSqlPair[]; distinct: QuestionSqlPair[]; schemaJson: string }> {
  const base = { db_name: 'highway_db', theme_count: 10, questions_per_theme: 20 };
  const ddl = makeTempDir('dp-bench-validate-ddl-');
  fs.writeFileSync(path.join(ddl.dir, 'table_list.txt'), `${DEMO_TABLES.join('\n')}\n`);
  await ddlGenerationStep.run({ ...validationContext({ dir: ddl.dir, db, parameters: base }), step: 'ddl_generation' });
  const all: QuestionSqlPair[] = [];
  const bySql = new Map<string, QuestionSqlPair>();
  for (let seed = 1; bySql.size < n && seed <= 40; seed += 1) {
    const { dir, remove } = makeTempDir('dp-bench-validate-qa-');
    fs.copyFileSync(path.join(ddl.dir, 'schema.json'), path.join(dir, 'schema.json'));
    await qaGenerationStep.run({ ...validationContext({ dir, db, parameters: { ...base, qa_seed: seed } }), step: 'qa_generation' });
    const file = (await latestPairFile(dir))!;
    for (const p of JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as QuestionSqlPair[]) {
      all.push(p);
      if (!bySql.has(p.sql.trim())) bySql.set(p.sql.trim(), p);
    }
    await remove();
  }
  const schemaJson = fs.readFileSync(path.join(ddl.dir, 'schema.json'), 'utf8');
  await ddl.remove();
  return { all: all.slice(0, n), distinct: [...bySql.values()].slice(0, n), schemaJson };
}

/** Runs the step RUNS times (after one warm-up) per variant; with several variants, interleaved run by run
 * so that drift of the machine hits them alike. `schemaJson` set: the linter runs (semantic_lint=true). */
async function measure(db: Database, label: string, executeCheck: boolean, pairs: QuestionSqlPair[], variants: Array<{ lint: boolean }> = [{ lint: false }], schemaJson?: string): Promise<Measured[]> {
  const runs: number[][] = variants.map(() => []);
  const last: Array<ValidationReport | undefined> = variants.map(() => undefined);
  for (let r = 0; r < RUNS + 1; r += 1) {
    for (const [v, variant] of variants.entries()) {
      const { dir, remove } = makeTempDir('dp-bench-validate-');
      writePairFile(dir, pairs);
      if (variant.lint) fs.writeFileSync(path.join(dir, 'schema.json'), schemaJson!);
      const ctx = validationContext({ dir, db, parameters: { modify_original_file: false, execute_check: executeCheck, semantic_lint: variant.lint } });
      const t0 = performance.now();
      await runSqlValidation(ctx);
      const ms = performance.now() - t0;
      const vr = JSON.parse(fs.readFileSync(path.join(dir, VALIDATION_RESULT_FILE), 'utf8')) as ValidationResultFile;
      const report = JSON.parse(fs.readFileSync(path.join(dir, vr.report_file), 'utf8')) as ValidationReport;
      // The linter may drop pairs (offline: no repair); nothing else may fail.
      const failed = report.pairs.filter((p) => !p.kept && p.error_class !== 'semantic' && p.error_class !== 'duplicate');
      if (failed.length > 0) throw new Error(`${label}: ${failed.length} pairs invalid, expected none`);
      last[v] = report;
      if (r > 0) runs[v]!.push(ms); // the first run warms up (WASM parser, plan caches, connections)
      await remove();
    }
  }
  return variants.map((variant, v) => {
    const report = last[v]!;
    const t = report.totals;
    const m = median(runs[v]!);
    return {
      case: `${label}${variants.length > 1 || variant.lint ? `, lint ${variant.lint ? 'on' : 'off'}` : ''}`,
      pairs: pairs.length,
      database: db.kind,
      execute_check: executeCheck,
      runs_ms: runs[v]!.map((x) => round(x, 1)),
      median_ms: round(m, 1),
      pairs_per_s: round((pairs.length / m) * 1000, 0),
      valid: t.valid + t.empty,
      row_checked: t.row_checked,
      explain_only: t.explain_only,
      // Per pair that was checked itself (a repeated SQL text shares the first one's check).
      median_explain_ms_per_pair: round(median(report.pairs.filter((p) => p.same_sql_as === null).map((p) => p.timings.explain_ms)), 3),
      median_execute_ms_per_pair: round(median(report.pairs.filter((p) => p.same_sql_as === null).map((p) => p.timings.execute_ms)), 3),
      semantic_lint: variant.lint,
      lint_errors: report.lint?.errors ?? 0,
      lint_warnings: report.lint?.warnings ?? 0,
      lint_data_checks: report.lint?.data_checks ?? 0,
    };
  });
}

const loadBefore = os.loadavg();

async function main() {
  startWatchdog(ALL_CASES || WITH_PGLITE ? 1500 : 225);
  const results: Measured[] = [];

  const heavy = benchPairs(PAIRS);
  let generated: QuestionSqlPair[] = [];
  let distinct: QuestionSqlPair[] = [];
  let schemaJson = '';
  const lintResults: Measured[] = [];
  const bench = await createBenchDatabase();
  const seedPool = new pg.Pool({ connectionString: bench.url, max: 2 });
  await seedDemoDatabase(seedPool);
  await seedPool.end();
  const db = await connect(bench.url);
  try {
    const setupStarted = performance.now();
    ({ all: generated, distinct, schemaJson } = await generatedPairs(db, PAIRS));
    console.log(`setup: ${generated.length} generated pairs in ${round((performance.now() - setupStarted) / 1000, 1)} s`);
    // The target case first: execute_check with the linter on, interleaved with the linter off.
    const both = [{ lint: false }, { lint: true }];
    lintResults.push(...(await measure(db, `postgres generated ${generated.length}, execute_check`, true, generated, both, schemaJson)));
    lintResults.push(...(await measure(db, `postgres heavy ${PAIRS}, execute_check`, true, heavy, both, schemaJson)));
    results.push(lintResults[1]!, lintResults[3]!);
    results.push(...(await measure(db, `postgres generated ${generated.length}, EXPLAIN only`, false, generated, [{ lint: true }], schemaJson)));
    if (ALL_CASES) {
      results.push(...(await measure(db, `postgres heavy ${PAIRS}, EXPLAIN only`, false, heavy)));
      results.push(...(await measure(db, `postgres generated-distinct ${distinct.length}, execute_check`, true, distinct)));
      results.push(...(await measure(db, `postgres generated-distinct ${distinct.length}, EXPLAIN only`, false, distinct)));
    }
  } finally {
    await db.close();
  }

  if (WITH_PGLITE) {
    const { dir } = makeTempDir('dp-bench-validate-pglite-');
    const lite = await connect(`pglite://${dir}`);
    try {
      await seedDemoDatabase(lite.pool);
      results.push(...(await measure(lite, `pglite generated ${PAIRS}, execute_check`, true, generated)));
      results.push(...(await measure(lite, `pglite generated ${PAIRS}, EXPLAIN only`, false, generated)));
    } finally {
      await lite.close();
    }
  }

  const [pgExec, heavyExec, pgExplain] = results as [Measured, Measured, Measured];
  const ratio = round(pgExplain.median_ms / pgExec.median_ms, 2);
  const [heavyExplain, distinctExec, distinctExplain] = ALL_CASES ? (results.slice(3, 6) as [Measured, Measured, Measured]) : [];
  const heavyRatio = heavyExplain ? round(heavyExplain.median_ms / heavyExec.median_ms, 2) : null;
  const distinctRatio = distinctExec && distinctExplain ? round(distinctExplain.median_ms / distinctExec.median_ms, 2) : null;
  const liteCases = WITH_PGLITE ? results.slice(-2) : [];
  const liteRatio = liteCases.length === 2 ? round(liteCases[1]!.median_ms / liteCases[0]!.median_ms, 2) : null;
  printTable(
    ['case', 'median ms', 'pairs/s', 'row-checked', 'EXPLAIN-only', 'explain ms/pair', 'execute ms/pair'],
    results.map((r) => [r.case, r.median_ms, r.pairs_per_s, r.row_checked, r.explain_only, r.median_explain_ms_per_pair, r.median_execute_ms_per_pair]),
  );
  console.log('');
  printTable(
    ['case (linter on vs off, interleaved)', 'median ms', 'runs ms', 'kept', 'lint errors', 'lint warnings', 'data checks'],
    lintResults.map((r) => [r.case, r.median_ms, r.runs_ms.join(' / '), r.valid, r.lint_errors, r.lint_warnings, r.lint_data_checks]),
  );
  const [genOff, genOn, heavyOff, heavyOn] = lintResults as [Measured, Measured, Measured, Measured];
  const lintRatio = round(genOn.median_ms / genOff.median_ms, 2);
  const heavyLintRatio = round(heavyOn.median_ms / heavyOff.median_ms, 2);
  const lintPass = lintRatio <= LINT_TARGET_RATIO && heavyLintRatio <= LINT_TARGET_RATIO;
  const timePass = pgExec.median_ms <= TARGET_MS;
  console.log(`\nLinter on / off (target ≤ ${LINT_TARGET_RATIO}): generated ${lintRatio} → ${lintRatio <= LINT_TARGET_RATIO ? 'PASS' : 'MISS'}; heavy ${heavyLintRatio} → ${heavyLintRatio <= LINT_TARGET_RATIO ? 'PASS' : 'MISS'}`);
  console.log(`\nTarget: ${generated.length} generated pairs (${new Set(generated.map((p) => p.sql.trim())).size} distinct SQL) ≤ ${TARGET_MS} ms on PostgreSQL, execute_check and linter on: ${pgExec.median_ms} ms → ${timePass ? 'PASS' : 'MISS'}`);
  console.log(`  (heavy worst case: ${heavyExec.median_ms} ms with execute_check and the linter${heavyExplain ? `, ${heavyExplain.median_ms} ms EXPLAIN only without it` : ''})`);
  if (distinctExec && distinctExplain) console.log(`  (generated, distinct SQL only: ${distinct.length} pairs in ${distinctExec.median_ms} ms with execute_check, ${distinctExplain.median_ms} ms EXPLAIN only)`);
  console.log(`EXPLAIN-only / execute_check time: generated ${ratio}${heavyRatio !== null ? `, heavy ${heavyRatio}` : ''}${distinctRatio !== null ? `, generated-distinct ${distinctRatio}` : ''}${liteRatio !== null ? `, PGlite generated ${liteRatio}` : ''}`);
  console.log(`CPU cores: ${os.cpus().length}, load average before: ${loadBefore.map((l) => l.toFixed(2)).join(' ')}, after: ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`);
  console.log(timePass && lintPass ? 'PASS' : 'MISS');
  const file = writeResults('validate-throughput', {
    benchmark: 'validate-throughput',
    date: new Date().toISOString(),
    node: process.version,
    pairs: PAIRS,
    runs: RUNS,
    target_ms: TARGET_MS,
    pass: timePass && lintPass,
    time_pass: timePass,
    median_ms_execute_check_lint_on: pgExec.median_ms,
    worst_ratio: round(Math.max(pgExec.median_ms / TARGET_MS, lintRatio / LINT_TARGET_RATIO, heavyLintRatio / LINT_TARGET_RATIO), 3),
    target_ratio: 1,
    cpu_cores: os.cpus().length,
    load_average_before: loadBefore,
    explain_only_to_execute_check_ratio: ratio,
    heavy_explain_only_to_execute_check_ratio: heavyRatio,
    generated_distinct_explain_only_to_execute_check_ratio: distinctRatio,
    generated_distinct_sql: new Set(generated.map((p) => p.sql.trim())).size,
    pglite_explain_only_to_execute_check_ratio: liteRatio,
    lint_target_ratio: LINT_TARGET_RATIO,
    lint_on_to_off_ratio_generated: lintRatio,
    lint_on_to_off_ratio_heavy: heavyLintRatio,
    lint_pass: lintPass,
    cases: results,
    lint_cases: lintResults,
  });
  console.log(`results: ${file}`);
  return timePass && lintPass;
}

main()
  .then((pass) => {
    process.exitCode = pass ? 0 : 1;
  })
  .catch((error) => {
    console.error(error);
    process.exitCode = 2;
  })
  .finally(runCleanups);
