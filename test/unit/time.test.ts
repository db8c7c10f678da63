import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { localIso, parseTimeBound } from '../../src/time.ts';

const at = (value: string, bound: 'start' | 'end') => {
  const date = parseTimeBound(value, bound);
  return date === null ? null : `${localIso(date)}.${String(date.getMilliseconds()).padStart(3, '0')}`;
};

describe('parseTimeBound (task query and log query bounds)', () => {
  it('a date alone is the start of the day, or for an end bound its last millisecond', () => {
    assert.equal(at('2025-06-27', 'start'), '2025-06-27T00:00:00.000');
    assert.equal(at('2025-06-27', 'end'), '2025-06-27T23:59:59.999');
  });

  it('local date-times with T or a space; an end bound without a fraction covers its whole second', () => {
    assert.equal(at('2025-06-27T14:30:52', 'start'), '2025-06-27T14:30:52.000');
    assert.equal(at('2025-06-27 14:30:52', 'end'), '2025-06-27T14:30:52.999');
    assert.equal(at('2025-06-27T14:30', 'start'), '2025-06-27T14:30:00.000');
    assert.equal(at('2025-06-27T14:30', 'end'), '2025-06-27T14:30:59.999', 'an end bound to the minute covers the minute');
    assert.equal(at('2025-06-27T14:30:52.5', 'end'), '2025-06-27T14:30:52.500');
    assert.equal(at('2025-06-27 14:30:52,25', 'start'), '2025-06-27T14:30:52.250');
    assert.equal(at('  2025-06-27T14:30:52  ', 'start'), '2025-06-27T14:30:52.000');
  });

  it('a zone (Z, ±HH:MM, ±HHMM) names an instant', () => {
    assert.equal(parseTimeBound('2025-06-27T06:30:00Z', 'start')!.toISOString(), '2025-06-27T06:30:00.000Z');
    assert.equal(parseTimeBound('2025-06-27T14:30:00+08:00', 'start')!.toISOString(), '2025-06-27T06:30:00.000Z');
    assert.equal(parseTimeBound('2025-06-27 01:30:00-0500', 'end')!.toISOString(), '2025-06-27T06:30:00.999Z');
  });

  it('refuses what is not a real date or time, instead of rolling over', () => {
    for (const bad of ['', 'yesterday', '2025-13-01', '2025-02-30', '2025-06-27T24:00:00', '2025-06-27T10:60', '2025-06-27T10:00:60', '2025-6-1', '2025-06-27T10', '2025-06-27T10:00:00+8', '20250627', '2025-06-27T10:00:00+25:00', '2025-06-27T10:00:00+05:99']) {
      assert.equal(parseTimeBound(bad, 'start'), null, bad);
    }
    assert.ok(parseTimeBound('2024-02-29', 'start'));
    assert.equal(parseTimeBound('2025-02-29', 'start'), null);
  });
});
