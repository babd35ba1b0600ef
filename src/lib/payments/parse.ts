import type { GatewayTransaction } from './types.js';

const STATUSES = new Set(['PENDING', 'SUCCESS', 'FAILED', 'REFUNDED']);

/** The fields the API relies on are checked; anything else the gateway sends along is kept as is. */
export function isTransaction(value: unknown): value is GatewayTransaction {
  const t = value as Partial<GatewayTransaction> | null;
  return (
    typeof t === 'object' &&
    t !== null &&
    typeof t.transactionKey === 'string' &&
    typeof t.paymentId === 'string' &&
    typeof t.orderId === 'number' &&
    typeof t.amount === 'number' &&
    typeof t.status === 'string' &&
    STATUSES.has(t.status)
  );
}
