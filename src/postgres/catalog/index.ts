// The catalog of the business database: shapes (types.ts), the reader (read.ts), the relation list
// (list.ts), bounded profiles and overlap probes (profile.ts), table names (names.ts).
export * from './types.ts';
export * from './read.ts';
export * from './list.ts';
export * from './profile.ts';
export { parseTableName, readTableListText, wildcardToLike, fullName, TableNameError } from './names.ts';
export type { SamplePlan } from './sampling.ts';
export { readOnly } from '../read-only.ts';
