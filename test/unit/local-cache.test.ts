import { describe, expect, it, vi } from 'vitest';
import { LocalCache } from '../../src/domain/catalog/local-cache.js';

describe('LocalCache (the API detail cache in front of Redis)', () => {
  it('returns an entry until its TTL, then forgets it', () => {
    let now = 1_000;
    const spy = vi.spyOn(performance, 'now').mockImplementation(() => now);
    try {
      const cache = new LocalCache<string>(500);
      cache.set('a', 'x');
      now += 499;
      expect(cache.get('a')).toBe('x');
      now += 1;
      expect(cache.get('a')).toBeUndefined();
    } finally {
      spy.mockRestore();
    }
  });

  it('keeps falsy answers (an unranked product is null) and deletes on demand', () => {
    const cache = new LocalCache<number | null>(60_000);
    cache.set('rank', null);
    expect(cache.get('rank')).toBeNull();
    cache.delete('rank');
    expect(cache.get('rank')).toBeUndefined();
  });

  it('is off with a TTL of 0, and drops the oldest entry past its cap', () => {
    const off = new LocalCache<string>(0);
    off.set('a', 'x');
    expect(off.get('a')).toBeUndefined();
    const capped = new LocalCache<string>(60_000, 2);
    capped.set('a', '1');
    capped.set('b', '2');
    capped.set('c', '3');
    expect([capped.get('a'), capped.get('b'), capped.get('c')]).toEqual([undefined, '2', '3']);
  });
});
