// Timestamps as the guide shows them: server local time, no zone, no milliseconds.
const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** 2025-06-27 14:30:52 (log lines, guide §7.4) */
export function localTimestamp(date: Date): string {
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())} ${pad(date.getHours())}:${pad(date.getMinutes())}:${pad(date.getSeconds())}`;
}

/** 2025-06-27T14:30:52 */
export function localIso(date: Date): string;
export function localIso(date: Date | null | undefined): string | null;
export function localIso(date: Date | null | undefined): string | null {
  return date ? localTimestamp(date).replace(' ', 'T') : null;
}

/** 20250627_143052 (task ids and output file names) */
export function localStamp(date: Date): string {
  return `${date.getFullYear()}${pad(date.getMonth() + 1)}${pad(date.getDate())}_${pad(date.getHours())}${pad(date.getMinutes())}${pad(date.getSeconds())}`;
}

/** 20250627143521 (execution ids) */
export function compactStamp(date: Date): string {
  return localStamp(date).replace('_', '');
}

const DATE_TIME_BOUND =
  /^(\d{4})-(\d{2})-(\d{2})(?:[T ](\d{2}):(\d{2})(?::(\d{2})(?:[.,](\d+))?)?(Z|[+-]\d{2}:?\d{2})?)?$/i;

/**
 * A time-range bound as users write it (task query, log query): `YYYY-MM-DD`, or a date-time with `T` or
 * a space, optional seconds and fraction, local time unless it carries `Z` or `±HH:MM` (up to ±14:00). A
 * start bound is the first millisecond of what it names, an end bound the last: a date alone covers the
 * day, `HH:MM` the minute, `HH:MM:SS` the second. Null when the text is not a real date or time (2025-02-30,
 * 25:00 and the like never roll over).
 */
export function parseTimeBound(value: string, bound: 'start' | 'end'): Date | null {
  const match = DATE_TIME_BOUND.exec(value.trim());
  if (!match) return null;
  const [, y, mo, d, hh, mi, ss, fraction, zone] = match;
  const [year, month, day] = [Number(y), Number(mo), Number(d)];
  const calendar = new Date(Date.UTC(year, month - 1, day));
  if (calendar.getUTCFullYear() !== year || calendar.getUTCMonth() !== month - 1 || calendar.getUTCDate() !== day) return null;
  if (hh === undefined) {
    return bound === 'start' ? new Date(year, month - 1, day, 0, 0, 0, 0) : new Date(year, month - 1, day, 23, 59, 59, 999);
  }
  const [hour, minute] = [Number(hh), Number(mi)];
  // An end bound covers what it names: a minute written without seconds, a second without a fraction.
  const second = ss !== undefined ? Number(ss) : bound === 'end' ? 59 : 0;
  if (hour > 23 || minute > 59 || second > 59) return null;
  const ms = fraction === undefined ? (bound === 'end' ? 999 : 0) : Math.floor(Number(`0.${fraction}`) * 1000);
  if (!zone) return new Date(year, month - 1, day, hour, minute, second, ms);
  let offsetMinutes = 0;
  if (zone.toUpperCase() !== 'Z') {
    const [zoneHours, zoneMinutes] = [Number(zone.slice(1, 3)), Number(zone.slice(-2))];
    if (zoneHours > 14 || zoneMinutes > 59) return null;
    offsetMinutes = (zone.startsWith('-') ? -1 : 1) * (zoneHours * 60 + zoneMinutes);
  }
  return new Date(Date.UTC(year, month - 1, day, hour, minute, second, ms) - offsetMinutes * 60_000);
}
