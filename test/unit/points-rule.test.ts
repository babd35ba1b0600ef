import { describe, expect, it } from 'vitest';
import { createEvent, orderCreatedFromV1 } from '../../src/lib/events/index.js';
import { ledgerEntries, pointsFor, type OrderPoints } from '../../src/domain/points/rule.js';

const paid = (orderId: number, amount: number, userId = 'u1') =>
  createEvent('OrderPaid', orderId, 2, { orderId, userId, paymentId: orderId, amount });
const refunded = (orderId: number, amount: number, userId = 'u1') =>
  createEvent('PaymentRefunded', orderId, 4, { orderId, userId, paymentId: orderId, amount });
const sum = (entries: { delta: number }[]) => entries.reduce((s, e) => s + e.delta, 0);

describe('points rule', () => {
  it('earns the rate of the amount, rounded down, in integers (no float rounding)', () => {
    expect(pointsFor(1999, 100)).toBe(19);
    expect(pointsFor(100, 2900)).toBe(29); // 100 * 0.29 is 28.999... in floating point
    expect(pointsFor(99, 100)).toBe(0);
    expect(pointsFor(Number.MAX_SAFE_INTEGER, 10_000)).toBe(Number.MAX_SAFE_INTEGER);
  });

  it('a refund takes back what its order earned, in the same batch or a later one', () => {
    const together = ledgerEntries([paid(1, 5000), refunded(1, 5000)], new Map(), 100);
    expect(together.map((e) => [e.reason, e.delta])).toEqual([
      ['order-paid', 50],
      ['payment-refunded', -50],
    ]);
    const prior = new Map<number, OrderPoints>([[1, { earned: 50, refunded: false }]]);
    expect(ledgerEntries([refunded(1, 5000)], prior, 100)[0]!.delta).toBe(-50);
  });

  it('commutes: a refund applied before its earn nets 0 however the two are split', () => {
    const refundFirst = ledgerEntries([refunded(1, 5000), paid(1, 5000)], new Map(), 100);
    expect(sum(refundFirst)).toBe(0);
    const r = ledgerEntries([refunded(1, 5000)], new Map(), 100);
    const prior = new Map<number, OrderPoints>([[1, { earned: null, refunded: true }]]);
    const p = ledgerEntries([paid(1, 5000)], prior, 100);
    expect(sum([...r, ...p])).toBe(0);
  });

  it('a late charge refunded on an order that never was paid takes nothing', () => {
    const entries = ledgerEntries([refunded(7, 900)], new Map(), 100);
    expect(entries).toMatchObject([{ orderId: 7, delta: 0, reason: 'payment-refunded' }]);
  });

  it('ignores every other event and names each entry by its event and order', () => {
    const created = createEvent(
      'OrderCreated',
      3,
      1,
      orderCreatedFromV1({
        orderId: 3,
        userId: 'u2',
        items: [{ productId: 1, quantity: 1, unitPrice: 700 }],
        totalAmount: 700,
      }),
    );
    const p = paid(3, 700, 'u2');
    expect(ledgerEntries([created, p], new Map(), 1000)).toEqual([
      { eventId: p.eventId, userId: 'u2', orderId: 3, delta: 70, reason: 'order-paid' },
    ]);
  });
});
