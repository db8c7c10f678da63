// Embedders: hashing (offline default), OpenAI-compatible (against the fake server over real HTTP), ONNX
// (optional dependency: a clear error when it is missing).
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { after, before, describe, test } from 'node:test';
import { loadSettings } from '../../src/config.ts';
import { createEmbedder } from '../../src/embed/index.ts';
import { Jieba } from '@node-rs/jieba';
import { dict } from '@node-rs/jieba/dict.js';
import { HashingEmbedder, hash32, hashVector, HASHING_MODEL_V1, HASHING_MODEL_V2, HASHING_MODEL_V3, HASHING_MODEL_V4, stripScaffolding } from '../../src/embed/hashing.ts';
import { englishRoot, englishStem, IRREGULAR_FORMS, loadLexicon } from '../../src/embed/lexicon.ts';
import { identifierWords } from '../../src/embed/words.ts';
import { loadTransformers, OnnxEmbedder, OnnxUnavailableError } from '../../src/embed/onnx.ts';
import { EmbeddingError, OpenAIEmbedder } from '../../src/embed/openai.ts';
import { fakeEmbedding, rateLimited, serverError, startFakeOpenAI, type FakeOpenAI } from '../helpers/fake-openai.ts';

const PINNED_HASH = 609572193;
const cosine = (a: number[], b: number[]) => a.reduce((s, x, i) => s + x * b[i]!, 0);
const norm = (a: number[]) => Math.sqrt(a.reduce((s, x) => s + x * x, 0));

