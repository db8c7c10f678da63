// Annotation without a database: the offline annotator (glossary words, special forms, sample hints),
// business glossaries, LLM answers normalised from any reasonable JSON shape and matched to columns by
// name (never by position), the prompt (domain-neutral, business context and glossary included), and
// the LLM path with a tiny in-test client.
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import type { ZodType } from 'zod';
import type { ColumnInfo, TableInfo } from '../../src/pipeline/artifacts.ts';
import { parseGlossary } from '../../src/text/glossary.ts';
import { annotateWithLlm, annotationAnswerSchema, annotationPrompt, cleanComment, matchByName, normaliseAnswer } from '../../src/pipeline/ddl/annotate/llm.ts';
import { offlineColumnComment, offlineTableComment } from '../../src/pipeline/ddl/annotate/offline.ts';
import { splitCompound } from '../../src/text/translate.ts';
import { LlmError, type ChatMessage, type LlmCallOptions, type LlmClient } from '../../src/llm/types.ts';

function column(name: string, extra: Partial<ColumnInfo> = {}): ColumnInfo {
  return {
    name,
    position: 1,
    data_type: 'text',
    udt_name: 'text',
    max_length: null,
    numeric_precision: null,
    numeric_scale: null,
    nullable: true,
    default: null,
    identity: null,
    generated: null,
    is_primary_key: false,
    comment: null,
    comment_source: null,
    stats: null,
    sample_values: [],
    enum_values: null,
    ...extra,
  };
}

function tableOf(name: string, columns: ColumnInfo[], extra: Partial<TableInfo> = {}): TableInfo {
  return {
    schema: 'public',
    name,
    full_name: `public.${name}`,
    kind: 'table',
    comment: null,
    comment_source: null,
    estimated_rows: 10,
    size_bytes: 8192,
    columns,
    primary_key: [],
    unique_constraints: [],
    foreign_keys: [],
    indexes: [],
    files: { ddl: `${name}.ddl`, detail: `${name}_detail.md` },
    ...extra,
  };
}

const none = new Map<string, string>();
const pick = (a: ReturnType<typeof normaliseAnswer>) => ({ tableComment: a?.tableComment, columns: a?.columns });

describe('offline annotator', () => {
  test('common column words, in Chinese and English', () => {
    const cases: Array<[string, string, string]> = [
      ['create_ts', '创建时间', 'Create time'],
      ['created_by', '创建人', 'Created by'],
      ['update_ts', '更新时间', 'Update time'],
      ['deleted_at', '删除时间', 'Deleted at'],
      ['company_id', '公司ID', 'Company ID'],
      ['company_name', '公司名称', 'Company name'],
      ['service_area_no', '服务区编码', 'Service area number'],
      ['order_status', '订单状态', 'Order status'],
      ['car_type', '车辆类型', 'Car type'],
      ['pay_amount', '支付金额', 'Payment amount'],
      ['order_count', '订单数量', 'Order count'],
      ['oper_date', '营业日期', 'Operation date'],
      ['is_active', '是否有效', 'Is active'],
      ['userId', '用户ID', 'User ID'],
      ['version', '版本号', 'Version'],
    ];
    for (const [name, zh, en] of cases) {
      assert.equal(offlineColumnComment(column(name), 'zh', none), zh, name);
      assert.equal(offlineColumnComment(column(name), 'en', none), en, name);
    }
    assert.equal(offlineColumnComment(column('id', { is_primary_key: true }), 'zh', none), '主键ID');
    assert.equal(offlineColumnComment(column('行号'), 'zh', none), '行号');
    assert.equal(offlineColumnComment(column('wx_order'), 'zh', none), 'wx order', 'never half-translated (not wx订单)');
  });

  test('flat compounds split into words, never a plural into a word and a scrap (carts is not car + ts)', () => {
    assert.deepEqual(splitCompound('authorid', new Map()), ['author', 'id']);
    assert.deepEqual(splitCompound('carts', new Map()), ['carts']);
    assert.deepEqual(splitCompound('posts', new Map()), ['posts']);
  });

  test('names it cannot read fall back on what the samples look like', () => {
    assert.equal(offlineColumnComment(column('ctc', { sample_values: ['a@b.com', 'c@d.cn'] }), 'zh', none), 'ctc（邮箱地址）');
    assert.equal(offlineColumnComment(column('xyz', { sample_values: ['115.123,28.456'] }), 'en', none), 'xyz (coordinates (lng,lat))');
    assert.equal(offlineColumnComment(column('xyz', { sample_values: ['abc'] }), 'zh', none), 'xyz');
  });

  test('the business glossary wins over built-in words; whole names too', () => {
    const glossary = parseGlossary('wx: 微信支付\nzfb = 支付宝\nservice_no -> 服务区编码');
    assert.equal(offlineColumnComment(column('wx_order'), 'zh', glossary), '微信支付订单');
    assert.equal(offlineColumnComment(column('service_no'), 'zh', glossary), '服务区编码');
    assert.equal(offlineColumnComment(column('ZFB'), 'zh', glossary), '支付宝');
  });

  test('table comments: prefixes dropped, 表/视图 added', () => {
    assert.equal(offlineTableComment(tableOf('bss_company', []), 'zh', none), '公司表');
    assert.equal(offlineTableComment(tableOf('order_note', []), 'en', none), 'Order note table');
    assert.equal(offlineTableComment(tableOf('daily_stats', [], { kind: 'view' }), 'zh', none), '每日统计视图');
    assert.equal(offlineTableComment(tableOf('订单明细', []), 'zh', none), '订单明细');
  });

  test('glossary input forms', () => {
    assert.deepEqual([...parseGlossary({ WX: '微信' })], [['wx', '微信']]);
    assert.deepEqual([...parseGlossary(['a: b', { term: 'c', meaning: 'd' }])], [['a', 'b'], ['c', 'd']]);
    assert.deepEqual([...parseGlossary('x：中文冒号\n# comment\nbad line')], [['x', '中文冒号']]);
    assert.equal(parseGlossary(undefined).size, 0);
  });
});

