import { describe, expect, it } from 'vitest';
import { periodOf } from '../../src/domain/rankings/period.js';

describe('ranking periods', () => {
  it('an ISO week runs Monday to Sunday, across month and year ends', () => {
    expect(periodOf('weekly', '2026-03-05')).toEqual({ start: '2026-03-02', end: '2026-03-08' });
    expect(periodOf('weekly', '2026-03-02')).toEqual({ start: '2026-03-02', end: '2026-03-08' });
    expect(periodOf('weekly', '2026-03-08')).toEqual({ start: '2026-03-02', end: '2026-03-08' });
    expect(periodOf('weekly', '2027-01-01')).toEqual({ start: '2026-12-28', end: '2027-01-03' });
  });

  it('a month is its calendar month, leap years included', () => {
    expect(periodOf('monthly', '2024-02-15')).toEqual({ start: '2024-02-01', end: '2024-02-29' });
    expect(periodOf('monthly', '2026-12-31')).toEqual({ start: '2026-12-01', end: '2026-12-31' });
    expect(periodOf('daily', '2026-05-05')).toEqual({ start: '2026-05-05', end: '2026-05-05' });
  });

  it('refuses a date that does not exist', () => {
    expect(() => periodOf('weekly', '2026-02-30')).toThrow(/not a date/);
  });
});
