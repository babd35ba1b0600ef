import { describe, expect, it } from 'vitest';
import { parseDuration } from '../../src/lib/duration.js';
import { backoffDelay } from '../../src/lib/backoff.js';

describe('parseDuration', () => {
  it.each([
    ['7d', 7 * 86_400_000],
    ['12h', 12 * 3_600_000],
    ['30m', 1_800_000],
    ['45s', 45_000],
    ['250ms', 250],
  ])('%s', (text, ms) => expect(parseDuration(text)).toBe(ms));

  it.each(['7', 'd', '1w', '-1d', '0d', '1.5h', '7 days', ''])('rejects %j', (text) => {
    expect(() => parseDuration(text)).toThrow(/duration/);
  });
});

describe('backoffDelay', () => {
  const options = { baseMs: 100, maxMs: 10_000 };
  it('doubles per attempt up to the cap, without jitter', () => {
    const noJitter = { ...options, jitter: 0 };
    expect([1, 2, 3, 4].map((a) => backoffDelay(a, noJitter))).toEqual([100, 200, 400, 800]);
    expect(backoffDelay(30, noJitter)).toBe(10_000);
  });
  it('full jitter stays within [0, cap]', () => {
    expect(backoffDelay(3, options, () => 0)).toBe(0);
    expect(backoffDelay(3, options, () => 0.999999)).toBeLessThanOrEqual(400);
    expect(backoffDelay(3, options, () => 0.5)).toBe(200);
  });
});
