// What each column is to an analyst (../../../../shared/spec/pair-quality.md): a key, a code, a label,
// an additive or non-additive measure, business or technical time, a flag, a soft-delete marker, text,
// contact data. Decided from keys and relationships, name words (English and Chinese, the comment
// included), the type, and the data (distinct share, ranges, timestamps that all fall within minutes).
// Every decision carries its evidence, so a reader of schema.json can see why.
import type { ColumnInfo, ColumnRole, TableInfo } from '../artifacts.ts';
import { nameWords } from '../../text/translate.ts';
import { singularNoun } from '../../text/singular.ts';

export interface RoleDecision {
  role: ColumnRole;
  evidence: string[];
}

const NUMERIC = new Set(['int2', 'int4', 'int8', 'numeric', 'float4', 'float8', 'money']);
const INTEGER = new Set(['int2', 'int4', 'int8']);
const TIME = new Set(['date', 'timestamp', 'timestamptz']);
const TEXT = new Set(['varchar', 'text', 'bpchar', 'citext', 'name']);

/** Name words of measures that must not be summed across rows: prices, rates, snapshots, limits. */
const NON_ADDITIVE_WORDS = new Set([
  'price', 'rate', 'ratio', 'pct', 'percent', 'percentage', 'discount', 'rating', 'score', 'balance', 'stock', 'inventory',
  'limit', 'threshold', 'avg', 'average', 'mean', 'median', 'temperature', 'temp', 'humidity', 'age', 'level', 'grade',
  'latitude', 'longitude', 'lat', 'lng', 'lon', 'high', 'low', 'max', 'min', 'capacity', 'height', 'width', 'depth',
  'rank', 'ranking', 'stars', 'star', 'margin', 'yield', 'elevation', 'altitude', 'speed', 'density', 'gpa', 'bmi',
  'multiplier', 'factor', 'weight', 'probability', 'share', 'index', 'rrp', 'msrp',
]);
/** Name words of measures that add up across rows. */
const ADDITIVE_WORDS = new Set([
  'amount', 'amt', 'qty', 'quantity', 'count', 'cnt', 'total', 'sum', 'bytes', 'size', 'duration', 'milliseconds', 'ms',
  'seconds', 'minutes', 'hours', 'days', 'revenue', 'sales', 'income', 'cost', 'fee', 'fees', 'paid', 'payment', 'spend',
  'spent', 'profit', 'volume', 'distance', 'length', 'visits', 'views', 'clicks', 'orders', 'units', 'points', 'money',
  'refund', 'freight', 'shipping', 'budget', 'population', 'credits', 'goals', 'runs', 'wins', 'losses', 'hits', 'pay',
]);
const NON_ADDITIVE_ZH = /(单价|价格|比率|比例|率|余额|库存|评分|得分|分数|均价|平均|温度|年龄|等级|级别|经度|纬度|上限|下限|阈值|折扣)/;
const ADDITIVE_ZH = /(金额|数量|次数|总数|总额|合计|笔数|订单数|销量|收入|营收|营业额|费用|成本|时长|流量|人数|车流|数)$/;
const CODE_ZH = /(编码|编号|代码|代号|号码|工号|序号|类型|类别|状态|分类)$/;
const LABEL_ZH = /(名称|名字|姓名|标题|全称|简称|名)$/;

const SOFT_DELETE_NAMES = /^(is_?deleted|is_?delete|deleted|del_?flag|delete_?flag|is_?del|del|is_?removed|removed|deleted_?at|deleted_?on|delete_?ts|delete_?time|deleted_?time|removed_?at)$/;
const TECHNICAL_TIME_NAMES =
  /^(update|updated|modify|modified|gmt_?modified|last_?modified|last_?update|last_?updated|etl|etl_?time|load|loaded|sync|synced|insert|inserted|ingest|ingested|refresh|refreshed|batch|dw|ods|record|row)_?(ts|at|time|timestamp|date|dt|on)?$/;
