// retrieval: recall@5 of the tables' DDL documents for held-out questions (test/fixtures/retrieval/).
// For each fixture schema: a database on the local PostgreSQL from <schema>.sql → ddl_generation as it
// is (offline annotator, task language zh) → the ddl documents training_load builds (tableItems), plain
// (today's: the .ddl file as it is) and with the word header → embedded by hashing-zh-v1 … -v4 → for
// each question, exact cosine top k among the schema's ddl documents (what pgvector does without an
// index). Compared in the same run with a random pick of k tables (its expectation).
// Target (issue 17): the default model with the load step's documents ≥ 0.9 on every Chinese set and
// ≥ 0.95 on every English set.
// Tuning happens on the development sets only (test/fixtures/retrieval/dev/, `--set dev`, which may add
// schemas of its own); the held-out sets are measured, never looked into for tuning.
// Run: npx tsx bench/retrieval.ts [--only shop,clinic] [--set dev] [--misses] [--dump]
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { loadSettings } from '../src/config.ts';
import { HashingEmbedder, HASHING_MODEL, HASHING_MODEL_V1, HASHING_MODEL_V2, HASHING_MODEL_V3, HASHING_MODEL_V4 } from '../src/embed/hashing.ts';
import { fakeStepContext } from '../test/helpers/step-context.ts';
import { runDdlGeneration } from '../src/pipeline/ddl/index.ts';
import { tableItems } from '../src/pipeline/load/inputs.ts';
import { connect } from '../src/postgres/connect.ts';
import { evaluateMemory, randomPickRecall, type EvalQuestion, type MemoryDocument } from '../src/vector/evaluate.ts';
import { prepareDocument } from '../src/vector/documents.ts';
import { codeVersion, createBenchDatabase, printTable, REPO_DIR, round, runCleanups, startWatchdog, writeResults } from './lib/harness.ts';

const K = 5;
const DIM = 1024;
const TARGET = { zh: 0.9, en: 0.95 } as const;
const FIXTURES = path.join(REPO_DIR, 'test/fixtures/retrieval');
const DEV_FIXTURES = path.join(FIXTURES, 'dev');
const HELD_OUT_SCHEMAS = ['shop', 'clinic', 'scholar'];

startWatchdog(170);
const onlyArg = process.argv.includes('--only') ? process.argv[process.argv.indexOf('--only') + 1] : undefined;
const setArg = process.argv.includes('--set') ? process.argv[process.argv.indexOf('--set') + 1] : 'held-out';
if (setArg !== 'held-out' && setArg !== 'dev') throw new Error(`--set must be held-out or dev, got ${setArg}`);
const dev = setArg === 'dev';
// The dev sets ask about the held-out schemas and about schemas of their own (dev/<schema>.sql).
const devSchemas = dev ? fs.readdirSync(DEV_FIXTURES).filter((f) => f.endsWith('.zh.json')).map((f) => f.slice(0, -'.zh.json'.length)).sort() : [];
const schemas = onlyArg ? onlyArg.split(',') : dev ? devSchemas : HELD_OUT_SCHEMAS;
const showMisses = process.argv.includes('--misses');
const dumpDocuments = process.argv.includes('--dump');
const schemaFile = (schema: string) => (fs.existsSync(path.join(FIXTURES, `${schema}.sql`)) ? path.join(FIXTURES, `${schema}.sql`) : path.join(DEV_FIXTURES, `${schema}.sql`));
const questionFile = (schema: string, lang: string) => path.join(dev ? DEV_FIXTURES : FIXTURES, `${schema}.${lang}.json`);

/** ddl_generation as a task runs it (offline annotator, task language zh), outside the runner. */
function stepContext(dir: string, db: Awaited<ReturnType<typeof connect>>) {
  return fakeStepContext({ step: 'ddl_generation', dir, db, parameters: { language: 'zh' }, settings: loadSettings({ DATA_PIPELINE_OUTPUT_DIR: path.dirname(dir) }, dir) });
}

interface Row {
  schema: string;
  lang: 'zh' | 'en';
  questions: number;
  tables: number;
  random: number;
  v1_plain: number;
  v1_words: number;
  v2_plain: number;
  v2_words: number;
  v3_words: number;
  v4_words: number;
}

