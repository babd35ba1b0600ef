import { exec, one, type Queryable } from '../db/query.js';
import { releaseStaleBlocks } from './sql/claim.js';
import {
  countPending,
  selectAnyWaiting,
  selectClaimOutlook,
  selectOldestPendingAge,
  type ClaimOutlook,
} from './sql/status.js';

export type { ClaimOutlook } from './sql/status.js';

/** What a relay asks of the outbox between claims: why a claim came back empty, what is left. */

/** Clears `blocked` flags nothing holds anymore (releaseStaleBlocks): cheap, always safe. */
export async function healStaleBlocks(db: Queryable): Promise<void> {
  await exec(db, releaseStaleBlocks());
}

/** Due rows waiting (and how many leased), rows blocked, and the longest lease left: O(pending). */
export async function claimOutlook(db: Queryable): Promise<ClaimOutlook> {
  return (await one<ClaimOutlook>(db, selectClaimOutlook()))!;
}

/** Whether any due row is not blocked (claimable now or once a lease ends): one probe of the claim's index. */
export async function anyWaiting(db: Queryable): Promise<boolean> {
  return (await one<{ waiting: boolean }>(db, selectAnyWaiting()))?.waiting ?? false;
}

/** PENDING rows left. */
export async function pendingCount(db: Queryable): Promise<number> {
  return (await one<{ n: number }>(db, countPending()))?.n ?? 0;
}

/** Seconds since the oldest PENDING row was written (0 when none): the relay's lag. */
export async function oldestPendingAgeSeconds(db: Queryable): Promise<number> {
  return (await one<{ seconds: number }>(db, selectOldestPendingAge()))?.seconds ?? 0;
}