describe('hashing embedder', () => {
  let e: HashingEmbedder;
  before(async () => {
    e = await HashingEmbedder.create(512);
  });

  test('deterministic, the configured dimension, L2-normalised, float4-exact', async () => {
    const [a, b] = await e.embed(['查询各服务区2024年的微信支付总额', '查询各服务区2024年的微信支付总额']);
    assert.equal(a!.length, 512);
    assert.deepEqual(a, b);
    assert.ok(Math.abs(norm(a!) - 1) < 1e-5);
    for (const x of a!) assert.equal(Math.fround(x), x);
    const again = await (await HashingEmbedder.create(512)).embed(['查询各服务区2024年的微信支付总额']);
    assert.deepEqual(again[0], a);
    // Pinned: the same text gives the same vector on every machine and version of this model.
    assert.equal(hash32('w:服务区'), PINNED_HASH);
  });

  test('similar texts are nearer than unrelated ones (jieba words + character n-grams)', async () => {
    const [q, near, far, en1, en2] = await e.embed([
      '各服务区的微信支付金额是多少',
      '统计每个服务区微信支付的总金额',
      '公司的数量有多少家',
      'total revenue per service area',
      'revenue of each service area in total',
    ]);
    assert.ok(cosine(q!, near!) > cosine(q!, far!) + 0.1, `${cosine(q!, near!)} vs ${cosine(q!, far!)}`);
    assert.ok(cosine(en1!, en2!) > 0.4);
  });

  test('empty text gives a fixed unit vector, never zeros (cosine of zero is NaN)', async () => {
    const [a, b] = await e.embed(['', '   ']);
    assert.ok(Math.abs(norm(a!) - 1) < 1e-6);
    assert.deepEqual(a, b);
  });

  test('dimension is configurable; a bad one is refused', async () => {
    const small = await HashingEmbedder.create(16);
    assert.equal((await small.embed(['bss_business_day_data']))[0]!.length, 16);
    await assert.rejects(HashingEmbedder.create(0), /positive integer/);
  });

  test('createEmbedder picks hashing by default, with the settings model and dimension', async () => {
    const settings = loadSettings({ DATA_PIPELINE_EMBEDDING_DIM: '64' }, os.tmpdir());
    const emb = await createEmbedder(settings.embedding);
    assert.equal(emb.model, 'hashing-zh-v4');
    const v3 = await createEmbedder(loadSettings({ DATA_PIPELINE_EMBEDDING_DIM: '64', DATA_PIPELINE_EMBEDDING_MODEL: 'hashing-zh-v3' }, os.tmpdir()).embedding);
    assert.equal(v3.model, 'hashing-zh-v3');
    assert.equal(emb.dim, 64);
    const v2 = await createEmbedder(loadSettings({ DATA_PIPELINE_EMBEDDING_DIM: '64', DATA_PIPELINE_EMBEDDING_MODEL: 'hashing-zh-v2' }, os.tmpdir()).embedding);
    assert.equal(v2.model, 'hashing-zh-v2');
    const v1 = await createEmbedder(loadSettings({ DATA_PIPELINE_EMBEDDING_DIM: '64', DATA_PIPELINE_EMBEDDING_MODEL: 'hashing-zh-v1' }, os.tmpdir()).embedding);
    assert.equal(v1.model, 'hashing-zh-v1');
    await assert.rejects(HashingEmbedder.create(64, 'hashing-zh-v9'), /unknown model "hashing-zh-v9".*hashing-zh-v1, hashing-zh-v2, hashing-zh-v3, hashing-zh-v4/);
  });

  test('hashing-zh-v2: a Chinese question is nearest to the English-named table it is about, and v1 is unchanged', async () => {
    const v2 = await HashingEmbedder.create(1024, HASHING_MODEL_V2);
    const v1 = await HashingEmbedder.create(1024, HASHING_MODEL_V1);
    const docs = [
      'CREATE TABLE author (aid integer PRIMARY KEY, authorname varchar(120), homepage varchar(200));',
      'CREATE TABLE paper (pid integer PRIMARY KEY, title varchar(400), abstract text, pubyear smallint);',
      'CREATE TABLE "tblWard" ("wardId" serial PRIMARY KEY, "wardName" varchar(40));',
      'CREATE TABLE refunds (refund_id serial PRIMARY KEY, refund_amount numeric(12,2), reason varchar(200));',
    ];
    const nearest = async (e: HashingEmbedder, question: string) => {
      const [q, ...d] = await e.embed([question, ...docs]);
      const sims = d.map((v) => v.reduce((s, x, i) => s + x * q![i]!, 0));
      return sims.indexOf(Math.max(...sims));
    };
    assert.equal(await nearest(v2, '作者的个人主页'), 0);
    assert.equal(await nearest(v2, '论文的标题和摘要'), 1);
    assert.equal(await nearest(v2, '每个病房的名称'), 2);
    assert.equal(await nearest(v2, '上周退款的原因'), 3);
    // the same text, the same vector, on every call (deterministic, offline)
    assert.deepEqual(await v2.embed(['作者 author']), await v2.embed(['作者 author']));
    // v1 vectors stay what they were: stores loaded with it keep working
    assert.deepEqual((await v1.embed(['服务区 bss_service_area']))[0], hashVector('服务区 bss_service_area', 1024, (t) => Jieba.withDict(dict).cut(t, false)));
  });

  test('hashing-zh-v3: a table document is about its title line, however long its column list', async () => {
    const v3 = await HashingEmbedder.create(1024, HASHING_MODEL_V3);
    const v2 = await HashingEmbedder.create(1024, HASHING_MODEL_V2);
    // A long entity table whose columns mention many other things, and a short junction table that says
    // "paper" once in its title and repeats it in its columns.
    const paper = [
      '-- 表 public.paper: 论文 / paper; 论文表',
      '-- 字段词: paper id; title; abstract; pub year; venue id; journal id; num cited by; num citing',
      ...Array.from({ length: 12 }, (_, i) => `-- 关联: x${i}.pid → paper.pid (← paper keyword${i} grant${i} dataset${i} field${i})`),
      'CREATE TABLE public.paper (pid integer, title varchar(400), abstract text, pubyear smallint, vid integer, jid integer);',
    ].join('\n');
    const junction = ['-- 表 public.paperdataset: paperdataset; 连接 paper 论文 ↔ dataset 数据集', '-- 字段词: paper id; dataset id', 'CREATE TABLE public.paperdataset (pid integer, did integer);'].join('\n');
    const similarity = async (e: HashingEmbedder, question: string) => {
      const [q, p, j] = await e.embed([question, paper, junction]);
      return { paper: cosine(q!, p!), junction: cosine(q!, j!) };
    };
    const v3Paper = await similarity(v3, '论文的标题');
    assert.ok(v3Paper.paper > v3Paper.junction, `v3: paper ${v3Paper.paper} vs junction ${v3Paper.junction}`);
    const v3Dataset = await similarity(v3, '用到某个数据集的论文');
    assert.ok(v3Dataset.junction > v3Dataset.paper, `v3: junction ${v3Dataset.junction} vs paper ${v3Dataset.paper}`);
    // v2 reads the same texts as one bag of words: the long document's title drowns (what v3 fixes).
    const v2Paper = await similarity(v2, '论文的标题');
    assert.ok(v3Paper.paper - v3Paper.junction > v2Paper.paper - v2Paper.junction, 'v3 weighs the title more than v2 does');
  });

  test('hashing-zh-v3 does not read the documents\' scaffolding: provenance notes, header labels, 表', async () => {
    const v3 = await HashingEmbedder.create(512, HASHING_MODEL_V3);
    const bare = ['-- public.author: 作者 / author', 'CREATE TABLE public.author (', '  aid integer NOT NULL', ');', "COMMENT ON COLUMN public.author.aid IS '作者ID';"].join('\n');
    const dressed = [
      '-- 表 public.author: 作者 / author',
      '-- 描述: public.author（表），0 行；注释来源: 数据库 0，LLM 0，离线规则 5',
      '-- 依赖的类型、函数与序列（可重复执行）',
      'CREATE TABLE public.author (',
      '  aid integer NOT NULL',
      ');',
      "COMMENT ON COLUMN public.author.aid IS '作者ID'; -- 注释来源: 离线规则",
    ].join('\n');
    assert.deepEqual((await v3.embed([dressed]))[0], (await v3.embed([bare]))[0]);
    assert.equal(stripScaffolding('-- 字段词: author id; author name'), '-- : author id; author name');
    assert.equal(stripScaffolding('x.aid → author.aid (→ author 作者; 按名称推测)'), 'x.aid → author.aid (→ author 作者 )');
    // 表 and 字段 are not read: 作者表 is 作者
    assert.deepEqual((await v3.embed(['作者表']))[0], (await v3.embed(['作者']))[0]);
    // A question is one line: all title; the same text gives the same vector.
    assert.deepEqual(await v3.embed(['每位作者写了多少篇论文']), await v3.embed(['每位作者写了多少篇论文']));
  });

  test('hashing-zh-v4: English roots, irregular forms and CEDICT synonyms let a question meet the schema\'s word', async () => {
    const root = (word: string) => englishRoot(englishStem(IRREGULAR_FORMS[word] ?? word));
    assert.equal(root('citation'), root('cite'));
    assert.equal(root('payment'), root('paid'));
    assert.equal(root('supplier'), root('supply'));
    assert.equal(root('shipment'), root('shipped'));
    assert.notEqual(root('paper'), root('payment'));
    const lexicon = await loadLexicon();
    assert.ok(lexicon.synonyms(englishStem('buy')).includes(englishStem('purchase')), 'CEDICT glosses 购买 "to purchase; to buy"');
    const v4 = await HashingEmbedder.create(1024, HASHING_MODEL_V4);
    const v3 = await HashingEmbedder.create(1024, HASHING_MODEL_V3);
    const docs = [
      'CREATE TABLE payments (payment_id serial PRIMARY KEY, amount numeric(12,2));',
      'CREATE TABLE shipments (shipment_id serial PRIMARY KEY, carrier varchar(40));',
      'CREATE TABLE purchases (purchase_id serial PRIMARY KEY, supplier varchar(80));',
    ];
    const similarities = async (e: HashingEmbedder, question: string) => {
      const [q, ...d] = await e.embed([question, ...docs]);
      return d.map((v) => cosine(q!, v));
    };
    for (const [question, table] of [['what was paid last week', 0], ['what we bought last week', 2]] as const) {
      const four = await similarities(v4, question);
      const three = await similarities(v3, question);
      assert.equal(four.indexOf(Math.max(...four)), table, `v4: ${question} → ${docs[table]}`);
      assert.ok(four[table]! > three[table]! + 0.05, `v4 ${four[table]} vs v3 ${three[table]}: ${question}`);
    }
  });

  test('hashing-zh-v4: a table\'s relationships keep their weight however long its column list', async () => {
    const customers = (columns: number) =>
      [
        '-- 表 public.customers: 客户 / customer',
        `-- 字段词: ${Array.from({ length: columns }, (_, i) => `field${i} value${i}`).join('; ')}`,
        '-- 关联: customers.level_id → membership_levels.level_id (→ membership levels 会员级别); sales_orders.customer_id → customers.customer_id (← sales orders 销售订单)',
        `CREATE TABLE public.customers (${Array.from({ length: columns }, (_, i) => `field${i}_value${i} integer`).join(', ')});`,
      ].join('\n');
    const kept = async (model: string) => {
      const e = await HashingEmbedder.create(1024, model);
      const [q, short, long] = await e.embed(['order value per membership level', customers(3), customers(40)]);
      return cosine(q!, long!) / cosine(q!, short!);
    };
    const four = await kept(HASHING_MODEL_V4);
    assert.ok(four > 0.97, `v4 keeps ${four} of the similarity`);
    assert.ok(four > (await kept(HASHING_MODEL_V3)), 'v3 lets the column list drown the relationships');
  });

  test('hashing-zh-v1 … -v3 vectors are what they were: stores loaded with them keep working', async () => {
    const texts = [
      "-- 表 public.payments: 支付 / payment; 支付表\n-- 字段词: payment id; order id; paid amount\n-- 关联: payments.order_id → sales_orders.order_id (→ sales orders 销售订单)\nCREATE TABLE public.payments (payment_id serial, order_id integer, paid_amount numeric(12,2));\nCOMMENT ON COLUMN public.payments.paid_amount IS '已付金额'; -- 注释来源: 离线规则",
      'Orders that were paid but never shipped',
      '每位作者写了多少篇论文',
    ];
    // sha256 of the float4 vectors (dimension 256) as the release that introduced hashing-zh-v3 gave them.
    const pinned = { [HASHING_MODEL_V1]: '12948c55f797b87c', [HASHING_MODEL_V2]: '2e38208fd91315c1', [HASHING_MODEL_V3]: 'c573aff5ddb58a99' };
    for (const [model, digest] of Object.entries(pinned)) {
      const vectors = await (await HashingEmbedder.create(256, model)).embed(texts);
      assert.equal(createHash('sha256').update(Buffer.from(new Float32Array(vectors.flat()).buffer)).digest('hex').slice(0, 16), digest, model);
    }
    const v4 = await (await HashingEmbedder.create(256, HASHING_MODEL_V4)).embed(texts);
    assert.notEqual(createHash('sha256').update(Buffer.from(new Float32Array(v4.flat()).buffer)).digest('hex').slice(0, 16), pinned[HASHING_MODEL_V3]);
  });

  test('identifiers split into words: snake_case, camelCase, flat compounds where the split is known', async () => {
    const lexicon = await loadLexicon();
    assert.deepEqual(identifierWords('numcitedby', lexicon), ['num', 'cited', 'by']);
    assert.deepEqual(identifierWords('crmordcustid', lexicon), ['crm', 'ord', 'cust', 'id']);
    assert.deepEqual(identifierWords('tblPrescriptionItem', lexicon), ['tbl', 'prescription', 'item']);
    assert.deepEqual(identifierWords('quantity_on_hand', lexicon), ['quantity', 'on', 'hand']);
    assert.deepEqual(identifierWords('HTTPStatus2xx', lexicon), ['http', 'status', '2', 'xx']);
    assert.deepEqual(identifierWords('xqzv', lexicon), ['xqzv'], 'no split without known words');
    assert.deepEqual(lexicon.chineseToEnglish('作者').slice(0, 1), ['author']);
    assert.ok(lexicon.englishToChinese('refund').includes('退款'));
  });

  // Its speed is bench/load-insert.ts's business; here, that a large batch is embedded item by item.
  test('10,000 items in one batch: one unit vector each, the same as embedded alone', async () => {
    const texts = Array.from({ length: 10_000 }, (_, i) => `{"question": "服务区${i}在2024年${i % 12}月的营业额是多少？", "sql": "SELECT sum(pay_sum) FROM bss_business_day_data WHERE service_no = 'H${i}'"}`);
    const embedder = await HashingEmbedder.create(1024);
    const vectors = await embedder.embed(texts);
    assert.equal(vectors.length, 10_000);
    for (const i of [0, 1, 4_999, 9_999]) {
      assert.equal(vectors[i]!.length, 1024);
      assert.ok(Math.abs(Math.hypot(...vectors[i]!) - 1) < 1e-6, `vector ${i} is unit length`);
      assert.deepEqual(vectors[i], (await embedder.embed([texts[i]!]))[0], `vector ${i} does not depend on its batch`);
    }
    assert.notDeepEqual(vectors[0], vectors[1]);
  });
});

