// A question set for the retrieval self-test (POST /vector/evaluate), pasted or uploaded. Two forms:
//  - JSON: the API's own body, {"questions": [{"question": "…", "tables": ["…"]}], "k": 5, "collections": ["ddl"]},
//    or just the array of questions;
//  - CSV or tab-separated text (a spreadsheet's export or copy): a header row naming a `question` column and
//    a `tables` column (any order; other columns are ignored), the needed tables in one cell separated by
//    `;`, `,`, `|` or spaces.
// Only the form is checked here; the server judges the content (unknown tables, sizes, k) and says why.
// The CSV reader is passed in (csv-parse: its browser build in the page, the package in the unit tests).

export class QuestionSetError extends Error {
  /** key: a text of web/i18n.js; params: its placeholders. */
  constructor(key, params = {}) {
    super(`${key} ${JSON.stringify(params)}`);
    this.key = key;
    this.params = params;
  }
}

const splitTables = (cell) => String(cell ?? '').split(/[;,|\s]+/).map((s) => s.trim()).filter(Boolean);

/**
 * @param {string} text
 * @param {(text: string, options: object) => string[][]} parseCsv csv-parse's sync `parse`
 * @returns {{questions: Array<{question: string, tables: string[]}>, k?: unknown, collections?: unknown}}
 */
export function parseQuestionSet(text, parseCsv) {
  const trimmed = String(text ?? '').replace(/^\uFEFF/, '').trim();
  if (!trimmed) throw new QuestionSetError('qsEmpty');
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) return fromJson(trimmed);
  return fromCsv(trimmed, parseCsv);
}

function fromJson(text) {
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    const at = /position (\d+)/.exec(error.message)?.[1];
    throw new QuestionSetError('qsBadJson', { at: at ?? '?' });
  }
  if (Array.isArray(value)) return { questions: value };
  if (value && typeof value === 'object' && Array.isArray(value.questions)) {
    const { questions, k, collections } = value;
    return { questions, ...(k !== undefined ? { k } : {}), ...(collections !== undefined ? { collections } : {}) };
  }
  throw new QuestionSetError('qsNoQuestions');
}

function fromCsv(text, parseCsv) {
  const firstLine = text.split(/\r?\n/, 1)[0];
  const delimiter = firstLine.includes('\t') ? '\t' : ',';
  let rows;
  try {
    rows = parseCsv(text, { delimiter, relax_column_count: true, skip_empty_lines: true, trim: true, bom: true });
  } catch (error) {
    throw new QuestionSetError('qsBadCsv', { reason: error.message });
  }
  const header = (rows[0] ?? []).map((cell) => String(cell).trim().toLowerCase());
  const questionColumn = header.indexOf('question');
  const tablesColumn = header.indexOf('tables');
  if (questionColumn < 0 || tablesColumn < 0) throw new QuestionSetError('qsNoHeader');
  const questions = rows.slice(1).map((row) => ({ question: String(row[questionColumn] ?? '').trim(), tables: splitTables(row[tablesColumn]) }));
  if (questions.length === 0) throw new QuestionSetError('qsNoQuestions');
  return { questions };
}
