import { channel } from 'node:diagnostics_channel';
import { createEvent, type DomainEvent } from '../../lib/events/index.js';
import { writeOutbox } from '../../lib/outbox/write.js';
import { one, rows } from '../../lib/db/query.js';
import { withTransaction } from '../../lib/db/transaction.js';
import { evictProducts } from '../catalog/cache.js';
import type { ServiceDeps } from '../deps.js';
import {
  claimDueOrders,
  countDueWaitingForPayment,
  lockProducts,
  markExpired,
  selectDueOrders,
  selectItemsOf,
  selectOrdersWithLivePayment,
  type DueOrderRow,
  type OrderRow,
} from './sql.js';
import { moveOrderStock } from './stock.js';

/**
 * The payment window. An order not paid by its expires_at (created_at + ORDER_PAYMENT_TTL) is
 * EXPIRED: its stock given back, one StockAdjusted per item (reason 'order-expired') and one
 * OrderExpired, all in the transaction that changes its status, then the products' cache evicted, as
 * a cancel does. The race with a payment is decided by the order row lock every transition takes:
 * an order with a payment in flight (REQUESTED/PENDING) is never expired (the gateway may still charge
 * it); once that payment is FAILED the order is expired at the next run; a pay request after the
 * deadline is refused (ORDER_EXPIRED, payments/request.ts).
 */

/** Named points of the expiry a test's preloaded module can crash at (node:diagnostics_channel). */
export const EXPIRY_PROBES = {
  /** A batch's orders are locked and its transaction is open: nothing of it is committed. */
  batchClaimed: 'commerce:orders-expire:batch-claimed',
  /** A batch's transaction committed; the cache eviction is still to come. */
  batchCommitted: 'commerce:orders-expire:batch-committed',
} as const;
const claimedProbe = channel(EXPIRY_PROBES.batchClaimed);
const committedProbe = channel(EXPIRY_PROBES.batchCommitted);

export interface ExpiredOrder {
  orderId: number;
  userId: string;
  totalAmount: number;
  expiresAt: string;
  items: OrderRow['items'];
}

export interface ExpiryBatch {
  /** Orders claimed by this batch (their locks taken); expired + skipped. */
  claimed: number;
  expired: ExpiredOrder[];
  /** Claimed, then found to have a payment committed meanwhile: left for their payment to settle. */
  skipped: number;
}

/**
 * One bounded batch in one transaction: claims up to `limit` due orders (FOR UPDATE SKIP LOCKED),
 * re-reads their payments under the locks (a pay committed after the claim's snapshot is seen here;
 * one not committed yet waits for our lock and then finds the order EXPIRED), gives back the stock of
 * the others and writes their events. Products are locked in id order, as orders and cancels do.
 */
export async function expireBatch(deps: ServiceDeps, limit: number): Promise<ExpiryBatch> {
  const batch = await withTransaction(deps.pool, async (client) => {
    const claimed = await rows<DueOrderRow>(client, claimDueOrders(limit));
    if (claimed.length === 0) return { claimed: 0, expired: [], skipped: 0 };
    if (claimedProbe.hasSubscribers) claimedProbe.publish({ orders: claimed.map((o) => o.id) });
    const paying = new Set(
      (await rows<{ id: number }>(client, selectOrdersWithLivePayment(claimed.map((o) => o.id)))).map(
        (r) => r.id,
      ),
    );
    const due = claimed.filter((o) => !paying.has(o.id));
    if (due.length === 0) return { claimed: claimed.length, expired: [], skipped: paying.size };
    const ids = due.map((o) => o.id);
    const itemRows = await rows<{ order_id: number } & OrderRow['items'][number]>(client, selectItemsOf(ids));
    const itemsOf = new Map<number, OrderRow['items']>();
    for (const { order_id, ...item } of itemRows) {
      if (!itemsOf.has(order_id)) itemsOf.set(order_id, []);
      itemsOf.get(order_id)!.push(item);
    }
    const productIds = [...new Set(itemRows.map((i) => i.productId))].sort((a, b) => a - b);
    await rows(client, lockProducts(productIds));
    const events: DomainEvent[] = [];
    for (const order of due)
      events.push(...(await moveOrderStock(client, itemsOf.get(order.id)!, 1, 'order-expired', order.id)));
    const versions = new Map(
      (await rows<{ id: number; version: number }>(client, markExpired(ids))).map((r) => [r.id, r.version]),
    );
    const expired = due.map((o) => ({
      orderId: o.id,
      userId: o.user_id,
      totalAmount: o.total_amount,
      expiresAt: o.expires_at.toISOString(),
      items: itemsOf.get(o.id)!,
    }));
    for (const o of expired) events.push(createEvent('OrderExpired', o.orderId, versions.get(o.orderId)!, o));
    await writeOutbox(client, events, deps.config.kafka.topics);
    return { claimed: claimed.length, expired, skipped: paying.size };
  });
  if (batch.expired.length === 0) return batch;
  if (committedProbe.hasSubscribers) committedProbe.publish({ orders: batch.expired.map((o) => o.orderId) });
  await evictProducts(deps, [...new Set(batch.expired.flatMap((o) => o.items.map((i) => i.productId)))]);
  return batch;
}

export interface DueOrders {
  /** The orders a run would expire now, oldest deadline first (at most the limit asked). */
  orders: Array<{ orderId: number; userId: string; totalAmount: number; expiresAt: string }>;
  /** Past their deadline, but a payment is in flight: they wait for it to settle. */
  waitingForPayment: number;
}

/** What a run would do, read without a lock or a change (--dry-run). */
export async function dueOrders(deps: Pick<ServiceDeps, 'pool'>, limit: number): Promise<DueOrders> {
  const [due, waiting] = await Promise.all([
    rows<DueOrderRow>(deps.pool, selectDueOrders(limit)),
    one<{ n: number }>(deps.pool, countDueWaitingForPayment()),
  ]);
  return {
    orders: due.map((o) => ({
      orderId: o.id,
      userId: o.user_id,
      totalAmount: o.total_amount,
      expiresAt: o.expires_at.toISOString(),
    })),
    waitingForPayment: waiting!.n,
  };
}

/** Past their deadline and waiting for a payment in flight (the run's report). */
export async function countWaitingForPayment(deps: Pick<ServiceDeps, 'pool'>): Promise<number> {
  return (await one<{ n: number }>(deps.pool, countDueWaitingForPayment()))!.n;
}
