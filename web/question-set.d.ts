// Types of question-set.js for the TypeScript unit tests (the page itself loads the .js).
export class QuestionSetError extends Error {
  key: string;
  params: Record<string, string>;
}
export function parseQuestionSet(
  text: string,
  parseCsv: (text: string, options: object) => unknown[][],
): { questions: Array<{ question: string; tables: string[] }>; k?: unknown; collections?: unknown };
