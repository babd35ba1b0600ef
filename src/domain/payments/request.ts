import { createEvent } from '../../lib/events/index.js';
import { writeOutbox } from '../../lib/outbox/write.js';
import { one, rows } from '../../lib/db/query.js';
import { withTransaction } from '../../lib/db/transaction.js';
import { conflict, notFound } from '../errors.js';
import { lockOrder, selectOrder, type LockedOrderRow } from '../orders/sql.js';
import { payBudgetMs, sendPayment, type PaymentDeps } from './gateway.js';
import { toPayment, type Payment } from './payment.js';
import { bumpOrder, insertPayment, selectLivePayment, selectOrderPayments, type PaymentRow } from './sql.js';

export interface PayResult {
  payment: Payment;
  /** false when the order already had a payment in flight: that one is returned, none is created. */
  created: boolean;
}

/**
 * POST /orders/:id/pay. The payment (REQUESTED) and PaymentRequested commit together under the order's
 * row lock, so concurrent pay requests for one order create one payment. Then, outside the
 * transaction, the gateway is called (bounded by the client's timeout, retries and breaker); its
 * answer makes the payment PENDING, its silence leaves it REQUESTED for `payments recover`. The
 * order becomes PAID only when the gateway says SUCCESS (callback or recover). A payment still
 * REQUESTED (the gateway never answered) is resent by the next pay request: same key, no second charge.
 */
export async function payOrder(deps: PaymentDeps, userId: string, orderId: number): Promise<PayResult> {
  const { row, created } = await withTransaction(deps.pool, async (client) => {
    const order = await one<LockedOrderRow>(client, lockOrder(orderId, userId));
    if (!order) throw notFound('order', orderId);
    if (order.status === 'PAID') throw conflict('ORDER_ALREADY_PAID', `order ${orderId} is already paid`);
    if (order.status === 'CANCELLED') throw conflict('ORDER_CANCELLED', `order ${orderId} is cancelled`);
    if (order.status === 'EXPIRED') throw orderExpired(orderId, order.expires_at);
    const live = await one<PaymentRow>(client, selectLivePayment(orderId));
    if (live) return { row: live, created: false };
    // The window closed and the expiry job has not run yet: no new payment (one already in flight was
    // returned above and may still settle: the job waits for it).
    if (order.past_deadline) throw orderExpired(orderId, order.expires_at);
    const payment = (await one<PaymentRow>(client, insertPayment(orderId, order.total_amount)))!;
    const version = (await one<{ version: number }>(client, bumpOrder(orderId, null)))!.version;
    const event = createEvent('PaymentRequested', orderId, version, {
      orderId,
      userId,
      paymentId: payment.id,
      paymentKey: payment.payment_key,
      amount: payment.amount,
    });
    await writeOutbox(client, [event], deps.config.kafka.topics);
    return { row: payment, created: true };
  });
  if (row.status !== 'REQUESTED') return { payment: toPayment(row), created };
  // The route's budget for the gateway is one GATEWAY_TIMEOUT (+100ms), retries included (the client
  // alone may take attempts x (timeout + backoff)): the pay route stays fast however slow the gateway is.
  const sent = await sendPayment(deps, row, AbortSignal.timeout(payBudgetMs(deps.config)));
  return { payment: toPayment(sent.payment), created };
}

const orderExpired = (orderId: number, at: Date) =>
  conflict('ORDER_EXPIRED', `order ${orderId} expired at ${at.toISOString()}: its payment window is closed`);

/** GET /orders/:id/payments: the payment history of the caller's own order, oldest first. */
export async function listPayments(deps: PaymentDeps, userId: string, orderId: number): Promise<Payment[]> {
  const order = await one(deps.pool, selectOrder(orderId, userId));
  if (!order) throw notFound('order', orderId);
  return (await rows<PaymentRow>(deps.pool, selectOrderPayments(orderId))).map(toPayment);
}
