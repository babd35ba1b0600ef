import { createEvent } from '../../../lib/events/index.js';
import { writeOutbox } from '../../../lib/outbox/write.js';
import { one, rows } from '../../../lib/db/query.js';
import { withTransaction } from '../../../lib/db/transaction.js';
import { conflict, notFound } from '../errors.js';
import { evictProduct } from '../catalog/cache.js';
import type { ServiceDeps } from '../deps.js';
import { toOrder, type Order } from './order.js';
import {
  insertPayment,
  lockOrder,
  lockProducts,
  refundPayment,
  selectOrder,
  setOrderStatus,
  type OrderRow,
} from './sql.js';
import { moveOrderStock } from './stock.js';

/**
 * Paying and cancelling. CREATED -> PAID (once: paying again is 409), CREATED|PAID -> CANCELLED
 * (stock restored, a payment refunded; cancelling again is 409). Each transition locks the order row,
 * so two concurrent transitions of one order are serialized and the second sees the first's result.
 */
export async function payOrder(deps: ServiceDeps, userId: string, orderId: number): Promise<Order> {
  return withTransaction(deps.pool, async (client) => {
    const order = await one<{ status: OrderRow['status']; total_amount: number }>(
      client,
      lockOrder(orderId, userId),
    );
    if (!order) throw notFound('order', orderId);
    if (order.status === 'PAID') throw conflict('ORDER_ALREADY_PAID', `order ${orderId} is already paid`);
    if (order.status === 'CANCELLED') throw conflict('ORDER_CANCELLED', `order ${orderId} is cancelled`);
    const payment = await one<{ id: number }>(client, insertPayment(orderId, order.total_amount));
    const row = await one<{ version: number }>(client, setOrderStatus(orderId, 'PAID'));
    const event = createEvent('OrderPaid', orderId, row!.version, {
      orderId,
      userId,
      paymentId: payment!.id,
      amount: order.total_amount,
    });
    await writeOutbox(client, [event], deps.config.kafka.topics);
    return toOrder((await one<OrderRow>(client, selectOrder(orderId, userId)))!);
  });
}

export async function cancelOrder(deps: ServiceDeps, userId: string, orderId: number): Promise<Order> {
  const cancelled = await withTransaction(deps.pool, async (client) => {
    const order = await one<{ status: OrderRow['status']; total_amount: number }>(
      client,
      lockOrder(orderId, userId),
    );
    if (!order) throw notFound('order', orderId);
    if (order.status === 'CANCELLED')
      throw conflict('ORDER_CANCELLED', `order ${orderId} is already cancelled`);
    const { items } = (await one<OrderRow>(client, selectOrder(orderId, userId)))!;
    await rows(client, lockProducts(items.map((i) => i.productId)));
    const stockEvents = await moveOrderStock(client, items, 1, 'order-cancelled', orderId);
    if (order.status === 'PAID') await client.query(refundPayment(orderId));
    const row = await one<{ version: number }>(client, setOrderStatus(orderId, 'CANCELLED'));
    const event = createEvent('OrderCancelled', orderId, row!.version, {
      orderId,
      userId,
      items,
      totalAmount: order.total_amount,
      previousStatus: order.status,
    });
    await writeOutbox(client, [...stockEvents, event], deps.config.kafka.topics);
    return toOrder((await one<OrderRow>(client, selectOrder(orderId, userId)))!);
  });
  await Promise.all(cancelled.items.map((i) => evictProduct(deps, i.productId)));
  return cancelled;
}
