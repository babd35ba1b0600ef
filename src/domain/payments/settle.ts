import type pg from 'pg';
import type { AppConfig } from '../../lib/config/config.js';
import { createEvent, type DomainEvent } from '../../lib/events/index.js';
import { writeOutbox } from '../../lib/outbox/write.js';
import { one } from '../../lib/db/query.js';
import { withRetryingTransaction } from '../../lib/db/transaction.js';
import type { Logger } from '../../lib/log.js';
import {
  bumpOrder,
  lockOrderOf,
  lockPayment,
  markPending,
  markRefunded,
  markRefundRequested,
  selectPayment,
  markSettled,
  type PaymentRow,
} from './sql.js';

export interface SettleDeps {
  pool: pg.Pool;
  config: AppConfig;
  logger: Logger;
}

/** What the gateway says about a payment (a callback, an answer to a request, or a recovery lookup). */
export interface GatewayState {
  status: 'PENDING' | 'SUCCESS' | 'FAILED' | 'REFUNDED';
  transactionKey: string | null;
  reason?: string | null;
}

/** 'refund-requested': the gateway charged an order that is no longer payable; the refund is due. */
export type SettleOutcome =
  'pending' | 'succeeded' | 'refund-requested' | 'failed' | 'refunded' | 'unchanged';

/**
 * The payment state machine, one transition per call, in one transaction with its event:
 * REQUESTED -> PENDING (gateway accepted), REQUESTED|PENDING -> SUCCEEDED (order PAID + OrderPaid; an
 * order already EXPIRED or CANCELLED stays so and the payment goes on to REFUND_REQUESTED) or
 * FAILED (PaymentFailed; the order stays payable), REFUND_REQUESTED -> REFUNDED (PaymentRefunded).
 * Anything else changes nothing: duplicate, late and out-of-order news about a settled payment is
 * 'unchanged'. The order row is locked first (as the pay and cancel routes do), then the payment.
 */
export async function applyGatewayState(
  deps: SettleDeps,
  payment: Pick<PaymentRow, 'id' | 'order_id'>,
  state: GatewayState,
): Promise<{ outcome: SettleOutcome; payment: PaymentRow }> {
  if (state.status === 'PENDING') {
    // The common answer to a pay request: one statement, no event, no order lock (it only ever holds
    // the payment row, so it cannot deadlock with a settlement that locks the order first).
    if (!state.transactionKey) return { outcome: 'unchanged', payment: (await reread(deps, payment.id))! };
    const pending = await one<PaymentRow>(deps.pool, markPending(payment.id, state.transactionKey));
    return pending
      ? { outcome: 'pending', payment: pending }
      : { outcome: 'unchanged', payment: (await reread(deps, payment.id))! };
  }
  return withRetryingTransaction(deps.pool, async (client) => {
    const order = (await one<{ id: number; user_id: string; status: string }>(
      client,
      lockOrderOf(payment.order_id),
    ))!;
    const current = (await one<PaymentRow>(client, lockPayment(payment.id)))!;
    const base = { orderId: order.id, userId: order.user_id, paymentId: current.id, amount: current.amount };
    const events: DomainEvent[] = [];
    let outcome: SettleOutcome = 'unchanged';
    let updated: PaymentRow | undefined;
    if (state.status === 'PENDING' && state.transactionKey && current.status === 'REQUESTED') {
      updated = await one<PaymentRow>(client, markPending(current.id, state.transactionKey));
      outcome = 'pending';
    } else if (
      state.status === 'SUCCESS' &&
      (current.status === 'REQUESTED' || current.status === 'PENDING')
    ) {
      updated = await one<PaymentRow>(
        client,
        markSettled(current.id, 'SUCCEEDED', state.transactionKey, null),
      );
      outcome = 'succeeded';
      if (order.status === 'CREATED') {
        const row = (await one<{ version: number }>(client, bumpOrder(order.id, 'PAID')))!;
        events.push(createEvent('OrderPaid', order.id, row.version, base));
      } else {
        // A charge on an order that is no longer payable (EXPIRED or CANCELLED): the money goes back.
        // Cancel and expiry both wait for a payment in flight, so only a state they did not decide
        // leads here (an order expired or cancelled by hand, by a release before that rule); the
        // caller sends the refund at once (refundIfRequested), `payments recover` if it gets no answer.
        deps.logger.warn(
          { paymentId: current.id, orderId: order.id, orderStatus: order.status },
          'payment succeeded on an order that is not payable: refunding',
        );
        updated = await one<PaymentRow>(client, markRefundRequested(current.id));
        outcome = 'refund-requested';
      }
    } else if (
      state.status === 'FAILED' &&
      (current.status === 'REQUESTED' || current.status === 'PENDING')
    ) {
      const reason = (state.reason || 'UNKNOWN').slice(0, 200);
      updated = await one<PaymentRow>(
        client,
        markSettled(current.id, 'FAILED', state.transactionKey, reason),
      );
      outcome = 'failed';
      const row = (await one<{ version: number }>(client, bumpOrder(order.id, null)))!;
      events.push(createEvent('PaymentFailed', order.id, row.version, { ...base, reason }));
    } else if (state.status === 'REFUNDED' && current.status === 'REFUND_REQUESTED') {
      updated = await one<PaymentRow>(client, markRefunded(current.id));
      outcome = 'refunded';
      const row = (await one<{ version: number }>(client, bumpOrder(order.id, null)))!;
      events.push(createEvent('PaymentRefunded', order.id, row.version, base));
    }
    if (events.length) await writeOutbox(client, events, deps.config.kafka.topics);
    return { outcome, payment: updated ?? current };
  });
}

async function reread(deps: SettleDeps, id: number): Promise<PaymentRow | undefined> {
  return one<PaymentRow>(deps.pool, selectPayment(id));
}
