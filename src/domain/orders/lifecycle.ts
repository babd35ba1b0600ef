import { createEvent } from '../../lib/events/index.js';
import { writeOutbox } from '../../lib/outbox/write.js';
import { one, rows } from '../../lib/db/query.js';
import { withTransaction } from '../../lib/db/transaction.js';
import { conflict, notFound } from '../errors.js';
import { evictProducts } from '../catalog/cache.js';
import type { AppDeps } from '../deps.js';
import { payBudgetMs, sendRefund } from '../payments/gateway.js';
import { markRefundRequested, selectLivePayment, type PaymentRow } from '../payments/sql.js';
import { toOrder, type Order } from './order.js';
import {
  lockOrder,
  lockProducts,
  selectOrder,
  setOrderStatus,
  type LockedOrderRow,
  type OrderRow,
} from './sql.js';
import { moveOrderStock } from './stock.js';

/**
 * Cancelling: CREATED|PAID -> CANCELLED (stock restored; cancelling again, or an EXPIRED order, is 409). Paying lives in
 * ../payments. A paid order's payment becomes REFUND_REQUESTED in the same transaction and is refunded
 * through the gateway after the commit (same client, same guarantees; `payments recover` finishes a
 * refund the gateway did not answer). An order whose payment is still in flight cannot be cancelled
 * (409 PAYMENT_IN_PROGRESS): its charge may still succeed. The order row lock serializes transitions.
 */
export async function cancelOrder(deps: AppDeps, userId: string, orderId: number): Promise<Order> {
  const cancelled = await withTransaction(deps.pool, async (client) => {
    const order = await one<LockedOrderRow>(client, lockOrder(orderId, userId));
    if (!order) throw notFound('order', orderId);
    if (order.status === 'CANCELLED')
      throw conflict('ORDER_CANCELLED', `order ${orderId} is already cancelled`);
    // Its stock went back when it expired: cancelling it would give it back twice.
    if (order.status === 'EXPIRED') throw conflict('ORDER_EXPIRED', `order ${orderId} has expired`);
    const { items } = (await one<OrderRow>(client, selectOrder(orderId, userId)))!;
    await rows(client, lockProducts(items.map((i) => i.productId)));
    const stockEvents = await moveOrderStock(client, items, 1, 'order-cancelled', orderId);
    const payment = await one<PaymentRow>(client, selectLivePayment(orderId));
    if (payment?.status === 'REQUESTED' || payment?.status === 'PENDING')
      throw conflict(
        'PAYMENT_IN_PROGRESS',
        `order ${orderId} has a payment in progress; cancel it once settled`,
      );
    const refund =
      payment?.status === 'SUCCEEDED'
        ? await one<PaymentRow>(client, markRefundRequested(payment.id))
        : undefined;
    const row = await one<{ version: number }>(client, setOrderStatus(orderId, 'CANCELLED'));
    const event = createEvent('OrderCancelled', orderId, row!.version, {
      orderId,
      userId,
      items,
      totalAmount: order.total_amount,
      previousStatus: order.status as 'CREATED' | 'PAID',
    });
    await writeOutbox(client, [...stockEvents, event], deps.config.kafka.topics);
    return { order: toOrder((await one<OrderRow>(client, selectOrder(orderId, userId)))!), refund };
  });
  await evictProducts(
    deps,
    cancelled.order.items.map((i) => i.productId),
  );
  // Same budget as the pay route: an unanswered refund stays REFUND_REQUESTED for `payments recover`.
  if (cancelled.refund)
    await sendRefund(deps, cancelled.refund, AbortSignal.timeout(payBudgetMs(deps.config)));
  return cancelled.order;
}
