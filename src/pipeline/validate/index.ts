// Step 3, sql_validation. See step.ts for the files it reads and writes.
export { sqlValidationStep, runSqlValidation, validationSettings } from './step.ts';
export { SqlChecker, type CheckerOptions, type SqlCheckResult, type SqlCheckError, type RowCheck } from './checker.ts';
export { validatePairs, type PairReport, type PairStatus, type AttemptRecord } from './validator.ts';
export type { ValidationReport } from './report.ts';
