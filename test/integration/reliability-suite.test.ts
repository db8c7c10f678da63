// The reliability suite, reduced (the full one: npm run test:reliability). Real server process, real
// PostgreSQL; every section must pass, and the report carries its figures.
import assert from 'node:assert/strict';
import { it } from 'node:test';
import { renderReport, runReliabilitySuite } from '../reliability/suite.ts';

it('reliability suite (reduced): fuzz, traversal, secrets, concurrency, chaos, hostile input', { timeout: 600_000 }, async () => {
  const report = await runReliabilitySuite('reduced');
  const text = renderReport(report);
  console.log(text.split('\n').map((l) => `# ${l}`).join('\n'));
  assert.deepEqual(report.sections.map((s) => s.name), ['fuzz', 'traversal', 'secrets', 'concurrency', 'chaos', 'hostile business input']);
  for (const s of report.sections) assert.ok(s.passed, `${s.name}: ${s.problems.join('; ')}`);
  const fuzz = report.sections.find((s) => s.name === 'fuzz')!;
  assert.ok(Number(fuzz.figures.requests) > 1000, 'the fuzz sent requests to every route');
});
