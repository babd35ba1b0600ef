import type pg from 'pg';
import { exec } from '../../lib/db/query.js';
import { withTransaction } from '../../lib/db/transaction.js';
import type { Period } from '../../lib/time/periods.js';
import { deleteRanks, insertRanks } from './sql.js';
import type { RankedProduct } from './rank.js';

const INSERT_BATCH = 1000;

/**
 * Replaces the period's ranking in ONE transaction (delete, then set-based inserts of up to 1000 rows
 * each): readers see the old ranking or the new one, never a mix, and an error leaves the old one.
 */
export async function replaceRanking(
  pool: pg.Pool,
  period: Period,
  jobRunId: number,
  ranked: RankedProduct[],
): Promise<number> {
  return withTransaction(pool, async (client) => {
    await exec(client, deleteRanks(period));
    let written = 0;
    for (let i = 0; i < ranked.length; i += INSERT_BATCH) {
      written += await exec(client, insertRanks(period, jobRunId, ranked.slice(i, i + INSERT_BATCH)));
    }
    return written;
  });
}
