import { sql } from '../../lib/db/query.js';

/** Statements over payments (migration 010). Every transition names the states it may leave. */
export type PaymentStatus =
  'REQUESTED' | 'PENDING' | 'SUCCEEDED' | 'FAILED' | 'REFUND_REQUESTED' | 'REFUNDED';

export const UNSETTLED: PaymentStatus[] = ['REQUESTED', 'PENDING'];

export interface PaymentRow {
  id: number;
  order_id: number;
  amount: number;
  status: PaymentStatus;
  payment_key: string;
  transaction_key: string | null;
  failure_reason: string | null;
  last_error: string | null;
  gateway_attempts: number;
  created_at: Date;
  updated_at: Date;
  settled_at: Date | null;
  refunded_at: Date | null;
}

const COLUMNS = `id, order_id, amount, status, payment_key, transaction_key, failure_reason, last_error,
  gateway_attempts, created_at, updated_at, settled_at, refunded_at`;

export const insertPayment = (orderId: number, amount: number) =>
  sql(
    'payments.insert-payment',
    `INSERT INTO payments (order_id, amount, status) VALUES ($1, $2, 'REQUESTED') RETURNING ${COLUMNS}`,
    [orderId, amount],
  );

/** The order's payment that is in flight or succeeded, if any (at most one: payments_one_live_per_order). */
export const selectLivePayment = (orderId: number) =>
  sql(
    'payments.select-live-payment',
    `SELECT ${COLUMNS} FROM payments
      WHERE order_id = $1 AND status IN ('REQUESTED', 'PENDING', 'SUCCEEDED', 'REFUND_REQUESTED')
      FOR UPDATE`,
    [orderId],
  );

export const selectOrderPayments = (orderId: number) =>
  sql('payments.select-order-payments', `SELECT ${COLUMNS} FROM payments WHERE order_id = $1 ORDER BY id`, [
    orderId,
  ]);

export const selectPaymentByKey = (paymentKey: string) =>
  sql('payments.select-payment-by-key', `SELECT ${COLUMNS} FROM payments WHERE payment_key = $1`, [
    paymentKey,
  ]);

export const selectPayment = (id: number) =>
  sql('payments.select-payment', `SELECT ${COLUMNS} FROM payments WHERE id = $1`, [id]);

export const lockPayment = (id: number) =>
  sql('payments.lock-payment', `SELECT ${COLUMNS} FROM payments WHERE id = $1 FOR UPDATE`, [id]);

/** The gateway accepted it: REQUESTED -> PENDING (a callback may already have settled it: no change). */
export const markPending = (id: number, transactionKey: string) =>
  sql(
    'payments.mark-pending',
    `UPDATE payments SET status = 'PENDING', transaction_key = $2, last_error = NULL,
            gateway_attempts = gateway_attempts + 1, updated_at = now()
      WHERE id = $1 AND status = 'REQUESTED' RETURNING ${COLUMNS}`,
    [id, transactionKey],
  );

/** A gateway call without an answer: the payment keeps its state, the error is kept for the operator. */
export const recordGatewayError = (id: number, error: string) =>
  sql(
    'payments.record-gateway-error',
    `UPDATE payments SET last_error = $2, gateway_attempts = gateway_attempts + 1, updated_at = now()
      WHERE id = $1 RETURNING ${COLUMNS}`,
    [id, error],
  );

/** Settles an unsettled payment; 0 rows when it was already settled (duplicate or late callback). */
export const markSettled = (
  id: number,
  status: 'SUCCEEDED' | 'FAILED',
  transactionKey: string | null,
  reason: string | null,
) =>
  sql(
    'payments.mark-settled',
    `UPDATE payments SET status = $2, transaction_key = coalesce($3, transaction_key), failure_reason = $4,
            last_error = NULL, settled_at = now(), updated_at = now()
      WHERE id = $1 AND status IN ('REQUESTED', 'PENDING') RETURNING ${COLUMNS}`,
    [id, status, transactionKey, reason],
  );

export const markRefundRequested = (id: number) =>
  sql(
    'payments.mark-refund-requested',
    `UPDATE payments SET status = 'REFUND_REQUESTED', updated_at = now()
      WHERE id = $1 AND status = 'SUCCEEDED' RETURNING ${COLUMNS}`,
    [id],
  );

export const markRefunded = (id: number) =>
  sql(
    'payments.mark-refunded',
    `UPDATE payments SET status = 'REFUNDED', last_error = NULL, refunded_at = now(), updated_at = now()
      WHERE id = $1 AND status = 'REFUND_REQUESTED' RETURNING ${COLUMNS}`,
    [id],
  );

/** What `payments recover` works on: unsettled payments and refunds older than the cutoff, oldest first. */
export const selectStale = (olderThanMs: number, limit: number) =>
  sql(
    'payments.select-stale',
    `SELECT ${COLUMNS} FROM payments
      WHERE status IN ('REQUESTED', 'PENDING', 'REFUND_REQUESTED')
        AND updated_at <= now() - make_interval(secs => $1::double precision / 1000)
      ORDER BY updated_at, id LIMIT $2`,
    [olderThanMs, limit],
  );

export const countByStatus = () =>
  sql('payments.count-by-status', `SELECT status, count(*)::bigint AS n FROM payments GROUP BY status`);

export const selectOldestUnsettled = () =>
  sql(
    'payments.select-oldest-unsettled',
    `SELECT id, order_id, status, (extract(epoch FROM now() - created_at) * 1000)::bigint AS age_ms
       FROM payments WHERE status IN ('REQUESTED', 'PENDING', 'REFUND_REQUESTED')
      ORDER BY created_at, id LIMIT 1`,
  );

/** The order fields a payment transition needs, locked: transitions of one order are serialized. */
export const lockOrderOf = (orderId: number) =>
  sql('payments.lock-order-of', `SELECT id, user_id, status FROM orders WHERE id = $1 FOR UPDATE`, [orderId]);

export const bumpOrder = (orderId: number, status: 'CREATED' | 'PAID' | 'CANCELLED' | null) =>
  sql(
    'payments.bump-order',
    `UPDATE orders SET status = coalesce($2, status), version = version + 1, updated_at = now()
      WHERE id = $1 RETURNING version`,
    [orderId, status],
  );

/**
 * The oldest payment the gateway has not settled yet (REQUESTED or PENDING), from its creation (how
 * long its customer has waited, which a resend by `payments recover` does not reset), and how many
 * are older than `olderThanSeconds`. Refunds (REFUND_REQUESTED) are left out: their payment's creation
 * says nothing about the refund's wait. Its predicate implies that of payments_unsettled_idx.
 * Read by the exporter at each scrape and by `doctor`.
 */
export const selectUnsettledPayments = (olderThanSeconds: number) =>
  sql(
    'payments.select-unsettled-payments',
    `SELECT coalesce(extract(epoch FROM now() - min(created_at)), 0)::float8 AS oldest_age,
            count(*) FILTER (WHERE created_at < now() - make_interval(secs => $1))::int AS overdue
       FROM payments WHERE status IN ('REQUESTED', 'PENDING')`,
    [olderThanSeconds],
  );