const TECHNICAL_TIME_WORDS = new Set(['etl', 'load', 'loaded', 'sync', 'synced', 'ingest', 'ingested', 'batch', 'dw', 'refresh']);
const CREATE_TIME_NAMES = /^(create|created|gmt_?create|insert|inserted)_?(ts|at|time|timestamp|date|dt|on)?$/;
const AUDIT_ACTOR_NAMES = /^(created|updated|deleted|modified|create|update|delete|modify)_?(by|user|user_?id|by_?id)$|^(creator|modifier|operator)(_?id)?$/;
const YEAR_NAMES = /^(year|yr|fiscal_?year|season|month|quarter|week|day|hour|yyyy|year_?month|period)$|_(year|yr|month|quarter)$|^(birth|release|publication|pub|model|founded|start|end)_?year$/;
const LABEL_WORDS = new Set(['name', 'title', 'label', 'caption', 'nickname', 'firstname', 'lastname', 'surname', 'fullname', 'username']);
const CONTACT_WORDS = new Set(['zip', 'phone', 'mobile', 'tel', 'telephone', 'fax', 'email', 'mail', 'address', 'street', 'url', 'website', 'homepage', 'postcode', 'zipcode', 'wechat', 'qq', 'addr']);
const CODE_LIKE_NUMBER_WORDS = new Set(['zip', 'zipcode', 'postcode', 'postal', 'house', 'phone', 'tel', 'mobile', 'fax', 'isbn', 'ean', 'upc', 'sku', 'barcode', 'ssn', 'version', 'revision', 'seq', 'sequence', 'sort', 'order_no', 'ordinal', 'position', 'floor', 'room', 'track_number', 'disc', 'episode', 'number', 'no', 'num', 'nr']);
const KEY_SUFFIX_WORDS = new Set(['id', 'no', 'code', 'num', 'number', 'key', 'sn', 'uuid', 'guid', 'nr', 'ref']);
const TEXT_WORDS = new Set(['description', 'desc', 'remark', 'remarks', 'note', 'notes', 'memo', 'comment', 'comments', 'content', 'body', 'summary', 'abstract', 'text', 'message', 'bio', 'detail', 'details', 'reason', 'review', 'feedback']);
const FLAG_PREFIX = new Set(['is', 'has', 'can', 'should', 'allow', 'allows', 'enable', 'enabled', 'active', 'flag']);
const STATUS_WORDS = new Set(['status', 'state', 'type', 'kind', 'category', 'class', 'gender', 'sex', 'mode', 'level', 'tier', 'channel', 'method', 'source', 'currency', 'country', 'region', 'city', 'province', 'language', 'genre', 'format', 'unit', 'color', 'colour', 'segment', 'priority', 'rating_code']);

/** Words of a column name with flat compounds of known endings split (`paperid` → paper id). */
export function roleWords(name: string): string[] {
  const words = nameWords(name);
  const out: string[] = [];
  for (const w of words) {
    const m = /^([a-z]{2,})(id|no|code|key|name|date|time|ts|at|qty|amt|count|price|rate|num)$/.exec(w);
    // A time suffix only after what is stamped (createdat, updatets, logints), not in visits, points, seat.
    const stamp = m && (m[2] === 'ts' || m[2] === 'at') ? m[1]!.length >= 4 && /(ed|e|load|sync|start|end|insert|login|log|paid)$/.test(m[1]!) : true;
    if (m && stamp && !LABEL_WORDS.has(w) && !['rate', 'date', 'count', 'amount', 'discount', 'account', 'format'].includes(w)) out.push(m[1]!, m[2]!);
    else out.push(w);
  }
  return out;
}

export interface TableFacts {
  primaryKey: Set<string>;
  foreignKeys: Set<string>;
  unique: Set<string>;
  rows: number;
}

