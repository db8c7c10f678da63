// What the bounded profile (postgres/catalog.ts profileRelation) and pg_stats say about each column:
// sample values, enum values (≤ N distinct values, by frequency: pg_stats first, the bounded sample as
// the fallback) and the row estimate.
import type { CatalogColumn, CatalogRelation, ColumnProfile, RelationProfile } from '../../postgres/catalog/index.ts';
import { hasRange } from '../../postgres/catalog/index.ts';
import { isAuditColumn } from './roles.ts';
import type { TableInfo, ValueRange } from '../artifacts.ts';
import { uniqueColumns } from './model.ts';

export const DEFAULT_ENUM_THRESHOLD = 20;
const SAMPLE_VALUES = 5;
const SAMPLE_CHARS = 120;

const INTEGER_TYPES = new Set(['int2', 'int4', 'int8']);

/** Types whose few distinct values are worth listing: strings, booleans, enums, integers. */
function enumEligibleType(column: CatalogColumn): boolean {
  if (column.typtype === 'e') return true;
  const category = column.typcategory;
  if (category === 'A') return false;
  if (category === 'S' || category === 'B' || category === 'E') return true;
  if (category === 'N') return INTEGER_TYPES.has(column.baseUdtName) || (column.baseUdtName === 'numeric' && ((column.baseTypmod - 4) & 0x7ff) === 0 && column.baseTypmod > 4);
  return false;
}

