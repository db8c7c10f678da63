// The one parameter schema (src/pipeline/parameters.ts and the steps' slices) at every edge: the create
// route refuses every invalid form of every step parameter naming it, the CLI refuses the same, a stored
// value that no longer parses fails the run naming it, and a corrupt contract file fails the step that
// reads it with a clear code and the file name. Real server, real PostgreSQL store, real steps.
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { readArtifact, readSchemaFile, schemaFileSchema, SCHEMA_FILE, VALIDATION_RESULT_FILE } from '../../src/pipeline/artifacts.ts';
import { collectInputs } from '../../src/pipeline/load/inputs.ts';
import { overlappingParameterNames, parseStepParameters, STEP_PARAMETER_NAMES } from '../../src/pipeline/parameters.ts';
import { createTestDatabase, type TestDatabase } from '../helpers/postgres.ts';
import { call, makeTempDir, startTestServer, testEnv, waitForStatus, type TestServer } from '../helpers/server.ts';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../..');

/** Every step parameter and the invalid forms it must refuse. A new parameter without a row fails the first test. */
const INVALID: Record<string, unknown[]> = {
  language: ['fr', 'ZH', '', 1, true, null],
  continue_on_error: ['true', 1, 'yes', null],
  enum_threshold: [0, 1001, 2.5, '20', -1, null],
  business_glossary: [42, true, ['a'], { term: 5 }, 'x'.repeat(100_001), null],
  theme_count: [0, 51, 1.5, '5', null],
  questions_per_theme: [0, 101, 2.5, 'ten', null],
  qa_seed: [-1, 2_147_483_648, 0.5, '42', null],
  qa_execution_check: ['false', 0, 'off', null],
  execute_check: ['yes', 'on', 1, null],
  semantic_lint: ['true', 'on', 1, null],
  semantic_check: ['true', 'on', 1, null],
  use_llm_cache: ['false', 0, 'no', null],
  allow_offline_fallback: ['true', 1, 'yes', null],
  max_repair_attempts: [-1, 11, 1.5, '3', null],
  sql_timeout_ms: [99, 600_001, 150.5, '5000', null],
  row_check_limit: [0, 1001, 2.5, '5', null],
  validation_concurrency: [0, 65, 1.5, '4', null],
  max_execute_cost: [-0.5, '100', true, null],
  include_system_schemas: ['true', 1, 'yes', null],
  relationships: [
    'orders.customer_id',
    [{ from: 'orders', to: 'customer.customer_id' }],
    [{ from: 'orders.customer_id' }],
    [{ from: 'orders.customer_id', to: 'customer.customer_id', enabled: 'no' }],
    [{ from: 'orders.customer_id', to: 'customer.customer_id', extra: 1 }],
    [{ from: 'a.b.c.d', to: 'customer.customer_id' }],
    null,
  ],
};

/** One valid, non-default value per parameter: accepted and stored as given. */
const VALID: Record<string, unknown> = {
  language: 'en',
  continue_on_error: true,
  enum_threshold: 7,
  business_glossary: { fee: '费用' },
  theme_count: 2,
  questions_per_theme: 3,
  qa_seed: 7,
  qa_execution_check: false,
  execute_check: false,
  semantic_lint: false,
  semantic_check: false,
  use_llm_cache: false,
  allow_offline_fallback: true,
  max_repair_attempts: 0,
  sql_timeout_ms: 1000,
  row_check_limit: 2,
  validation_concurrency: 2,
  max_execute_cost: 1e6,
  relationships: [{ from: 'orders.customer_id', to: 'customer.customer_id' }, { from: 'payment.customer_id', to: 'orders.customer_id', enabled: false }],
  include_system_schemas: true,
};