export function tableFacts(info: TableInfo): TableFacts {
  return {
    primaryKey: new Set(info.primary_key),
    foreignKeys: new Set(info.foreign_keys.flatMap((fk) => fk.columns)),
    unique: new Set([...info.unique_constraints.filter((u) => u.length === 1).map((u) => u[0]!), ...(info.primary_key.length === 1 ? info.primary_key : [])]),
    rows: info.estimated_rows,
  };
}

function isNumeric(column: ColumnInfo): boolean {
  return NUMERIC.has(column.udt_name) || (column.udt_name === 'numeric');
}

function isIntegerLike(column: ColumnInfo): boolean {
  return INTEGER.has(column.udt_name) || (column.udt_name === 'numeric' && column.numeric_scale === 0);
}

/** PostgreSQL's text of a timestamp(tz): `2025-01-05 02:00:00+08` → a Date (offsets as ±hh or ±hh:mm). */
function parseTimestamp(text: string): number {
  return Date.parse(text.replace(' ', 'T').replace(/([+-]\d\d)$/, '$1:00').replace(/([+-]\d\d)(\d\d)$/, '$1:$2'));
}

/** Minutes between the smallest and largest timestamp, when both parse. */
function spanMinutes(column: ColumnInfo): number | undefined {
  if (!column.range) return undefined;
  const lo = parseTimestamp(column.range.min);
  const hi = parseTimestamp(column.range.max);
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return undefined;
  return (hi - lo) / 60_000;
}