const embedders = {
  v1: await HashingEmbedder.create(DIM, HASHING_MODEL_V1),
  v2: await HashingEmbedder.create(DIM, HASHING_MODEL_V2),
  v3: await HashingEmbedder.create(DIM, HASHING_MODEL_V3),
  v4: await HashingEmbedder.create(DIM, HASHING_MODEL_V4),
};
/** The column the target is on: the default model with the load step's documents. */
const TARGET_COLUMN = `${({ [HASHING_MODEL_V2]: 'v2', [HASHING_MODEL_V3]: 'v3', [HASHING_MODEL_V4]: 'v4' } as const)[HASHING_MODEL]}_words` as const;
const rows: Row[] = [];
const misses: Record<string, unknown> = {};
try {
  for (const schema of schemas) {
    const database = await createBenchDatabase();
    const admin = new pg.Client({ connectionString: database.url });
    await admin.connect();
    await admin.query(fs.readFileSync(schemaFile(schema), 'utf8'));
    await admin.end();
    const db = await connect(database.url, { max: 2 });
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `dp-retrieval-${schema}-`));
    try {
      const names = (await db.pool.query<{ t: string }>(`SELECT quote_ident(table_name) AS t FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1`)).rows.map((r) => `public.${r.t}`);
      fs.writeFileSync(path.join(dir, 'table_list.txt'), `${names.join('\n')}\n`);
      await runDdlGeneration(stepContext(dir, db));
      const items = (await tableItems(dir)).filter((i) => i.collection === 'ddl' && i.doc);
      // Today's documents: the .ddl file as it is (what training_load stored before the word header).
      const plain = items.map((i) => ({ table: i.table!, text: prepareDocument('ddl', fs.readFileSync(path.join(dir, i.file), 'utf8')).document }));
      const withWords = items.map((i) => ({ table: i.table!, text: i.doc!.document }));
      const memory = async (docs: Array<{ table: string; text: string }>, embedder: HashingEmbedder): Promise<MemoryDocument[]> => {
        const vectors = await embedder.embed(docs.map((d) => d.text));
        return docs.map((d, i) => ({ collection: 'ddl', table: d.table, vector: vectors[i]! }));
      };
      const stores = {
        v1_plain: await memory(plain, embedders.v1),
        v1_words: await memory(withWords, embedders.v1),
        v2_plain: await memory(plain, embedders.v2),
        v2_words: await memory(withWords, embedders.v2),
        v3_words: await memory(withWords, embedders.v3),
        v4_words: await memory(withWords, embedders.v4),
      };
      for (const lang of ['zh', 'en'] as const) {
        const set = JSON.parse(fs.readFileSync(questionFile(schema, lang), 'utf8')) as { questions: EvalQuestion[] };
        const row: Row = { schema, lang, questions: set.questions.length, tables: items.length, random: randomPickRecall(items.length, K), v1_plain: 0, v1_words: 0, v2_plain: 0, v2_words: 0, v3_words: 0, v4_words: 0 };
        for (const [name, docs] of Object.entries(stores) as Array<[keyof typeof stores, MemoryDocument[]]>) {
          const result = await evaluateMemory(docs, embedders[name.slice(0, 2) as keyof typeof embedders], set.questions, { k: K, collections: ['ddl'] });
          row[name] = result.summary.recall;
          if (name === TARGET_COLUMN) {
            misses[`${schema}.${lang}`] = result.results.filter((r) => r.missed.length).map((r) => ({ question: r.question, missed: r.missed, top: r.retrieved.ddl }));
          }
        }
        rows.push(row);
      }
      if (dumpDocuments) for (const d of withWords) console.log(`\n${d.text}\n`);
    } finally {
      await db.close();
      fs.rmSync(dir, { recursive: true, force: true });
      await database.drop();
    }
  }
} finally {
  await runCleanups();
}

printTable(
  ['schema', 'lang', 'questions', 'tables', `random@${K}`, 'v1 (first release)', 'v1 + words', 'v2 plain docs', 'v2 + words', 'v3 + words', 'v4 + words'],
  rows.map((r) => [r.schema, r.lang, r.questions, r.tables, round(r.random), round(r.v1_plain), round(r.v1_words), round(r.v2_plain), round(r.v2_words), round(r.v3_words), round(r.v4_words)]),
);
if (showMisses) console.log(JSON.stringify(misses, null, 2));
const failing = rows.filter((r) => r[TARGET_COLUMN] < TARGET[r.lang]);
writeResults(dev ? 'retrieval-dev' : 'retrieval', { ...codeVersion(), set: setArg, k: K, dim: DIM, model: HASHING_MODEL, target: TARGET, rows, misses });
if (failing.length) {
  console.log(`MISS (${setArg}): ${failing.map((r) => `${r.schema}/${r.lang} ${round(r[TARGET_COLUMN])} < ${TARGET[r.lang]}`).join(', ')}`);
  process.exit(1);
}
console.log(`PASS (${setArg}): ${HASHING_MODEL} with the load step's documents ≥ ${TARGET.zh} (zh) and ≥ ${TARGET.en} (en) on every set`);