describe('openai-compatible embedder (real openai client, fake server over HTTP)', () => {
  let fake: FakeOpenAI;
  let script: Array<ReturnType<typeof rateLimited> | undefined> = [];
  before(async () => {
    fake = await startFakeOpenAI({ embeddingDim: 24, embeddingHandler: () => script.shift(), apiKey: 'sk-test' });
  });
  after(() => fake.close());

  const make = (over: Partial<ConstructorParameters<typeof OpenAIEmbedder>[0]> = {}) =>
    new OpenAIEmbedder({ baseUrl: fake.baseUrl, apiKey: 'sk-test', model: 'bge-m3', dim: 24, batchSize: 4, backoffMs: 10, ...over });

  test('batches the inputs, sends encoding_format float, keeps the order', async () => {
    fake.reset();
    script = [];
    const texts = Array.from({ length: 10 }, (_, i) => `text ${i}`);
    const vectors = await make().embed(texts);
    assert.equal(vectors.length, 10);
    vectors.forEach((v, i) => assert.deepEqual(v, fakeEmbedding(texts[i]!, 24)));
    const requests = fake.embeddingRequests();
    assert.deepEqual(requests.map((r) => r.body.input.length), [4, 4, 2]);
    for (const r of requests) {
      assert.equal(r.body.encoding_format, 'float');
      assert.equal(r.body.model, 'bge-m3');
      assert.equal(r.headers.authorization, 'Bearer sk-test');
    }
  });

  test('retries 429 (honouring Retry-After) and 5xx, then succeeds', async () => {
    fake.reset();
    script = [rateLimited(0.05), serverError(503), undefined];
    const embedder = make();
    const vectors = await embedder.embed(['a', 'b']);
    assert.equal(vectors.length, 2);
    assert.equal(fake.embeddingRequests().length, 3);
  });

  test('gives up after maxRetries with a clear error; a 400 is not retried', async () => {
    fake.reset();
    script = [serverError(500), serverError(500), serverError(500)];
    await assert.rejects(make({ maxRetries: 2 }).embed(['a']), (error: unknown) => error instanceof EmbeddingError && /after 3 attempts/.test(error.message));
    fake.reset();
    script = [{ status: 400, error: 'bad model' }];
    await assert.rejects(make({ maxRetries: 3 }).embed(['a']), /HTTP 400/);
    assert.equal(fake.embeddingRequests().length, 1);
  });

  test('a model of another dimension is refused with the fix in the message', async () => {
    fake.reset();
    script = [];
    await assert.rejects(make({ dim: 32 }).embed(['a']), /dimension 24.*DATA_PIPELINE_EMBEDDING_DIM=24/);
  });

  test('malformed answers are retried', async () => {
    fake.reset();
    script = [{ status: 200, rawBody: '{"data": [' }, undefined];
    assert.equal((await make().embed(['x'])).length, 1);
    assert.equal(fake.embeddingRequests().length, 2);
  });

  test('createEmbedder builds it from the settings (DATA_PIPELINE_EMBEDDING_*)', async () => {
    fake.reset();
    script = [];
    const settings = loadSettings(
      { DATA_PIPELINE_EMBEDDING_BASE_URL: fake.baseUrl, DATA_PIPELINE_EMBEDDING_API_KEY: 'sk-test', DATA_PIPELINE_EMBEDDING_MODEL: 'text-embedding-v3', DATA_PIPELINE_EMBEDDING_DIM: '24' },
      os.tmpdir(),
    );
    assert.equal(settings.embedding.kind, 'openai');
    const emb = await createEmbedder(settings.embedding);
    assert.equal(emb.model, 'text-embedding-v3');
    assert.equal((await emb.embed(['hello']))[0]!.length, 24);
  });
});

