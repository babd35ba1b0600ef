import type pg from 'pg';
import { one, rows } from '../../lib/db/query.js';
import { countByStatus, selectOldestUnsettled, type PaymentStatus } from './sql.js';

export const PAYMENT_STATUSES: PaymentStatus[] = [
  'REQUESTED',
  'PENDING',
  'SUCCEEDED',
  'FAILED',
  'REFUND_REQUESTED',
  'REFUNDED',
];

export interface PaymentsStatus {
  counts: Record<PaymentStatus, number>;
  /** The oldest payment not settled yet (REQUESTED, PENDING or REFUND_REQUESTED), or null. */
  oldestUnsettled: { id: number; orderId: number; status: PaymentStatus; ageMs: number } | null;
}

export async function paymentCounts(db: pg.Pool): Promise<Record<PaymentStatus, number>> {
  const counts = Object.fromEntries(PAYMENT_STATUSES.map((s) => [s, 0])) as Record<PaymentStatus, number>;
  for (const r of await rows<{ status: PaymentStatus; n: number }>(db, countByStatus()))
    counts[r.status] = r.n;
  return counts;
}

/** What `payments status` shows: payments by status and how far settlement is behind. */
export async function paymentsStatus(db: pg.Pool): Promise<PaymentsStatus> {
  const counts = await paymentCounts(db);
  const oldest = await one<{ id: number; order_id: number; status: PaymentStatus; age_ms: number }>(
    db,
    selectOldestUnsettled(),
  );
  return {
    counts,
    oldestUnsettled: oldest
      ? { id: oldest.id, orderId: oldest.order_id, status: oldest.status, ageMs: oldest.age_ms }
      : null,
  };
}