function isGeneratedKey(column: CatalogColumn): boolean {
  return column.identity !== null || /^nextval\(/.test(column.default ?? '');
}

export interface EnumDecision {
  values: string[] | null;
  /** 'stats' (pg_stats), 'sample' (bounded sample), 'type' (enum type labels), or null. */
  source: 'stats' | 'sample' | 'type' | null;
}

/**
 * Enum values of a column: a pg enum type always lists its labels (observed ones first, by frequency);
 * other eligible columns qualify when they have at most `threshold` distinct values, and clearly fewer
 * than their non-null rows (a column whose every value is distinct identifies rows; it is not an enum).
 */
export function decideEnum(
  column: CatalogColumn,
  profile: ColumnProfile | undefined,
  rows: number,
  options: { threshold: number; labels?: string[] | null; unique: boolean },
): EnumDecision {
  const threshold = options.threshold;
  if (options.labels && options.labels.length) {
    const observed = (column.mostCommonVals ?? profile?.top.map((t) => t.value) ?? []).filter((v) => options.labels!.includes(v));
    const values = [...new Set([...observed, ...options.labels])];
    return { values, source: 'type' };
  }
  if (threshold <= 0 || options.unique || isGeneratedKey(column) || !enumEligibleType(column)) return { values: null, source: null };

  const sampleFits = profile !== undefined && profile.nonNull > 0 && profile.distinct <= threshold && (profile.distinct * 2 <= profile.nonNull || column.typcategory === 'B');
  if (column.nDistinct !== null && rows > 0) {
    const estimated = column.nDistinct >= 0 ? column.nDistinct : -column.nDistinct * rows;
    const nonNullRows = rows * (1 - (column.nullFrac ?? 0));
    if (estimated > threshold || estimated < 0.5) return { values: null, source: null };
    if (estimated * 2 > nonNullRows && column.typcategory !== 'B') return { values: null, source: null };
    const mcv = column.mostCommonVals ?? [];
    if (mcv.length >= Math.round(estimated)) return { values: mcv.slice(0, threshold), source: 'stats' };
    if (sampleFits) return { values: mergeByFrequency(mcv, profile!), source: 'sample' };
    return mcv.length ? { values: mcv, source: 'stats' } : { values: null, source: null };
  }
  if (sampleFits) return { values: profile!.top.slice(0, threshold).map((t) => t.value), source: 'sample' };
  return { values: null, source: null };
}

function mergeByFrequency(mcv: string[], profile: ColumnProfile): string[] {
  const out = [...mcv];
  for (const t of profile.top) if (!out.includes(t.value)) out.push(t.value);
  return out;
}

/** Row estimate: reltuples when analyzed, else from the bounded sample (exact when it read everything). */
export function estimateRows(relation: CatalogRelation, profile: RelationProfile | undefined): { rows: number; exact: boolean } {
  if (profile?.complete) return { rows: profile.rows, exact: true };
  if (relation.reltuples >= 0 && !(relation.reltuples === 0 && relation.heapBytes > 0)) return { rows: Math.round(relation.reltuples), exact: false };
  if (!profile) return { rows: 0, exact: false };
  if (profile.plan.method === 'tablesample' && profile.plan.percent) return { rows: Math.round(profile.rows / (profile.plan.percent / 100)), exact: false };
  return { rows: profile.rows, exact: false };
}

/** Fills sample values, enum values and the row estimate of a table from its profile. */
export function applyProfile(
  info: TableInfo,
  relation: CatalogRelation,
  profile: RelationProfile | undefined,
  options: { enumThreshold: number },
): void {
  const { rows, exact } = estimateRows(relation, profile);
  // Analyzed tables keep the planner's estimate unless we have an exact count.
  info.estimated_rows = rows;
  if (exact) info.rows_exact = true;
  if (profile?.heapBytes !== undefined && (info.size_bytes ?? 0) < profile.heapBytes) info.size_bytes = profile.heapBytes;
  const unique = uniqueColumns(relation);
  const labelsByType = new Map(relation.types.filter((t) => t.kind === 'e').map((t) => [t.oid, t.enumLabels]));
  relation.columns.forEach((column, i) => {
    const target = info.columns[i]!;
    const p = profile?.columns[i];
    const samples = p?.top.length ? p.top.map((t) => t.value) : column.mostCommonVals ?? [];
    // A value cut by the profile (or too long to show) is not a literal anyone can query with.
    const whole = samples.filter((v) => v.length < Math.min(SAMPLE_CHARS, PROFILE_VALUE_CHARS));
    target.sample_values = whole.slice(0, SAMPLE_VALUES);
    if (whole.length < samples.length) target.long_values = true;
    target.null_share = column.nullFrac ?? (profile && profile.rows > 0 && p ? round3(1 - p.nonNull / profile.rows) : null);
    target.distinct_share = p && p.nonNull > 0 ? round3(p.distinct / p.nonNull) : null;
    if (hasRange(column)) target.range = valueRange(column, p, profile?.complete === true);
    const decision = decideEnum(column, p, rows, {
      threshold: options.enumThreshold,
      labels: labelsByType.get(column.typeOid) ?? null,
      unique: unique.has(column.name),
    });
    target.enum_values = decision.values?.length ? decision.values.filter((v) => v.length < PROFILE_VALUE_CHARS) : null;
    if (!target.enum_values?.length) target.enum_values = null;
  });
}

/** The profile reads values cut to this many characters (postgres/catalog/sampling.ts profileSql). */
const PROFILE_VALUE_CHARS = 200;

function round3(x: number): number {
  return Math.round(x * 1000) / 1000;
}

/** Compares two values of a range column as the column's type would. */
function compareValues(a: string, b: string, numeric: boolean): number {
  if (numeric) return Number(a) - Number(b);
  return a < b ? -1 : a > b ? 1 : 0;
}

/**
 * Smallest and largest value: exact when the bounded sample read the whole relation; otherwise the
 * sample's, widened by what pg_stats saw (histogram bounds and most common values).
 */
export function valueRange(column: CatalogColumn, profile: ColumnProfile | undefined, complete: boolean): ValueRange | null {
  const numeric = column.typcategory === 'N';
  const sampled = [profile?.min, profile?.max].filter((v): v is string => v !== undefined);
  if (complete && sampled.length === 2) return { min: sampled[0]!, max: sampled[1]!, source: 'exact' };
  const fromStats = [...(column.histogramBounds ?? []), ...(column.mostCommonVals ?? [])].filter((v) => !numeric || Number.isFinite(Number(v)));
  const values = [...sampled, ...fromStats].sort((a, b) => compareValues(a, b, numeric));
  if (!values.length) return null;
  return { min: values[0]!, max: values[values.length - 1]!, source: fromStats.length ? 'stats' : 'sample' };
}

/**
 * Enum values are for codes: columns that repeat a few values. Keys, references, labels (names repeat,
 * but they are not categories), flags, measures and times are never enums, whatever their number of distinct values (`store_id` 1, 2 is a reference).
 */
export function keepEnumForRole(info: TableInfo): void {
  for (const column of info.columns) {
    if (!column.enum_values) continue;
    if (!['code', 'other'].includes(column.role ?? 'other') || isAuditColumn(column)) column.enum_values = null;
  }
}