describe('LLM answers', () => {
  test('any reasonable JSON shape is normalised', () => {
    const answer = normaliseAnswer({ table_comment: 'T', columns: { a: 'A', b: { comment: 'B', role: 'label' } }, entity: { zh: '客户', en: 'customer' }, roles: { a: 'additive_measure', c: 'bogus' } });
    assert.deepEqual({ tableComment: answer?.tableComment, columns: answer?.columns }, { tableComment: 'T', columns: [['a', 'A'], ['b', 'B']] });
    assert.deepEqual(answer?.entity, { zh: '客户', en: 'customer' });
    assert.deepEqual(answer?.roles, [['a', 'additive_measure'], ['b', 'label']], 'valid roles only, from roles and from column objects');
    assert.deepEqual(normaliseAnswer({ columns: [{ name: 'a', comment: 'A' }, { column_name: 'b', description: 'B' }, ['c', 'C']] })?.columns, [['a', 'A'], ['b', 'B'], ['c', 'C']]);
    assert.deepEqual(normaliseAnswer([{ field: 'a', desc: 'A' }])?.columns, [['a', 'A']]);
    assert.deepEqual(pick(normaliseAnswer({ table_comment: 'T', a: 'A' })), { tableComment: 'T', columns: [['a', 'A']] });
    assert.deepEqual(pick(normaliseAnswer({ table: { comment: 'T' }, fields: { a: 'A' } })), { tableComment: 'T', columns: [['a', 'A']] });
    assert.equal(normaliseAnswer({ columns: { a: '' } }), undefined);
    assert.equal(normaliseAnswer('text'), undefined);
    assert.equal(annotationAnswerSchema.safeParse({}).success, false, 'an empty answer is malformed (retried)');
  });

  test('comments are cleaned: whitespace, quotes, think remnants, placeholders', () => {
    assert.equal(cleanComment('  "客户 \n 名称"  '), '客户 名称');
    assert.equal(cleanComment('<think>hmm</think>订单号'), '订单号');
    assert.equal(cleanComment('N/A'), undefined);
    assert.equal(cleanComment('无'), undefined);
    assert.equal(cleanComment(42), undefined);
    assert.equal(cleanComment('x'.repeat(500))!.length, 200);
  });

  test('matched by name: exact, unquoted, unqualified, case-insensitive; unknown names ignored; never by position', () => {
    const wanted = ['id', 'Full Name', 'order', 'userId'];
    const { columns, unknown } = matchByName(
      [
        ['"order"', 'O'],
        ['customer.Full Name', 'F'],
        ['USERID', 'U'],
        ['ghost', 'G'],
        ['id', 'I'],
      ],
      wanted,
    );
    assert.deepEqual(Object.fromEntries(columns), { order: 'O', 'Full Name': 'F', userId: 'U', id: 'I' });
    assert.deepEqual(unknown, ['ghost']);
    const ambiguous = matchByName([['NAME', 'x']], ['name', 'Name']);
    assert.equal(ambiguous.columns.size, 0, 'a case-insensitive match must be unique');
    const exactWins = matchByName([['Name', 'fuzzy'], ['name', 'exact']], ['name']);
    assert.equal(exactWins.columns.get('name'), 'exact');
  });

  test('the prompt: domain-neutral rules, the business context, the glossary, the columns asked for', () => {
    const table = tableOf('t', [column('a', { comment: 'known' }), column('b', { sample_values: ['x1', 'x2'], enum_values: ['x1', 'x2'] })]);
    const [system, user] = annotationPrompt(table, ['b'], true, { language: 'zh', businessContext: '物流', glossary: parseGlossary('b: 批次') });
    assert.doesNotMatch(system!.content, /物流|高速|服务区/);
    assert.match(user!.content, /业务背景: 物流/);
    assert.match(user!.content, /- b: 批次/);
    assert.match(user!.content, /- b \| text \| - \| x1, x2 \| x1, x2/);
    assert.match(user!.content, /请补充: 表注释（table_comment）；以下字段的注释: b/);
  });
});

