import { z } from 'zod';
import { one } from '../../lib/db/query.js';
import { unprocessable, notFound } from '../errors.js';
import { payBudgetMs, refundIfRequested, type PaymentDeps } from './gateway.js';
import { applyGatewayState, type SettleOutcome } from './settle.js';
import { selectPaymentByKey, type PaymentRow } from './sql.js';

/** The body the gateway signs and POSTs when it settles a payment (see the gateway contract). */
export const callbackBody = z.object({
  transactionKey: z.string().min(1).max(200),
  paymentId: z.uuid(),
  orderId: z.number().int().positive(),
  amount: z.number().int().nonnegative(),
  status: z.enum(['SUCCESS', 'FAILED']),
  reason: z.string().max(200).optional(),
  settledAt: z.string().optional(),
});
export type CallbackBody = z.infer<typeof callbackBody>;

/**
 * Applies a verified callback. The signature proves the gateway sent it, not that it matches our
 * payment: the order and the amount must be the payment's, or nothing changes (422). A duplicate or
 * late callback of a settled payment is 'unchanged'. A SUCCESS for an order already EXPIRED or
 * CANCELLED is refunded before the answer ('refunded'; 'refund-requested' when the gateway did not
 * answer the refund: `payments recover` finishes it).
 */
export async function handleCallback(
  deps: PaymentDeps,
  body: CallbackBody,
): Promise<{ outcome: SettleOutcome | 'no-answer'; paymentId: number }> {
  const payment = await one<PaymentRow>(deps.pool, selectPaymentByKey(body.paymentId));
  if (!payment) throw notFound('payment', body.paymentId);
  if (payment.order_id !== body.orderId || payment.amount !== body.amount) {
    deps.logger.warn({ paymentId: payment.id, body }, 'payment callback does not match the payment');
    throw unprocessable(
      'PAYMENT_MISMATCH',
      `callback order or amount differs from payment ${body.paymentId}`,
    );
  }
  const applied = await applyGatewayState(deps, payment, {
    status: body.status,
    transactionKey: body.transactionKey,
    reason: body.reason ?? null,
  });
  // A late charge of an expired or cancelled order: refunded now, within the pay route's budget.
  const { outcome } = await refundIfRequested(deps, applied, AbortSignal.timeout(payBudgetMs(deps.config)));
  deps.logger.info(
    { paymentId: payment.id, orderId: payment.order_id, status: body.status, outcome },
    'payment callback',
  );
  return { outcome, paymentId: payment.id };
}
