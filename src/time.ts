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