/** A tiny LlmClient: answers chatJson with a scripted value, validated by the given schema. */
class ScriptedLlm implements LlmClient {
  readonly model = 'scripted';
  calls: ChatMessage[][] = [];
  constructor(private readonly answer: (messages: ChatMessage[]) => unknown) {}
  async chatJson<T>(messages: ChatMessage[], schema: ZodType<T>, _options: LlmCallOptions): Promise<T> {
    this.calls.push(messages);
    const parsed = schema.safeParse(this.answer(messages));
    if (!parsed.success) throw new LlmError('malformed');
    return parsed.data;
  }
  async chatText(): Promise<string> {
    throw new Error('not used');
  }
}

describe('annotateWithLlm (in-test client)', () => {
  test('one call; only missing comments asked for; reordered answer applied by name', async () => {
    const table = tableOf('t', [column('a', { comment: 'db comment', comment_source: 'db' }), column('b'), column('c')]);
    const llm = new ScriptedLlm(() => ({ table_comment: 'TT', columns: [{ name: 'c', comment: 'CC' }, { name: 'a', comment: 'overwrite?' }, { name: 'b', comment: 'BB' }] }));
    const result = await annotateWithLlm(llm, table, { language: 'zh', businessContext: null, glossary: none });
    assert.equal(llm.calls.length, 1);
    assert.equal(result.tableComment, 'TT');
    assert.deepEqual(Object.fromEntries(result.columns), { c: 'CC', b: 'BB' });
    assert.deepEqual(result.unknown, ['a'], 'a column with a database comment is not asked for, and not overwritten');
  });

  test('no call when nothing is missing', async () => {
    const llm = new ScriptedLlm(() => ({}));
    const table = tableOf('t', [column('a', { comment: 'x', comment_source: 'db' })], { comment: 'T', comment_source: 'db' });
    const result = await annotateWithLlm(llm, table, { language: 'en', businessContext: null, glossary: none });
    assert.equal(llm.calls.length, 0);
    assert.equal(result.columns.size, 0);
  });

  test('a malformed answer surfaces as LLM_ERROR', async () => {
    const llm = new ScriptedLlm(() => ({ nothing: 1 }));
    await assert.rejects(annotateWithLlm(llm, tableOf('t', [column('a')]), { language: 'zh', businessContext: null, glossary: none }), (e: unknown) => (e as LlmError).code === 'LLM_ERROR');
  });
});
