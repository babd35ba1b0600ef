import type pg from 'pg';
import type { DomainEvent } from '../../lib/events/index.js';
import { one, rows } from '../../lib/db/query.js';
import { isPointsEvent, ledgerEntries, type OrderPoints } from './rule.js';
import { insertLedgerEntries, lockOrderPoints, selectOrderPoints, type OrderPointsRow } from './sql.js';

/**
 * The points handler's effect for events new to it, inside the caller's transaction (the one that
 * marks them 'points' in event_inbox): their ledger entries and the balances. Three statements, only
 * when the events hold an OrderPaid or PaymentRefunded: lock their orders (another writer of the same
 * orders, any group, finishes first), read what the ledger has for them, write. Returns the entries
 * inserted.
 */
export async function recordPoints(
  client: pg.PoolClient,
  events: DomainEvent[],
  rateBasisPoints: number,
): Promise<number> {
  const relevant = events.filter(isPointsEvent);
  if (relevant.length === 0) return 0;
  const orderIds = [...new Set(relevant.map((e) => e.payload.orderId))];
  await one(client, lockOrderPoints(orderIds));
  const prior = new Map<number, OrderPoints>();
  for (const r of await rows<OrderPointsRow>(client, selectOrderPoints(orderIds))) {
    const orderId = Number(r.order_id);
    const o = prior.get(orderId) ?? { earned: null, refunded: false };
    if (r.reason === 'order-paid') o.earned = Number(r.delta);
    else o.refunded = true;
    prior.set(orderId, o);
  }
  const entries = ledgerEntries(relevant, prior, rateBasisPoints);
  const written = await one<{ entries: number }>(client, insertLedgerEntries(entries));
  return written?.entries ?? 0;
}
