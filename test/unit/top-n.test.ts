import { describe, expect, it } from 'vitest';
import { TopN } from '../../src/lib/ranking/top-n.js';

interface Item {
  id: number;
  score: number;
}
const byScoreThenId = (a: Item, b: Item) => b.score - a.score || a.id - b.id;

function shuffled<T>(items: T[], seed = 42): T[] {
  const out = [...items];
  let s = seed;
  for (let i = out.length - 1; i > 0; i--) {
    s = (s * 1103515245 + 12345) % 2 ** 31;
    const j = s % (i + 1);
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

describe('TopN', () => {
  it('keeps the best N, best first, whatever the input order', () => {
    const items = Array.from({ length: 1000 }, (_, i) => ({ id: i + 1, score: (i * 37) % 101 }));
    const expected = [...items].sort(byScoreThenId).slice(0, 25);
    for (const seed of [1, 2, 3]) {
      const top = new TopN(25, byScoreThenId);
      for (const item of shuffled(items, seed)) top.push(item);
      expect(top.size).toBe(25);
      expect(top.sorted()).toEqual(expected);
    }
  });

  it('breaks ties on the id, so the cut at N is deterministic', () => {
    const tied = [5, 3, 9, 1, 7].map((id) => ({ id, score: 10 }));
    const top = new TopN(3, byScoreThenId);
    for (const item of tied) top.push(item);
    expect(top.sorted().map((i) => i.id)).toEqual([1, 3, 5]);
  });

  it('holds fewer than N when the stream is short, and never more than N', () => {
    const top = new TopN(10, byScoreThenId);
    expect(top.sorted()).toEqual([]);
    top.push({ id: 1, score: 1 });
    top.push({ id: 2, score: 2 });
    expect(top.sorted().map((i) => i.id)).toEqual([2, 1]);
    for (let i = 3; i < 10_000; i++) top.push({ id: i, score: i % 50 });
    expect(top.size).toBe(10);
  });

  it('tells whether an item was kept', () => {
    const top = new TopN(1, byScoreThenId);
    expect(top.push({ id: 1, score: 5 })).toBe(true);
    expect(top.push({ id: 2, score: 5 })).toBe(false); // same score, larger id ranks after
    expect(top.push({ id: 0, score: 5 })).toBe(true);
    expect(top.sorted()).toEqual([{ id: 0, score: 5 }]);
  });

  it('rejects a limit that is not a positive integer', () => {
    expect(() => new TopN(0, byScoreThenId)).toThrow(RangeError);
    expect(() => new TopN(1.5, byScoreThenId)).toThrow(RangeError);
  });
});
