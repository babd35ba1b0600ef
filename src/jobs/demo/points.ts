import type pg from 'pg';
import { rows } from '../../lib/db/query.js';
import { selectDemoPoints } from './sql.js';

export interface PointsFigures {
  users: number;
  points: number;
  entries: number;
}

/**
 * This run's loyalty points against the rule on its PAID orders (whose payments the payments check
 * holds against the gateway's truth): each user's balance and ledger sum. Run once the pipeline has
 * caught up (the points handler is in the demo's default group, in the metrics handler's transaction).
 */
export async function checkDemoPoints(
  pool: pg.Pool,
  userPrefix: string,
  rateBasisPoints: number,
): Promise<{ figures: PointsFigures; problems: string[] }> {
  const found = await rows<{
    user_id: string;
    expected: string;
    balance: string;
    ledger: string;
    entries: number;
  }>(pool, selectDemoPoints(userPrefix, rateBasisPoints));
  const problems: string[] = [];
  for (const u of found) {
    if (u.balance !== u.expected)
      problems.push(
        `points of ${u.user_id}: balance ${u.balance}, the rule on paid orders gives ${u.expected}`,
      );
    if (u.ledger !== u.expected)
      problems.push(
        `points of ${u.user_id}: ledger sums to ${u.ledger}, the rule on paid orders gives ${u.expected}`,
      );
  }
  return {
    figures: {
      users: found.filter((u) => u.expected !== '0').length,
      points: found.reduce((sum, u) => sum + Number(u.expected), 0),
      entries: found.reduce((sum, u) => sum + u.entries, 0),
    },
    problems,
  };
}
