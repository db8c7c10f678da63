// The dashboard's question-set reader (web/question-set.js) for the retrieval self-test: JSON as the API
// takes it, or CSV/TSV with a question,tables header; malformed sets are refused with a text key the page
// translates. The page runs csv-parse's browser build; here the package itself.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parse } from 'csv-parse/sync';
import { TEXTS } from '../../web/i18n.js';
import { parseQuestionSet, QuestionSetError } from '../../web/question-set.js';

const read = (text: string) => parseQuestionSet(text, parse as (text: string, options: object) => unknown[][]);
const refusal = (text: string) => {
  try {
    read(text);
  } catch (error) {
    assert.ok(error instanceof QuestionSetError, String(error));
    return error.key;
  }
  assert.fail(`accepted: ${text}`);
};

describe('question set (retrieval self-test)', () => {
  it('reads the API body, keeping k and collections, or a bare array', () => {
    const body = { questions: [{ question: '每位作者写了多少篇论文？', tables: ['author', 'writes'] }], k: 3, collections: ['ddl', 'documentation'] };
    assert.deepEqual(read(JSON.stringify(body)), body);
    assert.deepEqual(read(`\uFEFF ${JSON.stringify(body.questions)}\n`), { questions: body.questions });
  });

  it('reads CSV and TSV with a header in any column order; tables split on ; , | and spaces', () => {
    const csv = 'id,tables,question\n1,"bss_car_day_count;bss_service_area",各服务区的车流量是多少？\n2,bss_company, "Which companies, by name?" \n';
    assert.deepEqual(read(csv).questions, [
      { question: '各服务区的车流量是多少？', tables: ['bss_car_day_count', 'bss_service_area'] },
      { question: 'Which companies, by name?', tables: ['bss_company'] },
    ]);
    const tsv = 'Question\tTables\n每个公司有几个服务区？\tbss_company, public.bss_service_area\n\n';
    assert.deepEqual(read(tsv).questions, [{ question: '每个公司有几个服务区？', tables: ['bss_company', 'public.bss_service_area'] }]);
    // An empty cell is passed on as it is: the server names what is wrong with it.
    assert.deepEqual(read('question,tables\n只有问题,\n').questions, [{ question: '只有问题', tables: [] }]);
  });

  it('refuses what it cannot read, with a text the page has in both languages', () => {
    const cases: Array<[string, string]> = [
      ['', 'qsEmpty'],
      ['   \n ', 'qsEmpty'],
      ['{"questions": [', 'qsBadJson'],
      ['{"k": 5}', 'qsNoQuestions'],
      ['"just a string"', 'qsNoHeader'],
      ['question,tables\n', 'qsNoQuestions'],
      ['各服务区的车流量,bss_car_day_count\n', 'qsNoHeader'],
      ['question,tables\n"unclosed,bss_company\n', 'qsBadCsv'],
    ];
    for (const [text, key] of cases) {
      assert.equal(refusal(text), key, JSON.stringify(text));
      assert.ok(TEXTS.zh[key] && TEXTS.en[key], `${key} has zh and en texts`);
    }
  });

  it('every dashboard text exists in both languages', () => {
    assert.deepEqual(Object.keys(TEXTS.en).sort(), Object.keys(TEXTS.zh).sort());
  });
});