/** The role of one column of a table. `llmRole` is what the annotate call said (a strong hint). */
export function decideRole(column: ColumnInfo, facts: TableFacts, llmRole?: ColumnRole): RoleDecision {
  const words = roleWords(column.name);
  const last = words.at(-1) ?? '';
  const first = words[0] ?? '';
  const lower = column.name.toLowerCase();
  // Chinese names carry their meaning like comments do (单价, 订单数).
  const comment = `${column.comment ?? ''} ${/[^\x00-\x7f]/.test(column.name) ? column.name : ''}`.trim();
  const t = column.udt_name;
  const numeric = isNumeric(column);
  const evidence: string[] = [];
  const decided = (role: ColumnRole, ...why: string[]): RoleDecision => ({ role, evidence: [...evidence, ...why] });

  // Keys first: they hold whatever their names say.
  if (facts.foreignKeys.has(column.name)) return decided('foreign_key', 'references another table');
  if (facts.primaryKey.has(column.name) && facts.primaryKey.size === 1) return decided('identifier', 'primary key');
  if (SOFT_DELETE_NAMES.test(lower) || /(删除时间|删除标志|是否删除|软删除)/.test(comment)) return decided('soft_delete', `name ${column.name}`);
  if (t === 'bool') return decided('flag', 'type boolean');
  if (AUDIT_ACTOR_NAMES.test(lower) || /^(version|revision|row_?version|lock_?version|etag)$/.test(lower)) return decided('other', `audit column ${column.name}`);

  if (TIME.has(t) || /^(time|timetz|interval)$/.test(t)) {
    if (TIME.has(t)) {
      if (TECHNICAL_TIME_NAMES.test(lower) || words.some((w) => TECHNICAL_TIME_WORDS.has(w)) || /(更新时间|修改时间|同步时间|加载时间|入库时间|ETL)/i.test(comment))
        return decided('technical_time', `name ${column.name}`);
      const span = spanMinutes(column);
      if (span !== undefined && span < 60 && facts.rows > 20) return decided('technical_time', `all values within ${Math.max(1, Math.round(span))} min`);
      if (CREATE_TIME_NAMES.test(lower) && /now\(\)|current_timestamp|clock_timestamp|localtimestamp/i.test(column.default ?? ''))
        evidence.push('create time with a now() default');
      return decided('business_time', `type ${t}`);
    }
    return decided(t === 'interval' ? 'additive_measure' : 'other', `type ${t}`);
  }
  if (facts.primaryKey.has(column.name)) return decided('identifier', 'part of the primary key');

  if (llmRole && llmRole !== 'foreign_key' && llmRole !== 'identifier' && llmRole !== 'soft_delete') {
    // The model read the comments and values; trust it where the catalog has nothing to say.
    if (!(llmRole.endsWith('measure') && !numeric)) return decided(llmRole, 'LLM');
  }

  const keyLike = KEY_SUFFIX_WORDS.has(last) && words.length > 1;
  const countLike = ADDITIVE_WORDS.has(last) || /[^s]s$/.test(last);
  if (!keyLike && ((CONTACT_WORDS.has(last) && !countLike) || (words.some((w) => ['email', 'phone', 'mobile', 'telephone', 'fax', 'address', 'url', 'website'].includes(w)) && !countLike) || /(电话|手机|邮箱|地址|传真|网址)$/.test(comment)))
    return decided('contact', `name word ${words.find((w) => CONTACT_WORDS.has(w)) ?? last}`);
  // `is_active` is a flag; `active_users` counts users: a flag has two values at most.
  const twoValued = (column.enum_values?.length ?? 99) <= 2;
  if (FLAG_PREFIX.has(first) && words.length > 1 && (['is', 'has', 'can', 'should'].includes(first) || twoValued) && (!numeric || twoValued)) return decided('flag', `name starts with ${first}`);
  if (/^(是否|有无)/.test(comment)) return decided('flag', 'comment 是否');

  if (numeric) {
    if (YEAR_NAMES.test(lower) && isIntegerLike(column)) return decided('business_time', `name ${column.name}`);
    if (isIntegerLike(column) && STATUS_WORDS.has(last) && !['level', 'tier', 'priority'].includes(last)) return decided('code', `name word ${last}`);
    if (isIntegerLike(column) && ['priority', 'tier'].includes(last)) return decided('code', `name word ${last}`);
    // `citation_num`, `num_items`: a count; `invoice_num`, `house_no`: a code.
    if (['num', 'number', 'cnt', 'count'].includes(last) && words.length > 1 && /^(citation|reference|view|visit|click|page|order|item|member|employee|student|seat|room|bed)s?$/.test(words[words.length - 2]!))
      return decided('additive_measure', `name ${column.name} counts ${words[words.length - 2]}`);
    if (KEY_SUFFIX_WORDS.has(last) && isIntegerLike(column)) {
      if (facts.unique.has(column.name)) return decided('identifier', `name ends with ${last}`, 'unique');
      return decided('code', `name ends with ${last}`);
    }
    if (words.some((w) => CODE_LIKE_NUMBER_WORDS.has(w)) && isIntegerLike(column) && !/^(num|number|n|count|total)$/.test(first))
      return decided('code', `name word ${words.find((w) => CODE_LIKE_NUMBER_WORDS.has(w))}`);
    if (CODE_ZH.test(comment) && isIntegerLike(column)) return decided('code', `comment ${comment}`);
    // Chinese comments name the measure more reliably than abbreviated names (wx → 微信支付金额).
    if (NON_ADDITIVE_ZH.test(comment) && !/(金额|总额)$/.test(comment)) return decided('non_additive_measure', `comment ${comment}`);
    if (ADDITIVE_ZH.test(comment)) return decided('additive_measure', `comment ${comment}`);
    const perUnit = (words.includes('unit') || words.includes('per')) && words.some((w) => ADDITIVE_WORDS.has(w));
    const nonAdditive = perUnit ? 'unit' : words.find((w) => NON_ADDITIVE_WORDS.has(w) || w.startsWith('avg') || w.endsWith('rate') || w.endsWith('price') || w.endsWith('ratio'));
    const additive = words.find((w) => ADDITIVE_WORDS.has(w));
    // `unit_price` is a price; `total_price` and `price_total` add up; `line_total` adds up.
    if (nonAdditive && !(additive && ['total', 'sum', 'amount', 'amt'].includes(additive))) return decided('non_additive_measure', `name word ${nonAdditive}`);
    if (additive) return decided('additive_measure', `name word ${additive}`);
    if (words[0] === 'num' || words[0] === 'n' || words[0] === 'number') return decided('additive_measure', `name starts with ${words[0]}`);
    if (column.distinct_share !== null && column.distinct_share !== undefined && column.distinct_share >= 0.999 && isIntegerLike(column) && facts.rows > 20 && /(^|_)(id|key|no)$/.test(lower))
      return decided('identifier', 'all values distinct');
    // Few values make a number look like a code, unless its name counts things: `active_users`, `visits`.
    if (isIntegerLike(column) && singularNoun(last) !== last) return decided('additive_measure', `name ${column.name} counts ${last}`);
    if (isIntegerLike(column) && column.enum_values && column.enum_values.length <= 12 && facts.rows > 20) return decided('code', 'few integer values');
    return decided('additive_measure', `type ${t}`, 'no name word (default for numbers)');
  }

  if (TEXT.has(t)) {
    if (KEY_SUFFIX_WORDS.has(last) && last !== 'ref') {
      if (facts.unique.has(column.name)) return decided('identifier', `name ends with ${last}`, 'unique');
      return decided('code', `name ends with ${last}`);
    }
    if (CODE_ZH.test(comment) && !LABEL_ZH.test(comment)) return decided('code', `comment ${comment}`);
    if (words.some((w) => TEXT_WORDS.has(w)) || /(描述|备注|说明|内容|简介)/.test(comment)) return decided('text', `name word ${words.find((w) => TEXT_WORDS.has(w)) ?? 'comment'}`);
    if (words.some((w) => LABEL_WORDS.has(w)) || LABEL_ZH.test(comment)) return decided('label', `name word ${words.find((w) => LABEL_WORDS.has(w)) ?? 'comment'}`);
    if (words.some((w) => STATUS_WORDS.has(w)) || column.enum_values?.length) return decided('code', column.enum_values?.length ? 'few distinct values' : `name word ${words.find((w) => STATUS_WORDS.has(w))}`);
    if ((column.max_length ?? 0) > 500 || t === 'text') return decided('text', `type ${t}`);
    return decided('other', `type ${t}`);
  }
  if (t === 'uuid') return decided(facts.unique.has(column.name) ? 'identifier' : 'code', 'type uuid');
  if (t === 'json' || t === 'jsonb' || t === 'xml') return decided('text', `type ${t}`);
  return decided('other', `type ${t}`);
}

