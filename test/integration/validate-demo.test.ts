// Acceptance: on the demo database, the output of the offline pipeline (ddl_generation → qa_generation's
// offline generator, no LLM) runs at 100% — every pair passes the parse gate and EXPLAIN, none needs a
// repair — and training_load's input (sql_validation_result.json → validated file) holds all of them except
// those the semantic linter drops (offline: no repair), each with its reason.
import { after, before, describe, it } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createDemoDatabase } from '../helpers/demo.ts';
import type { TestDatabase } from '../helpers/postgres.ts';
import { connect, type Database } from '../../src/postgres/connect.ts';
import { DEMO_TABLES } from '../../demo/highway-db.ts';
import { ddlGenerationStep } from '../../src/pipeline/ddl/index.ts';
import { qaGenerationStep } from '../../src/pipeline/qa/index.ts';
import { sqlValidationStep } from '../../src/pipeline/validate/index.ts';
import { latestPairFile, VALIDATION_RESULT_FILE, type ValidationResultFile } from '../../src/pipeline/artifacts.ts';
import type { ValidationReport } from '../../src/pipeline/validate/report.ts';
import { validationContext } from '../fixtures/validate-pairs.ts';

let demo: TestDatabase;
let db: Database;
const dirs: string[] = [];

before(async () => {
  demo = await createDemoDatabase({ days: 60 });
  db = await connect(demo.url);
});
after(async () => {
  await db?.close();
  await demo?.drop();
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe('offline pipeline output on the demo database', () => {
  for (const [label, parameters] of [
    ['default size (scaled to the schema: ≈ 2.5 pairs per table)', {}],
    ['a size given (6 themes × 6, other seed)', { theme_count: 6, questions_per_theme: 6, qa_seed: 7 }],
  ] as const) {
    it(`validates at 100%: ${label}`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-validate-demo-'));
      dirs.push(dir);
      fs.writeFileSync(path.join(dir, 'table_list.txt'), `${DEMO_TABLES.join('\n')}\n`);
      const params = { db_name: 'highway_db', business_context: '高速公路服务区管理系统', ...parameters };
      await ddlGenerationStep.run({ ...validationContext({ dir, db, parameters: params }), step: 'ddl_generation' });
      await qaGenerationStep.run({ ...validationContext({ dir, db, parameters: params }), step: 'qa_generation' });
      const pairFile = (await latestPairFile(dir))!;
      const generated = JSON.parse(fs.readFileSync(path.join(dir, pairFile), 'utf8')) as Array<{ question: string; sql: string }>;
      assert.ok(generated.length >= ('theme_count' in parameters ? 36 : 16), `the generator produced ${generated.length} pairs`);

      const ctx = validationContext({ dir, db, parameters: { ...params, modify_original_file: false } });
      await sqlValidationStep.run(ctx);
      const vr = JSON.parse(fs.readFileSync(path.join(dir, VALIDATION_RESULT_FILE), 'utf8')) as ValidationResultFile;
      const report = JSON.parse(fs.readFileSync(path.join(dir, vr.report_file), 'utf8')) as ValidationReport;
      const failures = report.pairs
        .filter((p) => (p.status === 'invalid' && p.error_class !== 'semantic') || p.status === 'repaired')
        .map((p) => `${p.status} [${p.error_class}] ${p.error?.message}\n  ${p.original_sql}`);
      assert.deepEqual(failures, [], 'every generated pair runs as generated');
      const linted = report.pairs.filter((p) => p.error_class === 'semantic');
      // The generator runs the same linter on its candidates: nothing it writes has a lint error.
      assert.deepEqual(linted.map((p) => `${p.drop_reason}: ${p.original_sql}`), []);
      for (const p of linted) {
        assert.match(p.drop_reason ?? '', /^lint: [a-z_]+/, JSON.stringify(p));
        assert.ok(p.lint?.some((f) => f.severity === 'error'));
      }
      assert.equal(report.funnel.explain_valid, generated.length);
      assert.equal(report.funnel.lint_clean, generated.length - linted.length);
      assert.equal(vr.total, generated.length);
      assert.equal(vr.valid + vr.empty, generated.length - linted.length);
      const validated = JSON.parse(fs.readFileSync(path.join(dir, vr.validated_file), 'utf8')) as Array<{ question: string; sql: string }>;
      assert.deepEqual(validated.map((p) => p.question), report.pairs.filter((p) => p.kept).map((p) => p.question));
      assert.deepEqual(report.pairs.filter((p) => p.kept).map((p) => p.question), generated.filter((_, i) => !linted.some((p) => p.index === i)).map((p) => p.question));
      // The row check ran on (nearly) all of them: the generator uses allow-listed functions only.
      assert.ok(report.totals.row_checked >= generated.length * 0.9, `row-checked ${report.totals.row_checked}/${generated.length}; EXPLAIN-only: ${report.pairs.filter((p) => p.explain_only_reason).map((p) => p.explain_only_reason).join('; ')}`);
    });
  }
});
