import type { PaymentRow, PaymentStatus } from './sql.js';

/** A payment as the API shows it. `paymentKey` is the idempotency key the gateway knows it by. */
export interface Payment {
  id: number;
  orderId: number;
  amount: number;
  status: PaymentStatus;
  paymentKey: string;
  transactionKey: string | null;
  failureReason: string | null;
  lastError: string | null;
  gatewayAttempts: number;
  createdAt: string;
  updatedAt: string;
  settledAt: string | null;
  refundedAt: string | null;
}

export function toPayment(row: PaymentRow): Payment {
  return {
    id: row.id,
    orderId: row.order_id,
    amount: row.amount,
    status: row.status,
    paymentKey: row.payment_key,
    transactionKey: row.transaction_key,
    failureReason: row.failure_reason,
    lastError: row.last_error,
    gatewayAttempts: row.gateway_attempts,
    createdAt: row.created_at.toISOString(),
    updatedAt: row.updated_at.toISOString(),
    settledAt: row.settled_at?.toISOString() ?? null,
    refundedAt: row.refunded_at?.toISOString() ?? null,
  };
}
