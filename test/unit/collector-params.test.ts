import { describe, expect, it } from 'vitest';
import { plainArray } from '../../src/lib/db/query.js';
import { compactDate, dateInZone } from '../../src/lib/time/dates.js';

describe('plainArray', () => {
  it('writes an array literal without quoting, NULL for null', () => {
    expect(plainArray([1, -2, null, 3])).toBe('{1,-2,NULL,3}');
    expect(plainArray(['2024-05-01T10:00:00.000+02:00', '7a0e3b8e-0000-4000-8000-000000000000'])).toBe(
      '{2024-05-01T10:00:00.000+02:00,7a0e3b8e-0000-4000-8000-000000000000}',
    );
    expect(plainArray([])).toBe('{}');
  });
});

describe('dateInZone (memoised per second)', () => {
  it('gives each instant its own date around midnight, also with a half-hour offset', () => {
    // Asia/Kolkata is UTC+05:30: local midnight of May 2 is 18:30:00Z on May 1.
    const zone = 'Asia/Kolkata';
    expect(dateInZone('2024-05-01T18:29:59.999Z', zone)).toBe('2024-05-01');
    expect(dateInZone('2024-05-01T18:29:59.001Z', zone)).toBe('2024-05-01');
    expect(dateInZone('2024-05-01T18:30:00.000Z', zone)).toBe('2024-05-02');
    expect(dateInZone(Date.parse('2024-05-01T18:29:59.500Z'), zone)).toBe('2024-05-01');
    expect(dateInZone(new Date('2024-05-01T18:30:00.500Z'), 'UTC')).toBe('2024-05-01');
    expect(dateInZone(new Date('1969-12-31T23:59:59.500Z'), 'UTC')).toBe('1969-12-31');
  });

  it('still refuses an invalid instant, every time', () => {
    expect(() => dateInZone('not a date', 'UTC')).toThrow();
    expect(() => dateInZone('not a date', 'UTC')).toThrow();
  });

  it('compactDate still checks its input', () => {
    expect(compactDate('2024-05-01')).toBe('20240501');
    expect(compactDate('2024-05-01')).toBe('20240501');
    expect(() => compactDate('2024-02-30')).toThrow();
  });
});
