import type { DomainEvent } from '../../lib/events/index.js';

/**
 * Loyalty points, the rule: a paid order earns floor(amount * rate) points (rate in basis points,
 * POINTS_RATE), and loses exactly what it earned when its payment is refunded. A refund of a charge
 * that never paid the order (a late charge on an EXPIRED or CANCELLED order) takes nothing away.
 * The same integer everywhere: the collector, verify, rebuild (SQL: amount * bp / 10000) and the demo.
 */
export function pointsFor(amount: number, rateBasisPoints: number): number {
  return Number((BigInt(amount) * BigInt(rateBasisPoints)) / 10_000n);
}

export type PointsReason = 'order-paid' | 'payment-refunded';

export interface LedgerEntry {
  eventId: string;
  userId: string;
  orderId: number;
  delta: number;
  reason: PointsReason;
}

/** What the ledger already holds for an order: its earn entry's delta (null: none), and a refund entry. */
export interface OrderPoints {
  earned: number | null;
  refunded: boolean;
}

type PointsEvent = Extract<DomainEvent, { eventType: 'OrderPaid' | 'PaymentRefunded' }>;

/** The events the points handler acts on; every other event changes nothing. */
export function isPointsEvent(event: DomainEvent): event is PointsEvent {
  return event.eventType === 'OrderPaid' || event.eventType === 'PaymentRefunded';
}

/**
 * The ledger entries of new events (in delivery order), given what the ledger holds for their orders.
 * Order-insensitive per order: whichever of an order's OrderPaid and PaymentRefunded comes first, the
 * two entries add up to 0 (a refund before its earn takes 0, and the earn that follows it earns 0:
 * the order was refunded), and an earn alone adds floor(amount * rate). So the handler commutes: chunks
 * of a partition, and groups, may apply an order's events in either order (the caller serializes the
 * transactions touching one order, so each sees the other's entries).
 */
export function ledgerEntries(
  events: DomainEvent[],
  prior: ReadonlyMap<number, OrderPoints>,
  rateBasisPoints: number,
): LedgerEntry[] {
  const state = new Map<number, OrderPoints>();
  const entries: LedgerEntry[] = [];
  for (const event of events) {
    if (!isPointsEvent(event)) continue;
    const { orderId, userId, amount } = event.payload;
    const order = state.get(orderId) ?? { ...(prior.get(orderId) ?? { earned: null, refunded: false }) };
    state.set(orderId, order);
    if (event.eventType === 'OrderPaid') {
      // An order is paid once; a second earn (impossible by the order's rules) earns nothing.
      const delta = order.refunded || order.earned !== null ? 0 : pointsFor(amount, rateBasisPoints);
      if (order.earned === null) order.earned = delta;
      entries.push({ eventId: event.eventId, userId, orderId, delta, reason: 'order-paid' });
    } else {
      const delta = order.refunded || !order.earned ? 0 : -order.earned;
      order.refunded = true;
      entries.push({ eventId: event.eventId, userId, orderId, delta, reason: 'payment-refunded' });
    }
  }
  return entries;
}
