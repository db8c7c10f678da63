// Time: technical timestamps (load, ETL, update times) are not business time; a window relative to today
// must hold data (on historical data "the last 30 days" is empty).
import type { SqlTree } from '../../analyze.ts';
import { constantText, funcName, strings, type Comparison } from '../model.ts';
import type { LintFinding, Rule } from '../types.ts';
import { columnLabel, dedupe, TIME_TYPES } from './shared.ts';

export const technicalTime: Rule = ({ model, t }) => {
  const findings: LintFinding[] = [];
  for (const scope of model.scopes) {
    for (const use of scope.columns) {
      if (use.column?.role !== 'technical_time') continue;
      const where = use.inTimeFunction ? 'time function' : use.clause;
      if (!use.inTimeFunction && !['where', 'group', 'join', 'window', 'order', 'having'].includes(use.clause)) continue;
      const col = columnLabel(use);
      findings.push({
        rule: 'technical_time',
        severity: 'error',
        message: t(
          `${col} 是技术时间（装载/更新/同步时间），不是业务发生时间，不能用于趋势、分组或过滤（${where}）；应使用业务时间列`,
          `${col} is a technical time (load/update/sync time), not when the business event happened; do not use it for trends, grouping or filters (${where}); use a business time column`,
        ),
        columns: [col],
      });
    }
  }
  return dedupe(findings);
};

// ------------------------------------------------------------------------------ relative windows

interface TimeValue {
  at: Date;
  relative: boolean;
}
interface IntervalValue {
  months: number;
  ms: number;
}

const UNIT_MS: Record<string, number> = { microsecond: 1e-3, millisecond: 1, second: 1000, minute: 60_000, hour: 3_600_000, day: 86_400_000, week: 7 * 86_400_000 };
const UNIT_MONTHS: Record<string, number> = { month: 1, mon: 1, quarter: 3, year: 12, yr: 12, decade: 120 };

function kindOf(node: unknown): string | undefined {
  if (!node || typeof node !== 'object' || Array.isArray(node)) return undefined;
  const keys = Object.keys(node);
  return keys.length === 1 ? keys[0] : undefined;
}

function parseInterval(text: string): IntervalValue | undefined {
  const out = { months: 0, ms: 0 };
  const re = /(-?\d+(?:\.\d+)?)\s*([a-z]+)/gi;
  let m: RegExpExecArray | null;
  let any = false;
  while ((m = re.exec(text))) {
    const n = Number(m[1]);
    const unit = m[2]!.toLowerCase().replace(/s$/, '');
    const norm = unit === 'min' ? 'minute' : unit === 'sec' ? 'second' : unit === 'h' || unit === 'hr' ? 'hour' : unit === 'd' ? 'day' : unit === 'y' ? 'year' : unit;
    if (UNIT_MS[norm] !== undefined) out.ms += n * UNIT_MS[norm]!;
    else if (UNIT_MONTHS[norm] !== undefined) out.months += n * UNIT_MONTHS[norm]!;
    else return undefined;
    any = true;
  }
  if (!any && /^\s*-?\d+\s*$/.test(text)) return undefined;
  return any ? out : undefined;
}

function isIntervalType(typeName: SqlTree | undefined): boolean {
  return strings(typeName?.names).at(-1) === 'interval';
}

function evalInterval(node: SqlTree): IntervalValue | undefined {
  const k = kindOf(node);
  if (k === 'TypeCast' && isIntervalType(node.TypeCast.typeName)) {
    const text = constantText(node.TypeCast.arg);
    if (text === undefined) return undefined;
    const iv = parseInterval(text);
    // INTERVAL '30' DAY: the unit is a typmod; only the common textual form is read.
    return iv;
  }
  if (k === 'A_Expr' && node.A_Expr.kind === 'AEXPR_OP' && strings(node.A_Expr.name)[0] === '*') {
    const l = node.A_Expr.lexpr;
    const r = node.A_Expr.rexpr;
    const ln = constantText(l);
    const rn = constantText(r);
    const li = ln === undefined ? evalInterval(l) : undefined;
    const ri = rn === undefined ? evalInterval(r) : undefined;
    if (ln !== undefined && ri && !Number.isNaN(Number(ln))) return { months: ri.months * Number(ln), ms: ri.ms * Number(ln) };
    if (rn !== undefined && li && !Number.isNaN(Number(rn))) return { months: li.months * Number(rn), ms: li.ms * Number(rn) };
  }
  return undefined;
}

