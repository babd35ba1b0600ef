import { describe, expect, it } from 'vitest';
import { createEvent, orderCreatedFromV1 } from '../../src/lib/events/index.js';
import { foldDaily, foldProducts } from '../../src/jobs/collector/fold.js';
import { evictionsFor } from '../../src/jobs/collector/redis-effects.js';
import { rankingIncrements } from '../../src/lib/ranking/live-ranking.js';

const day1 = new Date('2024-05-01T23:30:00Z');
const like = (v: number, liked: boolean, likeCount: number) =>
  createEvent('LikeChanged', 1, v, { productId: 1, userId: `u${v}`, liked, likeCount }, day1);
const stock = (v: number, newStock: number, delta: number) =>
  createEvent('StockAdjusted', 1, v, { productId: 1, delta, newStock, reason: 'test' }, day1);
const order = (type: 'OrderCreated' | 'OrderCancelled') => {
  const items = [
    { productId: 1, quantity: 2, unitPrice: 500 },
    { productId: 2, quantity: 1, unitPrice: 300 },
  ];
  return type === 'OrderCreated'
    ? createEvent(type, 9, 1, orderCreatedFromV1({ orderId: 9, userId: 'u', items, totalAmount: 1300 }), day1)
    : createEvent(
        type,
        9,
        2,
        { orderId: 9, userId: 'u', items, totalAmount: 1300, previousStatus: 'CREATED' },
        day1,
      );
};

describe('foldProducts', () => {
  it('adds counters and keeps the highest version of like and stock state, whatever the order', () => {
    const events = [
      like(3, true, 2),
      like(2, true, 1),
      stock(5, 4, -1),
      stock(4, 5, -1),
      order('OrderCreated'),
    ];
    const [p1, p2] = foldProducts(events);
    expect(p1).toMatchObject({
      productId: 1,
      likes: 2,
      likeCount: 2,
      likeVersion: 3,
      stock: 4,
      stockVersion: 5,
    });
    expect(p1).toMatchObject({ salesCount: 2, salesAmount: 1000 });
    expect(p2).toMatchObject({ productId: 2, salesCount: 1, salesAmount: 300, likeCount: null, stock: null });
  });

  it('a cancelled order subtracts what the created order added', () => {
    const [p1, p2] = foldProducts([order('OrderCreated'), order('OrderCancelled')]);
    expect([p1!.salesCount, p1!.salesAmount, p2!.salesCount, p2!.salesAmount]).toEqual([0, 0, 0, 0]);
  });

  it('counts an unlike as -1 and views by their count', () => {
    const viewed = createEvent('ProductViewed', 1, 7, { productId: 1, count: 5 }, day1);
    const [p] = foldProducts([like(1, true, 1), like(2, false, 0), viewed]);
    expect(p).toMatchObject({ likes: 0, views: 5, likeCount: 0, likeVersion: 2 });
  });
});

describe('foldDaily', () => {
  it('groups by the event day in the configured time zone', () => {
    const viewed = createEvent('ProductViewed', 1, 7, { productId: 1, count: 5 }, day1);
    expect(foldDaily([viewed], 'UTC')[0]!.date).toBe('2024-05-01');
    expect(foldDaily([viewed], 'Asia/Seoul')[0]!.date).toBe('2024-05-02');
    expect(foldDaily([stock(1, 3, 3)], 'UTC')).toEqual([]);
  });
});

describe('evictionsFor', () => {
  it('evicts details on likes and stock, lists only on sold out or back in stock', () => {
    expect(evictionsFor([like(1, true, 1)])).toEqual({ details: [1], lists: false });
    expect(evictionsFor([stock(2, 3, -1)])).toEqual({ details: [1], lists: false });
    expect(evictionsFor([stock(2, 0, -1)])).toEqual({ details: [1], lists: true });
    expect(evictionsFor([stock(2, 5, 5)])).toEqual({ details: [1], lists: true });
  });
});

describe('rankingIncrements', () => {
  it('scores orders by units on the key of the event day, and skips events with no score', () => {
    const weights = { view: 0.1, like: 0.2, order: 0.7 };
    const incs = rankingIncrements(order('OrderCreated'), weights, 'UTC');
    expect(incs.map((i) => [i.key, i.productId, i.increment])).toEqual([
      ['ranking:all:20240501', 1, 1.4],
      ['ranking:all:20240501', 2, 0.7],
    ]);
    expect(rankingIncrements(stock(1, 3, 3), weights, 'UTC')).toEqual([]);
  });
});
