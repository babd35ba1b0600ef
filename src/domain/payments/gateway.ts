import type { GatewayClient } from '../../lib/payments/gateway-client.js';
import { one } from '../../lib/db/query.js';
import { applyGatewayState, type SettleDeps, type SettleOutcome } from './settle.js';
import { recordGatewayError, type PaymentRow } from './sql.js';

export interface PaymentDeps extends SettleDeps {
  gateway: GatewayClient;
}

/**
 * How long an API request waits for the gateway, retries included: one GATEWAY_TIMEOUT plus 100ms, so
 * a hanging attempt ends by its own timeout first (a failure the breaker counts) rather than by the
 * caller giving up (which the breaker ignores). Recovery has no such budget: it may use every retry.
 */
export const payBudgetMs = (config: SettleDeps['config']): number => config.gateway.timeoutMs + 100;

export interface GatewayCallOutcome {
  payment: PaymentRow;
  /** The state change the answer caused, or 'no-answer' (timeout, breaker open, unavailable). */
  outcome: SettleOutcome | 'no-answer';
  error?: string;
}

/**
 * Sends a payment to the gateway (outside any transaction) and applies the answer. The idempotency
 * key is the payment's key, so a resend returns the same transaction and never charges twice; a
 * resend of a payment settled meanwhile returns its outcome, which settles it here. A 4xx means the
 * gateway will never charge it: FAILED. No answer leaves the payment as it is for `payments recover`.
 */
export async function sendPayment(
  deps: PaymentDeps,
  payment: PaymentRow,
  signal?: AbortSignal,
): Promise<GatewayCallOutcome> {
  const answer = await deps.gateway.requestPayment(
    { paymentId: payment.payment_key, orderId: payment.order_id, amount: payment.amount },
    signal,
  );
  if (answer.ok) {
    const t = answer.value;
    const applied = await applyGatewayState(deps, payment, {
      status: t.status,
      transactionKey: t.transactionKey,
      reason: t.reason,
    });
    return refundIfRequested(deps, applied, signal);
  }
  if (answer.reason === 'rejected') {
    const reason = `GATEWAY_REJECTED: ${answer.status ?? ''} ${answer.message}`.slice(0, 200);
    return applyGatewayState(deps, payment, { status: 'FAILED', transactionKey: null, reason });
  }
  return noAnswer(deps, payment, `${answer.reason}: ${answer.message}`);
}

/** Asks the gateway to refund a REFUND_REQUESTED payment (idempotent on its key) and applies the answer. */
export async function sendRefund(
  deps: PaymentDeps,
  payment: PaymentRow,
  signal?: AbortSignal,
): Promise<GatewayCallOutcome> {
  const answer = await deps.gateway.refund(
    { paymentId: payment.payment_key, amount: payment.amount },
    signal,
  );
  if (answer.ok)
    return applyGatewayState(deps, payment, {
      status: 'REFUNDED',
      transactionKey: answer.value.transactionKey,
    });
  return noAnswer(deps, payment, `${answer.reason}: ${answer.message}`);
}

/**
 * After a settlement: a charge that landed on an order no longer payable (outcome 'refund-requested',
 * the payment REFUND_REQUESTED in the same transaction) is refunded at once through sendRefund. Exactly
 * once: only the caller whose transaction moved the payment to REFUND_REQUESTED gets that outcome, the
 * gateway's refund is idempotent on the payment key, and REFUND_REQUESTED -> REFUNDED happens once;
 * without an answer the payment stays REFUND_REQUESTED for `payments recover`.
 */
export async function refundIfRequested(
  deps: PaymentDeps,
  applied: { outcome: SettleOutcome; payment: PaymentRow },
  signal?: AbortSignal,
): Promise<GatewayCallOutcome> {
  if (applied.outcome !== 'refund-requested') return applied;
  const refunded = await sendRefund(deps, applied.payment, signal);
  // The charge was taken back (or will be by recover): the caller sees what happened to the money.
  return refunded.outcome === 'refunded' ? refunded : { ...refunded, outcome: 'refund-requested' };
}

async function noAnswer(deps: PaymentDeps, payment: PaymentRow, error: string): Promise<GatewayCallOutcome> {
  deps.logger.info(
    { paymentId: payment.id, orderId: payment.order_id, error },
    'payment gateway gave no answer',
  );
  const row = await one<PaymentRow>(deps.pool, recordGatewayError(payment.id, error.slice(0, 500)));
  return { payment: row ?? payment, outcome: 'no-answer', error };
}
