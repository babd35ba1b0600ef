import { describe, expect, it } from 'vitest';
import { lastCompletePeriod, periodContaining } from '../../src/lib/time/periods.js';

describe('periodContaining weekly (ISO week, Monday to Sunday)', () => {
  it.each([
    ['2024-05-13', '2024-05-13', '2024-05-19', '2024-W20'], // a Monday
    ['2024-05-16', '2024-05-13', '2024-05-19', '2024-W20'], // a Thursday
    ['2024-05-19', '2024-05-13', '2024-05-19', '2024-W20'], // a Sunday
    ['2020-12-31', '2020-12-28', '2021-01-03', '2020-W53'], // spans the year boundary
    ['2021-01-03', '2020-12-28', '2021-01-03', '2020-W53'],
    ['2019-12-30', '2019-12-30', '2020-01-05', '2020-W01'], // week 1 starting in December
    ['2024-02-29', '2024-02-26', '2024-03-03', '2024-W09'],
  ])('%s -> %s..%s (%s)', (date, start, end, label) => {
    expect(periodContaining('weekly', date)).toEqual({ kind: 'weekly', start, end, label });
  });
});

describe('periodContaining monthly (calendar month)', () => {
  it.each([
    ['2024-01-31', '2024-01-01', '2024-01-31'], // 31 days
    ['2024-01-01', '2024-01-01', '2024-01-31'],
    ['2024-02-10', '2024-02-01', '2024-02-29'], // leap February
    ['2023-02-28', '2023-02-01', '2023-02-28'],
    ['2100-02-15', '2100-02-01', '2100-02-28'], // not a leap year (century)
    ['2024-04-30', '2024-04-01', '2024-04-30'], // 30 days
    ['2020-12-31', '2020-12-01', '2020-12-31'],
  ])('%s -> %s..%s', (date, start, end) => {
    expect(periodContaining('monthly', date)).toEqual({
      kind: 'monthly',
      start,
      end,
      label: start.slice(0, 7),
    });
  });

  it('rejects a date that does not exist', () => {
    expect(() => periodContaining('monthly', '2023-02-29')).toThrow(/not a date/);
    expect(() => periodContaining('weekly', '2024-13-01')).toThrow(/not a date/);
  });
});

describe('lastCompletePeriod', () => {
  it('is the previous ISO week, even on a Monday', () => {
    expect(lastCompletePeriod('weekly', new Date('2021-01-04T00:30:00Z'), 'UTC')).toMatchObject({
      start: '2020-12-28',
      end: '2021-01-03',
    });
    expect(lastCompletePeriod('weekly', new Date('2024-05-19T23:59:00Z'), 'UTC').start).toBe('2024-05-06');
  });

  it('is the previous month, across the year boundary', () => {
    expect(lastCompletePeriod('monthly', new Date('2021-01-15T12:00:00Z'), 'UTC')).toMatchObject({
      start: '2020-12-01',
      end: '2020-12-31',
    });
    expect(lastCompletePeriod('monthly', new Date('2024-03-01T00:00:00Z'), 'UTC').end).toBe('2024-02-29');
  });

  it('takes "today" in the configured time zone', () => {
    // 2021-01-31T20:00Z is already February 1st in Seoul (UTC+9): January is then complete.
    const instant = new Date('2021-01-31T20:00:00Z');
    expect(lastCompletePeriod('monthly', instant, 'UTC').start).toBe('2020-12-01');
    expect(lastCompletePeriod('monthly', instant, 'Asia/Seoul').start).toBe('2021-01-01');
  });
});