/** Roles for every column of a table (in place), with the LLM's roles where it gave some. */
export function assignRoles(info: TableInfo, llmRoles?: Map<string, ColumnRole>): void {
  const facts = tableFacts(info);
  for (const column of info.columns) {
    const decision = decideRole(column, facts, llmRoles?.get(column.name));
    column.role = decision.role;
    column.role_evidence = decision.evidence;
  }
  // A row's create timestamp is audit data when the table has its own business date (oper_date).
  // So is one that comes with audit actors (create_ts beside created_by): the row's history, not an event.
  const businessDates = info.columns.filter((c) => c.role === 'business_time' && !CREATE_TIME_NAMES.test(c.name.toLowerCase()));
  const auditActor = info.columns.find((c) => AUDIT_ACTOR_NAMES.test(c.name.toLowerCase()));
  if (businessDates.length || auditActor) {
    for (const column of info.columns) {
      if (column.role === 'business_time' && CREATE_TIME_NAMES.test(column.name.toLowerCase()) && !llmRoles?.has(column.name)) {
        column.role = 'technical_time';
        column.role_evidence = [
          businessDates.length ? `create time of the row; the table's business time is ${businessDates[0]!.name}` : `create time of the row, audited with ${auditActor!.name}`,
        ];
      }
    }
  }
}

/** Audit columns (who changed a row, its version): never enums, never in questions. */
export function isAuditColumn(column: ColumnInfo): boolean {
  return column.role === 'other' && (column.role_evidence ?? []).some((e) => e.startsWith('audit column'));
}