function addInterval(at: Date, iv: IntervalValue, sign: 1 | -1): Date {
  const d = new Date(at.getTime());
  if (iv.months) d.setUTCMonth(d.getUTCMonth() + sign * iv.months);
  return new Date(d.getTime() + sign * iv.ms);
}

function truncate(at: Date, unit: string): Date | undefined {
  const d = new Date(at.getTime());
  const y = d.getUTCFullYear();
  switch (unit) {
    case 'day':
      return new Date(Date.UTC(y, d.getUTCMonth(), d.getUTCDate()));
    case 'week': {
      const day = (d.getUTCDay() + 6) % 7;
      return new Date(Date.UTC(y, d.getUTCMonth(), d.getUTCDate() - day));
    }
    case 'month':
      return new Date(Date.UTC(y, d.getUTCMonth(), 1));
    case 'quarter':
      return new Date(Date.UTC(y, Math.floor(d.getUTCMonth() / 3) * 3, 1));
    case 'year':
      return new Date(Date.UTC(y, 0, 1));
    default:
      return undefined;
  }
}

/** A time expression evaluated against `now`: now()/current_date/... ± intervals, date_trunc of those. */
export function evalTime(node: SqlTree | undefined, now: Date): TimeValue | undefined {
  if (!node) return undefined;
  const k = kindOf(node);
  const body = k ? node[k] : undefined;
  switch (k) {
    case 'SQLValueFunction': {
      const op = String(body.op ?? '');
      if (op === 'SVFOP_CURRENT_DATE') return { at: truncate(now, 'day')!, relative: true };
      if (/CURRENT_TIMESTAMP|LOCALTIMESTAMP/.test(op)) return { at: now, relative: true };
      return undefined;
    }
    case 'FuncCall': {
      const name = funcName(body);
      if (['now', 'clock_timestamp', 'statement_timestamp', 'transaction_timestamp'].includes(name) && !body.args?.length) return { at: now, relative: true };
      if (name === 'date_trunc' && body.args?.length === 2) {
        const unit = constantText(body.args[0])?.toLowerCase();
        const inner = evalTime(body.args[1], now);
        const at = inner && unit ? truncate(inner.at, unit) : undefined;
        return at && inner ? { at, relative: inner.relative } : undefined;
      }
      return undefined;
    }
    case 'TypeCast': {
      const type = strings(body.typeName?.names).at(-1);
      const inner = evalTime(body.arg, now);
      if (inner) return type === 'date' ? { at: truncate(inner.at, 'day')!, relative: inner.relative } : inner;
      const text = constantText(body.arg);
      if (text && type && ['date', 'timestamp', 'timestamptz'].includes(type)) {
        const at = new Date(/[zZ]|[+-]\d\d:?\d\d$/.test(text) ? text : `${text.replace(' ', 'T')}${text.length <= 10 ? 'T00:00:00' : ''}Z`);
        return Number.isNaN(at.getTime()) ? undefined : { at, relative: false };
      }
      return undefined;
    }
    case 'A_Expr': {
      if (body.kind !== 'AEXPR_OP') return undefined;
      const op = strings(body.name)[0];
      if (op !== '+' && op !== '-') return undefined;
      const base = evalTime(body.lexpr, now);
      if (!base) {
        // interval + now()
        const iv = op === '+' ? evalInterval(body.lexpr) : undefined;
        const right = iv ? evalTime(body.rexpr, now) : undefined;
        return iv && right ? { at: addInterval(right.at, iv, 1), relative: right.relative } : undefined;
      }
      const iv = evalInterval(body.rexpr);
      if (iv) return { at: addInterval(base.at, iv, op === '+' ? 1 : -1), relative: base.relative };
      const days = constantText(body.rexpr);
      if (days !== undefined && /^\d+$/.test(days)) return { at: addInterval(base.at, { months: 0, ms: Number(days) * 86_400_000 }, op === '+' ? 1 : -1), relative: base.relative };
      return undefined;
    }
    default:
      return undefined;
  }
}

