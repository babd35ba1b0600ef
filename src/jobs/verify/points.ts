import type pg from 'pg';
import { forEachChunk } from '../../lib/db/cursor.js';
import { selectPointsChecks, type PointsCheckRow } from '../../domain/points/sql.js';
import type { Difference } from './report.js';

/**
 * Loyalty points per user against the rule on the source of truth (PAID orders and their SUCCEEDED
 * payments, at POINTS_RATE): the balance, and the ledger's entries summed. A user with an
 * OrderPaid / PaymentRefunded not yet in the ledger, or a refund under way, is counted, not compared.
 */
export async function checkPoints(
  client: pg.PoolClient,
  options: { rateBasisPoints: number; chunkSize: number },
): Promise<{ checked: number; inFlight: number; differences: Difference[] }> {
  const differences: Difference[] = [];
  let checked = 0;
  let inFlight = 0;
  await forEachChunk<PointsCheckRow>(
    client,
    selectPointsChecks(options.rateBasisPoints),
    options.chunkSize,
    (chunk) => {
      for (const r of chunk) {
        if (r.in_flight) {
          inFlight += 1;
          continue;
        }
        checked += 1;
        const balance = r.balance ?? '0';
        if (balance !== r.expected)
          differences.push({
            check: 'points',
            userId: r.user_id,
            field: 'balance',
            expected: r.expected,
            actual: r.balance,
          });
        if (r.ledger !== r.expected)
          differences.push({
            check: 'points',
            userId: r.user_id,
            field: 'ledger',
            expected: r.expected,
            actual: r.ledger,
          });
      }
    },
  );
  return { checked, inFlight, differences };
}
