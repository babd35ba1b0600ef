import type pg from 'pg';
import { exec, one } from '../../lib/db/query.js';
import { CliError } from '../../lib/errors.js';
import {
  countChangedPoints,
  countUnauditedPoints,
  createRebuiltLedger,
  deleteStaleEntries,
  insertMissingEntries,
  insertRebuiltLedger,
  lockPointsTables,
  updateBalancesFromLedger,
} from '../../domain/points/sql.js';
import type { TableRebuild } from './tables.js';

/**
 * The points ledger recomputed by the rule from the OrderPaid / PaymentRefunded events in event_log,
 * and the balances as its sums, swapped in within `client`'s one transaction under a lock the points
 * handler waits for (its read of the ledger, then its write): a collector transaction that claimed
 * events before the lock writes after the commit, on top of the rebuilt ledger, and an event already
 * there (rebuilt from event_log) is not inserted again. Entries that did not change stay as they are.
 * A dry run takes no lock and changes nothing.
 */
export async function rebuildPoints(
  client: pg.PoolClient,
  options: { rateBasisPoints: number; dryRun: boolean },
): Promise<TableRebuild> {
  if (!options.dryRun) await exec(client, lockPointsTables());
  const unaudited = Number((await one<{ n: string }>(client, countUnauditedPoints()))!.n);
  if (unaudited > 0)
    throw new CliError(
      `${unaudited} event(s) applied by the points handler are not in event_log yet (the audit handler is ` +
        'behind, or not run): a rebuild from event_log would lose them; let it catch up and run again',
      'UNAUDITED',
    );
  await exec(client, createRebuiltLedger());
  const rows = await exec(client, insertRebuiltLedger(options.rateBasisPoints));
  const changed = Number((await one<{ n: string }>(client, countChangedPoints()))!.n);
  if (!options.dryRun && changed > 0) {
    await exec(client, deleteStaleEntries());
    await exec(client, insertMissingEntries());
    await exec(client, updateBalancesFromLedger());
  }
  return { rows, changed };
}