/** The window [lower, upper) a comparison puts on its column, when a bound is relative to today. */
function relativeWindow(c: Comparison, now: Date): { lower?: Date; upper?: Date } | undefined {
  if (c.op === 'between') {
    const list = (c.other as SqlTree | undefined)?.List?.items as SqlTree[] | undefined;
    if (!list || list.length !== 2) return undefined;
    const lo = evalTime(list[0], now);
    const hi = evalTime(list[1], now);
    if (!lo || !hi || !(lo.relative || hi.relative)) return undefined;
    return { lower: lo.at, upper: new Date(hi.at.getTime() + 1) };
  }
  const v = evalTime(c.other, now);
  if (!v?.relative) return undefined;
  if (c.op === '>=' || c.op === '>') return { lower: v.at };
  if (c.op === '<' || c.op === '<=') return { upper: v.at };
  if (c.op === '=') return { lower: v.at, upper: new Date(v.at.getTime() + 86_400_000) };
  return undefined;
}

function parseBound(text: string): Date | undefined {
  const d = new Date(/[zZ]|[+-]\d\d(:?\d\d)?$/.test(text) ? text.replace(' ', 'T') : `${text.replace(' ', 'T')}${text.length <= 10 ? 'T00:00:00' : ''}Z`);
  return Number.isNaN(d.getTime()) ? undefined : d;
}

const iso = (d: Date) => d.toISOString().slice(0, 19).replace('T', ' ');

export const relativeWindowNoData: Rule = async ({ model, options, t }) => {
  const findings: LintFinding[] = [];
  const now = options.now ?? new Date();
  for (const scope of model.scopes) {
    const byColumn = new Map<string, { use: Comparison['column']; lower?: Date; upper?: Date }>();
    for (const c of scope.comparisons) {
      const col = c.column.column;
      if (!col || !c.column.table || !(TIME_TYPES.has(col.type) || col.role === 'business_time' || col.role === 'technical_time')) continue;
      const w = relativeWindow(c, now);
      if (!w) continue;
      const entry = byColumn.get(col.label) ?? { use: c.column };
      if (w.lower && (!entry.lower || w.lower > entry.lower)) entry.lower = w.lower;
      if (w.upper && (!entry.upper || w.upper < entry.upper)) entry.upper = w.upper;
      byColumn.set(col.label, entry);
    }
    for (const { use, lower, upper } of byColumn.values()) {
      const col = use.column!;
      const min = col.range ? parseBound(col.range.min) : undefined;
      const max = col.range ? parseBound(col.range.max) : undefined;
      let empty: boolean | undefined;
      if (options.probe) {
        const has = await options.probe.rowsInWindow(use.table!, col.name, lower ? iso(lower) : undefined, upper ? iso(upper) : undefined);
        if (has !== undefined) empty = !has;
      }
      const byRange = (lower && max && max < lower) || (upper && min && min >= upper);
      if (empty === undefined) empty = Boolean(byRange);
      if (!empty) continue;
      const window = `${lower ? iso(lower) : '…'} .. ${upper ? iso(upper) : '…'}`;
      const range = col.range ? `${col.range.min} .. ${col.range.max}` : t('未知', 'unknown');
      findings.push({
        rule: 'relative_window_no_data',
        severity: options.probe || col.range?.source !== 'sample' ? 'error' : 'warning',
        message: t(
          `相对今天的时间窗口（${columnLabel(use)}: ${window}）内没有数据，数据范围是 ${range}：应以数据自身的最新日期为基准，或使用范围内的绝对日期`,
          `the window relative to today (${columnLabel(use)}: ${window}) holds no data; the data range is ${range}: anchor on the data's own latest date or use absolute dates inside the range`,
        ),
        columns: [columnLabel(use)],
      });
    }
  }
  return dedupe(findings);
};
