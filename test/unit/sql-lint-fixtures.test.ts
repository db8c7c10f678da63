// The semantic linter on the offline generator's output as it was before the linter (the fixtures in
// test/fixtures/offline-qa, made by its generate.ts from main at 8d5e012): it flags the classes the offline
// qa issue lists that occur there — GROUP BY a shared first name instead of the key, SUM of non-additive
// measures (stock snapshots, credit limits), aggregating a product by itself — and nothing on the pairs a
// careful reader signs. Profile only (schema.json), no data checks: the counts are exact.
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { describe, test } from 'node:test';
import { lintPair, schemaFactsFromSchemaFile, type LintFinding } from '../../src/sql/lint.ts';

const DIR = path.join(import.meta.dirname, '../fixtures/offline-qa');

async function lintFixture(name: string) {
  const facts = schemaFactsFromSchemaFile(JSON.parse(fs.readFileSync(path.join(DIR, name, 'schema.json'), 'utf8')));
  const pairs = JSON.parse(fs.readFileSync(path.join(DIR, name, 'pairs.json'), 'utf8')) as Array<{ question: string; sql: string }>;
  const perPair: LintFinding[][] = [];
  for (const p of pairs) perPair.push(await lintPair(p.sql, facts, { question: p.question, now: new Date('2026-12-01T00:00:00Z') }));
  const counts: Record<string, number> = {};
  for (const f of perPair.flat()) counts[`${f.rule}:${f.severity}`] = (counts[`${f.rule}:${f.severity}`] ?? 0) + 1;
  return { pairs, perPair, counts, withErrors: perPair.filter((f) => f.some((x) => x.severity === 'error')).length };
}

describe('semantic linter on the pre-linter offline generator output', () => {
  test('snake (shop schema): shared first names, summed stock snapshots, a product aggregated by itself', async () => {
    const { pairs, perPair, counts, withErrors } = await lintFixture('snake');
    assert.equal(pairs.length, 50);
    assert.deepEqual(counts, { 'group_by_label_without_key:error': 12, 'sum_non_additive:error': 4, 'own_grain_aggregation:error': 2 });
    assert.equal(withErrors, 17);
    const i = pairs.findIndex((p) => p.sql === 'SELECT name, ROUND(AVG(unit_price), 2) AS avg_unit_price FROM product GROUP BY name ORDER BY avg_unit_price DESC LIMIT 5;');
    assert.deepEqual(perPair[i]!.map((f) => f.rule), ['own_grain_aggregation']);
    // Grouping by state or by the category's (unique) name is fine.
    const state = pairs.findIndex((p) => /GROUP BY c\.state/.test(p.sql));
    assert.deepEqual(perPair[state], []);
  });

  test('roles (employees, tickets, audit columns): shared first names, summed credit limits', async () => {
    const { counts, withErrors } = await lintFixture('roles');
    assert.deepEqual(counts, { 'group_by_label_without_key:error': 13, 'sum_non_additive:error': 7 });
    assert.equal(withErrors, 16);
  });

  test('highway_db (demo): nothing from the profile alone (its label check needs the data: see validate-demo)', async () => {
    const { counts } = await lintFixture('highway_db');
    assert.deepEqual(counts, {});
  });
});