describe('task parameters: one schema at every edge', () => {
  let db: TestDatabase;
  let server: TestServer;
  let api: string;

  before(async () => {
    db = await createTestDatabase();
    server = await startTestServer({ storeUrl: db.url });
    api = server.api;
  });

  after(async () => {
    await server?.close();
    await db?.drop();
    if (server) fs.rmSync(server.dir, { recursive: true, force: true });
  });

  it('the slices declare disjoint names, and this test covers every one', () => {
    assert.deepEqual(overlappingParameterNames(), []);
    assert.deepEqual(Object.keys(INVALID).sort(), [...STEP_PARAMETER_NAMES].sort());
    assert.deepEqual(Object.keys(VALID).sort(), [...STEP_PARAMETER_NAMES].sort());
  });

  it('create refuses every invalid form of every step parameter: 400 VALIDATION_ERROR naming it, no task created', async () => {
    const before = (await call(`${api}/tasks?limit=1`)).body.data.total;
    for (const [param, values] of Object.entries(INVALID)) {
      for (const value of values) {
        const res = await call(`${api}/tasks`, { method: 'POST', json: { [param]: value } });
        const shown = `${param}=${JSON.stringify(value)?.slice(0, 40)}`;
        assert.equal(res.status, 400, `${shown}: ${res.text}`);
        assert.equal(res.body.error.code, 'VALIDATION_ERROR', shown);
        // Nested parameters name the field inside them (relationships.0.from); the parameter leads.
        const named = [...(res.body.error.invalid_params ?? []), ...(res.body.error.missing_params ?? [])] as string[];
        assert.deepEqual([...new Set(named.map((p) => p.split('.')[0]))], [param], `${shown}: ${res.text}`);
        assert.ok(res.body.error.details.includes(param), `${shown}: details ${res.body.error.details}`);
        // The same value, stored by any other way, fails the step parse the runner does.
        assert.throws(() => parseStepParameters({ [param]: value }), (e: any) => e.code === 'INVALID_PARAMETER' && e.message.includes(param), shown);
      }
    }
    assert.equal((await call(`${api}/tasks?limit=1`)).body.data.total, before, 'a refused creation creates no task');
  });

  it('create accepts each valid value and stores what was given, not the defaults', async () => {
    const given = await call(`${api}/tasks`, { method: 'POST', json: VALID });
    assert.equal(given.status, 201, given.text);
    const status = (await call(`${api}/tasks/${given.body.data.task_id}`)).body.data;
    for (const [param, value] of Object.entries(VALID)) assert.deepEqual(status.parameters[param], value, param);

    const bare = await call(`${api}/tasks`, { method: 'POST', json: {} });
    const parameters = (await call(`${api}/tasks/${bare.body.data.task_id}`)).body.data.parameters;
    for (const param of STEP_PARAMETER_NAMES) assert.equal(parameters[param], undefined, `${param} is not stored when not given`);
  });

  it('OpenAPI documents every step parameter of the create body, with its default', async () => {
    const doc = (await call(`${server.baseUrl}/api/docs/json`)).body;
    const body = doc.paths['/api/v0/data_pipeline/tasks'].post.requestBody.content['application/json'].schema;
    for (const param of STEP_PARAMETER_NAMES) assert.ok(body.properties[param], `${param} documented`);
    assert.equal(body.properties.enum_threshold.default, 20);
    assert.equal(body.properties.enum_threshold.maximum, 1000);
    assert.equal(body.properties.theme_count.default, 5);
    assert.equal(body.properties.qa_seed.default, 42);
    assert.equal(body.properties.language.default, 'zh');
    assert.equal(body.additionalProperties, false);
  });

  it('the old aliases are unknown parameters', async () => {
    for (const alias of ['seed', 'glossary']) {
      const res = await call(`${api}/tasks`, { method: 'POST', json: { [alias]: alias === 'seed' ? 3 : { a: 'b' } } });
      assert.equal(res.status, 400);
      assert.deepEqual(res.body.error.invalid_params, [alias]);
    }
  });

  it('a stored value that no longer parses fails the run at its first step, naming the parameter', async () => {
    const created = await call(`${api}/tasks`, { method: 'POST', json: { theme_count: 3 } });
    const taskId = created.body.data.task_id;
    // As if written by an older version or by hand: the runner parses the store, it does not trust it.
    const client = new pg.Client({ connectionString: db.url });
    await client.connect();
    try {
      await client.query(`UPDATE data_pipeline.tasks SET parameters = parameters || '{"theme_count": 0}'::jsonb WHERE task_id = $1`, [taskId]);
    } finally {
      await client.end();
    }
    const res = await call(`${api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: 'qa_generation' } });
    assert.equal(res.status, 202, res.text);
    const final = await waitForStatus(api, taskId, ['failed', 'completed', 'partial_completed']);
    assert.equal(final.status, 'failed');
    const step = final.steps.find((s: any) => s.step_name === 'qa_generation');
    assert.equal(step.error_code, 'INVALID_PARAMETER');
    assert.match(step.error_message, /theme_count/);
  });

  it('a corrupt or foreign schema.json makes qa_generation fail with SCHEMA_INVALID naming the file', async () => {
    for (const [content, field] of [
      ['{"version": 1, "tables": [', /JSON/],
      [JSON.stringify({ hello: 'world' }), /version/],
      [JSON.stringify({ version: 1, generated_at: 'x', database: { name: 'd', server_version: '15' }, business_context: null, language: 'zh', tables: [{ name: 't' }] }), /tables\.0\./],
    ] as const) {
      const created = await call(`${api}/tasks`, { method: 'POST', json: {} });
      const taskId = created.body.data.task_id;
      fs.writeFileSync(path.join(server.app.settings.outputDir, taskId, SCHEMA_FILE), content);
      await call(`${api}/tasks/${taskId}/execute`, { method: 'POST', json: { execution_mode: 'step', step_name: 'qa_generation' } });
      const final = await waitForStatus(api, taskId, ['failed', 'completed', 'partial_completed']);
      assert.equal(final.status, 'failed', content);
      const step = final.steps.find((s: any) => s.step_name === 'qa_generation');
      assert.equal(step.error_code, 'SCHEMA_INVALID', content);
      assert.match(step.error_message, /schema\.json/);
      assert.match(step.error_message, field);
    }
  });
});

describe('contract files: read only through their schemas', () => {
  it('training_load refuses a foreign schema.json or sql_validation_result.json, naming the file', async () => {
    const dir = makeTempDir('dp-contract-');
    try {
      fs.writeFileSync(path.join(dir, SCHEMA_FILE), JSON.stringify({ version: 1, tables: 'all of them' }));
      await assert.rejects(collectInputs(dir, { enable_sql_validation: true }), (e: any) => e.code === 'TRAINING_INPUT_INVALID' && /schema\.json/.test(e.message));
      const schema = { version: 1, generated_at: 'x', database: { name: 'd', server_version: '15' }, business_context: null, language: 'zh', tables: [] };
      assert.ok(schemaFileSchema.safeParse(schema).success);
      fs.writeFileSync(path.join(dir, SCHEMA_FILE), JSON.stringify(schema));
      fs.writeFileSync(path.join(dir, VALIDATION_RESULT_FILE), JSON.stringify({ validated_file: 3 }));
      await assert.rejects(
        collectInputs(dir, { enable_sql_validation: true }),
        (e: any) => e.code === 'TRAINING_INPUT_INVALID' && e.message.includes(VALIDATION_RESULT_FILE) && /validated_file|pair_file/.test(e.message),
      );
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('keeps fields it does not know (a newer writer), and the optional second-pass fields', async () => {
    const dir = makeTempDir('dp-contract-');
    try {
      const column = { name: 'id', position: 1, data_type: 'integer', udt_name: 'int4', max_length: null, numeric_precision: 32, numeric_scale: 0, nullable: false, default: null, identity: null, generated: null, is_primary_key: true, comment: null, comment_source: null, stats: null, sample_values: [], enum_values: null, role: 'identifier', role_evidence: ['primary key'], future: 1 };
      const table = { schema: 'public', name: 't', full_name: 'public.t', kind: 'table', comment: null, comment_source: null, estimated_rows: 0, size_bytes: null, columns: [column], primary_key: ['id'], unique_constraints: [], foreign_keys: [], indexes: [], files: { ddl: 't.ddl', detail: 't_detail.md' }, entity: { zh: '表', en: 'table' }, partition_of: 'public.parent' };
      fs.writeFileSync(path.join(dir, SCHEMA_FILE), JSON.stringify({ version: 1, generated_at: 'x', database: { name: 'd', server_version: '15' }, business_context: null, language: 'zh', tables: [table], relationships: [] }));
      const read = (await readSchemaFile(dir, 'SCHEMA_INVALID'))!;
      assert.equal((read.tables[0]!.columns[0] as unknown as Record<string, unknown>).future, 1);
      assert.deepEqual((read as unknown as Record<string, unknown>).relationships, []);
      fs.writeFileSync(path.join(dir, SCHEMA_FILE), JSON.stringify({ ...JSON.parse(fs.readFileSync(path.join(dir, SCHEMA_FILE), 'utf8')), tables: [{ ...table, columns: [{ ...column, role: 'favourite' }] }] }));
      await assert.rejects(readSchemaFile(dir, 'SCHEMA_INVALID'), (e: any) => e.code === 'SCHEMA_INVALID' && /tables\.0\.columns\.0\.role/.test(e.message));
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });

  it('never reads outside the task directory, nor through a symlink', async () => {
    const dir = makeTempDir('dp-contract-');
    const outside = makeTempDir('dp-outside-');
    try {
      fs.writeFileSync(path.join(outside, 'x.json'), '[]');
      fs.symlinkSync(path.join(outside, 'x.json'), path.join(dir, 'link.json'));
      for (const name of ['../x.json', path.join(outside, 'x.json'), 'link.json']) {
        await assert.rejects(readArtifact(dir, name, schemaFileSchema, 'SCHEMA_INVALID'), (e: any) => e.code === 'SCHEMA_INVALID' && e.message.includes(name), name);
      }
      assert.equal(await readArtifact(dir, 'missing.json', schemaFileSchema, 'SCHEMA_INVALID'), undefined);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
      fs.rmSync(outside, { recursive: true, force: true });
    }
  });
});

describe('data-pipeline run: the same schema', () => {
  const bin = path.join(root, 'bin/data-pipeline.js');
  const dir = makeTempDir('dp-cli-params-');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));
  // The parameters are checked before anything is opened, so no store is needed for these.
  const run = (...args: string[]) =>
    spawnSync(process.execPath, [bin, 'run', '--table', 'bss_company', ...args], { cwd: root, env: { ...process.env, ...testEnv(dir, 'postgresql://127.0.0.1:1/none') }, encoding: 'utf8', timeout: 60_000 });

  it('refuses a bad step parameter, an unknown one and a bad guide field, naming it, exit 2', () => {
    for (const [args, named] of [
      [['--param', 'enum_threshold=0'], /enum_threshold/],
      [['--param', 'theme_count=many'], /theme_count/],
      [['--param', 'language=fr'], /language/],
      [['--param', 'execute_check=yes'], /execute_check/],
      [['--param', 'seed=3'], /--param seed/],
      [['--param', 'db_name=x'], /--param db_name/],
      [['--db-name', ''], /db_name \(--db-name\)/],
      [['--name', 'n'.repeat(201)], /task_name \(--name\)/],
    ] as const) {
      const result = run(...args);
      assert.equal(result.status, 2, `${args.join(' ')}: ${result.stderr}`);
      assert.match(result.stderr, named, args.join(' '));
    }
    const malformed = run('--param', 'novalue'); // commander's own argument error
    assert.notEqual(malformed.status, 0);
    assert.match(malformed.stderr, /name=value/);
  });

  it('--help names the step parameters', () => {
    const help = spawnSync(process.execPath, [bin, 'run', '--help'], { cwd: root, encoding: 'utf8' });
    assert.equal(help.status, 0);
    for (const name of STEP_PARAMETER_NAMES) assert.ok(help.stdout.includes(name), name);
  });
});
