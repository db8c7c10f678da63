// The glossary lives below both steps (src/text/): qa_generation phrases questions with the same words.
export * from '../../../text/glossary.ts';
