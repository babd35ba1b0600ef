import { describe, expect, it } from 'vitest';
import {
  createEvent,
  decodeEvent,
  encodeEvent,
  orderCreatedFromV1,
  PoisonMessageError,
  topicFor,
} from '../../src/lib/events/index.js';
import { contributions } from '../../src/lib/ranking/contribution.js';

const topics = { catalog: 'catalog-events', order: 'order-events' };

describe('events', () => {
  it('round-trips an event through its wire form', () => {
    const event = createEvent(
      'OrderCreated',
      5,
      1,
      orderCreatedFromV1({
        orderId: 5,
        userId: 'u1',
        items: [{ productId: 1, quantity: 2, unitPrice: 1000 }],
        totalAmount: 2000,
      }),
    );
    expect(decodeEvent(Buffer.from(encodeEvent(event)))).toEqual(event);
    expect(topicFor(event, topics)).toBe('order-events');
    expect(event.aggregateType).toBe('order');
  });

  it('payment events are order events, validated like the others', () => {
    const base = { orderId: 7, userId: 'u1', paymentId: 3, amount: 1500 };
    const events = [
      createEvent('PaymentRequested', 7, 2, { ...base, paymentKey: '0b5a4a49-8f6e-4b8e-9a51-4d2b1c3e5f60' }),
      createEvent('PaymentFailed', 7, 3, { ...base, reason: 'LIMIT_EXCEEDED' }),
      createEvent('PaymentRefunded', 7, 4, base),
    ];
    for (const event of events) {
      expect(decodeEvent(encodeEvent(event))).toEqual(event);
      expect(topicFor(event, topics)).toBe('order-events');
    }
    expect(() => createEvent('PaymentFailed', 7, 3, { ...base, reason: '' })).toThrow(/reason/);
    expect(() => createEvent('PaymentRequested', 7, 2, { ...base, paymentKey: 'not-a-uuid' })).toThrow(
      /paymentKey/,
    );
  });

  it('OrderExpired is an order event that takes back the sales OrderCreated counted', () => {
    const items = [{ productId: 4, quantity: 3, unitPrice: 200 }];
    const expired = createEvent('OrderExpired', 8, 2, {
      orderId: 8,
      userId: 'u1',
      items,
      totalAmount: 600,
      expiresAt: '2026-12-07T10:00:00.000Z',
    });
    expect(decodeEvent(encodeEvent(expired))).toEqual(expired);
    expect(topicFor(expired, topics)).toBe('order-events');
    expect(contributions(expired)).toEqual([{ productId: 4, views: 0, likes: 0, units: -3, amount: -600 }]);
    expect(() =>
      createEvent('OrderExpired', 8, 2, {
        orderId: 8,
        userId: 'u1',
        items: [],
        totalAmount: 0,
        expiresAt: 'x',
      }),
    ).toThrow(/items|expiresAt/);
  });

  it('refuses to build an event whose payload is invalid', () => {
    expect(() =>
      createEvent('StockAdjusted', 1, 1, { productId: 1, delta: 1, newStock: -1, reason: 'x' }),
    ).toThrow(/newStock/);
  });

  it.each([
    [null, /empty/],
    ['not json', /not valid JSON/],
    ['{}', /invalid envelope/],
  ])('poison: %j', (value, pattern) => {
    expect(() => decodeEvent(value as string | null)).toThrow(PoisonMessageError);
    expect(() => decodeEvent(value as string | null)).toThrow(pattern);
  });

  it('poison: unknown type, wrong aggregate, bad payload', () => {
    const base = createEvent('ProductViewed', 3, 2, { productId: 3, count: 4 });
    expect(() => decodeEvent(JSON.stringify({ ...base, eventType: 'Nope' }))).toThrow(
      /unknown event type "Nope"/,
    );
    expect(() => decodeEvent(JSON.stringify({ ...base, aggregateType: 'order' }))).toThrow(
      /product aggregate/,
    );
    expect(() => decodeEvent(JSON.stringify({ ...base, payload: { productId: 3, count: 0 } }))).toThrow(
      /count/,
    );
  });
});