describe('onnx embedder (optional dependency)', () => {
  test('without @huggingface/transformers: a clear error saying how to install it', async () => {
    await assert.rejects(
      loadTransformers(async () => {
        throw new Error("Cannot find package '@huggingface/transformers'");
      }),
      (error: unknown) => error instanceof OnnxUnavailableError && /npm install @huggingface\/transformers/.test(error.message) && /onnxruntime-node-install=skip/.test(error.message),
    );
  });

  test('a folder that is not a model is refused before anything is loaded', async () => {
    await assert.rejects(OnnxEmbedder.create({ modelDir: '/nonexistent/model', dim: 384, batchSize: 8 }), /local model folder/);
  });

  test('with a (stub) transformers package: remote loading off, local files only, mean pooling, dimension checked', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-onnx-'));
    const modelDir = path.join(dir, 'bge-small-zh');
    fs.mkdirSync(modelDir);
    fs.writeFileSync(path.join(modelDir, 'config.json'), '{}');
    const env: Record<string, unknown> = { allowRemoteModels: true };
    let pipelineArgs: unknown[] = [];
    const stub = {
      env,
      pipeline: async (...args: unknown[]) => {
        pipelineArgs = args;
        return async (texts: string[], options: unknown) => {
          assert.deepEqual(options, { pooling: 'mean', normalize: true });
          return { tolist: () => texts.map(() => [0.6, 0.8, 0]) };
        };
      },
    };
    const emb = await OnnxEmbedder.create({ modelDir, dim: 3, batchSize: 2, importer: async () => stub });
    assert.equal(env.allowRemoteModels, false);
    assert.equal(env.localModelPath, dir + path.sep);
    assert.deepEqual(pipelineArgs, ['feature-extraction', 'bge-small-zh', { local_files_only: true }]);
    assert.equal(emb.model, 'onnx:bge-small-zh');
    assert.equal((await emb.embed(['a', 'b', 'c'])).length, 3);
    await assert.rejects(OnnxEmbedder.create({ modelDir, dim: 384, batchSize: 2, importer: async () => stub }), /dimension 3/);
    fs.rmSync(dir, { recursive: true, force: true });
  });

  test('the real package is absent here: createEmbedder(onnx) fails clearly', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'dp-onnx-'));
    fs.writeFileSync(path.join(dir, 'config.json'), '{}');
    const settings = loadSettings({ DATA_PIPELINE_EMBEDDER: 'onnx', DATA_PIPELINE_EMBEDDING_MODEL: dir, DATA_PIPELINE_EMBEDDING_DIM: '384' }, os.tmpdir());
    await assert.rejects(createEmbedder(settings.embedding), /optional dependency @huggingface\/transformers/);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
