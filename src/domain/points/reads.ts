import { one, rows } from '../../lib/db/query.js';
import type { ServiceDeps } from '../deps.js';
import { selectBalance, selectLastEntries } from './sql.js';
import type { PointsReason } from './rule.js';

export interface PointsEntry {
  orderId: number;
  eventId: string;
  delta: number;
  reason: PointsReason;
  createdAt: string;
}

export interface UserPoints {
  userId: string;
  /** 0 for a user who never earned any. */
  balance: number;
  /** The last entries, newest first. */
  entries: PointsEntry[];
}

/** A user's points as the points handler wrote them (a read model: a payment lands here once collected). */
export async function getUserPoints(deps: ServiceDeps, userId: string, limit: number): Promise<UserPoints> {
  const [balance, entries] = await Promise.all([
    one<{ balance: string }>(deps.pool, selectBalance(userId)),
    rows<{ order_id: string; event_id: string; delta: string; reason: PointsReason; created_at: Date }>(
      deps.pool,
      selectLastEntries(userId, limit),
    ),
  ]);
  return {
    userId,
    balance: Number(balance?.balance ?? 0),
    entries: entries.map((e) => ({
      orderId: Number(e.order_id),
      eventId: e.event_id,
      delta: Number(e.delta),
      reason: e.reason,
      createdAt: e.created_at.toISOString(),
    })),
  };
}
